//! The Engine.IO session state machine, driven with explicit instants: deterministic, no sleeping.

#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use sio_core::{
    CloseReason, EngineSession, Frame, Handshake, PollingError, SessionConfig, SessionEvent, Sid,
    Transport, UpgradeError,
};

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

fn polling(start: Instant) -> EngineSession {
    let mut session = EngineSession::new(Sid::new("sid1"), Transport::Polling, config(), start);
    session.handle_get(start).unwrap();
    let open = session.poll_get_response().expect("handshake");
    assert!(open.starts_with(b"0{"));
    session
}

fn get(session: &mut EngineSession, now: Instant) -> Option<Bytes> {
    session.handle_get(now).unwrap();
    session.poll_get_response()
}

fn post(session: &mut EngineSession, body: &'static str, now: Instant) {
    session.begin_post().unwrap();
    session.finish_post(Bytes::from_static(body.as_bytes()), now);
}

fn events(session: &mut EngineSession) -> Vec<SessionEvent> {
    std::iter::from_fn(|| session.poll_event()).collect()
}

fn drain(session: &mut EngineSession) -> Vec<Frame> {
    let mut out = VecDeque::new();
    session.drain_ws(&mut out);
    out.into()
}

fn text(frame: &str) -> Frame {
    Frame::Text(frame.into())
}

#[test]
fn polling_handshake_offers_websocket() {
    let start = Instant::now();
    let mut session = EngineSession::new(Sid::new("sid1"), Transport::Polling, config(), start);
    let body = get(&mut session, start).unwrap();
    let text = std::str::from_utf8(&body).unwrap();
    let handshake = Handshake::decode(&text[1..]).unwrap();
    assert_eq!(handshake.sid, Sid::new("sid1"));
    assert_eq!(handshake.upgrades, [Transport::WebSocket]);
    assert_eq!(
        (handshake.ping_interval, handshake.ping_timeout),
        (INTERVAL, TIMEOUT)
    );
    assert_eq!(handshake.max_payload, 1_000_000);
}

#[test]
fn websocket_handshake_offers_no_upgrade() {
    let start = Instant::now();
    let mut session = EngineSession::new(Sid::new("sid1"), Transport::WebSocket, config(), start);
    let frames = drain(&mut session);
    assert_eq!(
        frames,
        [text(
            r#"0{"sid":"sid1","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
        )]
    );
    assert_eq!(session.handle_get(start), Err(PollingError::NotPolling));
}

#[test]
fn drained_frames_follow_what_the_transport_still_holds() {
    let start = Instant::now();
    let mut session = EngineSession::new(Sid::new("sid1"), Transport::WebSocket, config(), start);
    let mut out = VecDeque::from([text("4not yet written")]);
    session.drain_ws(&mut out);
    session.send(text("4next")).unwrap();
    session.drain_ws(&mut out);
    let frames: Vec<Frame> = out.into();
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0], text("4not yet written"));
    assert!(matches!(&frames[1], Frame::Text(open) if open.starts_with("0{")));
    assert_eq!(frames[2], text("4next"));
    assert!(drain(&mut session).is_empty());
}

