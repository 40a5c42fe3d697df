//! How a socket's consumer runs: `connect`, then its events one at a time and in order, then
//! `disconnect`, with no task of its own while it waits.
//!
//! A hook runs where its event arrives (the task that read it), polled once: most handlers finish
//! there, with no wake-up and no hand-over. One that is still pending after that first poll moves
//! to a task of its own, which also runs the events that arrived meanwhile, and ends when none is
//! left. `disconnect` always runs on a task of its own: a socket can end on any task (a heartbeat
//! timer's, or one that disconnects a whole room), and the hooks of other sockets must not run
//! inside it. Reading never waits on a pending handler: events queue for it, bounded in count and
//! bytes. Panics are caught here, so a failing handler costs only its own socket.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use futures_util::task::noop_waker_ref;
use sio_core::RawJson;
use tracing::{error, warn};

use super::{ConnectError, Consumer, middleware, tasks};
use crate::disconnect_reason::DisconnectReason;
use crate::engine::sync::Mutex;
use crate::event::{ArgError, IncomingEvent};
use crate::socket::Socket;

/// A consumer whose hooks own it while they run and hand it back, so it can move between the
/// task that delivers an event and a task of its own.
pub(crate) trait ErasedConsumer: Send + 'static {
    fn connect(self: Box<Self>, socket: Socket, auth: Option<RawJson>) -> Hook;
    fn event(self: Box<Self>, socket: Socket, event: Box<IncomingEvent>) -> Hook;
    fn disconnect(self: Box<Self>, socket: Socket, reason: DisconnectReason) -> Hook;
}

/// A running hook: resolves to the consumer, unless the socket is done with it.
pub(crate) type Hook = BoxFuture<'static, Option<Box<dyn ErasedConsumer>>>;

pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}

impl<C: Consumer> ErasedConsumer for C {
    fn connect(self: Box<Self>, socket: Socket, auth: Option<RawJson>) -> Hook {
        Box::pin(async move {
            let mut consumer = self;
            let connect = async {
                if socket.recovered()
                    && let Err(error) =
                        Consumer::recover(&mut *consumer, &socket, socket.data()).await
                {
                    warn!(socket = %socket.id(), %error, "`recover` failed; `connect` runs anyway");
                }
                if !socket.skips_middleware() {
                    middleware::run(&socket).await?;
                }
                Consumer::connect(&mut *consumer, &socket, auth).await
            };
            let connected = AssertUnwindSafe(connect).catch_unwind().await;
            match connected {
                Ok(Ok(())) => {
                    socket.admit();
                    Some(consumer as Box<dyn ErasedConsumer>)
                }
                Ok(Err(refusal)) => {
                    socket.refuse(&refusal);
                    None
                }
                Err(panic) => {
                    error!(
                        namespace = C::NAMESPACE,
                        panic = panic_message(&*panic),
                        "`connect` or a connect middleware panicked; the client gets a connect error"
                    );
                    socket.refuse(&ConnectError::new("server error"));
                    None
                }
            }
        })
    }

    fn event(self: Box<Self>, socket: Socket, event: Box<IncomingEvent>) -> Hook {
        Box::pin(async move {
            let mut consumer = self;
            let name = event.shared_name();
            // The consumer stays out here, so it outlives a panic of its handler and still
            // gets its `disconnect`.
            let handled = AssertUnwindSafe(Consumer::on_event(&mut *consumer, &socket, *event))
                .catch_unwind()
                .await;
            match handled {
                Ok(Ok(())) => {}
                Ok(Err(failure)) => match failure.downcast_ref::<ArgError>() {
                    // Nothing answers it: the client's timeout reports it, its retries resend.
                    Some(bad) => warn!(
                        socket = %socket.id(),
                        event = %name,
                        argument = bad.index,
                        error = %bad.message,
                        "an argument does not decode; the handler gave up"
                    ),
                    None => {
                        warn!(socket = %socket.id(), event = %name, error = %failure, "handler failed");
                    }
                },
                Err(panic) => {
                    error!(
                        socket = %socket.id(),
                        event = %name,
                        panic = panic_message(&*panic),
                        "handler panicked; disconnecting its socket"
                    );
                    socket.close(DisconnectReason::ServerError, true);
                }
            }
            Some(consumer as Box<dyn ErasedConsumer>)
        })
    }

    fn disconnect(self: Box<Self>, socket: Socket, reason: DisconnectReason) -> Hook {
        Box::pin(async move {
            let mut consumer = self;
            if AssertUnwindSafe(Consumer::disconnecting(&mut *consumer, &socket, reason))
                .catch_unwind()
                .await
                .is_err()
            {
                error!(socket = %socket.id(), "`disconnecting` panicked");
            }
            socket.forget_leaving_rooms();
            if AssertUnwindSafe(Consumer::disconnect(&mut *consumer, &socket, reason))
                .catch_unwind()
                .await
                .is_err()
            {
                error!(socket = %socket.id(), "`disconnect` panicked");
            }
            None
        })
    }
}

