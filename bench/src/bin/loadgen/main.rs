//! The load generator: drives a Socket.IO server (or the bare echo and broadcast floors) over WebSocket, or
//! over HTTP long-polling for `polling-echo`, and prints one JSON line of figures. The server's CPU
//! time comes from `/proc/<pid>/stat`, its memory from `/proc/<pid>/status`.
//!
//! ```text
//! loadgen idle         <ws://host:port>   <server pid> <clients> [deflate]
//! loadgen echo         <ws://host:port>   <server pid> <clients> <seconds> [bare] [msgpack]
//! loadgen polling-echo <http://host:port> <server pid> <clients> <seconds>
//! loadgen broadcast    <ws://host:port>   <server pid> <clients> <seconds> [bare] [deflate] [pad=BYTES]
//! ```
//!
//! With `deflate`, every WebSocket client offers permessage-deflate (as browsers do); with
//! `pad=BYTES`, each broadcast carries that many more bytes of JSON text, enough to be
//! compressed (the server's threshold is 1 KiB); with `msgpack`, the echo clients speak
//! socket.io-msgpack-parser's packets (one binary message each) instead of text.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::Notify;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use sio_core::{
    AckId, DecodedPacket, DecoderLimits, Frame, Namespace, PacketDecoder, PacketEncoder, Parser,
    RawJson, SocketPacket,
};

mod deflate;
mod polling;

type Ws = WebSocketStream<deflate::Io>;

/// How the WebSocket clients connect.
#[derive(Clone, Copy)]
struct Mode {
    /// To the bare floors, not a Socket.IO server.
    bare: bool,
    /// Offering permessage-deflate.
    deflate: bool,
    /// Speaking the MessagePack parser.
    msgpack: bool,
}

/// CPU seconds (user + system) a process has used, from `/proc/<pid>/stat`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the ')'.
    (ticks(11) + ticks(12)) / 100.0
}

/// Resident memory of a process in KiB, from `/proc/<pid>/status`.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn own_cpu_seconds() -> f64 {
    cpu_seconds(std::process::id())
}

/// A Socket.IO client on WebSocket, joined to the main namespace.
struct Client {
    sink: SplitSink<Ws, Message>,
    stream: SplitStream<Ws>,
    next_ack: u64,
    msgpack: bool,
}

impl Client {
    async fn connect(url: &str, mode: Mode) -> Client {
        let bare = mode.bare;
        let target = if bare {
            url.to_owned()
        } else {
            format!("{url}/socket.io/?EIO=4&transport=websocket")
        };
        let mut request = target.into_client_request().expect("a WebSocket URL");
        if mode.deflate {
            request.headers_mut().insert(
                "Sec-WebSocket-Extensions",
                HeaderValue::from_static(deflate::OFFER),
            );
        }
        let host = url.trim_start_matches("ws://");
        let host = host.split('/').next().unwrap_or(host);
        let tcp = TcpStream::connect(host).await.expect("connect");
        let (socket, _) =
            tokio_tungstenite::client_async(request, deflate::Io::new(tcp, mode.deflate))
                .await
                .expect("handshake");
        let (sink, stream) = socket.split();
        let mut client = Client {
            sink,
            stream,
            next_ack: 0,
            msgpack: mode.msgpack,
        };
        if !bare {
            client.next_text().await; // Engine.IO open
            if mode.msgpack {
                let connect = SocketPacket::Connect {
                    namespace: Namespace::root(),
                    data: None,
                };
                client.send_frame(connect.encode_as(Parser::MsgPack)).await;
                client.next_binary().await; // Socket.IO connect
            } else {
                client.send("40").await;
                client.next_text().await; // Socket.IO connect
            }
        }
        client
    }

    async fn send_frame(&mut self, frame: Frame) {
        let message = match frame {
            Frame::Text(text) => Message::text(text.to_string()),
            Frame::Binary(bytes) => Message::binary(bytes),
        };
        self.sink.send(message).await.expect("send");
    }