#[test]
fn disabled_upgrade_is_not_offered_nor_accepted() {
    let start = Instant::now();
    let config = SessionConfig {
        allow_upgrade: false,
        ..config()
    };
    let mut session = EngineSession::new(Sid::new("s"), Transport::Polling, config, start);
    let body = get(&mut session, start).unwrap();
    assert!(
        std::str::from_utf8(&body)
            .unwrap()
            .contains(r#""upgrades":[]"#)
    );
    assert_eq!(session.handle_ws_open(start), Err(UpgradeError::NotAllowed));
}

#[test]
fn server_pings_every_interval_and_pong_resets() {
    let start = Instant::now();
    let mut session = polling(start);
    assert_eq!(session.poll_timeout(), Some(start + INTERVAL));

    session.handle_get(start).unwrap();
    session.handle_timeout(start + INTERVAL - Duration::from_millis(1));
    assert_eq!(
        session.poll_get_response(),
        None,
        "no ping before the interval"
    );

    let ping_at = start + INTERVAL;
    session.handle_timeout(ping_at);
    assert_eq!(session.poll_get_response().unwrap(), "2");
    assert_eq!(
        session.poll_timeout(),
        Some(ping_at + TIMEOUT),
        "pong deadline"
    );

    let pong_at = ping_at + Duration::from_millis(50);
    post(&mut session, "3", pong_at);
    assert_eq!(
        session.poll_timeout(),
        Some(pong_at + INTERVAL),
        "next ping"
    );
    session.handle_timeout(ping_at + TIMEOUT + Duration::from_millis(10));
    assert!(
        events(&mut session).is_empty(),
        "a pong in time keeps the session"
    );
}

#[test]
fn pong_deadline_starts_when_the_ping_is_queued() {
    let start = Instant::now();
    let mut session = polling(start);
    // No GET is pending: the ping waits in the queue, and the deadline runs all the same.
    let ping_at = start + INTERVAL;
    session.handle_timeout(ping_at);
    session.handle_timeout(ping_at + TIMEOUT - Duration::from_millis(1));
    assert_eq!(session.close_reason(), None);
    session.handle_timeout(ping_at + TIMEOUT);
    assert_eq!(session.close_reason(), Some(CloseReason::PingTimeout));
    session.handle_timeout(ping_at + TIMEOUT * 3);
    assert_eq!(
        events(&mut session),
        [SessionEvent::Closed(CloseReason::PingTimeout)],
        "closed exactly once"
    );
    assert_eq!(session.poll_timeout(), None);
    assert_eq!(
        session.handle_get(ping_at + TIMEOUT),
        Err(PollingError::Closed)
    );
}

#[test]
fn idle_session_with_answering_client_stays_up() {
    let start = Instant::now();
    let mut session = polling(start);
    let mut now = start;
    for _ in 0..5 {
        now = session.poll_timeout().unwrap();
        session.handle_timeout(now);
        assert_eq!(get(&mut session, now).unwrap(), "2");
        now += Duration::from_millis(20);
        post(&mut session, "3", now);
    }
    assert!(now >= start + INTERVAL * 5);
    assert!(events(&mut session).is_empty());
    assert_eq!(session.close_reason(), None);
}

#[test]
fn messages_arrive_in_order_text_and_binary() {
    let start = Instant::now();
    let mut session = polling(start);
    post(&mut session, "4hello\x1ebAQIDBA==\x1e4€", start);
    assert_eq!(
        events(&mut session),
        [
            SessionEvent::Message("hello".into()),
            SessionEvent::Binary(Bytes::from_static(&[1, 2, 3, 4])),
            SessionEvent::Message("€".into()),
        ]
    );
}

#[test]
fn second_get_closes_the_session_and_answers_the_first() {
    let start = Instant::now();
    let mut session = polling(start);
    session.handle_get(start).unwrap();
    assert_eq!(session.handle_get(start), Err(PollingError::ConcurrentGet));
    assert_eq!(session.poll_get_response().unwrap(), "1");
    assert_eq!(
        events(&mut session),
        [SessionEvent::Closed(CloseReason::TransportError)]
    );
}

#[test]
fn second_post_closes_the_session() {
    let start = Instant::now();
    let mut session = polling(start);
    session.begin_post().unwrap();
    assert_eq!(session.begin_post(), Err(PollingError::ConcurrentPost));
    assert_eq!(
        events(&mut session),
        [SessionEvent::Closed(CloseReason::TransportError)]
    );
    // The first POST's body arrives after the close and is dropped.
    session.finish_post(Bytes::from_static(b"4late"), start);
    assert!(events(&mut session).is_empty());
}

#[test]
fn client_close_answers_pending_get_with_noop() {
    let start = Instant::now();
    let mut session = polling(start);
    session.handle_get(start).unwrap();
    post(&mut session, "1", start);
    assert_eq!(session.poll_get_response().unwrap(), "6");
    assert_eq!(
        events(&mut session),
        [SessionEvent::Closed(CloseReason::TransportClose)]
    );
}

#[test]
fn undecodable_body_closes_the_session() {
    let start = Instant::now();
    let mut session = polling(start);
    post(&mut session, "4ok\x1e9bad\x1e4never", start);
    assert_eq!(
        events(&mut session),
        [
            SessionEvent::Message("ok".into()),
            SessionEvent::Closed(CloseReason::ParseError)
        ]
    );
    assert_eq!(
        get_after_close(&mut session, start),
        Err(PollingError::Closed)
    );
}

fn get_after_close(session: &mut EngineSession, now: Instant) -> Result<(), PollingError> {
    session.handle_get(now)
}

#[test]
fn batches_are_cut_at_max_payload_and_nothing_is_dropped() {
    let start = Instant::now();
    let config = SessionConfig {
        max_payload: 1000,
        ..config()
    };
    let mut session = EngineSession::new(Sid::new("s"), Transport::Polling, config, start);
    get(&mut session, start).unwrap();

    let mut sent = Vec::new();
    for (index, size) in [400, 400, 400, 2000, 10, 589, 400].into_iter().enumerate() {
        let frame = format!("4{index}{}", "x".repeat(size - 2));
        session.send(text(&frame)).unwrap();
        sent.push(frame);
    }
    let mut received = Vec::new();
    let mut sizes = Vec::new();
    while let Some(body) = get(&mut session, start) {
        let body = String::from_utf8(body.to_vec()).unwrap();
        sizes.push(body.len());
        received.extend(body.split('\x1e').map(str::to_owned));
    }
    assert_eq!(received, sent, "every packet, in order");
    // 400+1+400 fits; a third would not. 2000 goes alone. 10+1+589 = 600, +1+400 = 1001 > 1000.
    assert_eq!(sizes, [801, 400, 2000, 600, 400]);
    assert_eq!(session.queued_bytes(), 0);
}

#[test]
fn full_queue_refuses_messages_but_not_heartbeats() {
    let start = Instant::now();
    let config = SessionConfig {
        max_queued_bytes: 100,
        ..config()
    };
    let mut session = EngineSession::new(Sid::new("s"), Transport::Polling, config, start);
    get(&mut session, start).unwrap();
    session.send(text(&format!("4{}", "a".repeat(59)))).unwrap();
    let refused = session
        .send(text(&format!("4{}", "b".repeat(59))))
        .unwrap_err();
    assert_eq!((refused.queued, refused.limit), (60, 100));
    // A message that would fit is refused too until the queue drains: none slips in after one
    // that was dropped.
    assert!(session.send(text("4small")).is_err());
    session.handle_timeout(start + INTERVAL);
    let body = get(&mut session, start + INTERVAL).unwrap();
    assert!(
        body.ends_with(b"\x1e2"),
        "the ping is queued despite the limit"
    );
    session.send(text(&format!("4{}", "c".repeat(99)))).unwrap();
}

#[test]
fn an_oversized_message_is_accepted_into_an_empty_queue() {
    let start = Instant::now();
    let config = SessionConfig {
        max_queued_bytes: 10,
        ..config()
    };
    let mut session = EngineSession::new(Sid::new("s"), Transport::Polling, config, start);
    // The handshake counts against the bound too: once it is taken, the queue is empty.
    get(&mut session, start).unwrap();
    assert_eq!(session.queued_bytes(), 0);
    session.send(text(&format!("4{}", "a".repeat(50)))).unwrap();
}

#[test]
fn control_frames_count_against_the_bound() {
    let start = Instant::now();
    let config = SessionConfig {
        max_queued_bytes: 100,
        ..config()
    };
    let mut session = EngineSession::new(Sid::new("s"), Transport::Polling, config, start);
    let handshake = session.queued_bytes();
    assert!(handshake > 0, "the handshake is counted");
    get(&mut session, start).unwrap();
    session.handle_timeout(start + INTERVAL);
    assert_eq!(session.queued_bytes(), 1, "the ping is counted");
    let body = get(&mut session, start + INTERVAL).unwrap();
    assert_eq!(&body[..], b"2");
    assert_eq!(session.queued_bytes(), 0);
}

#[test]
fn frames_sent_together_are_queued_all_or_none() {
    let start = Instant::now();
    let config = SessionConfig {
        max_queued_bytes: 100,
        ..config()
    };
    let mut session = EngineSession::new(Sid::new("s"), Transport::Polling, config, start);
    get(&mut session, start).unwrap();
    session.send(text(&format!("4{}", "a".repeat(49)))).unwrap();
    let packet = [
        text("451-[\"file\",{\"_placeholder\":true,\"num\":0}]"),
        Frame::Binary(Bytes::from(vec![0; 40])),
    ];
    let refused = session.send_all(&packet).unwrap_err();
    assert_eq!((refused.queued, refused.limit), (50, 100));
    assert_eq!(
        session.queued_bytes(),
        50,
        "nothing of the packet is queued"
    );
    let body = get(&mut session, start).unwrap();
    assert_eq!(body.len(), 50);
    session.send_all(&packet).unwrap();
    assert_eq!(
        session.queued_bytes(),
        packet.iter().map(Frame::len).sum::<usize>()
    );
}

#[test]
fn upgrade_probe_noop_and_flush() {
    let start = Instant::now();
    let mut session = polling(start);
    session.send(text("4before")).unwrap();
    let _ = get(&mut session, start);

    session.handle_get(start).unwrap();
    session.handle_ws_open(start).unwrap();
    assert!(session.is_upgrading());
    assert_eq!(
        session.poll_get_response(),
        None,
        "no noop before the probe"
    );
    session.send(text("4before the probe")).unwrap();
    assert_eq!(
        session.poll_get_response().unwrap(),
        "4before the probe",
        "polling carries the queue until the probe succeeds"
    );

    session.handle_get(start).unwrap();
    session.handle_ws_frame(text("2probe"), start);
    assert_eq!(drain(&mut session), [text("3probe")]);
    assert_eq!(
        session.poll_get_response().unwrap(),
        "6",
        "pending GET closed with noop"
    );
    session.send(text("4queued during probe")).unwrap();
    assert_eq!(get(&mut session, start).unwrap(), "6", "new GETs get noop");
    assert!(
        drain(&mut session).is_empty(),
        "messages stay queued until the upgrade"
    );

    session.handle_ws_frame(text("5"), start);
    assert_eq!(events(&mut session), [SessionEvent::Upgraded]);
    assert_eq!(session.transport(), Transport::WebSocket);
    assert_eq!(drain(&mut session), [text("4queued during probe")]);

    assert_eq!(session.handle_get(start), Err(PollingError::NotPolling));
    assert_eq!(session.begin_post(), Err(PollingError::NotPolling));
    assert_eq!(
        session.handle_ws_open(start),
        Err(UpgradeError::AlreadyHasWebSocket)
    );
    assert_eq!(
        session.close_reason(),
        None,
        "refused requests do not close the session"
    );

    session.handle_ws_frame(text("4over websocket"), start);
    session.handle_ws_frame(Frame::Binary(Bytes::from_static(&[9])), start);
    assert_eq!(
        events(&mut session),
        [
            SessionEvent::Message("over websocket".into()),
            SessionEvent::Binary(Bytes::from_static(&[9]))
        ]
    );
}

#[test]
fn repeated_probes_queue_one_answer() {
    let start = Instant::now();
    let mut session = polling(start);
    session.handle_ws_open(start).unwrap();
    for _ in 0..1000 {
        session.handle_ws_frame(text("2probe"), start);
    }
    assert_eq!(
        drain(&mut session),
        [text("3probe")],
        "one answer waits, not a thousand"
    );
    session.handle_ws_frame(text("2probe"), start);
    assert_eq!(
        drain(&mut session),
        [text("3probe")],
        "a probe after the answer left gets one"
    );
    session.handle_ws_frame(text("5"), start);
    assert_eq!(session.transport(), Transport::WebSocket);
}

#[test]
fn upgrade_packet_before_probe_abandons_the_upgrade() {
    let start = Instant::now();
    let mut session = polling(start);
    session.handle_ws_open(start).unwrap();
    session.handle_ws_frame(text("5"), start);
    assert!(!session.is_upgrading());
    assert_eq!(session.transport(), Transport::Polling);
    session.send(text("4still polling")).unwrap();
    assert_eq!(get(&mut session, start).unwrap(), "4still polling");
}

#[test]
fn second_websocket_while_probing_is_refused() {
    let start = Instant::now();
    let mut session = polling(start);
    session.handle_ws_open(start).unwrap();
    assert_eq!(
        session.handle_ws_open(start),
        Err(UpgradeError::AlreadyHasWebSocket)
    );
    assert!(session.is_upgrading(), "the first probe goes on");
}

#[test]
fn upgrade_times_out_without_losing_the_session() {
    let start = Instant::now();
    let mut session = polling(start);
    let opened = start + Duration::from_millis(100);
    session.handle_ws_open(opened).unwrap();
    session.handle_ws_frame(text("2probe"), opened);
    let deadline = opened + Duration::from_millis(1000);
    // The heartbeat comes first; answer it so only the upgrade deadline is left to pass.
    let ping_at = start + INTERVAL;
    session.handle_timeout(ping_at);
    post(&mut session, "3", ping_at);
    assert!(session.poll_timeout().unwrap() <= deadline);
    session.handle_timeout(deadline - Duration::from_millis(1));
    assert!(session.is_upgrading());
    // Keep answering pings until the deadline.
    while session.poll_timeout().unwrap() < deadline {
        let now = session.poll_timeout().unwrap();
        session.handle_timeout(now);
        post(&mut session, "3", now);
    }
    session.handle_timeout(deadline);
    assert!(!session.is_upgrading());
    assert_eq!(session.close_reason(), None);
    session.handle_ws_frame(text("5"), deadline);
    assert_eq!(
        session.transport(),
        Transport::Polling,
        "a late upgrade packet changes nothing"
    );
}

#[test]
fn probe_socket_closing_keeps_polling() {
    let start = Instant::now();
    let mut session = polling(start);
    session.handle_ws_open(start).unwrap();
    session.handle_ws_closed();
    assert!(!session.is_upgrading());
    assert_eq!(session.close_reason(), None);
    session.handle_ws_open(start).unwrap();
}

#[test]
fn websocket_close_ends_the_session() {
    let start = Instant::now();
    let mut session = EngineSession::new(Sid::new("s"), Transport::WebSocket, config(), start);
    drain(&mut session);
    session.handle_ws_closed();
    assert_eq!(
        events(&mut session),
        [SessionEvent::Closed(CloseReason::TransportClose)]
    );
}

#[test]
fn server_close_on_websocket_sends_the_last_frames() {
    let start = Instant::now();
    let mut session = EngineSession::new(Sid::new("s"), Transport::WebSocket, config(), start);
    drain(&mut session);
    session.send(text("4bye")).unwrap();
    session.close();
    session.close();
    assert_eq!(
        drain(&mut session),
        [text("4bye")],
        "a WebSocket just closes after its last frames"
    );
    assert_eq!(
        events(&mut session),
        [SessionEvent::Closed(CloseReason::ServerClose)]
    );
    session.send(text("4after")).unwrap();
    assert!(
        drain(&mut session).is_empty(),
        "nothing is sent after close"
    );
}

#[test]
fn undecodable_websocket_frame_closes_the_session() {
    let start = Instant::now();
    let mut session = EngineSession::new(Sid::new("s"), Transport::WebSocket, config(), start);
    drain(&mut session);
    session.handle_ws_frame(text("x"), start);
    assert_eq!(
        events(&mut session),
        [SessionEvent::Closed(CloseReason::ParseError)]
    );
}

#[test]
fn transport_error_closes_and_answers_the_pending_get() {
    let start = Instant::now();
    let mut session = polling(start);
    session.handle_get(start).unwrap();
    session.begin_post().unwrap();
    session.handle_transport_error();
    assert_eq!(session.poll_get_response().unwrap(), "1");
    assert_eq!(
        events(&mut session),
        [SessionEvent::Closed(CloseReason::TransportError)]
    );
}

#[test]
fn a_server_closed_polling_session_serves_what_it_queued_then_refuses() {
    let start = Instant::now();
    let mut session = polling(start);
    session.send(text("4bye")).unwrap();
    session.close();
    assert_eq!(
        get(&mut session, start).unwrap(),
        "4bye",
        "the messages first"
    );
    assert_eq!(
        get(&mut session, start).unwrap(),
        "1",
        "then the close, on its own"
    );
    assert_eq!(session.handle_get(start), Err(PollingError::Closed));
}

#[test]
fn a_discarded_polling_session_serves_what_it_queued_then_refuses_with_no_close_packet() {
    let start = Instant::now();
    let mut session = polling(start);
    session.send(text("4bye")).unwrap();
    session.discard();
    assert_eq!(get(&mut session, start).unwrap(), "4bye");
    assert_eq!(
        session.handle_get(start),
        Err(PollingError::Closed),
        "no `close` packet: the next GET is refused, which clients take for a lost connection"
    );
    assert_eq!(
        events(&mut session),
        [SessionEvent::Closed(CloseReason::ServerClose)]
    );

    // A GET already waiting gets no answer from the session: the runtime refuses it.
    let mut waiting = polling(start);
    waiting.handle_get(start).unwrap();
    waiting.discard();
    assert_eq!(waiting.poll_get_response(), None);
    assert_eq!(waiting.close_reason(), Some(CloseReason::ServerClose));
}
