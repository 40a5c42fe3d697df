//! The Engine.IO session state machine driven by an arbitrary sequence of what a runtime feeds
//! it (requests, frames, WebSocket events, time) and what the application does (send, close).
//! Nothing panics, what waits for the client stays within its bound, and a session that closed
//! stays closed.
#![no_main]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use sio_core::{EngineSession, Frame, SessionConfig, Sid, Transport};

#[derive(Arbitrary, Debug)]
enum Step {
    Get,
    GetCancelled,
    PollGet,
    Post(Vec<u8>),
    PostAborted,
    TransportError,
    WsOpen,
    WsText(String),
    WsBinary(Vec<u8>),
    WsClosed,
    DrainWs,
    Wait(u16),
    SendText(String),
    SendBinary(Vec<u8>),
    SendPacket(String, Vec<u8>),
    Close,
    PollEvents,
}

#[derive(Arbitrary, Debug)]
struct Run {
    websocket: bool,
    steps: Vec<Step>,
}

const MAX_QUEUED: usize = 4096;

/// Sends frames together: they go in all or none, and past the bound only into an empty queue.
fn send(session: &mut EngineSession, frames: &[Frame]) {
    let before = session.queued_bytes();
    let len: usize = frames.iter().map(Frame::len).sum();
    match session.send_all(frames) {
        Ok(()) if session.close_reason().is_none() => {
            assert_eq!(session.queued_bytes(), before + len);
            assert!(before == 0 || before + len <= MAX_QUEUED);
        }
        Ok(()) => assert_eq!(session.queued_bytes(), before, "a closed session queues nothing"),
        Err(_) => assert_eq!(session.queued_bytes(), before, "a refused packet leaves nothing"),
    }
}

fuzz_target!(|run: Run| {
    let start = Instant::now();
    let mut now = start;
    let config = SessionConfig {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        upgrade_timeout: Duration::from_millis(1000),
        max_payload: 1024,
        max_queued_bytes: MAX_QUEUED,
        ..SessionConfig::default()
    };
    let transport = if run.websocket { Transport::WebSocket } else { Transport::Polling };
    let mut session = EngineSession::new(Sid::new("fuzz"), transport, config, now);
    let mut out = VecDeque::new();
    let mut closed = false;
    for step in run.steps {
        match step {
            Step::Get => {
                let _ = session.handle_get(now);
            }
            Step::GetCancelled => session.handle_get_cancelled(),
            Step::PollGet => {
                let _ = session.poll_get_response();
            }
            Step::Post(body) => {
                if session.begin_post().is_ok() {
                    session.finish_post(Bytes::from(body), now);
                }
            }
            Step::PostAborted => session.abort_post(),
            Step::TransportError => session.handle_transport_error(),
            Step::WsOpen => {
                let _ = session.handle_ws_open(now);
            }
            Step::WsText(text) => session.handle_ws_frame(Frame::Text(text.into()), now),
            Step::WsBinary(bytes) => session.handle_ws_frame(Frame::Binary(bytes.into()), now),
            Step::WsClosed => session.handle_ws_closed(),
            Step::DrainWs => {
                out.clear();
                session.drain_ws(&mut out);
            }
            Step::Wait(millis) => {
                now += Duration::from_millis(u64::from(millis));
                session.handle_timeout(now);
            }
            Step::SendText(text) => {
                let frames = [Frame::Text(format!("4{text}").into())];
                send(&mut session, &frames);
            }
            Step::SendBinary(bytes) => send(&mut session, &[Frame::Binary(bytes.into())]),
            Step::SendPacket(text, bytes) => {
                let frames = [Frame::Text(format!("4{text}").into()), Frame::Binary(bytes.into())];
                send(&mut session, &frames);
            }
            Step::Close => session.close(),
            Step::PollEvents => while session.poll_event().is_some() {},
        }
        if closed {
            assert!(session.close_reason().is_some(), "a closed session reopened");
        }
        closed = session.close_reason().is_some();
        if let Some(deadline) = session.poll_timeout() {
            assert!(deadline >= start);
        }
    }
});
