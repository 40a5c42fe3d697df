//! Raw WebSocket and polling against the Socket.IO layer: the connect timeout, unknown
//! namespaces, bad input that closes only the offending connection, and volatile events on
//! polling.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use support::{Server, Ws, http, open_websocket, read_response, send_request};
use tungstenite::Message;

/// A slow heartbeat: these raw clients never answer pings, and only the rule under test may
/// close their connections.
const RELAXED: [&str; 4] = ["--ping-interval", "5000", "--ping-timeout", "5000"];

/// The next text frame, skipping pings; `None` once the server closed (its Engine.IO `close`
/// packet, or the end of the WebSocket).
fn text(socket: &mut Ws) -> Option<String> {
    loop {
        match socket.read() {
            Ok(Message::Text(text)) if text.as_str() == "2" => {}
            Ok(Message::Text(text)) if text.as_str() == "1" => return None,
            Ok(Message::Text(text)) => return Some(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

fn joined(addr: SocketAddr) -> Ws {
    let mut socket = open_websocket(addr);
    socket.send(Message::text("40")).expect("send");
    assert!(
        text(&mut socket)
            .expect("connect reply")
            .starts_with("40{\"sid\":")
    );
    assert!(
        text(&mut socket)
            .expect("auth event")
            .starts_with("42[\"auth\"")
    );
    socket
}

#[test]
fn a_connection_that_joins_no_namespace_is_closed_after_the_connect_timeout() {
    let server = Server::start("conformance", &RELAXED);
    let started = Instant::now();
    let mut socket = open_websocket(server.addr);
    assert_eq!(text(&mut socket), None, "closed");
    let elapsed = started.elapsed().as_millis();
    // connectTimeout is 1,000 ms in the conformance server.
    assert!((900..=2500).contains(&elapsed), "closed after {elapsed} ms");
}

#[test]
fn an_unknown_namespace_is_refused_and_the_connection_stays() {
    let server = Server::start("conformance", &RELAXED);
    let mut socket = joined(server.addr);
    socket.send(Message::text("40/nowhere,")).expect("send");
    assert_eq!(
        text(&mut socket).as_deref(),
        Some(r#"44/nowhere,{"message":"Invalid namespace"}"#)
    );
    socket
        .send(Message::text(r#"42["message","still here"]"#))
        .expect("send");
    assert_eq!(
        text(&mut socket).as_deref(),
        Some(r#"42["message-back","still here"]"#)
    );
}

#[test]
fn bad_input_closes_only_the_offending_connection() {
    let server = Server::start("conformance", &RELAXED);
    let mut good = joined(server.addr);
    for bad in [
        "4abc",
        "42{}",
        r#"42["connect"]"#,
        "45-[\"x\"]",
        r#"46-1[]"#,
    ] {
        let mut offender = joined(server.addr);
        offender.send(Message::text(bad)).expect("send");
        assert_eq!(text(&mut offender), None, "{bad:?} closes the connection");
        good.send(Message::text(r#"42["message",1]"#))
            .expect("send");
        assert_eq!(
            text(&mut good).as_deref(),
            Some(r#"42["message-back",1]"#),
            "after {bad:?}"
        );
    }
}

#[test]
fn a_binary_frame_without_a_binary_packet_closes_the_connection() {
    let server = Server::start("conformance", &RELAXED);
    let mut offender = joined(server.addr);
    offender.send(Message::binary(vec![1, 2, 3])).expect("send");
    assert_eq!(text(&mut offender), None);
}

#[test]
fn a_polling_client_with_no_get_waiting_misses_volatile_events() {
    let server = Server::start("socketio_testbed", &[]);
    let addr = server.addr;
    let open = http(addr, "GET", "/socket.io/?EIO=4&transport=polling", &[], b"");
    let handshake: serde_json::Value =
        serde_json::from_str(open.text().strip_prefix('0').expect("open packet")).expect("json");
    let path = format!(
        "/socket.io/?EIO=4&transport=polling&sid={}",
        handshake["sid"].as_str().expect("sid")
    );
    let connect = http(addr, "POST", &path, &[], br#"40{"room":"news"}"#);
    assert_eq!(connect.status, 200);
    // The welcome comes once `connect` has joined the room (maybe after the CONNECT reply).
    let mut received = String::new();
    for _ in 0..5 {
        if received.contains("\"welcome\"") {
            break;
        }
        received.push_str(&http(addr, "GET", &path, &[], b"").text());
    }
    assert!(received.contains("\"welcome\""), "{received}");
    let announce = |text: &str| {
        let query = format!("/announce?room=news&volatile&text={text}");
        assert_eq!(http(addr, "POST", &query, &[], b"").text(), "true");
    };
    // No GET waits: the volatile event is dropped, not queued for the next one.
    announce("missed");
    // With a GET waiting, the next one goes out; sent until one does, since the test cannot
    // see when the server has the GET.
    let mut get = send_request(addr, "GET", &path, &[], b"");
    let reader = std::thread::spawn(move || read_response(&mut get).text());
    let started = Instant::now();
    while !reader.is_finished() && started.elapsed() < Duration::from_secs(5) {
        announce("taken");
        std::thread::sleep(Duration::from_millis(50));
    }
    let body = reader.join().expect("the GET");
    assert!(body.contains("\"taken\""), "{body}");
    assert!(!body.contains("missed"), "{body}");
}
