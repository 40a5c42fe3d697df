//! Namespaces made from a pattern (`/workspace/{id}`), with the official `socket.io-client`
//! (npm) against `tests/servers/namespaces_testbed.rs`, over polling only, WebSocket only and
//! polling upgraded to WebSocket: each workspace its own namespace, typed parameters, `Invalid
//! namespace` for the rest, the cleanup of an empty one, and a flood of names held to the limit.

mod support;

use serde_json::{Value, json};
use sio::socket::{Consumer, HandlerError, IncomingEvent, Socket};
use support::{Server, node, open_websocket};

const MODES: [(&str, &str); 3] = [
    ("polling", "polling"),
    ("websocket", "websocket"),
    ("upgrade", "websocket"),
];

fn js(scenario: &str, server: &Server, mode: &str) -> Value {
    node("namespaces_client.mjs", &[scenario, &server.url(), mode])
}

#[test]
fn each_workspace_is_a_namespace_of_its_own_with_typed_parameters() {
    let server = Server::start("namespaces_testbed", &[]);
    for (mode, transport) in MODES {
        assert_eq!(
            js("isolation", &server, mode),
            json!({
                // The broadcast of a1 reaches a2 only: not a1 itself, not workspace 2.
                "heard": {"a1": [], "a2": ["to workspace 1"], "b": []},
                "who": [
                    {"namespace": "/workspace/1", "id": 1, "text": "1", "params": [["id", "1"]]},
                    {"namespace": "/workspace/2", "id": 2, "text": "2", "params": [["id", "2"]]},
                ],
                "transport": transport,
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn a_broadcast_to_the_pattern_reaches_every_workspace() {
    let server = Server::start("namespaces_testbed", &[]);
    for (mode, _) in MODES {
        assert_eq!(
            js("parent", &server, mode),
            json!({
                "heard": {
                    "admin": [],
                    "a1": ["to every workspace"],
                    "a2": ["to every workspace"],
                    "b": ["to every workspace"],
                    // Declared as it is: not made from the pattern.
                    "lobby": [],
                },
                "rooms": 3,
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn the_pattern_s_operations_act_on_every_workspace() {
    let server = Server::start("namespaces_testbed", &[]);
    for (mode, _) in MODES {
        assert_eq!(
            js("operations", &server, mode),
            json!({
                "operated": {
                    "answers": ["a1", "a2", "b"],
                    "found": ["/workspace/1", "/workspace/1", "/workspace/2"],
                    // One room name in two workspaces: listed once.
                    "joined": ["everyone"],
                    "inRoom": 3,
                    "left": [],
                    "elsewhere": {"sockets": 0, "acks": 0},
                },
                "found": {"a1": "/workspace/1", "a2": "/workspace/1", "b": "/workspace/2"},
                "disconnected": {
                    "a1": "io server disconnect",
                    "a2": "io server disconnect",
                    "b": "io server disconnect",
                },
                "lobby": true,
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn a_name_written_like_the_pattern_is_invalid() {
    // Were it a workspace, its own broadcasts would select every workspace.
    let server = Server::start("namespaces_testbed", &[]);
    let mut socket = open_websocket(server.addr);
    socket
        .send(tungstenite::Message::text("40/workspace/{id},"))
        .expect("send");
    let reply = socket.read().expect("a reply to the CONNECT");
    assert_eq!(
        reply,
        tungstenite::Message::text(r#"44/workspace/{id},{"message":"Invalid namespace"}"#)
    );
}

#[test]
fn a_typed_parameter_of_connect_refuses_names_it_cannot_read() {
    let server = Server::start("namespaces_testbed", &[]);
    for (mode, _) in MODES {
        assert_eq!(
            js("typedConnect", &server, mode),
            json!({"number": 12, "refused": "Invalid namespace", "closed": "game 0 is closed"}),
            "mode {mode}"
        );
    }
}

#[test]
fn a_predicate_decides_once_per_namespace_with_the_handshake() {
    let server = Server::start("namespaces_testbed", &[]);
    for (mode, _) in MODES {
        assert_eq!(
            js("admitted", &server, mode),
            json!({
                // Two CONNECTs while the predicate runs, one after: it ran once for them all.
                "together": ["connected", "connected"],
                "later": "connected",
                "other": "Invalid namespace",
                "wrongPass": "Invalid namespace",
                // Refused, the name was not kept: the next CONNECT asked again.
                "rightPass": "connected",
                "pong": "pong",
                // A predicate that panics refuses as a panicking `connect` does.
                "panicked": "server error",
                "calls": 5,
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn names_no_pattern_matches_are_invalid() {
    let server = Server::start("namespaces_testbed", &[]);
    for (mode, _) in MODES {
        assert_eq!(
            js("invalid", &server, mode),
            json!({
                "/nothing": "Invalid namespace",
                "/workspace/": "Invalid namespace",
                "/workspace/1/2": "Invalid namespace",
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn a_declared_name_wins_and_a_refused_name_is_not_kept() {
    // Cleanup off: what goes, goes because no socket was ever admitted to it.
    let server = Server::start("namespaces_testbed", &[]);
    for (mode, _) in MODES {
        assert_eq!(
            js("declaredAndRefused", &server, mode),
            json!({
                "declared": {"namespace": "/workspace/lobby", "declared": true},
                "refused": "workspace 0 is closed",
                "notNumbered": "workspaces are numbered",
                "namespaces": ["/", "/workspace/lobby"],
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn an_empty_workspace_is_removed_only_with_cleanup_on() {
    let server = Server::start("namespaces_testbed", &["--cleanup", "on"]);
    for (mode, _) in MODES {
        assert_eq!(
            js("cleanup", &server, mode),
            json!({
                "during": ["/", "/workspace/9", "/workspace/lobby"],
                "after": ["/", "/workspace/lobby"],
                "back": "/workspace/9",
            }),
            "mode {mode}"
        );
    }
    let kept = Server::start("namespaces_testbed", &[]);
    assert_eq!(
        js("cleanup", &kept, "websocket"),
        json!({
            "during": ["/", "/workspace/9", "/workspace/lobby"],
            "after": ["/", "/workspace/9", "/workspace/lobby"],
            "back": "/workspace/9",
        })
    );
}

#[test]
fn a_client_that_leaves_while_its_connect_is_decided_costs_the_workspace_nothing() {
    // Cleanup on: had the leaving socket let go of the workspace twice, the workspace would be
    // removed while `stays` is in it, and the late socket would join a new one.
    let server = Server::start("namespaces_testbed", &["--cleanup", "on"]);
    for (mode, _) in MODES {
        assert_eq!(
            js("leftWhileConnecting", &server, mode),
            json!({"heard": "still one workspace"}),
            "mode {mode}"
        );
    }
}

#[test]
fn a_flood_of_names_is_held_to_the_limit() {
    let server = Server::start("namespaces_testbed", &["--max-children", "50"]);
    let mut socket = open_websocket(server.addr);
    const NAMES: usize = 10_000;
    let outcome = connect_workspaces(&mut socket, NAMES, "Invalid namespace");
    assert_eq!(outcome, (50, NAMES - 50));
    // The server serves the main namespace and the 50 workspaces, no more.
    socket.send(tungstenite::Message::text("40")).expect("send");
    socket
        .send(tungstenite::Message::text(r#"421["namespaces"]"#))
        .expect("send");
    let namespaces = loop {
        if let tungstenite::Message::Text(text) = socket.read().expect("the answer")
            && let Some(answer) = text.strip_prefix("431")
        {
            let answer: Value = serde_json::from_str(answer).expect("JSON");
            break answer[0].as_array().expect("a list").len();
        }
    };
    // The main namespace, the declared `/workspace/lobby` and the 50 workspaces.
    assert_eq!(namespaces, 2 + 50);
}

#[test]
fn one_connection_cannot_take_a_pattern_for_itself() {
    let server = Server::start(
        "namespaces_testbed",
        &["--max-children", "1000", "--max-per-connection", "10"],
    );
    let mut greedy = open_websocket(server.addr);
    let outcome = connect_workspaces(&mut greedy, 100, "too many namespaces on one connection");
    assert_eq!(outcome, (10, 90));
    // The connection stays, and another client still gets a workspace of its own.
    let mut other = open_websocket(server.addr);
    other
        .send(tungstenite::Message::text("40/workspace/500,"))
        .expect("send");
    let reply = other.read().expect("a reply");
    assert!(
        matches!(&reply, tungstenite::Message::Text(text) if text.starts_with("40/workspace/500,{\"sid\"")),
        "{reply:?}"
    );
    greedy
        .send(tungstenite::Message::text(r#"42/workspace/1,7["ping"]"#))
        .expect("the greedy connection is still open");
    let answer = greedy.read().expect("an answer");
    assert_eq!(
        answer,
        tungstenite::Message::text(r#"43/workspace/1,7["pong"]"#)
    );
}

/// Sends CONNECTs to `/workspace/1` to `/workspace/{count}` at once, then reads a reply to
/// each: how many were admitted, and how many refused with `refusal` (anything else fails).
fn connect_workspaces(socket: &mut support::Ws, count: usize, refusal: &str) -> (usize, usize) {
    for index in 1..=count {
        socket
            .send(tungstenite::Message::text(format!("40/workspace/{index},")))
            .expect("send");
    }
    let (mut admitted, mut refused) = (0, 0);
    while admitted + refused < count {
        match socket.read().expect("a reply to each CONNECT") {
            tungstenite::Message::Text(text) if text.starts_with("40/workspace/") => admitted += 1,
            tungstenite::Message::Text(text)
                if text.starts_with("44/workspace/") && text.contains(refusal) =>
            {
                refused += 1;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    (admitted, refused)
}

/// A consumer for any namespace `N`.
#[derive(Default)]
struct Any<const N: usize>;

const PATTERNS: [&str; 3] = ["/a/{x}", "/{y}/b", "/a/{x}/c"];

impl<const N: usize> Consumer for Any<N> {
    const NAMESPACE: &'static str = PATTERNS[N];

    async fn on_event(&mut self, _: &Socket, _: IncomingEvent) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[test]
fn two_patterns_that_share_a_name_are_refused_at_build() {
    let built = std::panic::catch_unwind(|| {
        sio::Server::builder()
            .consumer::<Any<0>>()
            .consumer::<Any<1>>()
            .build()
    });
    let message = built
        .err()
        .and_then(|panic| panic.downcast::<String>().ok());
    assert_eq!(
        message.as_deref().map(String::as_str),
        Some("namespace patterns `/a/{x}` and `/{y}/b` both match some names; make them distinct")
    );
    // Patterns that share no name are fine together.
    let _server = sio::Server::builder()
        .consumer::<Any<0>>()
        .consumer::<Any<2>>()
        .build();
}
