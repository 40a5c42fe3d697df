//! One session as the runtime holds it: the sans-IO state machine behind a lock, the signals
//! that wake its transport tasks, and the dispatch of its events to the application.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Weak};
use std::task::{Context, Waker};
use std::time::Instant;

use sio_core::{CloseReason, EngineSession, Frame, SessionEvent, Sid, Transport};
use tokio::sync::Notify;
use tracing::{Span, debug};

use crate::engine::connection::{Connection, Message, SendError};
use crate::engine::handshake::HandshakeInfo;
use crate::engine::registry::Registry;
use crate::engine::sync::{Mutex, MutexGuard};
use crate::engine::timers::{Timed, TimerKey, Timers};
use crate::engine::transport::shared_stream::{Direct, SharedStream};

/// What a session needs of its engine: the handler's callbacks and the registry. The engine is
/// generic over its handler; a session only over the handler's data.
pub(crate) trait SessionHost<D>: Send + Sync {
    fn on_message(&self, connection: &Connection<D>, message: Message);
    fn on_close(&self, connection: &Connection<D>, reason: CloseReason);
    fn on_upgrade(&self, connection: &Connection<D>);
    fn registry(&self) -> &Registry<D>;
    fn timers(&self) -> &Arc<Timers>;
}

/// The state guarded by the session lock.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) session: EngineSession,
    /// The WebSocket the session reads and writes (being probed, or in use), by id; a socket
    /// whose id is not here is stale and closes itself.
    pub(crate) websocket: Option<u64>,
    /// The WebSocket (by id) that broke a rule, and the close code it ends with (RFC 6455:
    /// 1002 framing, 1007 invalid UTF-8, 1008 policy, 1009 too big). Kept per socket: a probe
    /// that misbehaves must not mark the socket that replaces it.
    pub(crate) close_code: Option<(u64, u16)>,
    /// The task of the current WebSocket, while it waits for output; taken by whoever wakes
    /// it. Only the socket named in `websocket` registers here, so a stale one cannot take the
    /// place of the socket in use.
    ws_waker: Option<Waker>,
    /// The TCP stream of a WebSocket (by id) that others may write frames to directly.
    pub(crate) ws_stream: Option<(u64, Arc<SharedStream>)>,
    /// Whether the task of the WebSocket in use waits with nothing in flight, so that a frame
    /// may be written to its stream directly, ahead of nothing.
    pub(crate) ws_idle: bool,
    /// Whether the task of the WebSocket in use has frames in flight (taken from the queue,
    /// not yet handed to the kernel), as it last looked; unlike `ws_idle`, not cleared just
    /// because the task is running.
    pub(crate) ws_writing: bool,
    /// Whether some task is handing events to the application; others leave new events to it,
    /// which keeps them in order and lets callbacks feed the session again without deadlock.
    dispatching: bool,
    /// What the direct-write slot holds, as last published: the stream (by id) and whether it
    /// is open.
    direct: (Option<u64>, bool),
    /// The earliest timer entry of the session not yet fired: a deadline is scheduled only
    /// when it comes before this one, and the entry, when it fires, schedules the deadline as
    /// it stands then. So a deadline that keeps moving later (a v3 client's pings) adds no
    /// entry, and an entry that was overtaken fires once and is gone.
    armed: Option<Instant>,
}

impl State {
    /// The session's deadline, if it must be scheduled: it comes before every entry armed
    /// (see `armed`), and is armed from now on.
    pub(crate) fn arm(&mut self) -> Option<Instant> {
        let at = self.session.poll_timeout()?;
        if self.armed.is_some_and(|armed| armed <= at) {
            return None;
        }
        self.armed = Some(at);
        Some(at)
    }

    /// Registers the task of WebSocket `id` to be woken for output, if it is the session's.
    pub(crate) fn register_ws_waker(&mut self, id: u64, cx: &Context<'_>) {
        if self.websocket != Some(id) {
            return;
        }
        match &self.ws_waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => self.ws_waker = Some(cx.waker().clone()),
        }
    }

    /// The WebSocket's task is running and will look for output before it waits again: whoever
    /// queues some meanwhile need not wake it. Whether frames may be written directly stays as
    /// the task last said: a handler that answers while the task reads, with nothing in flight,
    /// writes its answer to the socket there and then, as an echo server would.
    pub(crate) fn ws_task_running(&mut self) {
        self.ws_waker = None;
    }

    /// The stream a frame may be written to directly, if that keeps frames in order: the
    /// socket's task idle, nothing queued ahead, the session open.
    fn direct_stream(&self) -> Option<&(u64, Arc<SharedStream>)> {
        self.ws_stream
            .as_ref()
            .filter(|(id, _)| self.ws_idle && self.websocket == Some(*id) && self.session.ws_idle())
    }
}