/// What a socket's consumer does next.
enum Job {
    Connect(Option<RawJson>),
    Event(Box<IncomingEvent>),
    Disconnect(DisconnectReason),
}

impl Job {
    fn start(self, consumer: Box<dyn ErasedConsumer>, socket: &Socket) -> Hook {
        match self {
            Job::Connect(auth) => consumer.connect(socket.clone(), auth),
            Job::Event(event) => consumer.event(socket.clone(), event),
            Job::Disconnect(reason) => consumer.disconnect(socket.clone(), reason),
        }
    }
}

/// The events that arrived while a hook ran, and how a socket's consumer stands.
struct State {
    /// The consumer while no hook runs; `None` while one does, and once the socket is done.
    idle: Option<Box<dyn ErasedConsumer>>,
    queue: VecDeque<Box<IncomingEvent>>,
    queued_bytes: usize,
    /// The socket ended: its `disconnect` runs after the hook running now.
    ending: Option<DisconnectReason>,
    /// `disconnect` started (or the consumer is gone): nothing more runs.
    ended: bool,
    /// The consumer is gone: its last hook returned (or none ever ran).
    done: bool,
    /// Its hooks run on a task of their own (kept with the server's), which runs its
    /// `disconnect` too; until it hands the consumer back.
    on_task: bool,
}

/// Why an event found no room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MailboxFull;

/// The limits of the events waiting for a busy consumer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MailboxLimits {
    pub(crate) capacity: usize,
    pub(crate) bytes: usize,
}

/// A socket's consumer and the events waiting for it.
pub(crate) struct Runner {
    state: Mutex<State>,
    /// The runtime the socket was made in, where its hooks move when they cannot finish where
    /// they started: the code that ends a socket may run outside any runtime (a shutdown from
    /// a thread of its own).
    runtime: Option<tokio::runtime::Handle>,
}

impl Runner {
    /// A runner whose consumer comes with [`Runner::connect`].
    pub(crate) fn new() -> Self {
        Runner {
            state: Mutex::new(State {
                idle: None,
                queue: VecDeque::new(),
                queued_bytes: 0,
                ending: None,
                ended: false,
                done: false,
                on_task: false,
            }),
            runtime: tokio::runtime::Handle::try_current().ok(),
        }
    }

    /// Runs `connect` with the socket's consumer; events that arrive meanwhile wait for its
    /// answer. A socket that ended before (the server shut down) runs neither `connect` nor
    /// `disconnect`.
    pub(crate) fn connect(
        socket: &Socket,
        consumer: Box<dyn ErasedConsumer>,
        auth: Option<RawJson>,
    ) {
        {
            let mut state = socket.inner.runner.state.lock();
            if state.ended || state.ending.is_some() {
                state.ended = true;
                state.done = true;
                return;
            }
        }
        run(socket, consumer, Job::Connect(auth));
    }

    /// Whether what is left of the consumer's hooks is on a task of its own, or nothing is: its
    /// last hook (`disconnect`, or a `connect` that refused) returned, or none will ever run, or
    /// they run on a task a shutdown can wait for. Not while a hook is polled where its event
    /// arrived: that one hands its `disconnect` to a task only once it returns.
    pub(crate) fn is_settled(&self) -> bool {
        let state = self.state.lock();
        state.done || state.on_task
    }

    /// Hands `event` to the consumer: run now if it is idle, queued behind the hook running if
    /// there is room, refused if not. Dropped once the socket ended.
    pub(crate) fn deliver(
        socket: &Socket,
        event: Box<IncomingEvent>,
        limits: MailboxLimits,
    ) -> Result<(), MailboxFull> {
        let mut state = socket.inner.runner.state.lock();
        if state.ended || state.ending.is_some() {
            return Ok(());
        }
        if state.queue.is_empty()
            && let Some(consumer) = state.idle.take()
        {
            drop(state);
            run(socket, consumer, Job::Event(event));
            return Ok(());
        }
        let cost = event.cost();
        let bytes = state.queued_bytes.saturating_add(cost);
        let fits = state.queue.len() < limits.capacity
            && (state.queue.is_empty() || bytes <= limits.bytes);
        if !fits {
            return Err(MailboxFull);
        }
        state.queued_bytes = bytes;
        state.queue.push_back(event);
        Ok(())
    }