    /// The next binary message, answering pings on the way.
    async fn next_binary(&mut self) -> bytes::Bytes {
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) if text.as_str() == "2" => self.send("3").await,
                Some(Ok(Message::Binary(bytes))) => return bytes,
                Some(Ok(_)) => {}
                other => panic!("connection ended: {other:?}"),
            }
        }
    }

    async fn send(&mut self, text: &str) {
        self.sink
            .send(Message::text(text.to_owned()))
            .await
            .expect("send");
    }

    /// The next text frame that is not a ping; pings are answered on the way.
    async fn next_text(&mut self) -> String {
        loop {
            match self.stream.next().await {
                Some(Ok(Message::Text(text))) if text.as_str() == "2" => self.send("3").await,
                Some(Ok(Message::Text(text))) => return text.to_string(),
                Some(Ok(_)) => {}
                other => panic!("connection ended: {other:?}"),
            }
        }
    }

    /// Emits `event` with `args` and waits for its ack.
    async fn call(&mut self, event: &str, args: &str) {
        let id = self.next_ack;
        self.next_ack += 1;
        if self.msgpack {
            let mut packet = PacketEncoder::new_event(
                Parser::MsgPack,
                &Namespace::root(),
                Some(AckId(id)),
                event,
            );
            let arg = RawJson::new(args.to_owned()).expect("JSON arguments");
            packet.arg(&arg).expect("MessagePack arguments");
            self.send_frame(packet.finish().text).await;
            let mut decoder = PacketDecoder::for_parser(Parser::MsgPack, DecoderLimits::default());
            loop {
                let answer = decoder.decode_binary(self.next_binary().await);
                if let Ok(Some(DecodedPacket {
                    packet: SocketPacket::Ack { ack_id, .. },
                    ..
                })) = answer
                    && ack_id == AckId(id)
                {
                    return;
                }
            }
        }
        self.send(&format!("42{id}[\"{event}\",{args}]")).await;
        let prefix = format!("43{id}[");
        while !self.next_text().await.starts_with(&prefix) {}
    }

    /// Answers pings until the connection ends or `stop` is notified.
    async fn idle(mut self, stop: Arc<Notify>) {
        let stopped = stop.notified();
        tokio::pin!(stopped);
        loop {
            tokio::select! {
                () = &mut stopped => return,
                message = self.stream.next() => match message {
                    Some(Ok(Message::Text(text))) if text.as_str() == "2" => self.send("3").await,
                    Some(Ok(_)) => {}
                    _ => return,
                },
            }
        }
    }
}

async fn connect_many(url: &str, count: usize, mode: Mode) -> Vec<Client> {
    let mut clients = Vec::with_capacity(count);
    for start in (0..count).step_by(200) {
        let batch = (start..count.min(start + 200)).map(|_| Client::connect(url, mode));
        clients.extend(futures_util::future::join_all(batch).await);
    }
    clients
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e6
}

