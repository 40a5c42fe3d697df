//! `RedisStreamsLayer`: the channel layer on a Redis stream, wire-compatible with Node's
//! `@socket.io/redis-streams-adapter` 0.3, that keeps connection state recovery for every
//! process.

mod in_flight;
mod incoming;
mod message;
mod reader;
mod requests;
mod session_writes;
mod sessions;
mod shared;
mod subscriber;
mod writer;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream};
use futures_util::{FutureExt, StreamExt};
use rmpv::Value;
use sio_core::{AckId, Namespace};
use sio_server::broadcast::{
    AckEvent, Broadcast, ChannelLayer, LayerError, LocalSockets, Operation, RemoteSocket, Room,
    ServerAckEvent, ServerSideEmit, SessionStore, Target,
};
use tokio::sync::mpsc;
use tracing::error;

use self::message::{Message, kind};
use self::shared::{Options, Outgoing, Shared};
use crate::responses::{AckReply, gather_answers, stream_of};
use crate::wire::{self, object};

/// A channel layer on a Redis stream: broadcasts and server-side operations reach the sockets of
/// every process reading the same stream, whether sio or Node's socket.io with
/// `@socket.io/redis-streams-adapter` 0.3 (default options); and with connection state recovery
/// on, the stream is the log of events (its entry ids are the offsets clients hold) and the
/// sessions are kept in Redis, so a client recovers on any process.
///
/// Every process, this one included, delivers what the stream holds in the stream's order: an
/// event this process broadcasts reaches its own sockets once read back, one round trip to
/// Redis later. Requests that wait for answers (`fetch_sockets`, `rooms`, acks from many,
/// server-side events with acks) go over pub/sub, as in Node's adapter.
///
/// Node's adapter saves a session only when its socket disconnects, which the sockets of a
/// killed process never do. This layer also saves it while the socket is connected (when it
/// connects, whenever its rooms or data change, and again every ping interval), marked as held
/// by this process (`<key>#owner`, which Node's adapter ignores): no sio process takes a held
/// session while its holder lives (it hears a channel of its own, `<prefix>#sio#<uid>#`), so no
/// two sio sockets share an id (but while its subscription is being re-established, a process
/// counts as gone); once the holder is gone, any process may. The clients of a process that was
/// killed recover on another, sio or Node.
///
/// While Redis is unreachable, the latest write of each session waits (up to 100,000 sessions)
/// and is made when Redis is back.
///
/// While Redis is unreachable, broadcasts and operations reach this process's sockets only
/// (without offsets; those appended just before it went, which Redis may have lost, too: each
/// entry of this process carries a number of its own, `sio`, which Node's adapter ignores, so
/// that it is delivered here once, read back or not), requests fail with
/// [`LayerError::Unavailable`], and clients that come back get fresh sockets. The connections come back with a backoff of 100 ms doubling up to 2 s;
/// the reader resumes where it stopped.
///
/// Build the server inside the tokio runtime: the layer starts its tasks when it is built.
///
/// ```no_run
/// use sio_redis::RedisStreamsLayer;
/// use sio_server::{ConnectionStateRecovery, Server};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let layer = RedisStreamsLayer::new("redis://127.0.0.1:6379/")?;
/// let server = Server::builder()
///     .channel_layer(layer)
///     .connection_state_recovery(ConnectionStateRecovery::default())
///     .build();
/// # Ok(()) }
/// ```
pub struct RedisStreamsLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for RedisStreamsLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStreamsLayer")
            .field("uid", &self.shared.uid)
            .field("stream", &self.shared.options.stream_name)
            .finish_non_exhaustive()
    }
}