/// The stream of the session's WebSocket, and whether a frame may be written to it directly.
/// The stream stays while it is the session's, so opening and closing is a flag, not a
/// reference count.
#[derive(Debug, Default)]
struct DirectSlot {
    stream: Option<Arc<SharedStream>>,
    open: bool,
}

/// The session lock held. Released, it publishes whether frames may now be written directly,
/// before anyone else can take the lock: whatever was queued under it is never overtaken.
pub(crate) struct StateGuard<'a> {
    state: MutexGuard<'a, State>,
    direct: &'a Mutex<DirectSlot>,
}

impl Deref for StateGuard<'_> {
    type Target = State;

    fn deref(&self) -> &State {
        &self.state
    }
}

impl DerefMut for StateGuard<'_> {
    fn deref_mut(&mut self) -> &mut State {
        &mut self.state
    }
}

impl Drop for StateGuard<'_> {
    fn drop(&mut self) {
        let state = &mut *self.state;
        let open = state.direct_stream().is_some();
        let installed = state.ws_stream.as_ref().map(|(id, _)| *id);
        if (installed, open) == state.direct {
            return;
        }
        let mut slot = self.direct.lock();
        if installed != state.direct.0 {
            // A stream no longer the session's is let go here, so that it can close.
            slot.stream = state
                .ws_stream
                .as_ref()
                .map(|(_, stream)| Arc::clone(stream));
        }
        slot.open = open;
        state.direct = (installed, open);
    }
}

pub(crate) struct SessionShared<D> {
    pub(crate) sid: Sid,
    pub(crate) handshake: HandshakeInfo,
    pub(crate) span: Span,
    state: Mutex<State>,
    /// The WebSocket stream, and whether a frame may be written to it directly (see
    /// [`StateGuard`]): an emit takes this small lock, not the session's.
    direct: Mutex<DirectSlot>,
    /// Woken when there is output to take, for a pending GET.
    pub(crate) output: Notify,
    /// Names the session to the engine's timers.
    timer: TimerKey,
    engine: Arc<dyn SessionHost<D>>,
    /// What the handler keeps with this connection.
    pub(crate) data: D,
}

