//! Names a pattern matches but the application decides on: a predicate approves each new
//! namespace once, at the first CONNECT to its name, before any middleware (Node's
//! `io.of(fn)`). Until it said yes, the namespace counts against its pattern's limit (which
//! bounds how many predicates run at once) and the channel layer has not heard of it.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use sio_core::Namespace;
use tokio::sync::OnceCell;

use crate::socket::{Handshake, Socket};

/// The predicate of a pattern: whether a namespace of that name may exist, from the name and
/// the handshake of the socket that asked first.
pub(crate) type NamespaceFilter =
    Arc<dyn Fn(Namespace, Handshake) -> BoxFuture<'static, bool> + Send + Sync>;

/// Boxes an async function of the name and the handshake as a [`NamespaceFilter`].
pub(crate) fn boxed<F, Fut>(filter: F) -> NamespaceFilter
where
    F: Fn(Namespace, Handshake) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = bool> + Send + 'static,
{
    Arc::new(move |name, handshake| Box::pin(filter(name, handshake)))
}

/// The decision on one namespace made from a pattern with a predicate.
pub(crate) struct Approval {
    filter: NamespaceFilter,
    decided: OnceCell<bool>,
}

impl Approval {
    pub(crate) fn new(filter: NamespaceFilter) -> Self {
        Approval {
            filter,
            decided: OnceCell::new(),
        }
    }

    /// Whether the namespace of `socket` may exist. The predicate runs once per namespace:
    /// sockets that come while it runs wait for its answer, and those after read it. (A
    /// namespace refused is removed once its sockets are gone; a later CONNECT asks again.)
    pub(crate) async fn admits(&self, socket: &Socket) -> bool {
        let decide = || (self.filter)(socket.namespace().clone(), socket.handshake_details());
        *self.decided.get_or_init(decide).await
    }
}