    /// The socket ended: events still waiting are dropped (unanswered), and
    /// `disconnect` runs once the hook running now has finished (at once if none runs).
    pub(crate) fn end(socket: &Socket, reason: DisconnectReason) {
        let (consumer, dropped) = {
            let mut state = socket.inner.runner.state.lock();
            if state.ended || state.ending.is_some() {
                return;
            }
            state.ending = Some(reason);
            state.queued_bytes = 0;
            let dropped = std::mem::take(&mut state.queue);
            let consumer = state.idle.take();
            if consumer.is_some() {
                state.ended = true;
            }
            (consumer, dropped)
        };
        // Outside the lock: each event lets go of a socket handle.
        drop(dropped);
        if let Some(consumer) = consumer {
            run(socket, consumer, Job::Disconnect(reason));
        }
    }

    /// A hook finished and handed back its consumer: the next job, if any.
    fn next(
        socket: &Socket,
        consumer: Box<dyn ErasedConsumer>,
    ) -> Option<(Box<dyn ErasedConsumer>, Job)> {
        let mut state = socket.inner.runner.state.lock();
        if state.ended {
            return None;
        }
        if let Some(reason) = state.ending {
            state.ended = true;
            return Some((consumer, Job::Disconnect(reason)));
        }
        match state.queue.pop_front() {
            Some(event) => {
                state.queued_bytes = state.queued_bytes.saturating_sub(event.cost());
                Some((consumer, Job::Event(event)))
            }
            None => {
                state.idle = Some(consumer);
                state.on_task = false;
                None
            }
        }
    }

    /// The socket is done with its consumer (refused, or its `disconnect` ran).
    fn finish(socket: &Socket) {
        let dropped = {
            let mut state = socket.inner.runner.state.lock();
            state.ended = true;
            state.done = true;
            state.queued_bytes = 0;
            std::mem::take(&mut state.queue)
        };
        drop(dropped);
    }
}

/// Runs `job`, then whatever waits, here while each hook finishes at its first poll, and on a
/// task of its own from the first that does not (or from `disconnect`).
fn run(socket: &Socket, mut consumer: Box<dyn ErasedConsumer>, mut job: Job) {
    loop {
        let disconnect = matches!(job, Job::Disconnect(_));
        let mut hook = job.start(consumer, socket);
        if disconnect {
            return hand_over(socket, hook, false);
        }
        tasks::begin_inline_poll();
        match poll_once(hook.as_mut()) {
            Poll::Ready(Some(back)) => match Runner::next(socket, back) {
                Some((next_consumer, next_job)) => {
                    consumer = next_consumer;
                    job = next_job;
                }
                None => return,
            },
            Poll::Ready(None) => return Runner::finish(socket),
            Poll::Pending => {
                let awaits_shutdown = tasks::inline_poll_awaits_shutdown();
                return hand_over(socket, hook, awaits_shutdown);
            }
        }
    }
}

/// Moves a hook to a task of its own, in the socket's runtime, kept with the server's hook
/// tasks (`awaits_shutdown` if the hook awaits the server's shutdown). A socket made outside
/// any runtime (never, when served) has its hook polled here once, and dropped if still
/// pending.
fn hand_over(socket: &Socket, mut hook: Hook, awaits_shutdown: bool) {
    let runtime = socket.inner.runner.runtime.clone();
    if let Some(runtime) = runtime.or_else(|| tokio::runtime::Handle::try_current().ok()) {
        let tasks = &socket.inner.server.inner().hook_tasks;
        let owned = socket.clone();
        let task = async move {
            drive(owned.clone(), hook).await;
            owned.inner.server.inner().hook_tasks.forget_current();
        };
        tasks.spawn(&runtime, task, awaits_shutdown);
        // Once it is kept (a shutdown that sees this flag finds the task), unless it handed
        // the consumer back already.
        let mut state = socket.inner.runner.state.lock();
        if state.idle.is_none() && !state.done {
            state.on_task = true;
        }
        return;
    }
    match poll_once(hook.as_mut()) {
        Poll::Ready(Some(back)) => {
            if let Some((consumer, job)) = Runner::next(socket, back) {
                run(socket, consumer, job);
            }
        }
        Poll::Ready(None) => Runner::finish(socket),
        Poll::Pending => {
            warn!(socket = %socket.id(), "no runtime to finish a hook on; it is dropped");
            drop(hook);
            Runner::finish(socket);
        }
    }
}

/// The task of a consumer whose hook is pending: that hook, then what waits, then it ends.
async fn drive(socket: Socket, mut hook: Hook) {
    loop {
        let Some(back) = hook.await else {
            return Runner::finish(&socket);
        };
        let Some((consumer, job)) = Runner::next(&socket, back) else {
            return;
        };
        hook = job.start(consumer, &socket);
    }
}

/// Polls a future once with a waker that does nothing: a future that is pending is polled
/// again by the task it moves to, and registers that task's waker then.
fn poll_once<T>(future: Pin<&mut (dyn Future<Output = T> + Send)>) -> Poll<T> {
    let mut context = Context::from_waker(noop_waker_ref());
    future.poll(&mut context)
}
