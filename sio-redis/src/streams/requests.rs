//! Requests to the other processes over pub/sub, as Node's cluster adapter sends them.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sio_core::Namespace;
use sio_server::broadcast::LayerError;

use super::message::Message;
use super::shared::{Outgoing, Shared};
use crate::responses::{Responses, other_processes};

/// Counts the other processes serving `namespace` (`PUBSUB NUMSUB` of its public channel, as
/// Node's adapter does) and, if there are any, publishes the request `build` makes from a fresh
/// request id. The responses come on this process's private channel, which it hears only for
/// a namespace it serves.
pub(crate) async fn send(
    shared: &Arc<Shared>,
    namespace: &Namespace,
    timeout: Duration,
    build: impl FnOnce(&str) -> Message,
) -> Result<Responses<Message>, LayerError> {
    let channel = shared.public_channel(namespace.as_str());
    let connection = shared.connection.borrow().clone();
    let subscribed = shared.subscribed.load(Ordering::Relaxed);
    let expected = other_processes(connection, subscribed, &channel).await?;
    let request = shared.pending.register(expected, timeout);
    if request.expected > 0 {
        let message = build(request.id());
        shared.send(Outgoing::Publish {
            channel,
            payload: message.to_pubsub(),
        });
    }
    Ok(request)
}
