//! The lifecycle with the official clients (`socket.io-client` from npm, `python-socketio` from
//! PyPI) against `tests/servers/lifecycle_testbed.rs`, over polling only, WebSocket only and
//! polling upgraded to WebSocket: the handshake as Node gives it (standalone and mounted in
//! axum), the transport and its upgrade, `close_connection`, the engine's header hooks, cookie
//! and connection errors, and the graceful shutdown clients come back from.

mod support;

use std::io::{BufRead, BufReader};
use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, Waiting, http, node};

const MODES: [(&str, &str); 3] = [
    ("polling", "polling"),
    ("websocket", "websocket"),
    ("upgrade", "websocket"),
];

/// The transport a mode opens its session on.
fn first_transport(mode: &str) -> &'static str {
    if mode == "websocket" {
        "websocket"
    } else {
        "polling"
    }
}

fn js(scenario: &str, server: &Server, mode: &str) -> Value {
    node("lifecycle_client.mjs", &[scenario, &server.url(), mode])
}

#[test]
fn the_handshake_reads_as_nodes_over_both_transports_standalone_and_in_axum() {
    for mounted in [&[][..], &["--axum"][..]] {
        let server = Server::start("lifecycle_testbed", mounted);
        for (mode, _) in MODES {
            let seen = js("handshake", &server, mode);
            let context = format!("mode {mode}, {mounted:?}: {seen}");
            let details = &seen["details"];
            let first = first_transport(mode);
            assert_eq!(details["headers"]["x-custom"], "abc", "{context}");
            assert_eq!(
                details["headers"]["host"],
                server.addr.to_string(),
                "{context}"
            );
            assert_eq!(details["address"], "127.0.0.1", "{context}");
            assert_eq!(details["xdomain"], true, "{context}");
            assert_eq!(details["secure"], false, "{context}");
            let issued = details["issued"].as_u64().expect("issued");
            let (before, after) = (seen["before"].as_u64(), seen["after"].as_u64());
            assert!(
                before.is_some_and(|before| before <= issued)
                    && after.is_some_and(|after| issued <= after),
                "issued while the client connected: {context}"
            );
            assert_eq!(details["time"], seen["issuedAsJs"], "{context}");
            let url = details["url"].as_str().expect("url");
            assert!(
                url.starts_with("/socket.io/?")
                    && url.contains("EIO=4")
                    && url.contains(&format!("transport={first}")),
                "{context}"
            );
            assert_eq!(details["query"]["EIO"], "4", "{context}");
            assert_eq!(details["query"]["q"], "1", "{context}");
            assert_eq!(details["query"]["transport"], first, "{context}");
            assert_eq!(details["auth"], json!({"token": "t"}), "{context}");
            assert_eq!(seen["transportAtConnect"], first, "{context}");
        }
    }
}

#[test]
fn the_transport_and_its_upgrade_are_seen() {
    let server = Server::start("lifecycle_testbed", &[]);
    let expected = [
        (
            "polling",
            json!({"transportAtConnect": "polling", "now": "polling", "upgraded": [], "client": "polling"}),
        ),
        (
            "websocket",
            json!({"transportAtConnect": "websocket", "now": "websocket", "upgraded": ["websocket"], "client": "websocket"}),
        ),
        (
            "upgrade",
            json!({"transportAtConnect": "polling", "now": "websocket", "upgraded": ["websocket"], "client": "websocket"}),
        ),
    ];
    for (mode, expected) in expected {
        assert_eq!(js("transport", &server, mode), expected, "mode {mode}");
    }
}

