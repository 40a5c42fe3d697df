//! What both layers do with other processes' responses: the requests waiting for them, by
//! request id, and how the answers of a broadcast with acks or a server-side event are
//! gathered, whatever form the responses take on the wire.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use sio_server::broadcast::{AckEvent, LayerError, ServerAckEvent};
use sio_server::{AckResponse, SocketId};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::wire::field;

/// The requests of this process that wait for responses `M`, by request id.
pub(crate) struct Pending<M>(Mutex<HashMap<String, mpsc::UnboundedSender<M>>>);

impl<M> Default for Pending<M> {
    fn default() -> Self {
        Pending(Mutex::default())
    }
}

impl<M> Pending<M> {
    fn waiting(&self) -> MutexGuard<'_, HashMap<String, mpsc::UnboundedSender<M>>> {
        self.0.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// A new request expecting a response from `expected` processes within `timeout`.
    pub(crate) fn register(self: &Arc<Self>, expected: usize, timeout: Duration) -> Responses<M> {
        let id = format!("{:016x}", rand::random::<u64>());
        let (sender, receiver) = mpsc::unbounded_channel();
        self.waiting().insert(id.clone(), sender);
        Responses {
            pending: Arc::clone(self),
            id,
            expected,
            receiver,
            deadline: Instant::now() + timeout,
        }
    }

    /// Hands `response` to request `id`, if this process waits for it.
    pub(crate) fn answer(&self, id: &str, response: M) {
        let waiting = self.waiting().get(id).cloned();
        if let Some(waiting) = waiting {
            let _ = waiting.send(response);
        }
    }
}

/// A request sent to the other processes, waiting for their responses. Dropping it forgets it.
pub(crate) struct Responses<M> {
    pending: Arc<Pending<M>>,
    id: String,
    /// How many other processes heard it.
    pub(crate) expected: usize,
    receiver: mpsc::UnboundedReceiver<M>,
    deadline: Instant,
}

impl<M> Drop for Responses<M> {
    fn drop(&mut self) {
        self.pending.waiting().remove(&self.id);
    }
}

/// A response to a broadcast with acks, as the wire says it.
pub(crate) enum AckReply {
    /// How many sockets a process reached, and, from a sio process, which.
    Count(u64, Option<Vec<SocketId>>),
    /// A socket's answer (the socket named by a sio process).
    Answer(Option<SocketId>, Option<AckResponse>),
}

impl AckReply {
    /// A count response's fields: `clientCount`, and `sids` from a sio process.
    pub(crate) fn count(fields: &rmpv::Value) -> AckReply {
        let count = field(fields, "clientCount").and_then(rmpv::Value::as_u64);
        let sids = field(fields, "sids")
            .and_then(rmpv::Value::as_array)
            .map(|ids| {
                ids.iter()
                    .filter_map(rmpv::Value::as_str)
                    .map(SocketId::from)
                    .collect()
            });
        AckReply::Count(count.unwrap_or(0), sids)
    }

    /// An answer's fields: `packet` (the first argument), and `sid` from a sio process.
    pub(crate) fn answer(fields: &rmpv::Value) -> AckReply {
        let socket = field(fields, "sid")
            .and_then(rmpv::Value::as_str)
            .map(SocketId::from);
        let reply = field(fields, "packet").and_then(crate::layer::ack_response);
        AckReply::Answer(socket, reply)
    }
}

impl<M> Responses<M> {
    pub(crate) fn id(&self) -> &str {
        &self.id
    }

    /// The next response, or `None` once the timeout has passed.
    pub(crate) async fn next(&mut self) -> Option<M> {
        tokio::time::timeout_at(self.deadline, self.receiver.recv())
            .await
            .ok()
            .flatten()
    }

