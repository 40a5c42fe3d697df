//! The server side of the Socket.IO Admin UI, spoken by the official socket.io-client as the UI
//! speaks it, against the chat example started with `--admin`.

mod support;

use serde_json::json;
use support::{Server, node};

#[test]
fn development_mode_shows_every_socket_and_takes_the_actions() {
    let server = Server::start("chat", &["--admin", "admin:changeit", "--admin-dev"]);
    let seen = node("admin_client.mjs", &["dev", &server.url()]);
    assert_eq!(
        seen,
        json!({
            "refused": "invalid credentials",
            "session": true,
            "features": ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT",
                         "AGGREGATED_EVENTS", "ALL_EVENTS"],
            "allSocketsIsAList": true,
            // Each chat client as the UI lists it, `_admin` taken out of its data.
            "entry": {"nsp": "/chat", "rooms": true, "clientId": true, "transport": "websocket",
                      "handshake": true, "data": {}},
            "event": ["/chat", true, ["chat_message", {"text": "hi admin"}]],
            "joined": ["/chat", true],
            // Disconnected from the UI: the client sees a server disconnect.
            "bobReason": "io server disconnect",
            "disconnected": ["/chat", true, "server namespace disconnect"],
            "stats": {"serverId": true, "clientsCount": 3, "aggregated": true},
            "backWithSession": true,
        })
    );
}

#[test]
fn production_and_read_only_modes_show_less_and_act_on_nothing() {
    let server = Server::start("chat", &["--admin", "admin:changeit", "--admin-read-only"]);
    let seen = node("admin_client.mjs", &["production", &server.url()]);
    assert_eq!(
        seen,
        json!({
            "features": ["AGGREGATED_EVENTS"],
            "allSockets": null,
            "notifications": 0,
            "bobStillThere": true,
        })
    );
}
