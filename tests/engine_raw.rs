//! Raw HTTP and WebSocket against the Engine.IO server: every refused request, the limits, and
//! the heartbeat timing rules, asserted within tolerance windows.

mod support;

use std::net::{SocketAddr, TcpStream};
use std::ops::RangeInclusive;
use std::time::{Duration, Instant};

use support::{Server, http, open_polling, read_response, send_request};
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<TcpStream>;

fn path(query: &str) -> String {
    format!("/engine.io/?{query}")
}

fn get(addr: SocketAddr, sid: &str) -> support::Response {
    http(
        addr,
        "GET",
        &path(&format!("EIO=4&transport=polling&sid={sid}")),
        &[],
        b"",
    )
}

fn post(addr: SocketAddr, sid: &str, body: &[u8]) -> support::Response {
    http(
        addr,
        "POST",
        &path(&format!("EIO=4&transport=polling&sid={sid}")),
        &[],
        body,
    )
}

fn websocket(addr: SocketAddr, query: &str) -> Ws {
    let stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let url = format!("ws://{addr}{}", path(query));
    let (socket, response) =
        tungstenite::client(url.as_str(), stream).expect("WebSocket handshake");
    assert_eq!(response.status(), 101);
    socket
}

fn next_text(socket: &mut Ws) -> String {
    loop {
        match socket.read().expect("WebSocket read") {
            Message::Text(text) => return text.to_string(),
            Message::Ping(_) | Message::Pong(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
}

/// Whether the server ends the WebSocket (close frame or end of stream) within `limit`.
fn closes_within(socket: &mut Ws, limit: Duration) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        match socket.read() {
            Ok(Message::Close(_)) => return true,
            Ok(_) => {}
            Err(tungstenite::Error::Io(err)) if err.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return true,
        }
    }
    false
}

fn assert_within(what: &str, elapsed: Duration, window: RangeInclusive<u128>) {
    let millis = elapsed.as_millis();
    assert!(
        window.contains(&millis),
        "{what}: {millis} ms, expected within {window:?}"
    );
}

#[test]
fn handshakes_with_bad_query_or_method_get_400() {
    let server = Server::start("conformance", &[]);
    for (method, query) in [
        ("GET", "transport=polling"),
        ("GET", "EIO=3&transport=polling"),
        ("GET", "EIO=abc&transport=polling"),
        ("GET", "EIO=4"),
        ("GET", "EIO=4&transport=abc"),
        ("POST", "EIO=4&transport=polling"),
        ("PUT", "EIO=4&transport=polling"),
        ("GET", "EIO=4&transport=websocket"), // no WebSocket handshake headers
    ] {
        let response = http(server.addr, method, &path(query), &[], b"");
        assert_eq!(
            response.status,
            400,
            "{method} {query}: {}",
            response.text()
        );
    }
    assert_eq!(server.stats()["opened"], 0, "no session was opened");
}

#[test]
fn unknown_session_ids_get_400() {
    let server = Server::start("conformance", &[]);
    assert_eq!(get(server.addr, "nope").status, 400);
    assert_eq!(post(server.addr, "nope", b"4hi").status, 400);
    let stream = TcpStream::connect(server.addr).expect("connect");
    let url = format!(
        "ws://{}{}",
        server.addr,
        path("EIO=4&transport=websocket&sid=nope")
    );
    match tungstenite::client(url.as_str(), stream) {
        Err(tungstenite::HandshakeError::Failure(tungstenite::Error::Http(response))) => {
            assert_eq!(response.status(), 400);
        }
        Err(other) => panic!("expected HTTP 400, got {other:?}"),
        Ok(_) => panic!("expected HTTP 400, got a WebSocket"),
    }
}

#[test]
fn second_get_is_refused_and_closes_the_session() {
    let server = Server::start("conformance", &[]);
    let sid = open_polling(server.addr);
    let query = path(&format!("EIO=4&transport=polling&sid={sid}"));
    let mut first = send_request(server.addr, "GET", &query, &[], b"");
    std::thread::sleep(Duration::from_millis(50));
    let second = http(server.addr, "GET", &query, &[], b"");
    assert_eq!(second.status, 400);
    let first = read_response(&mut first);
    assert_eq!((first.status, first.text().as_str()), (200, "1"));
    assert_eq!(get(server.addr, &sid).status, 400, "the session is gone");
}

#[test]
fn second_post_is_refused_and_closes_the_session() {
    let server = Server::start("conformance", &[]);
    let sid = open_polling(server.addr);
    let query = path(&format!("EIO=4&transport=polling&sid={sid}"));
    // A POST announcing ten bytes that never come stays in progress.
    let mut stalled = TcpStream::connect(server.addr).expect("connect");
    let head = format!(
        "POST {query} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 10\r\n\r\n4a"
    );
    std::io::Write::write_all(&mut stalled, head.as_bytes()).expect("write");
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(post(server.addr, &sid, b"4b").status, 400);
    assert_eq!(get(server.addr, &sid).status, 400, "the session is gone");
}

#[test]
fn post_over_max_payload_gets_413() {
    let server = Server::start("conformance", &[]);
    let sid = open_polling(server.addr);
    let exact = vec![b'4'; 1_000_000];
    assert_eq!(
        post(server.addr, &sid, &exact).status,
        200,
        "exactly maxPayload is accepted"
    );
    let body = vec![b'4'; 1_000_001];
    assert_eq!(post(server.addr, &sid, &body).status, 413);
    assert_eq!(
        get(server.addr, &sid).status,
        400,
        "as in the reference server, the session ends"
    );
}

#[test]
fn undecodable_post_gets_400_and_closes_the_session() {
    let server = Server::start("conformance", &[]);
    let sid = open_polling(server.addr);
    assert_eq!(post(server.addr, &sid, b"4ok\x1e9bad").status, 400);
    assert_eq!(get(server.addr, &sid).status, 400);
    let stats = server.wait_for_stats(Duration::from_secs(2), |s| s["open"] == 0);
    assert_eq!(stats["closeCallbacks"], 1);
}

#[test]
fn cors_preflight_and_headers() {
    let server = Server::start("conformance", &[]);
    let origin = [
        ("Origin", "http://page.example"),
        ("Access-Control-Request-Headers", "content-type"),
    ];
    let preflight = http(
        server.addr,
        "OPTIONS",
        &path("EIO=4&transport=polling"),
        &origin,
        b"",
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET, POST")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("content-type")
    );
    let handshake = http(
        server.addr,
        "GET",
        &path("EIO=4&transport=polling"),
        &origin,
        b"",
    );
    assert_eq!(handshake.status, 200);
    assert_eq!(handshake.header("access-control-allow-origin"), Some("*"));
}

/// Polling session upgraded by hand: probe, upgrade, then the polling side is closed for good.
fn upgraded(addr: SocketAddr) -> (String, Ws) {
    let sid = open_polling(addr);
    let mut socket = websocket(addr, &format!("EIO=4&transport=websocket&sid={sid}"));
    socket.send(Message::text("2probe")).expect("send");
    assert_eq!(next_text(&mut socket), "3probe");
    assert_eq!(
        get(addr, &sid).text(),
        "6",
        "a GET during the probe gets noop"
    );
    socket.send(Message::text("5")).expect("send");
    socket.send(Message::text("4after upgrade")).expect("send");
    assert_eq!(next_text(&mut socket), "4after upgrade");
    (sid, socket)
}

#[test]
fn polling_after_upgrade_gets_400_and_the_websocket_goes_on() {
    let server = Server::start("conformance", &[]);
    let (sid, mut socket) = upgraded(server.addr);
    assert_eq!(get(server.addr, &sid).status, 400);
    assert_eq!(post(server.addr, &sid, b"4x").status, 400);
    socket.send(Message::text("4still here")).expect("send");
    assert_eq!(next_text(&mut socket), "4still here");
    assert_eq!(server.stats()["websocket"], 1);
}

#[test]
fn second_websocket_for_a_session_is_accepted_then_closed() {
    let server = Server::start("conformance", &[]);
    let (sid, mut socket) = upgraded(server.addr);
    let mut second = websocket(server.addr, &format!("EIO=4&transport=websocket&sid={sid}"));
    assert!(closes_within(&mut second, Duration::from_secs(2)));
    socket
        .send(Message::text("4first still works"))
        .expect("send");
    assert_eq!(next_text(&mut socket), "4first still works");
}

#[test]
fn websocket_message_over_max_payload_closes_the_connection() {
    let server = Server::start("conformance", &[]);
    let mut socket = websocket(server.addr, "EIO=4&transport=websocket");
    assert!(next_text(&mut socket).starts_with("0{"));
    // The server may close before the client has written the whole message: the send fails
    // then, on the close this test expects.
    if socket.send(Message::text("4".repeat(1_000_001))).is_ok() {
        assert!(closes_within(&mut socket, Duration::from_secs(3)));
    }
    let stats = server.wait_for_stats(Duration::from_secs(2), |s| s["open"] == 0);
    assert_eq!(stats["open"], 0);
}

#[test]
fn upgrade_that_never_completes_times_out_without_losing_the_session() {
    let server = Server::start(
        "conformance",
        &["--upgrade-timeout", "400", "--ping-interval", "5000"],
    );
    let sid = open_polling(server.addr);
    let mut probe = websocket(server.addr, &format!("EIO=4&transport=websocket&sid={sid}"));
    let opened = Instant::now();
    assert!(
        closes_within(&mut probe, Duration::from_secs(3)),
        "the stalled probe is closed"
    );
    assert_within("upgrade timeout", opened.elapsed(), 300..=1500);
    assert_eq!(post(server.addr, &sid, b"4polling goes on").status, 200);
    assert_eq!(get(server.addr, &sid).text(), "4polling goes on");
}

#[test]
fn polling_heartbeat_timing() {
    // Ping every second, a second for the pong: wide enough for a loaded machine.
    let server = Server::start(
        "conformance",
        &["--ping-interval", "1000", "--ping-timeout", "1000"],
    );

    // The first ping is due one interval after the handshake.
    let opened = Instant::now();
    let sid = open_polling(server.addr);
    assert_eq!(get(server.addr, &sid).text(), "2");
    assert_within("first ping", opened.elapsed(), 950..=1600);

    // The pong deadline runs from when the ping was queued, not from when a GET picked it up:
    // picked up late but answered before the deadline, the session lives...
    let opened = Instant::now();
    let sid = open_polling(server.addr);
    std::thread::sleep(Duration::from_millis(1000 + 250));
    assert_eq!(get(server.addr, &sid).text(), "2");
    assert_eq!(post(server.addr, &sid, b"3").status, 200);
    assert!(
        opened.elapsed() < Duration::from_millis(2000),
        "answered before the deadline"
    );
    assert_eq!(get(server.addr, &sid).text(), "2", "the next ping comes");

    // ...and never picked up, the session is gone once the deadline passed.
    let sid = open_polling(server.addr);
    std::thread::sleep(Duration::from_millis(1000 + 1000 + 300));
    assert_eq!(get(server.addr, &sid).status, 400);
}

#[test]
fn websocket_heartbeat_timing() {
    let server = Server::start(
        "conformance",
        &["--ping-interval", "600", "--ping-timeout", "400"],
    );
    let opened = Instant::now();
    let mut socket = websocket(server.addr, "EIO=4&transport=websocket");
    assert!(next_text(&mut socket).starts_with("0{"));
    assert_eq!(next_text(&mut socket), "2");
    assert_within("first ping", opened.elapsed(), 550..=1200);
    // No pong: closed at the deadline, interval + timeout after the open.
    assert!(closes_within(&mut socket, Duration::from_secs(3)));
    assert_within("ping timeout", opened.elapsed(), 950..=1600);
    let stats = server.wait_for_stats(Duration::from_secs(2), |s| s["open"] == 0);
    assert_eq!(
        (stats["open"].clone(), stats["closeCallbacks"].clone()),
        (0.into(), 1.into())
    );
}

#[test]
fn polling_responses_from_one_kib_on_are_gzipped_for_clients_that_accept_it() {
    use std::io::Read;

    let server = Server::start("conformance", &[]);
    let sid = open_polling(server.addr);
    let poll = |accept: &str| {
        http(
            server.addr,
            "GET",
            &path(&format!("EIO=4&transport=polling&sid={sid}")),
            &[("Accept-Encoding", accept)],
            b"",
        )
    };
    // The conformance server echoes each message: 2,000 bytes come back, gzipped.
    let large = format!("4{}", "echo me ".repeat(250));
    assert_eq!(post(server.addr, &sid, large.as_bytes()).text(), "ok");
    let response = poll("gzip, deflate");
    assert_eq!(response.status, 200);
    assert_eq!(response.header("Content-Encoding"), Some("gzip"));
    assert!(
        response.body.len() < large.len() / 10,
        "{} bytes",
        response.body.len()
    );
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(&response.body[..])
        .read_to_string(&mut decoded)
        .expect("a gzip body");
    assert_eq!(decoded, large);
    // Under 1 KiB, or to a client that does not accept it: as it is.
    assert_eq!(post(server.addr, &sid, b"4small").text(), "ok");
    let response = poll("gzip");
    assert_eq!(response.header("Content-Encoding"), None);
    assert_eq!(response.text(), "4small");
    assert_eq!(post(server.addr, &sid, large.as_bytes()).text(), "ok");
    let response = poll("br");
    assert_eq!(response.header("Content-Encoding"), None);
    assert_eq!(response.text(), large);
}

/// Opens an Engine.IO v3 polling session (with `b64=1` if `base64`); its sid.
fn open_polling_v3(addr: SocketAddr, base64: bool) -> String {
    let b64 = if base64 { "&b64=1" } else { "" };
    let response = http(
        addr,
        "GET",
        &path(&format!("EIO=3&transport=polling{b64}")),
        &[],
        b"",
    );
    assert_eq!(response.status, 200);
    let text = response.text();
    let (len, open) = text.split_once(':').expect("a v3 payload");
    assert_eq!(len.parse::<usize>().ok(), Some(open.chars().count()));
    open.split('"').nth(3).expect("sid").to_owned()
}

#[test]
fn a_v3_session_without_pings_closes_after_interval_plus_timeout() {
    // The conformance example's heartbeat: 300 ms and 200 ms.
    let server = Server::start("conformance", &["--eio3"]);
    // The deadline runs from the handshake, so the clock starts before it.
    let start = Instant::now();
    let sid = open_polling_v3(server.addr, true);
    let query = path(&format!("EIO=3&transport=polling&sid={sid}"));
    let closed = http(server.addr, "GET", &query, &[], b"");
    // No ping from the server to answer: the long poll ends with the close packet.
    assert_eq!(closed.text(), "1:1");
    assert_within("v3 ping timeout", start.elapsed(), 490..=1500);
}

#[test]
fn a_v3_client_taking_binary_posts_and_gets_the_binary_form() {
    // A heartbeat slow enough that the session outlives the test on a loaded machine.
    let relaxed = [
        "--eio3",
        "--ping-interval",
        "5000",
        "--ping-timeout",
        "5000",
    ];
    let server = Server::start("conformance", &relaxed);
    let sid = open_polling_v3(server.addr, false);
    let query = path(&format!("EIO=3&transport=polling&sid={sid}"));
    // A binary message and a text one, in the binary form: echoed back in it.
    let body = b"\x01\x04\xff\x04\x01\x02\x03\x00\x03\xff4hi";
    let posted = http(
        server.addr,
        "POST",
        &query,
        &[("Content-Type", "application/octet-stream")],
        body,
    );
    assert_eq!(posted.status, 200, "{}", posted.text());
    let echoed = http(server.addr, "GET", &query, &[], b"");
    assert_eq!(
        echoed.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(echoed.body, body);
}
