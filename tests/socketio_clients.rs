//! The official `socket.io-client` (npm) and `python-socketio` (PyPI) against the Socket.IO
//! server, over polling only, WebSocket only and polling upgraded to WebSocket.

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::{Server, Waiting, http, node, node_with_env, python_in, python_with_env};

const MODES: [(&str, &str); 3] = [
    ("polling", "polling"),
    ("websocket", "websocket"),
    ("upgrade", "websocket"),
];

/// Each parser, as the testbed's flags and the clients' `SIO_PARSER`: the JSON default and
/// `socket.io-msgpack-parser` (python-socketio's `serializer="msgpack"`), with which every
/// scenario must see exactly the same.
const PARSERS: [(&[&str], &str); 2] = [(&[], "json"), (&["--msgpack"], "msgpack")];

fn js(scenario: &str, server: &Server, mode: &str, parser: &str) -> Value {
    node_with_env(
        "socketio_client.mjs",
        &[scenario, &server.url(), mode],
        &[("SIO_PARSER", parser)],
    )
}

fn python(args: &[&str], parser: &str) -> Value {
    python_with_env(args, &[("SIO_PARSER", parser)])
}

#[test]
fn connect_with_auth_to_two_namespaces_and_a_refusal() {
    for (flags, parser) in PARSERS {
        let server = Server::start("socketio_testbed", flags);
        for (mode, transport) in MODES {
            let result = js("connect", &server, mode, parser);
            assert_eq!(
                result,
                json!({
                    "transport": transport,
                    "welcomeIdMatches": true,
                    "idIsNotEngineSid": true,
                    "system": {"text": "Welcome!"},
                    "refused": {"message": "not authorized", "data": {"reason": "bad token"}},
                }),
                "mode {mode}, parser {parser}"
            );
        }
    }
}

#[test]
fn typed_events_acks_several_arguments_and_binary() {
    for (flags, parser) in PARSERS {
        let server = Server::start("socketio_testbed", flags);
        for (mode, transport) in MODES {
            let result = js("events", &server, mode, parser);
            assert_eq!(
                result,
                json!({
                    "transport": transport,
                    "echo": [1, "two", {"three": [3]}, null],
                    "acked": ["a", 2, [true]],
                    "typed": [{"x": 2, "y": 3}],
                    "array": [3, [5, 6, 7]],
                    "binaryAck": [4],
                    "blob": {"name": "three bytes", "data": [1, 2, 3]},
                    "extra": [4, 5],
                    "binaryEcho": [{"nested": [1, 2]}, [3]],
                    "stillUp": ["after a failing handler"],
                }),
                "mode {mode}, parser {parser}"
            );
        }
    }
}

#[test]
fn rooms_join_leave_broadcast_and_except() {
    for (flags, parser) in PARSERS {
        let server = Server::start("socketio_testbed", flags);
        for (mode, transport) in MODES {
            let result = js("rooms", &server, mode, parser);
            assert_eq!(
                result["transport"], transport,
                "mode {mode}, parser {parser}: {result}"
            );
            assert_eq!(
                result["ownRoom"], true,
                "every socket is in its own room: {result}"
            );
            assert_eq!(
                result["joinedA"].as_array().map(Vec::len),
                Some(2),
                "{result}"
            );
            // a, b in red; c in blue; b also in muted.
            assert_eq!(
                result["toRoom"],
                json!([0, 1, 0]),
                "socket.to(room) leaves the sender out"
            );
            assert_eq!(
                result["toRoomAll"],
                json!([1, 1, 0]),
                "server.to(room) reaches all in it"
            );
            assert_eq!(
                result["except"],
                json!([1, 0, 0]),
                "except(room) leaves its members out"
            );
            assert_eq!(
                result["broadcast"],
                json!([0, 1, 1]),
                "broadcast() leaves the sender out"
            );
            assert_eq!(
                result["afterLeave"],
                json!([1, 0, 0]),
                "a socket that left gets nothing"
            );
        }
    }
}

#[test]
fn server_awaits_client_acks_from_inside_a_handler() {
    for (flags, parser) in PARSERS {
        let server = Server::start("socketio_testbed", flags);
        for (mode, transport) in MODES {
            let result = js("serverAck", &server, mode, parser);
            assert_eq!(
                result,
                json!({
                    "transport": transport,
                    "answered": [{"answer": "name for: what is your name?"}],
                    "timedOut": [{"error": "no ack within the timeout"}],
                }),
                "mode {mode}, parser {parser}"
            );
        }
    }
}

