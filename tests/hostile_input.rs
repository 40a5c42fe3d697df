//! Hostile input against an in-process server, over real sockets: each attack is bounded in
//! memory and time, closes only the offending connection with the right code or status, and a
//! well-behaved `socket.io-client` beside the attacker loses no ack.
//!
//! Memory is measured with a counting global allocator in this test binary (the server runs
//! in it), never with RSS or wall-clock speed; tests run one at a time so their allocations do
//! not mix.

mod support;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use peakmem_alloc::{INSTRUMENTED_SYSTEM, PeakMemAlloc, PeakMemAllocTrait};
use serde_json::json;
use sio::engine::Refusal;
use sio::socket::ServerBuilder;
use sio::{Ack, ConnectError, Cors, Server, Socket, consumer};
use support::Waiting;
use tokio::runtime::Runtime;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::{Message, WebSocket};

#[global_allocator]
static ALLOCATOR: &PeakMemAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// One test at a time: the allocator counts the whole process.
fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The results of `burst` events, for the test to read.
static BURSTS: Mutex<Vec<String>> = Mutex::new(Vec::new());

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[event("chat_message")]
    async fn chat_message(
        &mut self,
        _socket: &Socket,
        _message: serde_json::Value,
        ack: Ack<&'static str>,
    ) -> sio::Result<()> {
        ack.send("ok")
    }

    /// Keeps the socket's handler busy for a second, while events pile up in its mailbox.
    #[event("nap")]
    async fn nap(&mut self, _socket: &Socket) {
        tokio::time::sleep(Duration::from_secs(1)).await;
    }

    #[event("upload")]
    async fn upload(&mut self, _socket: &Socket, file: Bytes, ack: Ack<usize>) -> sio::Result<()> {
        ack.send(file.len())
    }

    /// A 600-byte message, then a binary packet of 600 bytes more.
    #[event("burst")]
    async fn burst(&mut self, socket: &Socket) -> sio::Result<()> {
        socket.emit("filler", "f".repeat(600))?;
        let binary = socket.emit("file", Bytes::from(vec![7u8; 600]));
        BURSTS
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .push(format!("{binary:?}"));
        Ok(())
    }
}

/// A namespace whose `connect` emits more than a small queue holds: the packets it emits wait
/// for the acceptance, then meet the full queue.
#[derive(Default)]
struct Greedy;

#[consumer(namespace = "/greedy")]
impl Greedy {
    async fn connect(&mut self, socket: &Socket) -> Result<(), ConnectError> {
        for _ in 0..3 {
            socket.emit("welcome", "w".repeat(600))?;
        }
        Ok(())
    }
}

/// A server of `Chat` with `configure`'s options, served on a free port.
struct Running {
    _runtime: Runtime,
    server: Server,
    addr: SocketAddr,
}