impl RedisStreamsLayer {
    /// A layer on the Redis server at `url` (`redis://[user:password@]host:port[/db]`). Nothing
    /// connects until the server is built.
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        Ok(RedisStreamsLayer {
            shared: Arc::new(Shared::new(client, Options::default())),
        })
    }

    fn configure(mut self, change: impl FnOnce(&mut Options)) -> Self {
        // Only before the layer is handed to the builder: nothing else holds it yet.
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            change(&mut shared.options);
        }
        self
    }

    /// The stream's name (default `socket.io`, as the Node adapter's `streamName`).
    pub fn stream_name(self, name: impl Into<String>) -> Self {
        let name = name.into();
        self.configure(|options| options.stream_name = name)
    }

    /// The prefix of the pub/sub channels (default `socket.io`, the adapter's `channelPrefix`).
    pub fn channel_prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.configure(|options| options.channel_prefix = prefix)
    }

    /// How many entries the stream keeps, about (default 10,000, the adapter's `maxLen`,
    /// trimmed with `MAXLEN ~`): a client whose offset was trimmed gets a fresh socket.
    pub fn max_len(self, entries: u64) -> Self {
        self.configure(|options| options.max_len = entries.max(1))
    }

    /// How many entries one read takes (default 100, the adapter's `readCount`).
    pub fn read_count(self, entries: u64) -> Self {
        self.configure(|options| options.read_count = entries.max(1))
    }

    /// The prefix of the sessions' keys (default `sio:session:`, the adapter's
    /// `sessionKeyPrefix`).
    pub fn session_key_prefix(self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.configure(|options| options.session_key_prefix = prefix)
    }

    /// How long `fetch_sockets` and `rooms` wait for the other processes (default 5 s).
    pub fn requests_timeout(self, timeout: Duration) -> Self {
        self.configure(|options| options.requests_timeout = timeout)
    }

    /// How many messages may wait to be sent to Redis (default 8192) and how many bytes
    /// (default 64 MiB); beyond, a broadcast reaches this process only, and the drop is logged.
    pub fn queue_limits(self, messages: usize, bytes: usize) -> Self {
        self.configure(|options| {
            options.queue_capacity = messages.max(1);
            options.queue_bytes = bytes;
        })
    }

    /// Whether the layer can write to Redis now.
    pub fn is_connected(&self) -> bool {
        self.shared.is_connected()
    }
}

impl Drop for RedisStreamsLayer {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
    }
}

