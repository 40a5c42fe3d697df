//! permessage-deflate (RFC 7692) on the WebSocket, against an in-process server over real
//! sockets, with a client of the test's own that reads and writes raw frames: what it
//! negotiates, RSV1 on compressed frames both ways, how small a repetitive message gets on the
//! wire, and that a decompression bomb closes its connection with 1009 at no memory cost.
//!
//! Memory is measured with a counting global allocator in this test binary (the server runs
//! in it); tests run one at a time so their allocations do not mix.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};
use peakmem_alloc::{INSTRUMENTED_SYSTEM, PeakMemAlloc, PeakMemAllocTrait};
use sio::engine::PerMessageDeflate;
use sio::{Server, Socket, consumer};
use tokio::runtime::Runtime;

#[global_allocator]
static ALLOCATOR: &PeakMemAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// One test at a time: the allocator counts the whole process.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poison| poison.into_inner())
}

const MB: usize = 1 << 20;

#[derive(Default)]
struct Echo;

#[consumer(namespace = "/")]
impl Echo {
    async fn connect(&mut self, socket: &Socket) {
        socket.join("room").await;
    }

    #[event("echo")]
    async fn echo(&mut self, socket: &Socket, text: String) -> sio::Result<()> {
        socket.emit("echo", text)?;
        Ok(())
    }

    #[event("echo_bytes")]
    async fn echo_bytes(&mut self, socket: &Socket, bytes: Bytes) -> sio::Result<()> {
        socket.emit("echo_bytes", bytes)?;
        Ok(())
    }
}

struct Running {
    _runtime: Runtime,
    server: Server,
    addr: SocketAddr,
}

fn start(deflate: Option<PerMessageDeflate>) -> Running {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _entered = runtime.enter();
    let mut builder = Server::builder().consumer::<Echo>();
    if let Some(deflate) = deflate {
        builder = builder.per_message_deflate(deflate);
    }
    let server = builder.build();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let addr = listener.local_addr().expect("address");
    let serving = server.clone();
    runtime.spawn(async move { serving.serve(listener).await });
    Running {
        _runtime: runtime,
        server,
        addr,
    }
}

/// A frame as it crossed the wire.
#[derive(Debug)]
struct WireFrame {
    first: u8,
    payload: Vec<u8>,
}

impl WireFrame {
    fn rsv1(&self) -> bool {
        self.first & 0x40 != 0
    }

    fn opcode(&self) -> u8 {
        self.first & 0x0f
    }

    /// The message it carries, inflated if RSV1 says it is compressed.
    fn message(&self) -> Vec<u8> {
        if self.rsv1() {
            inflate(&self.payload)
        } else {
            self.payload.clone()
        }
    }
}

/// A WebSocket client that speaks raw frames.
struct RawClient {
    stream: TcpStream,
    /// The `Sec-WebSocket-Extensions` the server answered, if any.
    extensions: Option<String>,
}

impl RawClient {
    /// Opens a WebSocket-only Socket.IO connection, offering `offer` as
    /// `Sec-WebSocket-Extensions`; returns once the namespace `/` is joined.
    fn connect(addr: SocketAddr, offer: Option<&str>) -> RawClient {
        let mut stream = TcpStream::connect(addr).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        let offer = offer
            .map(|offer| format!("Sec-WebSocket-Extensions: {offer}\r\n"))
            .unwrap_or_default();
        write!(
            stream,
            "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {addr}\r\n\
             Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n{offer}\r\n"
        )
        .expect("handshake");
        let mut head = Vec::new();
        let mut byte = [0u8];
        while !head.ends_with(b"\r\n\r\n") {
            stream.read_exact(&mut byte).expect("101 answer");
            head.push(byte[0]);
        }
        let head = String::from_utf8(head).expect("UTF-8 head");
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        let extensions = head.lines().find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-extensions")
                .then(|| value.trim().to_owned())
        });
        let mut client = RawClient { stream, extensions };
        let open = client.read_frame();
        assert!(!open.rsv1(), "a short message goes uncompressed");
        assert!(open.message().starts_with(b"0{"));
        client.send(0x1, b"40", false);
        let connected = client.read_frame();
        assert!(!connected.rsv1());
        assert!(connected.message().starts_with(b"40{\"sid\""));
        client
    }

    /// Sends one message (opcode 1 text, 2 binary), compressed if `compress`, masked.
    fn send(&mut self, opcode: u8, message: &[u8], compress: bool) -> usize {
        let (first, payload) = if compress {
            (0xc0 | opcode, deflate(message))
        } else {
            (0x80 | opcode, message.to_vec())
        };
        self.send_frame(first, &payload);
        payload.len()
    }

    fn send_frame(&mut self, first: u8, payload: &[u8]) {
        self.stream.write_all(&frame(first, payload)).expect("send");
    }

    fn read_frame(&mut self) -> WireFrame {
        self.try_read_frame().expect("a frame")
    }

    fn try_read_frame(&mut self) -> Option<WireFrame> {
        let mut head = [0u8; 2];
        self.stream.read_exact(&mut head).ok()?;
        assert_eq!(head[1] & 0x80, 0, "server frames are not masked");
        let len = match head[1] & 0x7f {
            126 => {
                let mut len = [0u8; 2];
                self.stream.read_exact(&mut len).ok()?;
                u64::from(u16::from_be_bytes(len))
            }
            127 => {
                let mut len = [0u8; 8];
                self.stream.read_exact(&mut len).ok()?;
                u64::from_be_bytes(len)
            }
            short => u64::from(short),
        };
        let mut payload = vec![0; usize::try_from(len).ok()?];
        self.stream.read_exact(&mut payload).ok()?;
        Some(WireFrame {
            first: head[0],
            payload,
        })
    }

    /// The next data frame, answering Engine.IO pings.
    fn next_message(&mut self) -> WireFrame {
        loop {
            let frame = self.read_frame();
            if frame.opcode() == 0x1 && frame.message() == b"2" {
                self.send(0x1, b"3", false);
                continue;
            }
            return frame;
        }
    }

    /// The close code the server ends with, reading past whatever comes first.
    fn close_code(&mut self) -> Option<u16> {
        while let Some(frame) = self.try_read_frame() {
            if frame.opcode() == 0x8 {
                let code = frame.payload.get(..2)?;
                return Some(u16::from_be_bytes([code[0], code[1]]));
            }
        }
        None
    }
}

