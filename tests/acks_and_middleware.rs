//! Acks as the reference server does them (none unless a handler sends one), connect and event
//! middleware, the catch-all hooks and the `disconnecting` hook, with the official `socket.io-client` (npm) and
//! `python-socketio` (PyPI) against `tests/servers/hooks_testbed.rs`, over polling only,
//! WebSocket only and polling upgraded to WebSocket.

mod support;

use serde_json::{Value, json};
use support::{Server, node, python};

const MODES: [(&str, &str); 3] = [
    ("polling", "polling"),
    ("websocket", "websocket"),
    ("upgrade", "websocket"),
];

fn js(scenario: &str, server: &Server, mode: &str) -> Value {
    node("hooks_client.mjs", &[scenario, &server.url(), mode])
}

const TIMED_OUT: &str = "operation has timed out";

/// The log without terminal colours, whatever the subscriber decided.
fn plain(log: &str) -> String {
    let mut plain = String::with_capacity(log.len());
    let mut rest = log;
    while let Some(start) = rest.find('\u{1b}') {
        plain.push_str(&rest[..start]);
        rest = &rest[start..];
        rest = rest.find('m').map_or("", |end| &rest[end + 1..]);
    }
    plain.push_str(rest);
    plain
}

#[test]
fn only_what_a_handler_sends_is_an_ack() {
    let log = std::env::temp_dir().join(format!("sio-acks-{}.log", std::process::id()));
    let server = Server::start_logging("hooks_testbed", &[], &log);
    for (mode, transport) in MODES {
        let result = js("acks", &server, mode);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                // A handler without `Ack`, no handler, a handler that fails before answering,
                // an `Ack` dropped, an argument that does not decode: the client's timeout.
                "unanswered": {
                    "silent": {"error": TIMED_OUT},
                    "no_such_event": {"error": TIMED_OUT},
                    "failing": {"error": TIMED_OUT},
                    "dropped": {"error": TIMED_OUT},
                    "double": {"error": TIMED_OUT},
                },
                "doubled": [42],
                // The undecodable `double` never reached its handler.
                "received": {"silent": 1, "failing": 1, "dropped": 1, "double": 1},
                // On the wire, only the two acks handlers sent: `double` 21 and `report`.
                "ackPackets": 2,
            }),
            "mode {mode}"
        );
    }
    drop(server);
    let log = plain(&std::fs::read_to_string(&log).expect("server log"));
    let undecodable: Vec<&str> = log
        .lines()
        .filter(|line| line.contains("an argument does not decode"))
        .collect();
    assert_eq!(undecodable.len(), 3, "one per mode:\n{log}");
    for line in undecodable {
        assert!(
            line.contains("WARN") && line.contains("event=double") && line.contains("argument=0"),
            "names the event and the argument: {line}"
        );
    }
}

#[test]
fn a_client_with_retries_resends_an_unanswered_event_three_times() {
    let server = Server::start("hooks_testbed", &[]);
    for (mode, transport) in MODES {
        let result = js("retries", &server, mode);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                "silent": {"error": TIMED_OUT},
                "failing": {"error": TIMED_OUT},
                // `retries: 3`: the first send and three more, then the client gives up.
                "received": {"silent": 4, "failing": 4},
                "doubled": [10],
                "patientReceived": {"double": 1},
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn connect_middleware_runs_in_order_and_refuses_with_data() {
    let server = Server::start("hooks_testbed", &[]);
    for (mode, transport) in MODES {
        let result = js("middleware", &server, mode);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                // The server's middleware, the namespace's two in order, then `connect`.
                "steps": ["server", "first", "second", "connect"],
                // Typed data the server's middleware kept, as the handler reads it.
                "visitor": "ada",
                "refusals": {
                    "server": {"message": "refused by server", "data": {"step": "server"}},
                    "first": {"message": "refused by first", "data": {"step": "first"}},
                    "second": {"message": "refused by second", "data": {"step": "second"}},
                },
                // A refusal ends the chain: nothing after it ran.
                "stepsAfterRefusal": 0,
                "refusedHere": "refused by first",
                "otherAnswers": ["pong"],
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn event_middleware_drops_answers_or_disconnects() {
    let server = Server::start("hooks_testbed", &[]);
    for (mode, transport) in MODES {
        let result = js("event_middleware", &server, mode);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                // Refused: no handler, no ack; nothing tells the client.
                "forbidden": {"error": TIMED_OUT},
                "answered": ["the middleware answers"],
                // `#[on_any]` sees every event, the refused ones too.
                "seen": ["forbidden", "answered_by_middleware", "report"],
                "received": {},
                "reason": "io server disconnect",
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn disconnecting_reads_the_rooms_before_disconnect() {
    let server = Server::start("hooks_testbed", &[]);
    for (mode, transport) in MODES {
        let result = js("disconnecting", &server, mode);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                "reason": "client namespace disconnect",
                "rooms": ["everyone", "red"],
                "ownRoom": true,
                "roomsAfter": [],
                "kickedReason": "server namespace disconnect",
                "kickedRooms": ["everyone"],
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn catch_all_hooks_see_events_both_ways() {
    let server = Server::start("hooks_testbed", &[]);
    for (mode, transport) in MODES {
        let result = js("hooks", &server, mode);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                "acked": [null],
                "binary": [1, 2, 3],
                "reserved": ["`disconnect` is a reserved event name"],
                // Each socket's outgoing hook saw its direct emits (binary data read back) and
                // the broadcast, and no ack.
                "a": {
                    "seen": ["shout", "emit_reserved", "report"],
                    "sent": [["echo", ["hi"]], ["binary", [[1, 2, 3]]], ["shouted", ["hi"]]],
                },
                "b": {"seen": ["report"], "sent": [["shouted", ["hi"]]]},
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn python_gets_no_unsent_acks_and_middleware_refusals() {
    let server = Server::start("hooks_testbed", &[]);
    for (mode, transport) in MODES {
        let result = python(&["hooks", &server.url(), mode]);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                "unanswered": {
                    "silent": "timeout",
                    "no_such_event": "timeout",
                    "failing": "timeout",
                    "dropped": "timeout",
                    "double": "timeout",
                },
                "doubled": 42,
                "steps": ["server", "first", "second", "connect"],
                "visitor": "ada",
                "refused": [{"message": "refused by second", "data": {"step": "second"}}],
            }),
            "mode {mode}"
        );
    }
}
