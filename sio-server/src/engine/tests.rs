//! The engine driven in-process, request by request, with no network: the session registry
//! and its counts, and an engine that frees itself and its sessions once dropped.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt, Full};
use sio_core::Transport;

use crate::engine::{Connection, Engine, EngineStats, Message};

fn echo() -> Engine<fn(&Connection, Message)> {
    fn echo(connection: &Connection, message: Message) {
        let _ = connection.send(message);
    }
    Engine::builder().build(echo as fn(&Connection, Message))
}

async fn request<H: crate::engine::EngineHandler>(
    engine: &Engine<H>,
    method: &str,
    query: &str,
    body: &'static str,
) -> (StatusCode, String) {
    let uri = format!("/engine.io/?EIO=4&transport=polling{query}");
    request_at(engine, method, uri, body).await
}

/// The same with Engine.IO v3 (binary as base64).
async fn request_v3<H: crate::engine::EngineHandler>(
    engine: &Engine<H>,
    method: &str,
    query: &str,
    body: &'static str,
) -> (StatusCode, String) {
    let uri = format!("/engine.io/?EIO=3&transport=polling&b64=1{query}");
    request_at(engine, method, uri, body).await
}

async fn request_at<H: crate::engine::EngineHandler>(
    engine: &Engine<H>,
    method: &str,
    uri: String,
    body: &'static str,
) -> (StatusCode, String) {
    let request = Request::builder()
        .method(method)
        .uri(uri)
        .body(Full::new(Bytes::from_static(body.as_bytes())))
        .unwrap();
    let response = engine.handle(request).await;
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(body.to_vec()).unwrap())
}

/// Opens a polling session and returns its sid.
async fn handshake<H: crate::engine::EngineHandler>(engine: &Engine<H>) -> String {
    let (status, body) = request(engine, "GET", "", "").await;
    assert_eq!(status, StatusCode::OK);
    let open: serde_json::Value = serde_json::from_str(body.strip_prefix('0').unwrap()).unwrap();
    open["sid"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_registry_counts_sessions_and_ids_are_unique() {
    let engine = echo();
    let first = handshake(&engine).await;
    let second = handshake(&engine).await;
    assert_ne!(first, second);
    assert_eq!(first.len(), 24, "144 bits, URL-safe base64");
    let open = EngineStats {
        open: 2,
        polling: 2,
        websocket: 0,
        opened_total: 2,
        closed_total: 0,
        queued_bytes: 0,
    };
    assert_eq!(engine.stats(), open);
    assert!(engine.inner().registry.get(&first).is_some());
    assert_eq!(engine.inner().timers.targets(), 2);

    // The client closes one: its session leaves the registry at once.
    let (status, _) = request(&engine, "POST", &format!("&sid={first}"), "1").await;
    assert_eq!(status, StatusCode::OK);
    assert!(engine.inner().registry.get(&first).is_none());
    // Nor do its deadlines keep its memory.
    assert_eq!(engine.inner().timers.targets(), 1);
    let (status, body) = request(&engine, "GET", &format!("&sid={first}"), "").await;
    assert_eq!(
        (status, body.as_str()),
        (StatusCode::BAD_REQUEST, "unknown session id")
    );
    assert_eq!(
        engine.stats(),
        EngineStats {
            open: 1,
            polling: 1,
            closed_total: 1,
            ..open
        }
    );
}

#[tokio::test]
async fn an_upgrade_moves_a_session_between_counts() {
    let engine = echo();
    let sid = handshake(&engine).await;
    engine.inner().registry.upgraded();
    let stats = engine.stats();
    assert_eq!((stats.polling, stats.websocket), (0, 1));
    engine.inner().registry.remove(
        &engine.inner().registry.get(&sid).unwrap().sid.clone(),
        Transport::WebSocket,
    );
    assert_eq!(engine.stats().open, 0);
    assert_eq!(engine.stats().websocket, 0);
}

/// Waits up to a second for a weak pointer to die.
async fn freed<T>(weak: &Weak<T>) -> bool {
    let start = Instant::now();
    while weak.strong_count() > 0 {
        if start.elapsed() > Duration::from_secs(1) {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    true
}

#[tokio::test]
async fn a_closed_and_dropped_engine_frees_itself_and_its_sessions() {
    let engine = echo();
    let sid = handshake(&engine).await;
    let session = Arc::downgrade(&engine.inner().registry.get(&sid).unwrap());
    let inner = Arc::downgrade(engine.inner());

    engine.close_all();
    // The client's next GET carries the close packet, the last of the session's output.
    let (status, body) = request(&engine, "GET", &format!("&sid={sid}"), "").await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "1"));
    drop(engine);
    assert!(freed(&session).await, "the session outlived its engine");
    assert!(freed(&inner).await, "the engine outlived its last handle");
}

#[tokio::test]
async fn an_engine_dropped_with_a_session_still_draining_frees_it() {
    let engine = echo();
    let sid = handshake(&engine).await;
    engine
        .inner()
        .registry
        .get(&sid)
        .unwrap()
        .connection()
        .send("last")
        .unwrap();
    let session = Arc::downgrade(&engine.inner().registry.get(&sid).unwrap());
    let inner = Arc::downgrade(engine.inner());

    // Closed with a message still queued, the session waits for a GET that cannot come once
    // the last handle is gone.
    engine.close_all();
    assert!(session.strong_count() > 0);
    drop(engine);
    assert!(
        freed(&session).await,
        "the draining session outlived its engine"
    );
    assert!(freed(&inner).await, "the engine outlived its last handle");
}

#[tokio::test]
async fn deadlines_that_move_later_add_no_timer_entries() {
    // A v3 client pinging fast: each ping moves its deadline later.
    let engine = Engine::builder()
        .allow_eio3(true)
        .build(|_: &Connection, _: Message| {});
    let (status, body) = request_v3(&engine, "GET", "", "").await;
    assert_eq!(status, StatusCode::OK);
    let sid = body.split('"').nth(3).unwrap().to_owned();
    let timers = &engine.inner().timers;
    assert_eq!(timers.len(), 1);
    for _ in 0..50 {
        let (status, _) = request_v3(&engine, "POST", &format!("&sid={sid}"), "1:21:2").await;
        assert_eq!(status, StatusCode::OK);
    }
    assert_eq!(
        timers.len(),
        1,
        "the first entry stands for every later deadline"
    );

    // A v4 heartbeat whose interval is shorter than its timeout: each pong moves the deadline
    // earlier, and the overtaken entry fires once, at its time, and is gone. Entries wait at
    // most a pong deadline, so there are never more than timeout / interval of them, however
    // many cycles go by (they would grow by one a cycle if they outlived their time).
    let engine = Engine::builder()
        .ping_interval(Duration::from_millis(20))
        .ping_timeout(Duration::from_millis(300))
        .build(|_: &Connection, _: Message| {});
    let sid = handshake(&engine).await;
    let mut most = 0;
    for _ in 0..60 {
        let (status, body) = request(&engine, "GET", &format!("&sid={sid}"), "").await;
        assert_eq!((status, body.as_str()), (StatusCode::OK, "2"));
        let (status, _) = request(&engine, "POST", &format!("&sid={sid}"), "3").await;
        assert_eq!(status, StatusCode::OK);
        most = most.max(engine.inner().timers.len());
    }
    assert!(most <= 300 / 20 + 2, "{most} entries at once");
}