/// A client frame: `first` (FIN, RSV and opcode bits), then `payload`, masked.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mask = [0x1b, 0x2c, 0x3d, 0x4e];
    let mut frame = vec![first];
    match payload.len() {
        len @ 0..126 => frame.push(0x80 | len as u8),
        len @ 126..65_536 => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(&mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// `message` compressed as a client compresses it, the sync flush's tail stripped.
fn deflate(message: &[u8]) -> Vec<u8> {
    let mut compressor = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(message.len() / 2 + 1024);
    loop {
        let consumed = compressor.total_in() as usize;
        compressor
            .compress_vec(&message[consumed..], &mut out, FlushCompress::Sync)
            .expect("compress");
        if compressor.total_in() as usize == message.len() && out.len() < out.capacity() {
            break;
        }
        out.reserve(out.capacity());
    }
    assert!(out.ends_with(&[0, 0, 0xff, 0xff]));
    out.truncate(out.len() - 4);
    out
}

fn inflate(payload: &[u8]) -> Vec<u8> {
    let mut input = payload.to_vec();
    input.extend_from_slice(&[0, 0, 0xff, 0xff]);
    let mut out = Vec::with_capacity(4 * MB);
    Decompress::new(false)
        .decompress_vec(&input, &mut out, FlushDecompress::Sync)
        .expect("inflate");
    out
}

/// 100 KiB of text that repeats itself, as JSON data is apt to.
fn repetitive() -> String {
    let mut text = String::new();
    let mut i = 0;
    while text.len() < 100 * 1024 {
        text.push_str(&format!(
            "{{\"user\":\"user-{}\",\"text\":\"hello, lobby\"}},",
            i % 10
        ));
        i += 1;
    }
    text
}

#[test]
fn a_client_offering_deflate_gets_it_and_repetitive_messages_cross_small() {
    let _serial = serial();
    let running = start(Some(PerMessageDeflate::default()));
    let mut client = RawClient::connect(
        running.addr,
        Some("permessage-deflate; client_max_window_bits"),
    );
    assert_eq!(
        client.extensions.as_deref(),
        Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
    );

    // Text, compressed both ways.
    let text = repetitive();
    let packet = serde_json::to_vec(&serde_json::json!(["echo", text])).expect("JSON");
    let packet = [b"42".as_slice(), &packet].concat();
    let sent = client.send(0x1, &packet, true);
    assert!(
        sent * 10 < packet.len(),
        "{sent} bytes sent for {}",
        packet.len()
    );
    let echo = client.next_message();
    assert!(echo.rsv1(), "the echo comes compressed");
    assert_eq!(echo.opcode(), 0x1);
    assert!(
        echo.payload.len() * 10 < packet.len(),
        "{} bytes on the wire for {}",
        echo.payload.len(),
        packet.len()
    );
    assert_eq!(echo.message(), packet);

    // Binary, compressed both ways; the placeholder packet is short and goes plain.
    let data = repetitive().into_bytes();
    client.send(
        0x1,
        br#"451-["echo_bytes",{"_placeholder":true,"num":0}]"#,
        false,
    );
    let sent = client.send(0x2, &data, true);
    assert!(sent * 10 < data.len());
    let header = client.next_message();
    assert!(!header.rsv1());
    assert_eq!(
        header.message(),
        br#"451-["echo_bytes",{"_placeholder":true,"num":0}]"#
    );
    let attachment = client.next_message();
    assert!(attachment.rsv1());
    assert_eq!(attachment.opcode(), 0x2);
    assert!(attachment.payload.len() * 10 < data.len());
    assert_eq!(attachment.message(), data);

    // A plain message from a client that agreed is still read, and a broadcast (written to
    // each socket by the emitting thread) comes compressed to every recipient.
    let mut other = RawClient::connect(
        running.addr,
        Some("permessage-deflate; client_max_window_bits"),
    );
    client.send(0x1, br#"42["echo","short"]"#, false);
    assert_eq!(client.next_message().message(), br#"42["echo","short"]"#);
    running
        .server
        .to("room")
        .emit("shout", text.as_str())
        .expect("broadcast");
    let expected = serde_json::to_vec(&serde_json::json!(["shout", text])).expect("JSON");
    let expected = [b"42".as_slice(), &expected].concat();
    for receiver in [&mut client, &mut other] {
        let shout = receiver.next_message();
        assert!(shout.rsv1());
        assert!(shout.payload.len() * 10 < expected.len());
        assert_eq!(shout.message(), expected);
    }
}

#[test]
fn without_an_offer_or_with_deflate_off_frames_stay_plain() {
    let _serial = serial();
    let text = repetitive();
    let packet = serde_json::to_vec(&serde_json::json!(["echo", text])).expect("JSON");
    let packet = [b"42".as_slice(), &packet].concat();
    let off = start(None);
    let on = start(Some(PerMessageDeflate::default()));
    for (addr, offer) in [
        (off.addr, Some("permessage-deflate")),
        (on.addr, None),
        (
            on.addr,
            Some("permessage-deflate; server_max_window_bits=10"),
        ),
    ] {
        let mut client = RawClient::connect(addr, offer);
        assert_eq!(client.extensions, None, "{offer:?}");
        client.send(0x1, &packet, false);
        let echo = client.next_message();
        assert!(!echo.rsv1(), "{offer:?}");
        assert_eq!(echo.payload, packet);
    }
    // RSV1 without the extension is a protocol error, as before.
    let mut client = RawClient::connect(on.addr, None);
    client.send_frame(0xc1, &deflate(b"42[\"echo\",\"x\"]"));
    assert_eq!(client.close_code(), Some(1002));
}

#[test]
fn an_inflation_bomb_closes_its_connection_with_1009_at_no_memory_cost() {
    let _serial = serial();
    let running = start(Some(PerMessageDeflate::default()));
    let mut bystander = RawClient::connect(
        running.addr,
        Some("permessage-deflate; client_max_window_bits"),
    );
    let mut attacker = RawClient::connect(
        running.addr,
        Some("permessage-deflate; client_max_window_bits"),
    );
    // 100 MiB of one byte inflate from about 100 KiB.
    let bomb = deflate(&vec![b'a'; 100 * MB]);
    assert!(bomb.len() < 200 * 1024, "{} bytes", bomb.len());

    ALLOCATOR.reset_peak_memory();
    attacker.send_frame(0xc1, &bomb);
    assert_eq!(attacker.close_code(), Some(1009));
    let peak = ALLOCATOR.get_peak_memory();
    // The server's maximum payload (1 MB) and the bomb's own bytes, not 100 MiB.
    assert!(peak < 4 * MB, "peak {peak} bytes for a 100 MiB bomb");

    // Only the attacker lost its connection.
    bystander.send(0x1, br#"42["echo","still here"]"#, true);
    assert_eq!(
        bystander.next_message().message(),
        br#"42["echo","still here"]"#
    );
    // Several compressed messages in one write are each read, in order, and a bad frame after
    // a compressed one is refused once it is read.
    let mut many = RawClient::connect(running.addr, Some("permessage-deflate"));
    let mut burst = Vec::new();
    for i in 0..3 {
        burst.extend(frame(
            0xc1,
            &deflate(format!(r#"42["echo","{i}"]"#).as_bytes()),
        ));
    }
    burst.extend(frame(0xc9, b""));
    many.stream.write_all(&burst).expect("send");
    for i in 0..3 {
        let echo = many.next_message().message();
        assert_eq!(echo, format!(r#"42["echo","{i}"]"#).as_bytes());
    }
    assert_eq!(many.close_code(), Some(1002));

    // What came before a bad frame in the same write is read first, as without compression.
    let mut late = RawClient::connect(running.addr, Some("permessage-deflate"));
    let both = [frame(0x81, br#"42["echo","before"]"#), frame(0xc9, b"")].concat();
    late.stream.write_all(&both).expect("send");
    assert_eq!(late.next_message().message(), br#"42["echo","before"]"#);
    assert_eq!(late.close_code(), Some(1002));
    // Data that does not inflate is 1007, as Node's `ws` closes.
    let mut corrupt = RawClient::connect(
        running.addr,
        Some("permessage-deflate; client_max_window_bits"),
    );
    corrupt.send_frame(0xc1, &[0xff; 64]);
    assert_eq!(corrupt.close_code(), Some(1007));
}