impl ChannelLayer for RedisStreamsLayer {
    fn start(&self, local: &LocalSockets) {
        let shared = &self.shared;
        shared
            .namespaces()
            .extend(local.namespaces().into_iter().chain(local.patterns()));
        let _ = shared.local.set(local.clone());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            error!(
                "redis streams layer: the server was built outside a tokio runtime; this process stays alone"
            );
            return;
        };
        let (queue, receiver) = mpsc::channel(shared.options.queue_capacity);
        if shared.outgoing.set(queue).is_err() {
            return;
        }
        runtime.spawn(writer::run(Arc::clone(shared), receiver));
        runtime.spawn(reader::run(Arc::clone(shared)));
        runtime.spawn(subscriber::run(Arc::clone(shared)));
    }

    fn broadcast(&self, broadcast: &Broadcast, _local: &LocalSockets) {
        // Delivered here too when the reader reads it back (or at once if it cannot be sent).
        self.shared.send(Outgoing::Broadcast(broadcast.clone()));
    }

    fn apply(
        &self,
        namespace: &Namespace,
        target: &Target,
        operation: &Operation,
        _local: &LocalSockets,
    ) {
        self.shared.send(Outgoing::Operation(
            namespace.clone(),
            target.clone(),
            operation.clone(),
        ));
    }

    fn broadcast_with_ack(
        &self,
        broadcast: &Broadcast,
        ack_id: AckId,
        timeout: Duration,
        local: &LocalSockets,
    ) -> BoxStream<'static, AckEvent> {
        let here = local.deliver_with_ack(broadcast, ack_id, timeout).events();
        if !self.shared.namespaces().contains(&broadcast.namespace) {
            return here;
        }
        let shared = Arc::clone(&self.shared);
        let broadcast = broadcast.clone();
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
            let flags = vec![("timeout", Value::from(timeout_ms))];
            let Ok(mut data) = message::broadcast_data(&broadcast, flags, None) else {
                let _ = sender.send(AckEvent::Unreported(1));
                return;
            };
            let request = requests::send(&shared, &broadcast.namespace, timeout, |id| {
                if let Value::Map(fields) = &mut data {
                    fields.push((Value::from("requestId"), Value::from(id)));
                    // sio processes then name the sockets they reached (Node's ignore it).
                    fields.push((Value::from("sids"), Value::Boolean(true)));
                }
                Message::new(&shared.uid, &broadcast.namespace, kind::BROADCAST, data)
            })
            .await;
            let Ok(request) = request else {
                let _ = sender.send(AckEvent::Unreported(1));
                return;
            };
            request
                .gather_acks(&sender, |response| match response.kind {
                    kind::BROADCAST_CLIENT_COUNT => Some(AckReply::count(&response.data)),
                    kind::BROADCAST_ACK => Some(AckReply::answer(&response.data)),
                    _ => None,
                })
                .await;
        });
        stream::select(here, stream_of(receiver)).boxed()
    }

    fn fetch_sockets(
        &self,
        namespace: &Namespace,
        target: &Target,
        local: &LocalSockets,
    ) -> BoxFuture<'static, Result<Vec<RemoteSocket>, LayerError>> {
        let mut sockets = local.fetch_sockets(namespace, target);
        if !self.shared.namespaces().contains(namespace) {
            return std::future::ready(Ok(sockets)).boxed();
        }
        let shared = Arc::clone(&self.shared);
        let (namespace, local) = (namespace.clone(), local.clone());
        let opts = wire::broadcast_opts(target, Vec::new());
        async move {
            let timeout = shared.options.requests_timeout;
            let request = requests::send(&shared, &namespace, timeout, |id| {
                let data = object(vec![("opts", opts), ("requestId", Value::from(id))]);
                Message::new(&shared.uid, &namespace, kind::FETCH_SOCKETS, data)
            })
            .await?;
            let remote = request
                .gather(|response| {
                    (response.kind == kind::FETCH_SOCKETS_RESPONSE).then(|| {
                        response
                            .get("sockets")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .filter_map(|socket| {
                                crate::layer::remote_socket(&local, &namespace, socket)
                            })
                            .collect()
                    })
                })
                .await?;
            sockets.extend(remote);
            Ok(sockets)
        }
        .boxed()
    }

    fn rooms(
        &self,
        namespace: &Namespace,
        local: &LocalSockets,
    ) -> BoxFuture<'static, Result<Vec<Room>, LayerError>> {
        // The adapter has no request for rooms: the sockets of every process name theirs.
        let sockets = self.fetch_sockets(namespace, &Target::default(), local);
        let mut rooms = local.rooms(namespace);
        async move {
            for socket in sockets.await? {
                rooms.extend(socket.rooms().iter().cloned());
            }
            rooms.sort();
            rooms.dedup();
            Ok(rooms)
        }
        .boxed()
    }

    fn server_side_emit(&self, event: &ServerSideEmit, _local: &LocalSockets) {
        let Some(packet) = crate::server_events::data(event) else {
            return;
        };
        let message = Message::new(
            &self.shared.uid,
            &event.namespace,
            kind::SERVER_SIDE_EMIT,
            object(vec![("packet", packet)]),
        );
        self.shared.send(Outgoing::Publish {
            channel: self.shared.public_channel(event.namespace.as_str()),
            payload: message.to_pubsub(),
        });
    }

    fn server_side_emit_with_ack(
        &self,
        event: &ServerSideEmit,
        timeout: Duration,
        _local: &LocalSockets,
    ) -> BoxStream<'static, ServerAckEvent> {
        let failed = |reason: String| {
            stream::iter([ServerAckEvent::Failed(LayerError::Unavailable(reason))]).boxed()
        };
        let Some(packet) = crate::server_events::data(event) else {
            return failed("the event does not convert to the adapter's form".to_owned());
        };
        if !self.shared.namespaces().contains(&event.namespace) {
            return failed(format!(
                "this process does not serve namespace `{}`, so it cannot hear the answers",
                event.namespace
            ));
        }
        let shared = Arc::clone(&self.shared);
        let namespace = event.namespace.clone();
        let (sender, receiver) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            let request = requests::send(&shared, &namespace, timeout, |id| {
                let data = object(vec![("requestId", Value::from(id)), ("packet", packet)]);
                Message::new(&shared.uid, &namespace, kind::SERVER_SIDE_EMIT, data)
            })
            .await;
            gather_answers(request, &sender, |response| {
                (response.kind == kind::SERVER_SIDE_EMIT_RESPONSE).then(|| {
                    crate::layer::ack_response(response.get("packet").unwrap_or(&Value::Nil))
                })
            })
            .await;
        });
        stream_of(receiver)
    }

    fn namespace_created(&self, namespace: &Namespace) {
        self.shared.namespaces().insert(namespace.clone());
        self.shared.namespaces_changed.notify_one();
    }

    fn namespace_removed(&self, namespace: &Namespace) {
        self.shared.namespaces().remove(namespace);
        self.shared.namespaces_changed.notify_one();
    }

    fn shutdown(&self) {
        self.shared.stop.send_replace(true);
    }

    fn stats(&self) -> Option<sio_server::broadcast::LayerStats> {
        let queued = self
            .shared
            .queued_bytes
            .load(std::sync::atomic::Ordering::Relaxed);
        Some(self.shared.counts.stats(queued))
    }

    fn session_store(&self) -> Option<&dyn SessionStore> {
        Some(self)
    }
}
