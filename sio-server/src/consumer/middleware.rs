//! Connect middleware of the whole server: what runs before any namespace's own middleware and
//! its `connect`.

use std::future::Future;

use futures_util::future::BoxFuture;
use tracing::debug;

use super::ConnectError;
use crate::socket::Socket;

/// One step of the server's connect middleware, boxed.
pub(crate) type ConnectMiddleware =
    Box<dyn Fn(Socket) -> BoxFuture<'static, Result<(), ConnectError>> + Send + Sync>;

/// Boxes an async function of the socket as a step of the chain.
pub(crate) fn boxed<F, Fut>(step: F) -> ConnectMiddleware
where
    F: Fn(Socket) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
{
    Box::new(move |socket| Box::pin(step(socket)))
}

/// Runs the server's chain in order; the first refusal ends it. Before it, for a namespace
/// made from a pattern with a predicate, the predicate's answer: `Invalid namespace` if it
/// said no, as Node answers.
pub(crate) async fn run(socket: &Socket) -> Result<(), ConnectError> {
    let server = socket.server();
    if let Some(approval) = &socket.inner.namespace.approval {
        if !approval.admits(socket).await {
            debug!(socket = %socket.id(), namespace = %socket.namespace(), "the namespace's predicate said no");
            return Err(ConnectError::new("Invalid namespace"));
        }
        server.inner().namespace_approved(&socket.inner.namespace);
    }
    for step in &server.inner().middleware {
        if let Err(refusal) = step(socket.clone()).await {
            debug!(socket = %socket.id(), message = %refusal.message, "refused by the server's middleware");
            return Err(refusal);
        }
    }
    Ok(())
}
