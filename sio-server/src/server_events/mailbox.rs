//! Where a namespace's server-side events wait for its handler: one task per namespace, started
//! by the first event, runs them one at a time in arrival order.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tracing::{error, warn};

use super::{ServerEvent, ServerEvents};
use crate::consumer::panic_message;
use crate::engine::sync::Mutex;
use crate::event::ArgError;
use crate::server::WeakServer;

/// How many server-side events may wait for a namespace's handler, and how many bytes they may
/// hold; beyond either, they are dropped (unanswered) with a warning, so a slow handler cannot
/// make other processes fill this one's memory.
pub(crate) const MAILBOX_CAPACITY: usize = 1024;
pub(crate) const MAILBOX_BYTES: usize = 64 << 20;

/// An event waiting for the handler, with the bytes it holds.
type Queued = (ServerEvent, usize);

type Start = Box<
    dyn FnOnce(mpsc::Receiver<Queued>, WeakServer, Arc<AtomicUsize>) -> BoxFuture<'static, ()>
        + Send,
>;

/// The mailbox of one namespace's [`ServerEvents`] handler.
pub(crate) struct ServerEventsMailbox {
    namespace: &'static str,
    sender: mpsc::Sender<Queued>,
    /// Bytes of the events waiting, shared with the task that takes them.
    queued_bytes: Arc<AtomicUsize>,
    /// Events dropped so far, for warnings that do not flood the log.
    dropped: AtomicU64,
    /// The handler and its receiving end, until the first event starts their task (a server
    /// may be built outside any runtime).
    idle: Mutex<Option<(mpsc::Receiver<Queued>, Start)>>,
}

impl ServerEventsMailbox {
    pub(crate) fn new<H: ServerEvents>(handler: H) -> Self {
        let (sender, receiver) = mpsc::channel(MAILBOX_CAPACITY);
        let start: Start =
            Box::new(move |events, server, queued| run(handler, events, server, queued).boxed());
        ServerEventsMailbox {
            namespace: H::NAMESPACE,
            sender,
            queued_bytes: Arc::new(AtomicUsize::new(0)),
            dropped: AtomicU64::new(0),
            idle: Mutex::new(Some((receiver, start))),
        }
    }

    /// Queues `event` for the handler, starting its task on the first (on the caller's runtime,
    /// or the one the server was built or served in); `false` if it was dropped.
    pub(crate) fn deliver(&self, event: ServerEvent, server: &WeakServer) -> bool {
        // Taken out first: the lock is not held while the task starts.
        let idle = self.idle.lock().take();
        if let Some((events, start)) = idle {
            let runtime = tokio::runtime::Handle::try_current().ok().or_else(|| {
                server
                    .upgrade()
                    .and_then(|server| server.inner().runtime.get().cloned())
            });
            let Some(runtime) = runtime else {
                error!(
                    namespace = self.namespace,
                    "a server-side event arrived outside a tokio runtime, and the server knows none; its handler cannot start"
                );
                *self.idle.lock() = Some((events, start));
                return false;
            };
            runtime.spawn(start(
                events,
                server.clone(),
                Arc::clone(&self.queued_bytes),
            ));
        }
        let cost = event.cost();
        let before = self.queued_bytes.fetch_add(cost, Ordering::AcqRel);
        if before.saturating_add(cost) > MAILBOX_BYTES {
            self.queued_bytes.fetch_sub(cost, Ordering::AcqRel);
            self.drop_event(&event, "its events hold too many bytes");
            return false;
        }
        match self.sender.try_send((event, cost)) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full((event, cost))) => {
                self.queued_bytes.fetch_sub(cost, Ordering::AcqRel);
                self.drop_event(&event, "too many events wait");
                false
            }
            Err(mpsc::error::TrySendError::Closed((event, cost))) => {
                self.queued_bytes.fetch_sub(cost, Ordering::AcqRel);
                self.drop_event(&event, "its task has ended (its runtime shut down)");
                false
            }
        }
    }

    /// Warns of a dropped event: the first, then every thousandth.
    fn drop_event(&self, event: &ServerEvent, why: &str) {
        let dropped = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if dropped == 1 || dropped.is_multiple_of(1000) {
            warn!(
                namespace = self.namespace,
                event = event.name(),
                dropped,
                capacity = MAILBOX_CAPACITY,
                bytes = MAILBOX_BYTES,
                "server-side event dropped, unanswered: {why}"
            );
        }
    }
}

async fn run<H: ServerEvents>(
    mut handler: H,
    mut events: mpsc::Receiver<Queued>,
    server: WeakServer,
    queued_bytes: Arc<AtomicUsize>,
) {
    while let Some((event, cost)) = events.recv().await {
        queued_bytes.fetch_sub(cost, Ordering::AcqRel);
        let Some(server) = server.upgrade() else {
            return;
        };
        let name = event.name().to_owned();
        // A panic is logged and the next event still runs: stopping would drop them all.
        let handled = AssertUnwindSafe(handler.on_event(&server, event))
            .catch_unwind()
            .await;
        match handled {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => match failure.downcast_ref::<ArgError>() {
                Some(bad) => warn!(
                    namespace = H::NAMESPACE,
                    event = %name,
                    argument = bad.index,
                    error = %bad.message,
                    "an argument of a server-side event does not decode; the handler gave up"
                ),
                None => {
                    warn!(namespace = H::NAMESPACE, event = %name, error = %failure, "server-event handler failed");
                }
            },
            Err(panic) => error!(
                namespace = H::NAMESPACE,
                event = %name,
                panic = panic_message(&*panic),
                "server-event handler panicked"
            ),
        }
    }
}