#[test]
fn header_hooks_and_the_session_cookie_are_on_the_wire() {
    let server = Server::start("lifecycle_testbed", &[]);
    // The polling handshake: the cookie, then both hooks.
    let open = http(
        server.addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        b"",
    );
    assert_eq!(open.status, 200);
    let handshake: Value =
        serde_json::from_str(open.text().strip_prefix('0').expect("open packet")).expect("json");
    let sid = handshake["sid"].as_str().expect("sid");
    assert_eq!(
        open.header("set-cookie"),
        Some(format!("io={sid}; Path=/; HttpOnly; SameSite=Lax").as_str())
    );
    assert_eq!(open.header("x-initial"), Some("yes"));
    assert_eq!(open.header("x-every"), Some("yes"));
    // The session's later requests: `headers` only.
    let path = format!("/socket.io/?EIO=4&transport=polling&sid={sid}");
    let post = http(server.addr, "POST", &path, &[], b"40");
    assert_eq!((post.status, post.text().as_str()), (200, "ok"));
    let get = http(server.addr, "GET", &path, &[], b"");
    assert_eq!(get.status, 200);
    for later in [&post, &get] {
        assert_eq!(later.header("x-every"), Some("yes"));
        assert_eq!(later.header("x-initial"), None);
        assert_eq!(later.header("set-cookie"), None);
    }
    // A refusal is left alone.
    let refused = http(
        server.addr,
        "GET",
        "/socket.io/?EIO=4&transport=polling&sid=nope",
        &[],
        b"",
    );
    assert_eq!(refused.status, 400);
    assert_eq!(refused.header("x-every"), None);
    // A WebSocket handshake: both hooks, and no cookie (its sid is not known yet, as in Node).
    let stream = std::net::TcpStream::connect(server.addr).expect("connect");
    let url = format!("ws://{}/socket.io/?EIO=4&transport=websocket", server.addr);
    let (_socket, response) = tungstenite::client(url.as_str(), stream).expect("handshake");
    assert_eq!(response.headers()["x-initial"], "yes");
    assert_eq!(response.headers()["x-every"], "yes");
    assert!(response.headers().get("set-cookie").is_none());

    // The official client's cookie jar reads the cookie and sends it back.
    for (mode, _) in MODES {
        let seen = js("cookies", &server, mode);
        let sid = seen["sid"].as_str().expect("sid");
        let mine = format!("io={sid}");
        let carried: Vec<&str> = seen["cookies"]
            .as_array()
            .expect("cookies")
            .iter()
            .filter(|entry| entry[1] == mine.as_str())
            .map(|entry| entry[0].as_str().expect("transport"))
            .collect();
        match mode {
            // Opened on WebSocket: no cookie was set.
            "websocket" => assert!(carried.is_empty(), "mode {mode}: {seen}"),
            "polling" => assert!(
                carried.len() >= 2 && carried.iter().all(|t| *t == "polling"),
                "mode {mode}: {seen}"
            ),
            _ => assert!(
                carried.contains(&"polling") && carried.contains(&"websocket"),
                "mode {mode}: the upgrade's request carries it too: {seen}"
            ),
        }
    }
}

#[test]
fn refused_requests_reach_the_connection_error_hook() {
    let server = Server::start("lifecycle_testbed", &[]);
    let bad = [
        ("GET", "/socket.io/?EIO=4&transport=polling&sid=nope"),
        ("GET", "/socket.io/?EIO=4&transport=carrier-pigeon"),
        ("GET", "/socket.io/?EIO=3&transport=polling"),
        ("POST", "/socket.io/?EIO=4&transport=polling"),
    ];
    for (method, path) in bad {
        let response = http(server.addr, method, path, &[], b"");
        assert_eq!(response.status, 400, "{method} {path}");
    }
    let seen = js("errors", &server, "websocket");
    assert_eq!(
        seen,
        json!({"errors": [
            {"code": 1, "message": "Session ID unknown", "context": {"sid": "nope"}, "method": "GET"},
            {"code": 0, "message": "Transport unknown", "context": {"transport": "carrier-pigeon"}, "method": "GET"},
            {"code": 5, "message": "Unsupported protocol version", "context": {"protocol": 3}, "method": "GET"},
            {"code": 2, "message": "Bad handshake method", "context": {"method": "POST"}, "method": "POST"},
        ]})
    );
}