fn start(configure: impl FnOnce(ServerBuilder) -> ServerBuilder) -> Running {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let _entered = runtime.enter();
    let server = configure(Server::builder().consumer::<Chat>().consumer::<Greedy>()).build();
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

type Ws = WebSocket<TcpStream>;

fn websocket(addr: SocketAddr, query: &str) -> Ws {
    websocket_on(TcpStream::connect(addr).expect("connect"), addr, query)
}

/// A WebSocket on a socket whose receive buffer is a few kilobytes: a client that does not read
/// fills it, and the server's writes to it block, as over a slow network.
fn websocket_not_reading(addr: SocketAddr, query: &str) -> Ws {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("receive buffer");
    socket.connect(&addr.into()).expect("connect");
    websocket_on(socket.into(), addr, query)
}

fn websocket_on(stream: TcpStream, addr: SocketAddr, query: &str) -> Ws {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket{query}");
    tungstenite::client(url.as_str(), stream)
        .expect("handshake")
        .0
}

/// A WebSocket client joined to `/chat`.
fn joined(addr: SocketAddr) -> Ws {
    let mut socket = websocket(addr, "");
    assert!(next_text(&mut socket).expect("open").starts_with("0{"));
    socket.send(Message::text("40/chat,")).expect("send");
    assert!(
        next_text(&mut socket)
            .expect("connect")
            .starts_with("40/chat,{\"sid\"")
    );
    socket
}

/// The next text message, answering pings; `None` once the WebSocket ended.
fn next_text(socket: &mut Ws) -> Option<String> {
    loop {
        match socket.read() {
            Ok(Message::Text(text)) if text.as_str() == "2" => {
                let _ = socket.send(Message::text("3"));
            }
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

/// Reads until the server closes; its close code, and how long it took.
fn close_code(socket: &mut Ws) -> (Option<CloseCode>, Duration) {
    let start = Instant::now();
    loop {
        match socket.read() {
            Ok(Message::Close(frame)) => return (frame.map(|f| f.code), start.elapsed()),
            Ok(Message::Text(text)) if text.as_str() == "2" => {
                let _ = socket.send(Message::text("3"));
            }
            Ok(_) => {}
            Err(_) => return (None, start.elapsed()),
        }
    }
}

/// A well-behaved client that keeps emitting with acks while an attack runs.
fn steady(addr: SocketAddr) -> Waiting {
    let client = Waiting::start("steady_client.mjs", &[&format!("http://{addr}")]);
    assert_eq!(client.ready, json!({ "connected": true }));
    client
}

/// Stops the well-behaved client, after a few more of its messages, and checks it lost nothing.
fn assert_nothing_lost(client: Waiting) {
    std::thread::sleep(Duration::from_millis(300));
    let seen = client.finish();
    let sent = seen["sent"].as_u64().unwrap_or(0);
    assert!(sent > 5, "the steady client sent too little: {seen}");
    assert_eq!(seen["acked"], seen["sent"], "acks were lost: {seen}");
    assert_eq!(seen["connected"], true, "{seen}");
}

const MB: usize = 1_000_000;

#[test]
fn repeated_placeholders_are_refused_without_expanding_anything() {
    let _serial = serial();
    let running = start(|builder| builder);
    let client = steady(running.addr);

    let mut attacker = joined(running.addr);
    let placeholder = r#"{"_placeholder":true,"num":0}"#;
    let repeated = vec![placeholder; 64].join(",");
    attacker
        .send(Message::text(format!(
            r#"451-/chat,1["chat_message",{{"text":"x","b":[{repeated}]}}]"#
        )))
        .expect("send");
    ALLOCATOR.reset_peak_memory();
    attacker.send(Message::binary(vec![0u8; MB])).expect("send");
    assert_eq!(close_code(&mut attacker).0, Some(CloseCode::Policy));
    let peak = ALLOCATOR.get_peak_memory();
    // Before: each placeholder became an array of a million JSON numbers, 30 MB apiece.
    assert!(peak < 8 * MB, "peak {peak} bytes for a 1 MB attachment");

    // The same attachment named once is taken as it is, by an upload handler's `Bytes`.
    let mut uploader = joined(running.addr);
    uploader
        .send(Message::text(format!(
            r#"451-/chat,2["upload",{placeholder}]"#
        )))
        .expect("send");
    ALLOCATOR.reset_peak_memory();
    uploader.send(Message::binary(vec![1u8; MB])).expect("send");
    assert_eq!(
        next_text(&mut uploader).as_deref(),
        Some("43/chat,2[1000000]")
    );
    let peak = ALLOCATOR.get_peak_memory();
    assert!(peak < 4 * MB, "peak {peak} bytes to take a 1 MB upload");

    // A placeholder that names no attachment is a protocol error, as in the reference parser.
    let mut liar = joined(running.addr);
    liar.send(Message::text(
        r#"451-/chat,3["upload",{"_placeholder":true,"num":5}]"#,
    ))
    .expect("send");
    liar.send(Message::binary(vec![1u8; 10])).expect("send");
    assert_eq!(close_code(&mut liar).0, Some(CloseCode::Policy));

    assert_nothing_lost(client);
}

/// A MessagePack string, map or Socket.IO packet, written by hand.
fn mp_str(text: &str) -> Vec<u8> {
    assert!(text.len() < 32);
    let mut out = vec![0xa0 | text.len() as u8];
    out.extend_from_slice(text.as_bytes());
    out
}

fn mp_packet(fields: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut out = vec![0x80 | fields.len() as u8];
    for (key, value) in fields {
        out.extend(mp_str(key));
        out.extend_from_slice(value);
    }
    out
}

/// An event of `/chat` with ack `id`: `data` is the array, name included, as MessagePack.
fn mp_event(id: u8, data: Vec<u8>) -> Message {
    Message::binary(mp_packet(&[
        ("type", vec![2]),
        ("nsp", mp_str("/chat")),
        ("id", vec![id]),
        ("data", data),
    ]))
}

/// A client of a MessagePack server, joined to `/chat`.
fn joined_msgpack(addr: SocketAddr) -> Ws {
    let mut socket = websocket(addr, "");
    assert!(next_text(&mut socket).expect("open").starts_with("0{"));
    let connect = mp_packet(&[("type", vec![0]), ("nsp", mp_str("/chat"))]);
    socket.send(Message::binary(connect)).expect("send");
    let accepted = next_binary(&mut socket).expect("connect");
    assert!(accepted.windows(3).any(|w| w == b"sid"), "{accepted:?}");
    socket
}

/// The next binary message, answering pings; `None` once the WebSocket ended.
fn next_binary(socket: &mut Ws) -> Option<Bytes> {
    loop {
        match socket.read() {
            Ok(Message::Text(text)) if text.as_str() == "2" => {
                let _ = socket.send(Message::text("3"));
            }
            Ok(Message::Binary(bytes)) => return Some(bytes),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
}

#[test]
fn msgpack_packets_that_break_the_rules_close_only_their_connection() {
    let _serial = serial();
    let running = start(|builder| builder.parser(sio::Parser::MsgPack));
    let mut bystander = joined_msgpack(running.addr);
    // ["chat_message", {"text": "hi"}], acked "ok": the answer, byte for byte.
    let mut hello = vec![0x92];
    hello.extend(mp_str("chat_message"));
    hello.extend([0x81]);
    hello.extend(mp_str("text"));
    hello.extend(mp_str("hi"));
    let ok = mp_packet(&[
        ("type", vec![3]),
        ("nsp", mp_str("/chat")),
        ("id", vec![1]),
        ("data", [vec![0x91], mp_str("ok")].concat()),
    ]);
    let ask = |socket: &mut Ws| {
        socket.send(mp_event(1, hello.clone())).expect("send");
        next_binary(socket)
    };
    assert_eq!(ask(&mut bystander).as_deref(), Some(&ok[..]));

    // A text message, which the MessagePack parser never takes.
    let mut texter = joined_msgpack(running.addr);
    texter
        .send(Message::text(r#"42/chat,["chat_message",{}]"#))
        .expect("send");
    assert_eq!(close_code(&mut texter).0, Some(CloseCode::Policy));

    // An array declaring four billion elements in a few bytes: refused before anything is
    // allocated for it.
    let mut liar = joined_msgpack(running.addr);
    ALLOCATOR.reset_peak_memory();
    liar.send(mp_event(2, vec![0xdd, 0xff, 0xff, 0xff, 0xff, 0xa1, b'x']))
        .expect("send");
    assert_eq!(close_code(&mut liar).0, Some(CloseCode::Policy));
    let peak = ALLOCATOR.get_peak_memory();
    assert!(peak < MB, "peak {peak} bytes for a lying length");

    // An argument nested 200 deep: beyond the bound of 128.
    let mut nester = joined_msgpack(running.addr);
    let mut deep = vec![0x92];
    deep.extend(mp_str("chat_message"));
    deep.extend([0x91; 200]);
    deep.push(0xc0);
    nester.send(mp_event(3, deep)).expect("send");
    assert_eq!(close_code(&mut nester).0, Some(CloseCode::Policy));

    // A 900 KB `bin` (within `max_payload`) taken by an upload handler's `Bytes`: a slice of
    // the message, not a copy.
    let mut uploader = joined_msgpack(running.addr);
    let mut upload = vec![0x92];
    upload.extend(mp_str("upload"));
    upload.push(0xc6);
    upload.extend(900_000_u32.to_be_bytes());
    upload.extend(vec![1u8; 900_000]);
    let upload = mp_event(4, upload);
    ALLOCATOR.reset_peak_memory();
    uploader.send(upload).expect("send");
    let answer = next_binary(&mut uploader).expect("the upload's ack");
    // [900000] as a uint32.
    assert!(
        answer.ends_with(&[0x91, 0xce, 0x00, 0x0d, 0xbb, 0xa0]),
        "{answer:?}"
    );
    let peak = ALLOCATOR.get_peak_memory();
    // A copy of the buffer would double it (1.8 MB measured; 0.9 MB without).
    assert!(
        peak < 1_300_000,
        "peak {peak} bytes to take a 900 KB upload"
    );

    // The bystander never noticed.
    assert_eq!(ask(&mut bystander).as_deref(), Some(&ok[..]));
    drop(running);
}

#[test]
fn a_probe_flood_queues_one_answer() {
    let _serial = serial();
    // The upgrade's own deadline stays out of the way of a slow machine.
    let running = start(|builder| builder.engine(|e| e.upgrade_timeout(Duration::from_secs(60))));
    let client = steady(running.addr);

    let handshake = http(running.addr, "GET", "", &[], b"");
    let sid = sid_of(&handshake);
    let mut prober = websocket_not_reading(running.addr, &format!("&sid={sid}"));
    ALLOCATOR.reset_peak_memory();
    // Never read: once the buffers between are full, the answers can only pile up on the
    // server. The frames are written by hand, 5,000 at a time, so that this client costs
    // nothing to speak of: `2probe` in a masked text frame with a zero mask.
    let frame = [0x81, 0x86, 0, 0, 0, 0, b'2', b'p', b'r', b'o', b'b', b'e'];
    let chunk: Vec<u8> = frame
        .iter()
        .copied()
        .cycle()
        .take(frame.len() * 5_000)
        .collect();
    for _ in 0..200 {
        prober.get_mut().write_all(&chunk).expect("send");
    }
    // Then the upgrade: once the server has it, it has read every probe before it.
    prober
        .get_mut()
        .write_all(&[0x81, 0x81, 0, 0, 0, 0, b'5'])
        .expect("send");
    let start = Instant::now();
    while running.server.stats().engine.websocket == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the probes were not all read"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let peak = ALLOCATOR.get_peak_memory();
    // Before, each probe queued an answer of its own until the session ended.
    assert!(peak < 4 * MB, "peak {peak} bytes for a million probes");

    assert_nothing_lost(client);
    drop(prober);
}

#[test]
fn a_websocket_client_that_stops_reading_is_closed_at_the_queue_bound() {
    let _serial = serial();
    let running = start(|builder| builder.engine(|engine| engine.max_queued_bytes(64 * 1024)));
    let client = steady(running.addr);
    let mut reader = websocket_not_reading(running.addr, "");
    assert!(next_text(&mut reader).expect("open").starts_with("0{"));
    reader.send(Message::text("40/chat,")).expect("send");
    let connected = next_text(&mut reader).expect("connect");
    let reply: serde_json::Value =
        serde_json::from_str(connected.strip_prefix("40/chat,").expect("connect reply"))
            .expect("JSON");
    let room = reply["sid"].as_str().expect("sid").to_owned();

    // The first emits go straight to the socket, until its buffers are full; then the rest
    // waits in the queue, up to its bound.
    ALLOCATOR.reset_peak_memory();
    let closed_before = running.server.stats().engine.closed_total;
    // Small frames and large ones: they are written from one buffer, or from two.
    let fillers = ["f".repeat(600), "F".repeat(3_000)];
    let mut emitted = 0;
    while running.server.stats().engine.closed_total == closed_before {
        assert!(
            emitted < 200_000,
            "still open after {emitted} emits of 600 bytes"
        );
        running
            .server
            .of("/chat")
            .to(room.as_str())
            .emit("filler", fillers[emitted % 2].as_str())
            .expect("emit");
        emitted += 1;
    }
    let peak = ALLOCATOR.get_peak_memory();
    assert!(peak < 2 * MB, "peak {peak} bytes after {emitted} emits");
    // Everything written before the bound arrives whole, then the close.
    let mut received = 0;
    let code = loop {
        match reader.read() {
            // A heartbeat, should the machine be that slow.
            Ok(Message::Text(text)) if text.as_str() == "2" => {}
            Ok(Message::Text(text)) => {
                let expected = format!(r#"42/chat,["filler","{}"]"#, fillers[received % 2]);
                assert!(text.as_str() == expected, "message {received} is not whole");
                received += 1;
            }
            Ok(Message::Close(frame)) => break frame.map(|f| f.code),
            Ok(_) => {}
            Err(error) => panic!("after {received} fillers: {error}"),
        }
    };
    assert_eq!(code, Some(CloseCode::Policy));
    assert!(
        received > 0 && received < emitted,
        "{received} of {emitted}"
    );

    assert_nothing_lost(client);
}

#[test]
fn websocket_pings_from_a_client_that_never_reads_are_bounded() {
    let _serial = serial();
    let running = start(|builder| builder);
    let client = steady(running.addr);
    let mut pinger = websocket_not_reading(running.addr, "");
    // A server that stopped reading without closing fails the test rather than hanging it.
    pinger
        .get_mut()
        .set_write_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    assert!(next_text(&mut pinger).expect("open").starts_with("0{"));
    let closed_before = running.server.stats().engine.closed_total;
    ALLOCATOR.reset_peak_memory();
    // Masked pings (zero mask) of 125 bytes, the most a control frame holds, 1,000 at a time:
    // each is answered with a pong that the client never reads.
    let mut frame = vec![0x89, 0x80 | 125, 0, 0, 0, 0];
    frame.extend_from_slice(&[b'p'; 125]);
    let chunk = frame.repeat(1_000);
    let mut chunks = 0;
    while chunks < 400 && pinger.get_mut().write_all(&chunk).is_ok() {
        chunks += 1;
    }
    let peak = ALLOCATOR.get_peak_memory();
    assert!(
        peak < 4 * MB,
        "peak {peak} bytes after {chunks} thousand pings"
    );
    // Closed by the server (its close frame is lost with what the client never read, as the
    // server drops the pings it did not read).
    assert!(chunks < 400, "still open after {chunks} thousand pings");
    let start = Instant::now();
    while running.server.stats().engine.closed_total == closed_before {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "the session lives on"
        );
        std::thread::sleep(Duration::from_millis(10));
    }

    assert_nothing_lost(client);
}

#[test]
fn slow_headers_and_slow_bodies_are_cut_off() {
    let _serial = serial();
    let running = start(|builder| {
        builder.engine(|engine| {
            engine
                .header_read_timeout(Duration::from_secs(1))
                .body_timeout(Duration::from_secs(1))
        })
    });

    // Slowloris: headers one byte every 300 ms.
    let start = Instant::now();
    let dribblers: Vec<_> = (0..20)
        .map(|_| {
            let addr = running.addr;
            std::thread::spawn(move || {
                let mut stream = TcpStream::connect(addr).expect("connect");
                stream
                    .set_read_timeout(Some(Duration::from_millis(300)))
                    .expect("timeout");
                let request = b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n";
                for byte in request.iter().cycle() {
                    if stream.write_all(&[*byte]).is_err() {
                        break;
                    }
                    let mut buf = [0u8; 64];
                    match stream.read(&mut buf) {
                        Ok(0) => break,
                        Ok(_) => {}
                        Err(error) if error.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => break,
                    }
                    assert!(
                        start.elapsed() < Duration::from_secs(10),
                        "still open after 10 s"
                    );
                }
                start.elapsed()
            })
        })
        .collect();
    for dribbler in dribblers {
        let closed_after = dribbler.join().expect("dribbler");
        assert!(
            (Duration::from_millis(900)..Duration::from_secs(4)).contains(&closed_after),
            "closed after {closed_after:?} with a 1 s header timeout"
        );
    }

    // A POST that announces 10 MB and sends 100 bytes.
    let sid = sid_of(&http(running.addr, "GET", "", &[], b""));
    let mut stream = TcpStream::connect(running.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
    );
    let start = Instant::now();
    stream.write_all(head.as_bytes()).expect("write");
    stream.write_all(&[b'4'; 100]).expect("write");
    let response = read_response(&mut stream);
    let elapsed = start.elapsed();
    assert_eq!(response.0, 408, "{}", response.1);
    assert!(
        (Duration::from_millis(900)..Duration::from_secs(4)).contains(&elapsed),
        "answered after {elapsed:?} with a 1 s body timeout"
    );
    let after = http(running.addr, "GET", &format!("&sid={sid}"), &[], b"");
    assert_eq!(after.0, 400, "the session is closed: {}", after.1);
}

#[test]
fn an_unfinished_binary_packet_is_dropped_at_its_deadline() {
    let _serial = serial();
    let running = start(|builder| {
        builder
            .attachment_timeout(Duration::from_secs(1))
            .max_binary_packet_bytes(150_000)
            .ping_interval(Duration::from_millis(200))
            .ping_timeout(Duration::from_millis(1000))
    });

    let mut partial = joined(running.addr);
    partial
        .send(Message::text(
            r#"453-/chat,["upload",{"_placeholder":true,"num":0}]"#,
        ))
        .expect("send");
    partial
        .send(Message::binary(vec![0u8; 50_000]))
        .expect("send");
    partial
        .send(Message::binary(vec![0u8; 50_000]))
        .expect("send");
    // The client keeps answering pings; only the packet's deadline may close it.
    let (code, after) = close_code(&mut partial);
    assert_eq!(code, Some(CloseCode::Policy));
    assert!(
        (Duration::from_millis(800)..Duration::from_secs(3)).contains(&after),
        "closed after {after:?} with a 1 s attachment timeout"
    );

    let mut oversized = joined(running.addr);
    oversized
        .send(Message::text(
            r#"452-/chat,["upload",{"_placeholder":true,"num":0}]"#,
        ))
        .expect("send");
    oversized
        .send(Message::binary(vec![0u8; 80_000]))
        .expect("send");
    oversized
        .send(Message::binary(vec![0u8; 80_000]))
        .expect("send");
    let (code, after) = close_code(&mut oversized);
    assert_eq!(
        code,
        Some(CloseCode::Policy),
        "attachments above max_binary_packet_bytes"
    );
    assert!(
        after < Duration::from_millis(800),
        "closed at once, not at the deadline"
    );
}

#[test]
fn websocket_violations_close_with_their_codes() {
    let _serial = serial();
    let running = start(|builder| builder.max_payload(10_000));

    let mut too_big = joined(running.addr);
    too_big
        .send(Message::text(format!(
            "42/chat,[\"chat_message\",\"{}\"]",
            "x".repeat(20_000)
        )))
        .expect("send");
    assert_eq!(close_code(&mut too_big).0, Some(CloseCode::Size));

    let mut undecodable = joined(running.addr);
    undecodable
        .send(Message::text("4{not a packet"))
        .expect("send");
    assert_eq!(close_code(&mut undecodable).0, Some(CloseCode::Policy));

    let mut not_engine_io = joined(running.addr);
    not_engine_io.send(Message::text("9")).expect("send");
    assert_eq!(close_code(&mut not_engine_io).0, Some(CloseCode::Policy));

    // Frames written by hand: an unmasked one (clients must mask), then invalid UTF-8.
    let mut unmasked = joined(running.addr);
    unmasked
        .get_mut()
        .write_all(&[0x81, 0x01, b'2'])
        .expect("write");
    assert_eq!(close_code(&mut unmasked).0, Some(CloseCode::Protocol));

    let mut invalid_utf8 = joined(running.addr);
    invalid_utf8
        .get_mut()
        .write_all(&[0x81, 0x82, 0, 0, 0, 0, b'4', 0xFF])
        .expect("write");
    assert_eq!(close_code(&mut invalid_utf8).0, Some(CloseCode::Invalid));
}

#[test]
fn a_payload_too_large_gets_its_413() {
    let _serial = serial();
    let running = start(|builder| builder);
    let sids: Vec<String> = (0..50)
        .map(|_| sid_of(&http(running.addr, "GET", "", &[], b"")))
        .collect();
    // Each client writes its 2 MB in pieces, as a network delivers them, and reads the answer
    // once it has written everything (or could write no more).
    let posts: Vec<_> = sids
        .into_iter()
        .map(|sid| {
            let addr = running.addr;
            std::thread::spawn(move || post_in_pieces(addr, &sid, 2 * MB))
        })
        .collect();
    for post in posts {
        assert_eq!(post.join().expect("post"), Some(413), "the 413 was lost");
    }
}

/// POSTs `len` bytes in 64 KB pieces; the status, if an answer could be read.
fn post_in_pieces(addr: SocketAddr, sid: &str, len: usize) -> Option<u16> {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    let head = format!(
        "POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: x\r\nContent-Length: {len}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).ok()?;
    let piece = vec![b'4'; 64 * 1024];
    let mut written = 0;
    while written < len {
        let n = piece.len().min(len - written);
        if stream.write_all(&piece[..n]).is_err() {
            break;
        }
        written += n;
        std::thread::sleep(Duration::from_millis(2));
    }
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let head = String::from_utf8_lossy(&raw);
    head.split(' ').nth(1)?.parse().ok()
}

#[test]
fn a_request_filter_sees_every_handshake() {
    let _serial = serial();
    let running = start(|builder| {
        builder
            .cors(Cors::origins(["https://good.example"]))
            .allow_request(|request| {
                let token = request.query("token");
                async move {
                    tokio::time::sleep(Duration::from_millis(10)).await; // it may take its time
                    match token.as_deref() {
                        Some("open-sesame") => Ok(()),
                        _ => Err(Refusal::new("a token is required")),
                    }
                }
            })
    });

    let refused = http(running.addr, "GET", "", &[], b"");
    assert_eq!(refused.0, 403);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&refused.1).expect("JSON"),
        json!({ "code": 4, "message": "a token is required" })
    );
    assert_eq!(
        http(running.addr, "GET", "&token=open-sesame", &[], b"").0,
        200
    );

    let upgrade = |query: &str, origin: Option<&str>| {
        let mut headers = vec![
            ("Connection", "Upgrade"),
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        if let Some(origin) = origin {
            headers.push(("Origin", origin));
        }
        websocket_status(running.addr, query, &headers)
    };
    let ws = "&transport=websocket";
    assert_eq!(upgrade(ws, None), 403, "no token");
    assert_eq!(upgrade(&format!("{ws}&token=open-sesame"), None), 101);
    assert_eq!(
        upgrade(
            &format!("{ws}&token=open-sesame"),
            Some("https://good.example")
        ),
        101
    );
    assert_eq!(
        upgrade(
            &format!("{ws}&token=open-sesame"),
            Some("https://evil.example")
        ),
        403
    );
}

#[test]
fn a_binary_packet_is_queued_whole_or_not_at_all() {
    let _serial = serial();
    let running = start(|builder| builder.engine(|engine| engine.max_queued_bytes(1000)));
    let sid = sid_of(&http(running.addr, "GET", "", &[], b""));
    assert_eq!(
        http(
            running.addr,
            "POST",
            &format!("&sid={sid}"),
            &[],
            b"40/chat,"
        )
        .0,
        200
    );
    let connected = http(running.addr, "GET", &format!("&sid={sid}"), &[], b"");
    assert!(
        connected.1.starts_with("40/chat,{\"sid\""),
        "{}",
        connected.1
    );

    BURSTS.lock().unwrap_or_else(|p| p.into_inner()).clear();
    let burst = r#"42/chat,["burst"]"#;
    assert_eq!(
        http(
            running.addr,
            "POST",
            &format!("&sid={sid}"),
            &[],
            burst.as_bytes()
        )
        .0,
        200
    );
    let start = Instant::now();
    while BURSTS.lock().unwrap_or_else(|p| p.into_inner()).is_empty() {
        assert!(start.elapsed() < Duration::from_secs(5), "no burst");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(
        *BURSTS.lock().unwrap_or_else(|p| p.into_inner()),
        ["Err(QueueFull)"]
    );
    let body = http(running.addr, "GET", &format!("&sid={sid}"), &[], b"").1;
    assert!(body.starts_with("42/chat,[\"filler\""), "{body}");
    assert!(
        !body.contains("451-"),
        "half a binary packet was queued: {body}"
    );
    // A client past its bound is closed: what was queued, then the close.
    let last = http(running.addr, "GET", &format!("&sid={sid}"), &[], b"").1;
    assert_eq!(last, "1");
}

#[test]
fn events_waiting_for_a_busy_handler_are_bounded_in_bytes() {
    let _serial = serial();
    let running = start(|builder| builder.mailbox_bytes(3 * MB));
    let mut socket = joined(running.addr);
    socket
        .send(Message::text(r#"42/chat,["nap"]"#))
        .expect("send");
    ALLOCATOR.reset_peak_memory();
    let upload = r#"451-/chat,["upload",{"_placeholder":true,"num":0}]"#;
    let mut sent = 0;
    let disconnected = loop {
        if sent == 20 {
            break false;
        }
        if socket.send(Message::text(upload)).is_err()
            || socket.send(Message::binary(vec![2u8; MB])).is_err()
        {
            break true;
        }
        sent += 1;
        socket.get_mut().set_nonblocking(true).expect("nonblocking");
        let answer = socket.read();
        socket.get_mut().set_nonblocking(false).expect("blocking");
        if let Ok(Message::Text(text)) = answer
            && text.as_str() == "41/chat,"
        {
            break true;
        }
    };
    assert!(disconnected, "20 MB of events waited for a busy handler");
    let peak = ALLOCATOR.get_peak_memory();
    assert!(peak < 12 * MB, "peak {peak} bytes with a 3 MB mailbox");
}

/// A polling request to `/socket.io/`; its status and body.
fn http(
    addr: SocketAddr,
    method: &str,
    query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let path = format!("/socket.io/?EIO=4&transport=polling{query}");
    let mut stream = support::send_request(addr, method, &path, headers, body);
    read_response(&mut stream)
}

fn websocket_status(addr: SocketAddr, query: &str, headers: &[(&str, &str)]) -> u16 {
    let path = format!("/socket.io/?EIO=4{query}");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).expect("write");
    let mut buf = [0u8; 1024];
    let n = stream.read(&mut buf).expect("read");
    let line = String::from_utf8_lossy(&buf[..n]);
    line.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {line:?}"))
}

/// Reads a response to its end (the server, or `Connection: close`, ends it); status and body.
fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let response = support::read_response(stream);
    (response.status, response.text())
}

fn sid_of(handshake: &(u16, String)) -> String {
    assert_eq!(handshake.0, 200, "{}", handshake.1);
    let open: serde_json::Value =
        serde_json::from_str(handshake.1.strip_prefix('0').expect("open packet")).expect("JSON");
    open["sid"].as_str().expect("sid").to_owned()
}

#[test]
fn what_connect_emits_beyond_the_queue_closes_the_client() {
    let _serial = serial();
    let running = start(|builder| builder.engine(|engine| engine.max_queued_bytes(1000)));
    let sid = sid_of(&http(running.addr, "GET", "", &[], b""));
    let joined = http(
        running.addr,
        "POST",
        &format!("&sid={sid}"),
        &[],
        b"40/greedy,",
    );
    assert_eq!(joined.0, 200);
    // The acceptance and what fitted of `connect`'s emits, then the close.
    let first = http(running.addr, "GET", &format!("&sid={sid}"), &[], b"").1;
    assert!(first.starts_with("40/greedy,{\"sid\""), "{first}");
    assert!(first.contains("42/greedy,[\"welcome\""), "{first}");
    let last = http(running.addr, "GET", &format!("&sid={sid}"), &[], b"").1;
    assert_eq!(last, "1");
}
