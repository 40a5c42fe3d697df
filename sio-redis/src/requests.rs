//! Requests to the other processes, and the gathering of their responses.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rmpv::Value;
use sio_server::broadcast::LayerError;
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::shared::{Outgoing, Shared, random_id};
use crate::subscriptions::Route;

/// A request sent to the other processes, waiting for their responses. Dropping it forgets it.
pub(crate) struct Request {
    shared: Arc<Shared>,
    id: String,
    /// How many other processes were subscribed when it went out.
    pub(crate) expected: usize,
    responses: mpsc::UnboundedReceiver<Value>,
    deadline: Instant,
}

impl Drop for Request {
    fn drop(&mut self) {
        self.shared.pending().remove(&self.id);
    }
}

fn unavailable(reason: impl ToString) -> LayerError {
    LayerError::Unavailable(reason.to_string())
}

impl Request {
    /// Counts the other processes (`PUBSUB NUMSUB` of the request channel, as Node does) and,
    /// if there are any, publishes the request `build` makes from a fresh request id.
    pub(crate) async fn send(
        shared: &Arc<Shared>,
        route: &Route,
        timeout: Duration,
        build: impl FnOnce(&str) -> Vec<u8>,
    ) -> Result<Request, LayerError> {
        let channel = &route.channels.request;
        if !shared.subscribed.load(Ordering::Relaxed) {
            return Err(unavailable("not subscribed to Redis"));
        }
        let mut connection = shared
            .connection
            .borrow()
            .clone()
            .ok_or_else(|| unavailable("Redis is unreachable"))?;
        let (_, subscribers): (String, usize) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query_async(&mut connection)
            .await
            .map_err(unavailable)?;
        let id = random_id();
        let (sender, responses) = mpsc::unbounded_channel();
        shared.pending().insert(id.clone(), sender);
        let request = Request {
            shared: Arc::clone(shared),
            expected: subscribers.saturating_sub(1),
            id,
            responses,
            deadline: Instant::now() + timeout,
        };
        if request.expected > 0 {
            // Through the publisher's queue, so it reaches the others in order with this
            // process's broadcasts and operations.
            shared.publish(Outgoing::Message {
                channel: channel.clone(),
                payload: build(&request.id),
            });
        }
        Ok(request)
    }

    /// The next response, or `None` once the timeout has passed.
    pub(crate) async fn next(&mut self) -> Option<Value> {
        tokio::time::timeout_at(self.deadline, self.responses.recv())
            .await
            .ok()
            .flatten()
    }

    /// One response from each other process, each turned into items by `read`.
    pub(crate) async fn gather<T>(
        mut self,
        mut read: impl FnMut(&Value) -> Vec<T>,
    ) -> Result<Vec<T>, LayerError> {
        let mut items = Vec::new();
        let mut answered = 0;
        while answered < self.expected {
            let Some(response) = self.next().await else {
                return Err(LayerError::Timeout {
                    answered: answered + 1,
                    expected: self.expected + 1,
                });
            };
            items.extend(read(&response));
            answered += 1;
        }
        Ok(items)
    }
}
