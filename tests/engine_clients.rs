//! The official `engine.io-client` (npm) against the Engine.IO server, over polling only,
//! WebSocket only, and polling upgraded to WebSocket.

#![allow(clippy::print_stderr)] // tests report measured timings

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::{Server, node, spawn_node};

/// A heartbeat slow enough that a loaded test machine never misses a pong: the tests that are
/// not about the heartbeat use it.
const RELAXED: [&str; 4] = ["--ping-interval", "5000", "--ping-timeout", "5000"];

const MODES: [(&str, &str); 3] = [
    ("polling", "polling"),
    ("websocket", "websocket"),
    ("upgrade", "websocket"),
];

#[test]
fn text_and_binary_both_ways() {
    let server = Server::start("conformance", &RELAXED);
    assert_echoes("engine_client.mjs", &server);
}

/// The client of `script` gets a text and a binary message echoed, in each mode.
fn assert_echoes(script: &str, server: &Server) {
    for (mode, transport) in MODES {
        let result = node(script, &["echo", &server.url(), mode]);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                "messages": [{"text": "hello €😀"}, {"binary": [1, 2, 3, 4]}],
            }),
            "{script}, mode {mode}"
        );
    }
}

#[test]
fn max_payload_is_the_limit() {
    let server = Server::start("conformance", &RELAXED);
    for mode in ["polling", "websocket"] {
        assert_max_payload(&server, mode);
    }
    assert!(
        server.wait_for_stats(Duration::from_secs(5), |s| s["open"] == 0)["open"] == 0,
        "refused sessions are gone"
    );
}

#[test]
fn compressed_messages_are_held_to_max_payload_inflated() {
    let mut args = RELAXED.to_vec();
    args.push("--deflate");
    let server = Server::start("conformance", &args);
    for mode in ["websocket", "upgrade"] {
        // Node's `ws` compresses a message of 999,999 characters to about a kilobyte; the server
        // inflates it to exactly `max_payload` and sends it back compressed; one more character
        // inflates beyond it, and the connection closes (1009).
        let (under, over) = assert_max_payload(&server, mode);
        // `ws` names the extensions it agreed to, without their parameters.
        assert_eq!(
            under["extensions"], "permessage-deflate",
            "mode {mode}: {under}"
        );
        assert_eq!(over["closed"]["code"], 1009, "mode {mode}: {over}");
    }
}

/// A message of exactly `max_payload` is echoed, one byte more closes the session; what the
/// client saw of each.
fn assert_max_payload(server: &Server, mode: &str) -> (serde_json::Value, serde_json::Value) {
    // The packet type adds one byte: 999,999 characters make a payload of exactly 1,000,000.
    let under = node(
        "engine_client.mjs",
        &["payload", &server.url(), mode, "999999"],
    );
    assert_eq!(under["echoed"], 999_999, "mode {mode}: {under}");
    let over = node(
        "engine_client.mjs",
        &["payload", &server.url(), mode, "1000000"],
    );
    assert!(over.get("echoed").is_none(), "mode {mode}: {over}");
    assert!(over["closed"]["reason"].is_string(), "mode {mode}: {over}");
    (under, over)
}

#[test]
fn a_thousand_messages_arrive_in_order() {
    let server = Server::start("conformance", &RELAXED);
    for (mode, transport) in MODES {
        let result = node(
            "engine_client.mjs",
            &["ordered", &server.url(), mode, "1000"],
        );
        assert_eq!(
            result,
            json!({"transport": transport, "received": 1000, "inOrder": true}),
            "mode {mode}"
        );
    }
}

#[test]
fn idle_connection_stays_up_for_five_ping_intervals() {
    // Ping every 300 ms: 1,600 ms idle is more than five intervals. The pong timeout is wide so
    // that a loaded machine does not fail the test for the wrong reason.
    let server = Server::start(
        "conformance",
        &["--ping-interval", "300", "--ping-timeout", "2000"],
    );
    for (mode, transport) in MODES {
        let result = node("engine_client.mjs", &["idle", &server.url(), mode, "1600"]);
        assert_eq!(result["transport"], transport, "mode {mode}");
        assert_eq!(
            result["closed"],
            serde_json::Value::Null,
            "mode {mode}: {result}"
        );
        assert!(
            result["pings"].as_u64().unwrap_or(0) >= 4,
            "mode {mode}: {result}"
        );
    }
}