#[test]
fn close_connection_ends_every_namespace_and_the_connection() {
    let server = Server::start("lifecycle_testbed", &[]);
    for (mode, _) in MODES {
        assert_eq!(
            js("closeConnection", &server, mode),
            json!({"sameConnection": true, "main": "io server disconnect", "other": "io server disconnect"}),
            "mode {mode}"
        );
    }
    // On the wire: a DISCONNECT for each namespace, then the WebSocket closes.
    let mut socket = support::open_websocket(server.addr);
    let mut send = |text: &str| {
        socket.send(tungstenite::Message::text(text)).expect("send");
    };
    send("40");
    send("40/other,");
    send(r#"42["close_connection"]"#);
    let mut seen = Vec::new();
    loop {
        match socket.read() {
            // Past the CONNECT replies and the testbed's notice of the transport.
            Ok(tungstenite::Message::Text(text))
                if !text.starts_with("40") && !text.starts_with(r#"42["upgraded""#) =>
            {
                seen.push(text.to_string());
            }
            Ok(tungstenite::Message::Text(_)) => {}
            Ok(tungstenite::Message::Close(_)) | Err(_) => break,
            Ok(other) => panic!("unexpected {other:?}"),
        }
    }
    // `41` for each namespace, in the order they joined; then the WebSocket closes, as Node's
    // `conn.close()` closes it.
    assert_eq!(seen, ["41", "41/other,"]);
}

/// The lines of the journal a testbed wrote.
fn journal(path: &std::path::Path) -> Vec<String> {
    let file = std::fs::File::open(path).expect("the journal");
    BufReader::new(file)
        .lines()
        .map(|line| line.expect("a line"))
        .collect()
}

/// A journal file of this test's own.
fn journal_path(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("sio-{name}-{}.journal", std::process::id()));
    let _ = std::fs::remove_file(&path);
    path
}

/// Shuts server `a` down while a handler of the client's runs for 300 ms, with 5 s to spare:
/// the handler finishes before `serve` returns, and the client comes back by itself to server
/// `b` started on the same address. Returns how the client was disconnected, and what it saw
/// once back.
fn shutdown_and_come_back(
    start_client: impl FnOnce(&str, &str) -> Waiting,
    mode: &str,
    axum: bool,
) -> (Value, Value) {
    // Tests run at once: each run has a journal of its own.
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = journal_path(&format!("shutdown-{run}"));
    let journal_arg = path.to_str().expect("path");
    let mut args = vec!["--name", "a", "--journal", journal_arg];
    if axum {
        args.push("--axum");
    }
    let mut a = Server::start("lifecycle_testbed", &args);
    let client = start_client(&a.url(), mode);
    let context = format!("mode {mode}, axum {axum}");
    let status = a.wait_exit(Duration::from_secs(10));
    assert!(
        status.is_some_and(|status| status.success()),
        "serve returns and the server exits: {status:?}, {context}"
    );
    let lines = journal(&path);
    let _ = std::fs::remove_file(&path);
    let position = |line: &str| lines.iter().position(|l| l == line);
    assert!(
        position("slow finished").is_some()
            && position("slow finished") < position("serve returned")
            && position("shutdown returned").is_some(),
        "the running handler finished before serve returned: {lines:?}, {context}"
    );
    assert!(
        lines.contains(&"disconnect server shutting down".to_owned()),
        "{lines:?}, {context}"
    );
    let addr = a.addr.to_string();
    let _b = Server::start("lifecycle_testbed", &["--addr", &addr, "--name", "b"]);
    let ready = client.ready.clone();
    (ready, client.finish())
}

/// What a socket.io-client saw when `a` shut down in `mode`: neither a DISCONNECT ("io server
/// disconnect") nor an engine `close`, either of which would keep some clients from coming
/// back; its WebSocket closed, or its polling request refused.
fn shut_down_by_transport(mode: &str) -> Value {
    let reason = if mode == "polling" {
        "transport error"
    } else {
        "transport close"
    };
    json!({"first": "a", "main": reason, "other": reason})
}

#[test]
fn after_a_shutdown_socket_io_clients_reconnect_to_the_next_server() {
    let client = |url: &str, mode: &str| {
        Waiting::start(
            "lifecycle_client.mjs",
            &["shutdown", url, mode, "300", "5000", "0"],
        )
    };
    for (mode, transport) in MODES {
        let (ready, back) = shutdown_and_come_back(client, mode, false);
        assert_eq!(ready, shut_down_by_transport(mode), "mode {mode}");
        assert_eq!(
            back,
            json!({"second": "b", "transport": transport, "otherConnected": true}),
            "mode {mode}"
        );
    }
    let (ready, back) = shutdown_and_come_back(client, "upgrade", true);
    assert_eq!(ready, shut_down_by_transport("upgrade"), "mounted in axum");
    assert_eq!(back["second"], "b", "mounted in axum");
}

#[test]
fn after_a_shutdown_python_clients_reconnect_to_the_next_server() {
    let client =
        |url: &str, mode: &str| Waiting::start_python(&["shutdown", url, mode, "300", "5000", "0"]);
    for (mode, transport) in MODES {
        let (ready, back) = shutdown_and_come_back(client, mode, false);
        // python-engineio reads a closed WebSocket and a refused poll alike as "transport
        // error". (It would name an engine `close` "server disconnect", and give up after it.)
        assert_eq!(
            ready,
            json!({"first": "a", "main": "transport error", "other": "transport error"}),
            "mode {mode}"
        );
        assert_eq!(
            back,
            json!({"second": "b", "transport": transport}),
            "mode {mode}"
        );
    }
}

#[test]
fn a_shutdown_aborts_the_handlers_still_running_at_its_deadline_but_not_its_caller() {
    for deadline in ["300", "0"] {
        let path = journal_path(&format!("deadline-{deadline}"));
        let journal_arg = path.to_str().expect("path");
        let mut server = Server::start(
            "lifecycle_testbed",
            &["--name", "a", "--journal", journal_arg],
        );
        // A handler of 60 s, and a shutdown awaited by the handler that asked for it.
        let client = Waiting::start(
            "lifecycle_client.mjs",
            &[
                "shutdown",
                &server.url(),
                "websocket",
                "60000",
                deadline,
                "1",
            ],
        );
        assert_eq!(client.ready, shut_down_by_transport("websocket"));
        let status = server.wait_exit(Duration::from_secs(5));
        assert!(
            status.is_some_and(|status| status.success()),
            "serve returns once the deadline passed: {status:?}, deadline {deadline} ms"
        );
        let lines = journal(&path);
        let _ = std::fs::remove_file(&path);
        let position = |line: &str| lines.iter().position(|l| l == line);
        // The slow handler was aborted, before `serve` returned; the handler that awaited the
        // shutdown was neither waited for (it would have been aborted with the slow one) nor
        // aborted.
        let context = format!("{lines:?}, deadline {deadline} ms");
        assert!(
            position("slow aborted").is_some()
                && position("slow aborted") < position("serve returned"),
            "{context}"
        );
        assert!(position("slow finished").is_none(), "{context}");
        assert!(position("shutdown returned").is_some(), "{context}");
    }
}