async fn idle(url: &str, pid: u32, count: usize, mode: Mode) -> serde_json::Value {
    let baseline = rss_kib(pid);
    let stop = Arc::new(Notify::new());
    let mut tasks = Vec::with_capacity(count);
    // Each batch answers pings while the next connects: a server that takes longer than its ping
    // timeout to accept them all (django-sio) would otherwise drop the first ones.
    for start in (0..count).step_by(200) {
        let batch = (start..count.min(start + 200)).map(|_| Client::connect(url, mode));
        for client in futures_util::future::join_all(batch).await {
            tasks.push(tokio::spawn(client.idle(Arc::clone(&stop))));
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let loaded = rss_kib(pid);
    stop.notify_waiters();
    for task in tasks {
        let _ = task.await;
    }
    serde_json::json!({
        "scenario": "idle",
        "clients": count,
        "baselineKiB": baseline,
        "loadedKiB": loaded,
        "bytesPerConnection": (loaded.saturating_sub(baseline) * 1024) as f64 / count as f64,
    })
}

/// A client of an echo scenario, on one of its transports.
enum Echoer {
    /// Socket.IO on WebSocket.
    WebSocket(Client),
    /// The bare WebSocket echo, which sends every frame back as it came.
    Bare(Client),
    /// Socket.IO on HTTP long-polling.
    Polling(polling::Client),
}

impl Echoer {
    /// One `echo` event and its ack (on the bare echo, one frame there and back).
    async fn round_trip(&mut self) {
        match self {
            Echoer::WebSocket(client) => client.call("echo", r#"{"n":1}"#).await,
            Echoer::Bare(client) => {
                client.send(r#"420["echo",{"n":1}]"#).await;
                client.next_text().await;
            }
            Echoer::Polling(client) => client.call("echo", &serde_json::json!({"n": 1})).await,
        }
    }
}

/// Every client runs round trips in a closed loop, one in flight, for `seconds`.
async fn echo(scenario: &str, pid: u32, clients: Vec<Echoer>, seconds: u64) -> serde_json::Value {
    let count = clients.len();
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (cpu_before, own_before, started) = (cpu_seconds(pid), own_cpu_seconds(), Instant::now());
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < deadline {
                    let sent = Instant::now();
                    client.round_trip().await;
                    latencies.push(sent.elapsed());
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap_or_default());
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu, own) = (
        cpu_seconds(pid) - cpu_before,
        own_cpu_seconds() - own_before,
    );
    latencies.sort();
    let round_trips = latencies.len() as f64;
    serde_json::json!({
        "scenario": scenario,
        "clients": count,
        "roundTripsPerSecond": round_trips / elapsed,
        "p50us": percentile(&latencies, 0.5),
        "p99us": percentile(&latencies, 0.99),
        "serverCpuUsPerRoundTrip": cpu * 1e6 / round_trips,
        "generatorCpuShare": own / elapsed,
    })
}

/// One emitter and a room of `count`; with `bare`, against the bare broadcast floor (which
/// takes `join` and `bcast:<text>` as plain messages) instead of a Socket.IO server.
async fn broadcast(
    url: &str,
    pid: u32,
    count: usize,
    seconds: u64,
    mode: Mode,
    pad: usize,
) -> serde_json::Value {
    let bare = mode.bare;
    let mut receivers = connect_many(url, count, mode).await;
    for client in &mut receivers {
        if bare {
            client.send("join").await;
            while client.next_text().await != "joined" {}
        } else {
            client.call("join", r#""bench""#).await;
        }
    }
    let clock = Instant::now();
    let delivered = Arc::new(AtomicU64::new(0));
    let all_in = Arc::new(Notify::new());
    let stop = Arc::new(Notify::new());
    let tasks: Vec<_> = receivers
        .into_iter()
        .map(|mut client| {
            let (delivered, all_in, stop) = (
                Arc::clone(&delivered),
                Arc::clone(&all_in),
                Arc::clone(&stop),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let stopped = stop.notified();
                tokio::pin!(stopped);
                loop {
                    let text = tokio::select! {
                        () = &mut stopped => return latencies,
                        text = client.next_text() => text,
                    };
                    // 42["bcast",{"t":<microseconds since the generator's clock started>}], and
                    // with recovery on an offset after it: the digits are read, not the end.
                    if let Some(sent) = text
                        .strip_prefix(r#"42["bcast",{"t":"#)
                        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
                        .and_then(|digits| digits.parse::<u64>().ok())
                    {
                        let now = clock.elapsed().as_micros() as u64;
                        latencies.push(Duration::from_micros(now.saturating_sub(sent)));
                        if delivered.fetch_add(1, Ordering::AcqRel) + 1 == count as u64 {
                            all_in.notify_one();
                        }
                    }
                }
            })
        })
        .collect();
    let mut emitter = Client::connect(url, mode).await;
    // Text that compresses as chat messages do, after the timestamp the receivers read.
    let padding = if pad == 0 {
        String::new()
    } else {
        let words = "hello lobby, how is everyone today? ".repeat(pad / 36 + 1);
        format!(r#","pad":"{}""#, &words[..pad])
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let (cpu_before, own_before, started) = (cpu_seconds(pid), own_cpu_seconds(), Instant::now());
    let mut broadcasts = 0u64;
    while Instant::now() < deadline {
        delivered.store(0, Ordering::Release);
        let t = clock.elapsed().as_micros();
        let request = if bare {
            format!(r#"bcast:{{"t":{t}{padding}}}"#)
        } else {
            format!(r#"42["broadcast","bench",{{"t":{t}{padding}}}]"#)
        };
        emitter.send(&request).await;
        if tokio::time::timeout(Duration::from_secs(10), all_in.notified())
            .await
            .is_err()
        {
            break;
        }
        broadcasts += 1;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (cpu, own) = (
        cpu_seconds(pid) - cpu_before,
        own_cpu_seconds() - own_before,
    );
    stop.notify_waiters();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.unwrap_or_default());
    }
    latencies.sort();
    let deliveries = (broadcasts * count as u64) as f64;
    serde_json::json!({
        "scenario": "broadcast",
        "clients": count,
        "deliveriesPerSecond": deliveries / elapsed,
        "p99us": percentile(&latencies, 0.99),
        "serverCpuNsPerDelivery": cpu * 1e9 / deliveries,
        "generatorCpuShare": own / elapsed,
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize| -> u64 { args.get(i).and_then(|a| a.parse().ok()).unwrap_or(0) };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (url, pid) = (args.get(1).cloned().unwrap_or_default(), number(2) as u32);
    let mode = Mode {
        bare: args.iter().any(|a| a == "bare"),
        deflate: args.iter().any(|a| a == "deflate"),
        msgpack: args.iter().any(|a| a == "msgpack"),
    };
    let pad = args
        .iter()
        .find_map(|a| a.strip_prefix("pad=")?.parse().ok())
        .unwrap_or(0);
    let result = runtime.block_on(async {
        match args.first().map(String::as_str) {
            Some("idle") => idle(&url, pid, number(3) as usize, mode).await,
            Some("echo") => {
                let bare = mode.bare;
                let clients = connect_many(&url, number(3) as usize, mode).await;
                let wrap = if bare { Echoer::Bare } else { Echoer::WebSocket };
                let clients = clients.into_iter().map(wrap).collect();
                echo("echo", pid, clients, number(4)).await
            }
            Some("polling-echo") => {
                let host = url.trim_start_matches("http://");
                let connects = (0..number(3)).map(|_| polling::Client::connect(host));
                let clients = futures_util::future::join_all(connects).await;
                let clients = clients.into_iter().map(Echoer::Polling).collect();
                echo("polling-echo", pid, clients, number(4)).await
            }
            Some("broadcast") => broadcast(&url, pid, number(3) as usize, number(4), mode, pad).await,
            _ => {
                eprintln!(
                    "usage: loadgen idle|echo|polling-echo|broadcast <ws://host:port | http://host:port> <pid> <clients> [seconds] [bare] [deflate] [msgpack] [pad=BYTES]"
                );
                std::process::exit(2);
            }
        }
    });
    println!("{result}");
}
