//! The server side of the Socket.IO Admin UI, against the chat example started with `--admin`:
//! spoken by the official socket.io-client as the UI speaks it, and the real UI (the npm
//! package's `ui/dist`) in headless Chromium.

mod support;

use serde_json::json;
use support::{Server, node, root};

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
            // The chat broadcasts it to the lobby (with its recovery offset as a last argument).
            "sentTo": [["/chat", true, {"text": "hi admin"}], ["/chat", true, {"text": "hi admin"}]],
            "emitted": {"text": "from the admin"},
            "joined": ["/chat", true],
            // The data `set_name` gave the socket, as the UI shows it.
            "updated": ["/chat", true, {"name": "alice"}],
            // Disconnected from the UI: the client sees a server disconnect.
            "bobReason": "io server disconnect",
            "disconnected": ["/chat", true, "server namespace disconnect"],
            "stats": {"serverId": true, "clientsCount": true, "aggregated": true},
            "backWithSession": true,
        })
    );
}

#[test]
fn the_real_admin_ui_logs_in_lists_the_chat_and_disconnects_a_client() {
    // The UI the npm package ships, served by the chat example, in headless Chromium.
    let ui = root().join("tests/clients/js/node_modules/@socket.io/admin-ui/ui/dist");
    let ui = ui.to_str().expect("UTF-8 path");
    let server = Server::start(
        "chat",
        &["--admin", "admin:changeit", "--admin-dev", "--admin-ui", ui],
    );
    let artifacts = root().join("tests/artifacts");
    std::fs::create_dir_all(&artifacts).expect("artifacts folder");
    let screenshot = artifacts.join("admin-ui.png");
    let _ = std::fs::remove_file(&screenshot);
    let seen = node(
        "admin_browser.mjs",
        &[&server.url(), screenshot.to_str().expect("UTF-8 path")],
    );
    assert_eq!(
        seen,
        json!({
            "wrongPasswordRefused": true,
            "socketsListed": true,
            "namespaceShown": true,
            "lobbyShown": true,
            "bobReason": "io server disconnect",
            "aliceStillConnected": true,
        })
    );
    assert!(screenshot.exists(), "the screenshot is kept");
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
