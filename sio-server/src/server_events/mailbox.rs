//! Where a namespace's server-side events wait for its handler: one task per namespace, started
//! by the first event, runs them one at a time in arrival order.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use tokio::sync::mpsc;
use tracing::{error, warn};

use super::{ServerEvent, ServerEvents};
use crate::consumer::panic_message;
use crate::engine::sync::Mutex;
use crate::event::ArgError;
use crate::server::WeakServer;

/// How many server-side events may wait for a namespace's handler; beyond, they are dropped
/// (unanswered) with a warning, so a slow handler cannot make other processes fill this one's
/// memory.
pub(crate) const MAILBOX_CAPACITY: usize = 1024;

type Start =
    Box<dyn FnOnce(mpsc::Receiver<ServerEvent>, WeakServer) -> BoxFuture<'static, ()> + Send>;

/// The mailbox of one namespace's [`ServerEvents`] handler.
pub(crate) struct ServerEventsMailbox {
    namespace: &'static str,
    sender: mpsc::Sender<ServerEvent>,
    /// The handler and its receiving end, until the first event starts their task (a server
    /// may be built outside any runtime).
    idle: Mutex<Option<(mpsc::Receiver<ServerEvent>, Start)>>,
}

impl ServerEventsMailbox {
    pub(crate) fn new<H: ServerEvents>(handler: H) -> Self {
        let (sender, receiver) = mpsc::channel(MAILBOX_CAPACITY);
        let start: Start = Box::new(move |events, server| run(handler, events, server).boxed());
        ServerEventsMailbox {
            namespace: H::NAMESPACE,
            sender,
            idle: Mutex::new(Some((receiver, start))),
        }
    }

    /// Queues `event` for the handler, starting its task on the first; `false` if it was
    /// dropped.
    pub(crate) fn deliver(&self, event: ServerEvent, server: &WeakServer) -> bool {
        if let Some((events, start)) = self.idle.lock().take() {
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                error!(
                    namespace = self.namespace,
                    "a server-side event arrived outside a tokio runtime; its handler cannot start"
                );
                *self.idle.lock() = Some((events, start));
                return false;
            };
            runtime.spawn(start(events, server.clone()));
        }
        match self.sender.try_send(event) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(event)) => {
                warn!(
                    namespace = self.namespace,
                    event = event.name(),
                    capacity = MAILBOX_CAPACITY,
                    "the server-event handler is behind; event dropped"
                );
                false
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }
}

async fn run<H: ServerEvents>(
    mut handler: H,
    mut events: mpsc::Receiver<ServerEvent>,
    server: WeakServer,
) {
    while let Some(event) = events.recv().await {
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
