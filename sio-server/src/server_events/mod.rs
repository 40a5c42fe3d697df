//! Server-side events: events one process sends the others (Node's `serverSideEmit`), never
//! to clients, through the channel layer; each process's [`ServerEvents`] handler of the
//! namespace takes them, and may answer.

mod acks;
mod event;
mod mailbox;
mod outgoing;

use std::future::Future;

use crate::consumer::HandlerError;
use crate::server::Server;

pub use acks::{ServerAckEvent, ServerAcks};
pub use event::ServerEvent;
pub(crate) use mailbox::ServerEventsMailbox;
pub use outgoing::ServerSideEmit;

/// The handler of the server-side events of one namespace in this process: what
/// `#[server_events]` generates, or a hand-written implementation. Register one per namespace
/// with [`ServerBuilder::server_events`](crate::ServerBuilder::server_events).
///
/// One instance serves the whole process. Its events are handled in arrival order, one at a
/// time, on a task of its own; up to 1,024 (holding up to 64 MiB) wait for it, and beyond that
/// they are dropped (and go unanswered) with a warning. An event's sender never gets it back:
/// only the other processes do. [`Server::shutdown`] neither waits for a handler in flight nor
/// runs the events still waiting.
///
/// ```
/// use sio_server::{HandlerError, Server, ServerEvent, ServerEvents};
///
/// #[derive(Default)]
/// struct Cluster {
///     banned: Vec<u64>,
/// }
///
/// impl ServerEvents for Cluster {
///     const NAMESPACE: &'static str = "/";
///
///     async fn on_event(&mut self, server: &Server, mut event: ServerEvent) -> Result<(), HandlerError> {
///         match event.name() {
///             "user_banned" => self.banned.push(event.arg(0)?),
///             "banned_count" => event.ack::<usize>().send(self.banned.len())?,
///             _ => {} // unknown events are ignored here
///         }
///         Ok(())
///     }
/// }
///
/// let server = Server::builder().server_events(Cluster::default()).build();
/// # drop(server);
/// ```
pub trait ServerEvents: Send + 'static {
    /// The namespace whose server-side events it takes, such as `/` (Node's
    /// `io.serverSideEmit`) or `/chat` (`io.of("/chat").serverSideEmit`).
    const NAMESPACE: &'static str;

    /// One event from another process.
    fn on_event(
        &mut self,
        server: &Server,
        event: ServerEvent,
    ) -> impl Future<Output = Result<(), HandlerError>> + Send;
}