#[test]
fn a_client_that_does_not_read_misses_volatile_events_while_others_get_them() {
    let server = Server::start("socketio_testbed", &[]);
    // A WebSocket the client stops reading: the server's writes back up, and it is not
    // writable until the client reads again.
    let result = js("volatile", &server, "websocket", "json");
    assert_eq!(
        result,
        json!({
            "transport": "websocket",
            "flooded": true,
            "fillers": true,
            "readerFirst": 1,
            "pausedMissed": true,
            "pausedGotLater": true,
        })
    );
}

#[test]
fn server_emit_with_ack_to_a_room_gathers_replies_within_the_timeout() {
    let server = Server::start("socketio_testbed", &[]);
    let first = Waiting::start(
        "socketio_client.mjs",
        &["stay", &server.url(), "websocket", "askers"],
    );
    let second = Waiting::start(
        "socketio_client.mjs",
        &["stay", &server.url(), "polling", "askers"],
    );
    let started = std::time::Instant::now();
    let response = http(
        server.addr,
        "GET",
        "/ask?room=askers&timeout=1000",
        &[],
        b"",
    );
    let answers: Value = serde_json::from_slice(&response.body).expect("JSON");
    let mut answers: Vec<String> = answers["answers"]
        .as_array()
        .expect("answers")
        .iter()
        .map(|a| a.as_str().unwrap_or_default().to_owned())
        .collect();
    answers.sort();
    let mut ids = vec![
        first.ready["id"].as_str().unwrap_or_default().to_owned(),
        second.ready["id"].as_str().unwrap_or_default().to_owned(),
    ];
    ids.sort();
    assert_eq!(answers, ids, "each socket of the room answered once");
    assert!(
        started.elapsed() < Duration::from_millis(900),
        "answered before the timeout"
    );

    // Nobody in the room: the gathering ends empty when the timeout passes.
    let started = std::time::Instant::now();
    let response = http(server.addr, "GET", "/ask?room=nobody&timeout=300", &[], b"");
    assert_eq!(response.text(), r#"{"answers":[]}"#);
    assert!(started.elapsed() < Duration::from_secs(2));
    drop((first, second));
}

#[test]
fn disconnect_from_each_side_with_its_reason() {
    for (flags, parser) in PARSERS {
        let server = Server::start("socketio_testbed", flags);
        for (mode, transport) in MODES {
            let result = js("disconnects", &server, mode, parser);
            assert_eq!(
                result,
                json!({
                    "transport": transport,
                    "serverReason": "io server disconnect",
                    "clientSideSeenByServer": "client namespace disconnect",
                    "serverSideSeenByServer": true,
                }),
                "mode {mode}, parser {parser}"
            );
        }
    }
}

#[test]
fn a_panicking_handler_disconnects_only_its_namespace_socket() {
    for (flags, parser) in PARSERS {
        let server = Server::start("socketio_testbed", flags);
        for (mode, transport) in MODES {
            let result = js("panic", &server, mode, parser);
            assert_eq!(
                result,
                json!({
                    "transport": transport,
                    "sameConnection": true,
                    "reason": "io server disconnect",
                    "chatStillWorks": {"status": "ok"},
                    "otherStillWorks": ["other connection"],
                }),
                "mode {mode}, parser {parser}"
            );
        }
    }
}

#[test]
fn a_thousand_sockets_in_a_room_get_one_broadcast_encoded_once() {
    for (flags, parser) in PARSERS {
        a_thousand_sockets_get_one_encoding(flags, parser);
    }
}

fn a_thousand_sockets_get_one_encoding(flags: &[&str], parser: &str) {
    let server = Server::start("socketio_testbed", flags);
    let crowd = Waiting::start_with_env(
        "socketio_client.mjs",
        &["crowd", &server.url(), "websocket", "1000"],
        &[("SIO_PARSER", parser)],
    );
    assert_eq!(crowd.ready["sockets"], 1000);
    let before = server.stats();
    assert_eq!(before["sockets"], 1000, "{before}");
    let response = http(server.addr, "POST", "/announce?room=crowd", &[], b"");
    assert_eq!(response.text(), "true");
    let after = server.stats();
    let encoded = after["packetsEncoded"].as_u64().unwrap_or(0)
        - before["packetsEncoded"].as_u64().unwrap_or(0);
    assert_eq!(
        encoded, 1,
        "one encoding for a thousand recipients ({parser})"
    );
    let result = crowd.finish();
    assert_eq!(result, json!({"exactlyOnce": 1000, "total": 1000}));
}

#[test]
fn python_socketio_client() {
    for (flags, parser) in PARSERS {
        let server = Server::start("socketio_testbed", flags);
        for (mode, transport) in MODES {
            let url = server.url();
            let connect = python(&["connect", &url, mode], parser);
            assert_eq!(
                connect,
                json!({
                    "transport": transport,
                    "welcomeIdMatches": true,
                    "system": {"text": "Welcome!"},
                    "refused": [{"message": "not authorized", "data": {"reason": "bad token"}}],
                }),
                "mode {mode}, parser {parser}"
            );
            let events = python(&["events", &url, mode], parser);
            assert_eq!(
                events,
                json!({
                    "transport": transport,
                    "echo": [1, "two", {"three": [3]}],
                    "acked": ["a", 2, [true]],
                    "typed": {"x": 2, "y": 3},
                    "array": [3, [5, 6, 7]],
                    "binaryAck": 4,
                    "blob": {"name": "three bytes", "data": [1, 2, 3]},
                    "extra": [4, 5],
                    "asked": {"answer": "python says: what is your name?"},
                }),
                "mode {mode}, parser {parser}"
            );
            let rooms = python(&["rooms", &url, mode], parser);
            assert_eq!(
                rooms["transport"], transport,
                "mode {mode}, parser {parser}: {rooms}"
            );
            assert_eq!(
                (&rooms["ownRoom"], &rooms["joined"]),
                (&json!(true), &json!(true)),
                "{rooms}"
            );
            // a, b in green: to(room) leaves the sender out, server.to(room) does not, leave stops it.
            assert_eq!(
                rooms["messagesAfterToRoom"],
                json!([0, 1]),
                "mode {mode}, parser {parser}: {rooms}"
            );
            assert_eq!(
                rooms["messagesAfterToAll"],
                json!([1, 2]),
                "mode {mode}, parser {parser}: {rooms}"
            );
            assert_eq!(
                rooms["messagesAfterLeave"],
                json!([2, 2]),
                "mode {mode}, parser {parser}: {rooms}"
            );
            // python-socketio sends its namespace DISCONNECT and closes the transport right after;
            // which the server sees first depends on the transport.
            let reasons = rooms["clientDisconnectSeenByServer"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(reasons.len(), 1, "the disconnect hook ran once: {rooms}");
            assert!(
                ["client namespace disconnect", "transport close"]
                    .contains(&reasons[0].as_str().unwrap_or_default()),
                "mode {mode}, parser {parser}: {rooms}"
            );

            let disconnect = python(&["disconnect", &url, mode], parser);
            assert_eq!(
                disconnect,
                json!({"transport": transport, "reasons": [["server disconnect"]]}),
                "mode {mode}, parser {parser}"
            );
        }
    }
}

#[test]
fn a_client_that_floods_its_mailbox_is_disconnected_and_others_go_on() {
    let server = Server::start("socketio_testbed", &[]);
    for (mode, transport) in MODES {
        let result = js("flood", &server, mode, "json");
        assert_eq!(
            result,
            json!({
                "transport": transport,
                "clientReason": "io server disconnect",
                "serverReason": "mailbox full",
                "watcherStillWorks": ["still here"],
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn a_pending_server_ack_fails_when_its_socket_disconnects() {
    let server = Server::start("socketio_testbed", &[]);
    for (mode, transport) in MODES {
        let result = js("ackOnDisconnect", &server, mode, "json");
        assert_eq!(
            result,
            json!({
                "transport": transport,
                "outcome": {"error": "the socket disconnected before acknowledging"},
                "beforeTimeout": true,
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn shutdown_closes_every_transport_without_a_disconnect_packet() {
    let server = Server::start("socketio_testbed", &[]);
    let clients: Vec<Waiting> = MODES
        .iter()
        .map(|(mode, _)| {
            Waiting::start(
                "socketio_client.mjs",
                &["untilShutdown", &server.url(), mode],
            )
        })
        .collect();
    assert_eq!(server.stats()["sockets"], 6);
    let response = http(server.addr, "POST", "/shutdown", &[], b"");
    assert_eq!(response.text(), "true");
    for (client, (mode, _)) in clients.into_iter().zip(MODES) {
        // A DISCONNECT would read "io server disconnect", and stop the client reconnecting; the
        // polling client's request is refused rather than answered with an engine `close`.
        let reason = if mode == "polling" {
            "transport error"
        } else {
            "transport close"
        };
        assert_eq!(
            client.finish(),
            json!({"main": reason, "chat": reason}),
            "mode {mode}"
        );
    }
    assert_eq!(server.stats()["sockets"], 0);
    // A polling session keeps its last response (the close packet) for at most a ping timeout.
    let stats = server.wait_for_stats(Duration::from_secs(10), |s| s["sessions"] == 0);
    assert_eq!(stats["sessions"], 0, "{stats}");
}

#[test]
fn the_chat_runs_with_each_parser_for_both_official_clients() {
    for (parser, flags) in [("json", &[][..]), ("msgpack", &["--parser", "msgpack"][..])] {
        let server = Server::start("chat", flags);
        for (mode, transport) in MODES {
            let seen = |transport| {
                json!({
                    "transport": transport,
                    "welcomes": ["Welcome!", "Welcome!"],
                    "ack": {"status": "ok"},
                    "messages": ["hello", "hello"],
                    "fileAck": {"status": "ok"},
                    // The bytes travel as binary both ways (an attachment, or a `bin`).
                    "files": [
                        {"name": "a.bin", "binary": true, "data": [0, 1, 2, 253, 254, 255]},
                        {"name": "a.bin", "binary": true, "data": [0, 1, 2, 253, 254, 255]},
                    ],
                })
            };
            let js = node("chat_client.mjs", &[&server.url(), mode, parser]);
            assert_eq!(js, seen(transport), "socket.io-client, {mode}, {parser}");
            let py = python(&["chat", &server.url(), mode], parser);
            assert_eq!(py, seen(transport), "python-socketio, {mode}, {parser}");
        }
    }
}

#[test]
fn socket_io_v2_clients_are_served_beside_v4_ones() {
    let server = Server::start("socketio_testbed", &["--eio3"]);
    for (mode, transport) in [
        ("polling", "polling"),
        ("websocket", "websocket"),
        ("upgrade", "websocket"),
    ] {
        let result = node("socketio_client_v2.mjs", &["mixed", &server.url(), mode]);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                // The socket of `/`, made by the server on arrival, has the connection's id,
                // and its `connect` ran (the welcome).
                "idIsTheEngines": true,
                "welcomedWithItsId": [true],
                "ack": ["hi", 1],
                "typed": [{"x": 2, "y": 3}],
                "binaryAck": [3],
                "binaryEvent": {"name": "three bytes", "data": [1, 2, 3], "extra": [4, 5]},
                // A broadcast reaches the v2 and the v4 client alike, binary included.
                "roomMessage": [{"from": "v4"}, {"from": "v4"}],
                "roomBinary": [["bytes", [7, 8]], ["bytes", [7, 8]]],
                // The CONNECT's query string is the namespace's auth; the id is `/whoami#<sid>`.
                "whoami": {"auth": {"token": "abc"}, "idIsTheSockets": true, "id": "/whoami"},
                "refused": "not authorized",
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn socket_io_v2_clients_are_refused_unless_allowed() {
    let server = Server::start("socketio_testbed", &[]);
    support::assert_v3_refused(server.addr, "/socket.io/");
}

#[test]
fn socket_io_v2_clients_chat_where_no_consumer_serves_the_main_namespace() {
    // The chat example serves `/chat` only: a v2 client is connected to `/` all the same, then
    // joins the lobby beside a v4 client.
    let server = Server::start("chat", &["--eio3"]);
    for (mode, transport) in [
        ("polling", "polling"),
        ("websocket", "websocket"),
        ("upgrade", "websocket"),
    ] {
        let result = node("socketio_client_v2.mjs", &["chat", &server.url(), mode]);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                "welcomes": ["Welcome!", "Welcome!"],
                "ack": {"status": "ok"},
                "messages": ["hello from v2", "hello from v2"],
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn python_socketio_4_speaks_socket_io_v2() {
    // python-socketio 4.6 speaks Engine.IO v3 only.
    let server = Server::start("socketio_testbed", &["--eio3"]);
    for (mode, transport) in [
        ("polling", "polling"),
        ("websocket", "websocket"),
        ("upgrade", "websocket"),
    ] {
        let result = python_in("tests/clients/py2", "client_v2.py", &[&server.url(), mode]);
        assert_eq!(
            result,
            json!({
                "welcomedWithItsId": [true],
                "ack": ["hi", 1],
                "typed": {"x": 2, "y": 3},
                "binaryAck": 3,
                "binaryEvent": {"name": "three bytes", "data": [1, 2, 3], "extra": [4, 5]},
                "roomBinary": ["bytes", [7, 8]],
                "transport": transport,
            }),
            "mode {mode}"
        );
    }
}
