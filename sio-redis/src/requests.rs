//! Requests to the other processes on the pub/sub adapter's channels.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rmpv::Value;
use sio_server::broadcast::LayerError;

use crate::responses::{Responses, other_processes};
use crate::shared::{Outgoing, Shared};
use crate::subscriptions::Route;

/// Counts the other processes (`PUBSUB NUMSUB` of the request channel, as Node does) and,
/// if there are any, publishes the request `build` makes from a fresh request id.
pub(crate) async fn send(
    shared: &Arc<Shared>,
    route: &Route,
    timeout: Duration,
    build: impl FnOnce(&str) -> Vec<u8>,
) -> Result<Responses<Value>, LayerError> {
    let channel = &route.channels.request;
    let connection = shared.connection.borrow().clone();
    let subscribed = shared.subscribed.load(Ordering::Relaxed);
    let expected = other_processes(connection, subscribed, channel).await?;
    let request = shared.pending.register(expected, timeout);
    if request.expected > 0 {
        // Through the publisher's queue, so it reaches the others in order with this
        // process's broadcasts and operations.
        shared.publish(Outgoing::Message {
            channel: channel.clone(),
            payload: build(request.id()),
        });
    }
    Ok(request)
}