#[test]
fn frozen_client_is_reaped_within_ping_interval_plus_timeout() {
    const INTERVAL_MS: u128 = 1000;
    const TIMEOUT_MS: u128 = 500;
    let server = Server::start(
        "conformance",
        &["--ping-interval", "1000", "--ping-timeout", "500"],
    );
    for mode in ["polling", "websocket"] {
        let (mut client, hello) = spawn_node("engine_client.mjs", &["frozen", &server.url(), mode]);
        assert!(hello["sid"].is_string(), "{hello}");
        assert_eq!(server.stats()["open"], 1);

        // SIGSTOP: the process stops answering, but its TCP connections stay open.
        let pid = client.id().to_string();
        let stopped = Instant::now();
        assert!(
            std::process::Command::new("kill")
                .args(["-STOP", &pid])
                .status()
                .expect("kill")
                .success()
        );
        let stats = server.wait_for_stats(Duration::from_secs(10), |s| s["open"] == 0);
        let reaped_after = stopped.elapsed().as_millis();
        let _ = std::process::Command::new("kill")
            .args(["-CONT", &pid])
            .status();
        let _ = client.kill();
        let _ = client.wait();

        assert_eq!(stats["open"], 0, "mode {mode}: never reaped");
        eprintln!("frozen {mode} client reaped {reaped_after} ms after SIGSTOP");
        // The reap comes at the first ping after the freeze plus the pong timeout: between
        // pingTimeout and pingInterval + pingTimeout, with room for a loaded machine.
        let window = (TIMEOUT_MS - 100)..=(INTERVAL_MS + TIMEOUT_MS + 750);
        assert!(
            window.contains(&reaped_after),
            "mode {mode}: reaped after {reaped_after} ms, expected within {window:?}"
        );
        assert_eq!(
            stats["closed"], stats["closeCallbacks"],
            "close path ran once"
        );
    }
}

#[test]
fn two_hundred_clients_at_once_leave_the_registry_empty() {
    let server = Server::start("conformance", &RELAXED);
    let result = node(
        "engine_client.mjs",
        &["crowd", &server.url(), "upgrade", "200"],
    );
    assert_eq!(result, json!({"ok": 200, "failures": []}));
    let stats = server.wait_for_stats(Duration::from_secs(5), |s| s["open"] == 0);
    assert_eq!(stats["open"], 0, "{stats}");
    assert_eq!(stats["polling"], 0, "{stats}");
    assert_eq!(stats["websocket"], 0, "{stats}");
    assert_eq!(stats["opened"], 200, "{stats}");
    assert_eq!(stats["closed"], 200, "{stats}");
    assert_eq!(
        stats["closeCallbacks"], 200,
        "each close callback ran exactly once: {stats}"
    );
}

#[test]
fn engine_io_v3_clients_are_served_beside_v4_ones_when_allowed() {
    let mut args = RELAXED.to_vec();
    args.push("--eio3");
    let server = Server::start("conformance", &args);
    assert_echoes("engine_client_v3.mjs", &server);
    assert_echoes("engine_client.mjs", &server);
}

#[test]
fn engine_io_v3_heartbeat_keeps_the_connection() {
    // The client pings every 300 ms and waits up to 2 s for each pong: nine rounds or so in
    // 3 s, with room for a loaded machine.
    let server = Server::start("conformance", &["--eio3", "--ping-timeout", "2000"]);
    for (mode, transport) in MODES {
        let result = node("engine_client_v3.mjs", &["heartbeat", &server.url(), mode]);
        assert_eq!(
            result,
            json!({
                "transport": transport,
                "closed": null,
                "pongsAtLeast5": true,
                "messages": [{"text": "still here"}],
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn engine_io_v3_clients_are_refused_unless_allowed() {
    let server = Server::start("conformance", &RELAXED);
    let result = node("engine_client_v3.mjs", &["echo", &server.url(), "polling"]);
    assert!(result["error"].is_string(), "{result}");
    support::assert_v3_refused(server.addr, "/engine.io/");
}
