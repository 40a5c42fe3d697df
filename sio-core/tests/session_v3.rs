//! The Engine.IO v3 session (`EIO=3`, Socket.IO v2 clients), driven with explicit instants:
//! the client pings and the server answers, payloads and binary messages in v3's forms.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sio_core::{CloseReason, EngineSession, Frame, SessionConfig, SessionEvent, Sid, Transport};

const INTERVAL: Duration = Duration::from_millis(300);
const TIMEOUT: Duration = Duration::from_millis(200);

fn config() -> SessionConfig {
    SessionConfig {
        ping_interval: INTERVAL,
        ping_timeout: TIMEOUT,
        upgrade_timeout: Duration::from_millis(1000),
        ..SessionConfig::default()
    }
}

fn polling(start: Instant, base64: bool) -> EngineSession {
    let mut session = EngineSession::new_v3(
        Sid::new("sid3"),
        Transport::Polling,
        config(),
        base64,
        start,
    );
    session.handle_get(start).unwrap();
    let open = session.poll_get_response().expect("handshake");
    let (len, packet) = std::str::from_utf8(&open).unwrap().split_once(':').unwrap();
    assert!(packet.starts_with(r#"0{"sid":"sid3""#), "{packet}");
    assert_eq!(len.parse::<usize>().unwrap(), packet.len());
    session
}

fn get(session: &mut EngineSession, now: Instant) -> Option<Bytes> {
    session.handle_get(now).unwrap();
    session.poll_get_response()
}

fn post(session: &mut EngineSession, body: &'static [u8], now: Instant) {
    session.begin_post().unwrap();
    session.finish_post(Bytes::from_static(body), now);
}

fn events(session: &mut EngineSession) -> Vec<SessionEvent> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn drain(session: &mut EngineSession) -> Vec<Frame> {
    let mut out = VecDeque::new();
    session.drain_ws(&mut out);
    out.into()
}

#[test]
fn the_server_answers_pings_and_never_pings_itself() {
    let start = Instant::now();
    let mut session = polling(start, true);
    // No server ping is ever due; the deadline is the client's next ping.
    assert_eq!(session.poll_timeout(), Some(start + INTERVAL + TIMEOUT));
    session.handle_timeout(start + INTERVAL);
    assert!(!session.has_output(), "no ping from the server");

    let pinged = start + INTERVAL;
    post(&mut session, b"1:2", pinged);
    assert_eq!(get(&mut session, pinged).as_deref(), Some(&b"1:3"[..]));
    assert_eq!(session.poll_timeout(), Some(pinged + INTERVAL + TIMEOUT));
    // Alive just before the refreshed deadline, closed at it.
    session.handle_timeout(pinged + INTERVAL + TIMEOUT - Duration::from_millis(1));
    assert_eq!(session.close_reason(), None);
    session.handle_timeout(pinged + INTERVAL + TIMEOUT);
    assert_eq!(session.close_reason(), Some(CloseReason::PingTimeout));
}

#[test]
fn a_pong_from_a_v3_client_is_a_transport_error() {
    let start = Instant::now();
    let mut session = polling(start, true);
    post(&mut session, b"1:3", start);
    assert_eq!(session.close_reason(), Some(CloseReason::TransportError));
}

#[test]
fn polling_carries_messages_in_v3_payloads() {
    let start = Instant::now();
    let mut session = polling(start, true);
    post(&mut session, "6:4héllo10:b4AQIDBA==".as_bytes(), start);
    assert_eq!(
        events(&mut session),
        [
            SessionEvent::Message("héllo".into()),
            SessionEvent::Binary(Bytes::from_static(&[1, 2, 3, 4]))
        ]
    );
    session.send(Frame::Text("4😀".into())).unwrap();
    session
        .send(Frame::Binary(Bytes::from_static(&[5])))
        .unwrap();
    assert_eq!(
        get(&mut session, start).as_deref(),
        Some("3:4😀6:b4BQ==".as_bytes())
    );
    assert!(!session.get_response_is_binary());

    // A payload that does not decode ends the session; the packets before the fault count,
    // as they do in v4 and in the reference server.
    post(&mut session, b"2:4a5:4hi", start);
    assert_eq!(
        events(&mut session)[..1],
        [SessionEvent::Message("a".into())]
    );
    assert_eq!(session.close_reason(), Some(CloseReason::ParseError));
}

#[test]
fn a_client_taking_binary_gets_the_binary_form_and_may_post_it() {
    let start = Instant::now();
    let mut session = polling(start, false);
    session.send(Frame::Text("4a".into())).unwrap();
    session
        .send(Frame::Binary(Bytes::from_static(&[7, 8])))
        .unwrap();
    assert_eq!(
        get(&mut session, start).as_deref(),
        Some(&b"\x00\x02\xff4a\x01\x03\xff\x04\x07\x08"[..])
    );
    assert!(session.get_response_is_binary());

    session.begin_post().unwrap();
    session.finish_binary_post(
        Bytes::from_static(b"\x01\x02\xff\x04\x09\x00\x01\xff2"),
        start,
    );
    assert_eq!(
        events(&mut session),
        [SessionEvent::Binary(Bytes::from_static(&[9]))]
    );
    assert_eq!(get(&mut session, start).as_deref(), Some(&b"1:3"[..]));
    assert!(
        !session.get_response_is_binary(),
        "a text-only batch stays text"
    );
}

#[test]
fn the_websocket_carries_binary_with_its_type_byte() {
    let start = Instant::now();
    let mut session = EngineSession::new_v3(
        Sid::new("ws3"),
        Transport::WebSocket,
        config(),
        false,
        start,
    );
    assert!(matches!(&drain(&mut session)[..], [Frame::Text(open)] if open.starts_with("0{")));
    assert!(
        !session.ws_idle(),
        "v3 frames are never written around the queue"
    );

    session.handle_ws_frame(Frame::Binary(Bytes::from_static(&[4, 1, 2])), start);
    session.handle_ws_frame(Frame::Text("b4Aw==".into()), start);
    session.handle_ws_frame(Frame::Text("2".into()), start);
    assert_eq!(
        events(&mut session),
        [
            SessionEvent::Binary(Bytes::from_static(&[1, 2])),
            SessionEvent::Binary(Bytes::from_static(&[3]))
        ]
    );
    session
        .send(Frame::Binary(Bytes::from_static(&[9])))
        .unwrap();
    assert_eq!(
        drain(&mut session),
        [
            Frame::Text("3".into()),
            Frame::Binary(Bytes::from_static(&[4, 9]))
        ]
    );
    // A binary frame of another type does not decode.
    session.handle_ws_frame(Frame::Binary(Bytes::from_static(&[2, 1])), start);
    assert_eq!(session.close_reason(), Some(CloseReason::ParseError));
}

#[test]
fn a_base64_client_gets_binary_as_text_on_the_websocket_too() {
    let start = Instant::now();
    let mut session = polling(start, true);
    session.handle_ws_open(start).unwrap();
    session.handle_ws_frame(Frame::Text("2probe".into()), start);
    assert_eq!(drain(&mut session), [Frame::Text("3probe".into())]);
    // The pending poll ends with a v3 noop.
    assert_eq!(get(&mut session, start).as_deref(), Some(&b"1:6"[..]));
    session.handle_ws_frame(Frame::Text("5".into()), start);
    assert_eq!(events(&mut session), [SessionEvent::Upgraded]);
    session
        .send(Frame::Binary(Bytes::from_static(&[1])))
        .unwrap();
    assert_eq!(drain(&mut session), [Frame::Text("b4AQ==".into())]);
    // The heartbeat goes on after the upgrade (unlike the reference server, whose timer is
    // lost there).
    let later = start + INTERVAL;
    session.handle_ws_frame(Frame::Text("2".into()), later);
    assert_eq!(drain(&mut session), [Frame::Text("3".into())]);
    session.handle_timeout(later + INTERVAL + TIMEOUT);
    assert_eq!(session.close_reason(), Some(CloseReason::PingTimeout));
}

#[test]
fn a_ping_flood_queues_one_pong() {
    let start = Instant::now();
    let mut session = polling(start, true);
    let flood: &'static [u8] = "1:2".repeat(10_000).leak().as_bytes();
    post(&mut session, flood, start);
    post(&mut session, flood, start);
    assert_eq!(session.queued_bytes(), 1, "one pong waits");
    assert_eq!(get(&mut session, start).as_deref(), Some(&b"1:3"[..]));
    // Once it is out, the next ping gets its own.
    post(&mut session, b"1:2", start);
    assert_eq!(get(&mut session, start).as_deref(), Some(&b"1:3"[..]));
}
