//! One session as the runtime holds it: the sans-IO state machine behind a lock, the signals
//! that wake its transport tasks, and the dispatch of its events to the application.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use sio_core::{CloseReason, EngineSession, Frame, SessionEvent, Sid, Transport};
use tokio::sync::{Notify, watch};
use tracing::{Span, debug};

use crate::connection::{Connection, HandshakeInfo, Message, SendError};
use crate::engine::EngineInner;

/// The state guarded by the session lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) session: EngineSession,
    /// The WebSocket the session reads and writes (being probed, or in use), by id; a socket
    /// whose id is not here is stale and closes itself.
    pub(crate) websocket: Option<u64>,
}

#[derive(Debug)]
pub(crate) struct SessionShared {
    pub(crate) sid: Sid,
    pub(crate) handshake: HandshakeInfo,
    pub(crate) span: Span,
    state: Mutex<State>,
    /// Woken when there is output to take: wakes a pending GET and the WebSocket writer.
    pub(crate) output: Notify,
    /// Woken when the next deadline may have moved earlier.
    pub(crate) timer: Notify,
    /// Becomes `true` once the session closed.
    closed: watch::Sender<bool>,
    /// Keeps events in order when several tasks feed the same session.
    dispatch: Mutex<()>,
    engine: Arc<EngineInner>,
}

impl SessionShared {
    pub(crate) fn new(
        sid: Sid,
        session: EngineSession,
        handshake: HandshakeInfo,
        engine: Arc<EngineInner>,
    ) -> Arc<Self> {
        let span = tracing::debug_span!("engine.io", sid = %sid, transport = ?session.transport());
        Arc::new(SessionShared {
            sid,
            handshake,
            span,
            state: Mutex::new(State {
                session,
                websocket: None,
            }),
            output: Notify::new(),
            timer: Notify::new(),
            closed: watch::Sender::new(false),
            dispatch: Mutex::new(()),
            engine,
        })
    }

    /// The session lock. Never held across an `.await`.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while the lock was held leaves a state machine that is still consistent (each
        // call completes its own changes), so the poison is cleared.
        self.state
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A receiver that sees the session close.
    pub(crate) fn closed(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }

    pub(crate) fn connection(self: &Arc<Self>) -> Connection {
        Connection {
            shared: Arc::clone(self),
        }
    }

    pub(crate) fn send(self: &Arc<Self>, frame: Frame) -> Result<(), SendError> {
        let mut state = self.lock();
        if state.session.close_reason().is_some() {
            return Err(SendError::Closed);
        }
        state
            .session
            .send(frame)
            .map_err(|_| SendError::QueueFull)?;
        drop(state);
        self.output.notify_waiters();
        Ok(())
    }

    /// Runs `change` on the state, then wakes whoever has work and tells the application what
    /// happened, in order.
    pub(crate) fn process<R>(self: &Arc<Self>, change: impl FnOnce(&mut State) -> R) -> R {
        let (result, events, wake) = {
            let mut state = self.lock();
            let websocket_before = state.websocket;
            let deadline_before = state.session.poll_timeout();
            let result = change(&mut state);
            // The timer task sleeps until the old deadline; wake it if the next one is sooner
            // (a pong schedules the next ping before the pong deadline it was waiting for).
            if let (Some(before), Some(after)) = (deadline_before, state.session.poll_timeout())
                && after < before
            {
                self.timer.notify_one();
            }
            let session = &state.session;
            // An upgrade that was abandoned leaves its WebSocket stale.
            if session.transport() == Transport::Polling && !session.is_upgrading() {
                state.websocket = None;
            }
            let events: Vec<SessionEvent> =
                std::iter::from_fn(|| state.session.poll_event()).collect();
            // Writers wake for output, and a stale socket's writer to close it.
            let wake = state.session.has_output() || state.websocket != websocket_before;
            (result, events, wake)
        };
        if wake {
            self.output.notify_waiters();
        }
        if !events.is_empty() {
            self.dispatch(events);
        }
        result
    }

    /// Runs the timers of the state machine up to now.
    pub(crate) fn tick(self: &Arc<Self>) {
        self.process(|state| state.session.handle_timeout(Instant::now()));
    }

    fn dispatch(self: &Arc<Self>, events: Vec<SessionEvent>) {
        let _ordered = self
            .dispatch
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        let _span = self.span.enter();
        let connection = self.connection();
        for event in events {
            match event {
                SessionEvent::Message(text) => {
                    self.engine
                        .handler
                        .on_message(&connection, Message::Text(text));
                }
                SessionEvent::Binary(bytes) => {
                    self.engine
                        .handler
                        .on_message(&connection, Message::Binary(bytes));
                }
                SessionEvent::Upgraded => {
                    debug!("upgraded to websocket");
                    self.span
                        .record("transport", tracing::field::debug(Transport::WebSocket));
                    self.engine.registry.upgraded();
                }
                SessionEvent::Closed(reason) => self.on_closed(&connection, reason),
            }
        }
    }

    fn on_closed(&self, connection: &Connection, reason: CloseReason) {
        debug!(reason = reason.as_str(), "session closed");
        let transport = self.lock().session.transport();
        self.engine.registry.remove(&self.sid, transport);
        self.closed.send_replace(true);
        self.output.notify_waiters();
        self.timer.notify_one();
        self.engine.handler.on_close(connection, reason);
    }
}
