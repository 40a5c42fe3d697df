//! Prometheus metrics end to end: the chat example (built with the `metrics` feature) scraped at
//! `/metrics` before and after a scenario of the official socket.io-client, every counter moved
//! by exactly what the scenario did; and on the Redis Streams layer, what the layer reports.

mod support;

use std::collections::HashMap;

use serde_json::json;
use support::{Redis, Server, Waiting, http};

/// The samples of a scrape: `name{labels}` to value.
fn scrape(server: &Server) -> HashMap<String, f64> {
    let response = http(server.addr, "GET", "/metrics", &[], b"");
    assert_eq!(response.status, 200);
    let text = response.text();
    assert!(text.ends_with("# EOF\n"), "OpenMetrics text: {text}");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn a_chat_scenario_moves_each_counter_by_what_it_did() {
    let server = Server::start("chat", &[]);
    let clients = Waiting::start(
        "chat_client.mjs",
        &[&server.url(), "websocket", "json", "metrics"],
    );
    assert_eq!(clients.ready, json!({"ready": true}));
    let before = scrape(&server);
    // Two WebSockets, two sockets of /chat, one room (the lobby).
    assert_eq!(
        before[r#"socketio_connections{transport="websocket"}"#],
        2.0
    );
    assert_eq!(before[r#"socketio_connections{transport="polling"}"#], 0.0);
    assert_eq!(before[r#"socketio_sockets{namespace="/chat"}"#], 2.0);
    assert_eq!(before[r#"socketio_rooms{namespace="/chat"}"#], 1.0);

    let result = clients.finish();
    assert_eq!(
        result,
        json!({"acks": [{"status": "ok"}, {"status": "ok"}, {"status": "ok"}], "bobGot": 3})
    );
    let after = scrape(&server);
    let moved = |name: &str| after[name] - before.get(name).copied().unwrap_or(0.0);

    // Alice's three messages, each broadcast to the lobby (both of them) and acked.
    assert_eq!(moved("socketio_events_received_total"), 3.0);
    assert_eq!(moved("socketio_broadcasts_total"), 3.0);
    assert_eq!(moved("socketio_broadcast_recipients_total"), 6.0);
    assert_eq!(moved("socketio_events_sent_total"), 6.0);
    // What reached the server: the three events (ack ids 0, 1, 2), then two DISCONNECTs.
    let event = |id: u32| format!(r#"2/chat,{id}["chat_message",{{"text":"hello"}}]"#).len();
    let received = event(0) + event(1) + event(2) + 2 * "1/chat,".len();
    assert_eq!(moved("socketio_bytes_received_total"), received as f64);
    // Six broadcasts and three acks queued by sockets, at least as many bytes as they hold.
    assert!(moved("socketio_bytes_sent_total") > 6.0 * 40.0);
    // Both left the namespace, then their connections closed.
    assert_eq!(
        moved(r#"socketio_disconnects_total{reason="client namespace disconnect"}"#),
        2.0
    );
    assert_eq!(after[r#"socketio_sockets{namespace="/chat"}"#], 0.0);
    assert_eq!(after[r#"socketio_rooms{namespace="/chat"}"#], 0.0);
    assert_eq!(after[r#"socketio_connections{transport="websocket"}"#], 0.0);
    // Nothing else happened.
    for untouched in [
        "socketio_upgrades_total",
        "socketio_closed_not_reading_total",
        "socketio_volatile_dropped_total",
        "socketio_ack_duration_seconds_count",
        r#"socketio_disconnects_total{reason="transport close"}"#,
        r#"socketio_disconnects_total{reason="ping timeout"}"#,
    ] {
        assert_eq!(moved(untouched), 0.0, "{untouched}");
    }
}

#[test]
fn a_redis_layer_reports_its_queue_its_drops_and_its_reconnects() {
    let mut redis = Redis::start();
    let server = Server::start("chat", &["--redis-streams", &redis.url()]);
    let layer = |scrape: &HashMap<String, f64>| {
        [
            "socketio_layer_queued_bytes",
            "socketio_layer_dropped_total",
            "socketio_layer_reconnects_total",
        ]
        .map(|name| scrape.get(name).copied())
    };
    let before = scrape(&server);
    assert_eq!(layer(&before), [Some(0.0), Some(0.0), Some(0.0)]);
    // The stream reader reads (nothing new): caught up.
    let caught_up = wait_for(&server, |s| {
        s.get("socketio_layer_lag_seconds") == Some(&0.0)
    });
    assert!(caught_up, "a lag of 0 once the reader has read");
    // Redis goes away and comes back: the reader connects again.
    redis.kill();
    redis.restart();
    let back = wait_for(&server, |s| s["socketio_layer_reconnects_total"] >= 1.0);
    assert!(back, "a reconnect counted");
}

/// Scrapes `server` until `done` holds, for up to 10 s.
fn wait_for(server: &Server, done: impl Fn(&HashMap<String, f64>) -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::time::Instant::now() < deadline {
        if done(&scrape(server)) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}