impl<D: Send + Sync + 'static> SessionShared<D> {
    pub(crate) fn new(
        sid: Sid,
        session: EngineSession,
        handshake: HandshakeInfo,
        engine: Arc<dyn SessionHost<D>>,
        data: D,
    ) -> Arc<Self> {
        let span = tracing::debug_span!("engine.io", sid = %sid, transport = ?session.transport());
        let timer = engine.timers().key();
        Arc::new(SessionShared {
            sid,
            handshake,
            span,
            state: Mutex::new(State {
                session,
                websocket: None,
                close_code: None,
                ws_waker: None,
                ws_stream: None,
                ws_idle: false,
                ws_writing: false,
                dispatching: false,
                direct: (None, false),
                armed: None,
            }),
            direct: Mutex::new(DirectSlot::default()),
            output: Notify::new(),
            timer,
            engine,
            data,
        })
    }

    /// Wakes whoever takes output: a pending GET, the WebSocket's task.
    pub(crate) fn wake_output(&self) {
        let websocket = self.lock().ws_waker.take();
        self.output.notify_waiters();
        if let Some(waker) = websocket {
            waker.wake();
        }
    }

    /// Wakes the WebSocket's task (its waker taken under the lock), and a GET if one is pending
    /// (the usual WebSocket session has none, and skips the notification's lock).
    fn wake_output_for(&self, websocket: Option<Waker>, get_pending: bool) {
        if get_pending {
            self.output.notify_waiters();
        }
        if let Some(waker) = websocket {
            waker.wake();
        }
    }

    /// The session lock. Never held across an `.await`.
    pub(crate) fn lock(&self) -> StateGuard<'_> {
        StateGuard {
            state: self.state.lock(),
            direct: &self.direct,
        }
    }

    pub(crate) fn connection(self: &Arc<Self>) -> Connection<D> {
        Connection {
            shared: Arc::clone(self),
        }
    }

    /// Queues frames that belong together: all of them, or none. A lone frame goes straight to
    /// an idle WebSocket's stream, with no wake-up.
    pub(crate) fn send(self: &Arc<Self>, frames: &[Frame]) -> Result<(), SendError> {
        if let [frame] = frames {
            match self.write_directly(frame) {
                Direct::Written => return Ok(()),
                Direct::Partly => {
                    // The rest waits in the stream: the task flushes it before anything else.
                    let mut state = self.lock();
                    state.ws_idle = false;
                    let websocket = state.ws_waker.take();
                    drop(state);
                    self.wake_output_for(websocket, false);
                    return Ok(());
                }
                Direct::NotNow => {}
            }
        }
        let mut state = self.lock();
        if state.session.close_reason().is_some() {
            return Err(SendError::Closed);
        }
        state
            .session
            .send_all(frames)
            .map_err(|_| SendError::QueueFull)?;
        let get_pending = state.session.has_pending_get();
        let websocket = state.ws_waker.take();
        drop(state);
        self.wake_output_for(websocket, get_pending);
        Ok(())
    }

    /// Whether the transport would take a message now with nothing ahead of it (Node's
    /// `transport.writable`): nothing queued, and a WebSocket with nothing in flight or a
    /// polling GET waiting.
    pub(crate) fn is_writable(&self) -> bool {
        let state = self.lock();
        let session = &state.session;
        if session.close_reason().is_some() || session.has_output() {
            return false;
        }
        match session.transport() {
            Transport::Polling => session.has_pending_get(),
            Transport::WebSocket => {
                !state.ws_writing
                    && !state
                        .ws_stream
                        .as_ref()
                        .is_some_and(|(_, stream)| stream.has_pending())
            }
        }
    }

    /// Writes `frame` to the WebSocket's stream if it is open to direct writes.
    fn write_directly(&self, frame: &Frame) -> Direct {
        let slot = self.direct.lock();
        let DirectSlot {
            stream: Some(stream),
            open: true,
        } = &*slot
        else {
            return Direct::NotNow;
        };
        let Some(deflater) = stream.deflater() else {
            return stream.write_frame(frame, None);
        };
        // The client agreed to compression: the frame is compressed outside the lock, so that
        // neither the socket's task nor another emitter waits on it, then written if the
        // stream is still open to direct writes.
        let (stream, deflater) = (Arc::clone(stream), Arc::clone(deflater));
        drop(slot);
        let compressed = deflater.compress(frame);
        match &*self.direct.lock() {
            DirectSlot {
                stream: Some(current),
                open: true,
            } if Arc::ptr_eq(current, &stream) => current.write_frame(frame, compressed.as_ref()),
            _ => Direct::NotNow,
        }
    }

    /// Runs `change` on the state, then wakes whoever has work and tells the application what
    /// happened, in order.
    pub(crate) fn process<R>(self: &Arc<Self>, change: impl FnOnce(&mut State) -> R) -> R {
        let (result, wake, get_pending, websocket, dispatch, deadline) = {
            let mut state = self.lock();
            let websocket_before = state.websocket;
            let result = change(&mut state);
            let deadline = state.arm();
            let session = &state.session;
            // An upgrade that was abandoned leaves its WebSocket stale.
            if session.transport() == Transport::Polling && !session.is_upgrading() {
                state.websocket = None;
            }
            // Writers wake for output, and a stale socket's writer to close it.
            let wake = state.session.has_output() || state.websocket != websocket_before;
            // The first event is taken under this lock: a lone event (the usual case) costs
            // the dispatcher one more lock, to find none left.
            let dispatch = if state.dispatching {
                None
            } else {
                state.session.poll_event()
            };
            if dispatch.is_some() {
                state.dispatching = true;
            }
            let get_pending = wake && state.session.has_pending_get();
            let websocket = if wake { state.ws_waker.take() } else { None };
            (result, wake, get_pending, websocket, dispatch, deadline)
        };
        if let Some(at) = deadline {
            self.schedule(at);
        }
        if wake {
            self.wake_output_for(websocket, get_pending);
        }
        if let Some(first) = dispatch {
            self.dispatch(first);
        }
        result
    }

    /// Asks the engine's timers to wake this session at `at`. Not under the session lock.
    pub(crate) fn schedule(self: &Arc<Self>, at: Instant) {
        let session: Weak<dyn Timed> = Arc::downgrade(self) as Weak<dyn Timed>;
        let timers = self.engine.timers();
        timers.schedule(self.timer, at, session);
        // A close since the deadline was computed forgot the session before this scheduled
        // it: forget it again. (A close after this look forgets it itself.)
        if self.lock().session.close_reason().is_some() {
            timers.forget(self.timer);
        }
    }

    /// Hands `first`, then every event queued meanwhile, to the application, one at a time,
    /// until none is left; only one task does so at a time.
    fn dispatch(self: &Arc<Self>, first: SessionEvent) {
        let _span = self.span.enter();
        let connection = self.connection();
        let unwinding = Dispatching { session: self };
        let mut next = Some(first);
        while let Some(event) = next {
            // A callback that panics must not take the events after it along (the close
            // above all, or the session would never leave the registry).
            let delivered = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.deliver(&connection, event);
            }));
            if delivered.is_err() {
                tracing::error!("an engine callback panicked; the session goes on");
            }
            let mut state = self.lock();
            next = state.session.poll_event();
            if next.is_none() {
                state.dispatching = false;
            }
        }
        // Released above; the guard must not release it again for a newer dispatcher.
        std::mem::forget(unwinding);
    }

    fn deliver(&self, connection: &Connection<D>, event: SessionEvent) {
        match event {
            SessionEvent::Message(text) => {
                self.engine.on_message(connection, Message::Text(text));
            }
            SessionEvent::Binary(bytes) => {
                self.engine.on_message(connection, Message::Binary(bytes));
            }
            SessionEvent::Upgraded => {
                debug!("upgraded to websocket");
                self.span
                    .record("transport", tracing::field::debug(Transport::WebSocket));
                self.engine.registry().upgraded();
                self.engine.on_upgrade(connection);
            }
            SessionEvent::Closed(reason) => self.on_closed(connection, reason),
        }
    }

    /// Removes a closed session from the registry (idempotent).
    pub(crate) fn forget(&self) {
        let transport = self.lock().session.transport();
        self.engine.registry().remove(&self.sid, transport);
    }

    fn on_closed(&self, connection: &Connection<D>, reason: CloseReason) {
        debug!(reason = reason.as_str(), "session closed");
        // A closed session has no deadline left; its old ones must not hold its memory.
        self.engine.timers().forget(self.timer);
        // The application hears of it first, so that once the stats show a session gone, its
        // close callback has run.
        self.engine.on_close(connection, reason);
        let (transport, draining) = {
            let state = self.lock();
            let transport = state.session.transport();
            let draining = transport == Transport::Polling
                && reason == CloseReason::ServerClose
                && state.session.has_output();
            (transport, draining)
        };
        // Outside a runtime (an engine dropped after its runtime) there is no GET to wait for.
        let runtime = tokio::runtime::Handle::try_current().ok();
        if let (true, Some(runtime)) = (draining, runtime) {
            // What the server queued before closing (its `close` packet last) waits for the
            // client's next GET, for at most a ping timeout. The wait holds the session weakly:
            // once that GET drained it, nothing keeps it (or its engine) alive.
            let session = Arc::downgrade(&connection.shared);
            let grace = self.lock().session.config().ping_timeout;
            runtime.spawn(async move {
                tokio::time::sleep(grace).await;
                if let Some(session) = session.upgrade() {
                    session.forget();
                }
            });
        } else {
            self.engine.registry().remove(&self.sid, transport);
        }
        self.wake_output();
    }
}

/// Lets another task take over dispatching if a callback panics mid-way.
struct Dispatching<'a, D: Send + Sync + 'static> {
    session: &'a SessionShared<D>,
}

impl<D: Send + Sync + 'static> Drop for Dispatching<'_, D> {
    fn drop(&mut self) {
        self.session.lock().dispatching = false;
    }
}

/// A deadline of the session's state machine came (a ping due, a pong or an upgrade overdue).
impl<D: Send + Sync + 'static> Timed for SessionShared<D> {
    fn fire(self: Arc<Self>, now: Instant) {
        let _span = self.span.enter();
        self.process(|state| {
            // The armed entry fired (or one before it): the deadline as it stands after this
            // is scheduled afresh. A later, overtaken entry leaves the armed one alone.
            if state.armed.is_some_and(|armed| armed <= now) {
                state.armed = None;
            }
            state.session.handle_timeout(now);
        });
    }
}