    /// One response from each other process, each turned into items by `read` (`None` for a
    /// response that is not one of those awaited).
    pub(crate) async fn gather<T>(
        mut self,
        mut read: impl FnMut(&M) -> Option<Vec<T>>,
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
            if let Some(read) = read(&response) {
                items.extend(read);
                answered += 1;
            }
        }
        Ok(items)
    }

    /// The answers to a broadcast with acks: each process first says how many sockets it
    /// reached, then relays their answers; `read` tells what a response says.
    pub(crate) async fn gather_acks(
        mut self,
        sender: &mpsc::UnboundedSender<AckEvent>,
        read: impl Fn(&M) -> Option<AckReply>,
    ) {
        let (mut counted, mut clients, mut acks) = (0_usize, 0_u64, 0_u64);
        while counted < self.expected || acks < clients {
            let Some(response) = self.next().await else {
                let _ = sender.send(AckEvent::Unreported(self.expected - counted));
                return;
            };
            match read(&response) {
                Some(AckReply::Count(count, sids)) if counted < self.expected => {
                    counted += 1;
                    clients = clients.saturating_add(count);
                    let sent = match sids {
                        Some(ids) => AckEvent::Sent(ids),
                        None => AckEvent::SentUnnamed(usize::try_from(count).unwrap_or(usize::MAX)),
                    };
                    let _ = sender.send(sent);
                }
                Some(AckReply::Answer(socket, reply)) => {
                    acks += 1;
                    if let Some(reply) = reply {
                        let _ = sender.send(AckEvent::Answered(socket, reply));
                    }
                }
                _ => {}
            }
        }
    }
}

/// The answers to a server-side event sent as `request`: how many processes were asked, then
/// one answer from each that answers; `read` gives a response's answer (`None` for one that is
/// not an answer).
pub(crate) async fn gather_answers<M>(
    request: Result<Responses<M>, LayerError>,
    sender: &mpsc::UnboundedSender<ServerAckEvent>,
    read: impl Fn(&M) -> Option<Option<AckResponse>>,
) {
    let mut request = match request {
        Ok(request) => request,
        Err(error) => {
            let _ = sender.send(ServerAckEvent::Failed(error));
            return;
        }
    };
    let _ = sender.send(ServerAckEvent::Asked(request.expected));
    let mut answered = 0;
    while answered < request.expected {
        let Some(response) = request.next().await else {
            return;
        };
        let Some(answer) = read(&response) else {
            continue;
        };
        answered += 1;
        if let Some(answer) = answer {
            let _ = sender.send(ServerAckEvent::Answered(answer));
        }
    }
}

/// How many other processes hear `channel` (`PUBSUB NUMSUB`, less this one, as Node's adapters
/// count them), through `connection` (`None` while Redis is unreachable), if `subscribed`.
pub(crate) async fn other_processes(
    connection: Option<redis::aio::MultiplexedConnection>,
    subscribed: bool,
    channel: &str,
) -> Result<usize, LayerError> {
    if !subscribed {
        return Err(unavailable("not subscribed to Redis"));
    }
    let mut connection = connection.ok_or_else(|| unavailable("Redis is unreachable"))?;
    Ok(subscribers(&mut connection, channel)
        .await?
        .saturating_sub(1))
}

/// How many connections are subscribed to `channel` (`PUBSUB NUMSUB`).
pub(crate) async fn subscribers(
    connection: &mut redis::aio::MultiplexedConnection,
    channel: &str,
) -> Result<usize, LayerError> {
    let (_, subscribers): (String, usize) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(connection)
        .await
        .map_err(unavailable)?;
    Ok(subscribers)
}

/// A layer that cannot reach the other processes, and why.
pub(crate) fn unavailable(reason: impl ToString) -> LayerError {
    LayerError::Unavailable(reason.to_string())
}

/// The items of an unbounded receiver, as a stream.
pub(crate) fn stream_of<T: Send + 'static>(
    receiver: mpsc::UnboundedReceiver<T>,
) -> futures_util::stream::BoxStream<'static, T> {
    use futures_util::StreamExt;
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
    .boxed()
}
