//! `RedisLayer`: the channel layer that spans processes through Redis.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream};
use futures_util::{FutureExt, StreamExt};
use rmpv::Value;
use serde_json::json;
use sio_core::{AckId, Args, Namespace, RawJson};
use sio_server::broadcast::{
    AckEvent, Broadcast, ChannelLayer, LayerError, LocalSockets, Operation, RemoteSocket, Room,
    ServerAckEvent, ServerSideEmit, Target,
};
use sio_server::{AckResponse, SocketId};
use tokio::sync::{Notify, mpsc, watch};
use tracing::error;

use crate::responses::{AckReply, stream_of};
use crate::shared::{Outgoing, Shared, random_id, request_type};
use crate::subscriptions::Route;
use crate::wire::{self, field, room_names};

/// A channel layer through Redis: broadcasts and server-side operations reach the sockets of
/// every process subscribed to the same Redis, whether sio or Node's socket.io with
/// `@socket.io/redis-adapter` (default options), and `@socket.io/redis-emitter` reaches sio's
/// sockets.
///
/// Publishing never waits: a background task publishes what a bounded queue holds, in batches.
/// While Redis is unreachable, delivery to this process's own sockets goes on; what this
/// process publishes meanwhile (broadcasts, server-side operations) and what the others publish
/// are lost, not replayed; requests that wait for the others (`fetch_sockets`, `rooms`) fail
/// with [`LayerError::Unavailable`], and `emit_with_ack` to many gathers this process's answers
/// only. Both connections are checked with a PING every 5 s and come back with a backoff of
/// 100 ms doubling up to 2 s; everything is logged with `tracing`.
///
/// Build the server inside the tokio runtime: the layer starts its tasks when it is built.
///
/// ```no_run
/// use sio_redis::RedisLayer;
/// use sio_server::Server;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let layer = RedisLayer::new("redis://127.0.0.1:6379/")?;
/// let server = Server::builder().channel_layer(layer).build();
/// # Ok(()) }
/// ```
pub struct RedisLayer {
    shared: Arc<Shared>,
}

impl fmt::Debug for RedisLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisLayer")
            .field("uid", &self.shared.uid)
            .field("key", &self.shared.key)
            .finish_non_exhaustive()
    }
}

impl RedisLayer {
    /// A layer on the Redis server at `url` (`redis://[user:password@]host:port[/db]`). Nothing
    /// connects until the server is built.
    pub fn new(url: &str) -> Result<Self, redis::RedisError> {
        let client = redis::Client::open(url)?;
        Ok(RedisLayer {
            shared: Arc::new(Shared {
                client,
                uid: random_id(),
                key: "socket.io".to_owned(),
                requests_timeout: Duration::from_secs(5),
                queue_capacity: 8192,
                queue_bytes: 64 << 20,
                queued_bytes: AtomicUsize::new(0),
                local: OnceLock::new(),
                subscriptions: Mutex::default(),
                subscriptions_changed: Notify::new(),
                outgoing: OnceLock::new(),
                connection: watch::Sender::new(None),
                down: AtomicBool::new(false),
                subscribed: AtomicBool::new(false),
                pending: Arc::default(),
                dropped: AtomicU64::new(0),
                counts: crate::counts::LayerCounts::default(),
                stop: watch::Sender::new(false),
            }),
        })
    }

    fn configure(mut self, change: impl FnOnce(&mut Shared)) -> Self {
        // Only before the layer is handed to the builder: nothing else holds it yet.
        if let Some(shared) = Arc::get_mut(&mut self.shared) {
            change(shared);
        }
        self
    }

    /// The prefix of the channel names (default `socket.io`, as the Node adapter's `key`).
    pub fn key(self, key: impl Into<String>) -> Self {
        let key = key.into();
        self.configure(|shared| shared.key = key)
    }

    /// How long `fetch_sockets` and `rooms` wait for the other processes (default 5 s, as the
    /// Node adapter's `requestsTimeout`).
    pub fn requests_timeout(self, timeout: Duration) -> Self {
        self.configure(|shared| shared.requests_timeout = timeout)
    }

    /// How many messages may wait for the publisher (default 8192); beyond, they are dropped
    /// and counted in the log.
    pub fn queue_capacity(self, capacity: usize) -> Self {
        self.configure(|shared| shared.queue_capacity = capacity.max(1))
    }

    /// How many bytes of messages may wait for the publisher (default 64 MiB), so a burst of
    /// large broadcasts cannot take unbounded memory; beyond, they are dropped and counted.
    pub fn queue_bytes(self, bytes: usize) -> Self {
        self.configure(|shared| shared.queue_bytes = bytes)
    }

    /// Whether the layer can publish to Redis now.
    pub fn is_connected(&self) -> bool {
        self.shared.is_connected()
    }
}

impl Drop for RedisLayer {
    fn drop(&mut self) {
        self.shared.stop.send_replace(true);
    }
}

fn names(rooms: &[Room]) -> Vec<String> {
    rooms.iter().map(Room::to_string).collect()
}

fn opts_json(target: &Target) -> serde_json::Value {
    json!({ "rooms": names(&target.rooms), "except": names(&target.except) })
}

impl ChannelLayer for RedisLayer {
    fn start(&self, local: &LocalSockets) {
        let shared = &self.shared;
        // A pattern (`/workspace/{id}`) has channels of its own, which only sio processes
        // hear: a broadcast to it reaches each namespace made from it, in every process.
        for namespace in local.namespaces().iter().chain(&local.patterns()) {
            shared.serve(namespace, true);
        }
        let _ = shared.local.set(local.clone());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            error!(
                "redis layer: the server was built outside a tokio runtime; this process stays alone"
            );
            return;
        };
        let (queue, receiver) = mpsc::channel(shared.queue_capacity);
        if shared.outgoing.set(queue).is_err() {
            return;
        }
        runtime.spawn(crate::publisher::run(Arc::clone(shared), receiver));
        runtime.spawn(crate::subscriber::run(Arc::clone(shared)));
    }

    fn broadcast(&self, broadcast: &Broadcast, local: &LocalSockets) {
        local.deliver(broadcast);
        if let Some(channels) = self.shared.publish_channels(&broadcast.namespace, local) {
            self.shared
                .publish(Outgoing::Broadcast(broadcast.clone(), channels));
        }
    }

    fn apply(
        &self,
        namespace: &Namespace,
        target: &Target,
        operation: &Operation,
        local: &LocalSockets,
    ) {
        local.apply(namespace, target, operation);
        let Some(channels) = self.shared.publish_channels(namespace, local) else {
            return;
        };
        let uid = &self.shared.uid;
        let request = match operation {
            Operation::Join(rooms) => json!({
                "uid": uid, "type": request_type::REMOTE_JOIN, "opts": opts_json(target), "rooms": names(rooms),
            }),
            Operation::Leave(rooms) => json!({
                "uid": uid, "type": request_type::REMOTE_LEAVE, "opts": opts_json(target), "rooms": names(rooms),
            }),
            Operation::Disconnect { close } => json!({
                "uid": uid, "type": request_type::REMOTE_DISCONNECT, "opts": opts_json(target), "close": close,
            }),
            _ => return,
        };
        self.shared.publish_json(&channels.request, &request);
    }

    fn fetch_sockets(
        &self,
        namespace: &Namespace,
        target: &Target,
        local: &LocalSockets,
    ) -> BoxFuture<'static, Result<Vec<RemoteSocket>, LayerError>> {
        let mut sockets = local.fetch_sockets(namespace, target);
        let shared = Arc::clone(&self.shared);
        let route = shared.route(namespace, local);
        let (namespace, local) = (namespace.clone(), local.clone());
        let opts = opts_json(target);
        async move {
            let Some(route) = route else {
                return stays_here(&shared, &local, &namespace, sockets);
            };
            let request = crate::requests::send(&shared, &route, shared.requests_timeout, |id| {
                let request = json!({ "uid": shared.uid, "requestId": id, "type": request_type::REMOTE_FETCH, "opts": opts });
                json_request(request, &route)
            })
            .await?;
            let remote = request
                .gather(|response| {
                    field(response, "sockets")
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|socket| remote_socket(&local, &namespace, socket))
                        .collect::<Vec<_>>()
                        .into()
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
        let mut rooms = local.rooms(namespace);
        let shared = Arc::clone(&self.shared);
        let route = shared.route(namespace, local);
        let (namespace, local) = (namespace.clone(), local.clone());
        async move {
            let Some(route) = route else {
                return stays_here(&shared, &local, &namespace, rooms);
            };
            let request = crate::requests::send(&shared, &route, shared.requests_timeout, |id| {
                let request =
                    json!({ "uid": shared.uid, "requestId": id, "type": request_type::ALL_ROOMS });
                json_request(request, &route)
            })
            .await?;
            let remote = request
                .gather(|response| {
                    let rooms = room_names(field(response, "rooms"));
                    Some(rooms.into_iter().map(Room::from).collect())
                })
                .await?;
            rooms.extend(remote);
            rooms.sort();
            rooms.dedup();
            Ok(rooms)
        }
        .boxed()
    }

    fn broadcast_with_ack(
        &self,
        broadcast: &Broadcast,
        ack_id: AckId,
        timeout: Duration,
        local: &LocalSockets,
    ) -> BoxStream<'static, AckEvent> {
        let here = local.deliver_with_ack(broadcast, ack_id, timeout).events();
        let Some(route) = self.shared.route(&broadcast.namespace, local) else {
            return here;
        };
        let Ok(data) = wire::event_data(&broadcast.packet) else {
            return here;
        };
        let shared = Arc::clone(&self.shared);
        let (sender, receiver) = mpsc::unbounded_channel();
        let packet = wire::packet_object(&broadcast.namespace, data);
        let target = broadcast.target.clone();
        tokio::spawn(async move {
            let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
            let request = crate::requests::send(&shared, &route, timeout, |id| {
                let opts =
                    wire::broadcast_opts(&target, vec![("timeout", Value::from(timeout_ms))]);
                let mut fields = vec![
                    ("uid", Value::from(shared.uid.as_str())),
                    ("requestId", Value::from(id)),
                    ("type", Value::from(request_type::BROADCAST)),
                    ("packet", packet),
                    ("opts", opts),
                ];
                if let Some(namespace) = &route.namespace {
                    fields.push(("nsp", Value::from(namespace.as_str())));
                }
                // sio processes then name the sockets they reached (Node's ignore it).
                fields.push(("sids", Value::Boolean(true)));
                wire::encode_message(&wire::object(fields))
            })
            .await;
            let Ok(request) = request else {
                // Nobody could be asked: the others' sockets are unknown.
                let _ = sender.send(AckEvent::Unreported(1));
                return;
            };
            request
                .gather_acks(&sender, |response| {
                    match field(response, "type").and_then(Value::as_u64) {
                        Some(request_type::BROADCAST_CLIENT_COUNT) => {
                            Some(AckReply::count(response))
                        }
                        Some(request_type::BROADCAST_ACK) => Some(AckReply::answer(response)),
                        _ => None,
                    }
                })
                .await;
        });
        stream::select(here, stream_of(receiver)).boxed()
    }

    fn server_side_emit(&self, event: &ServerSideEmit, _local: &LocalSockets) {
        crate::server_events::emit(&self.shared, event);
    }

    fn server_side_emit_with_ack(
        &self,
        event: &ServerSideEmit,
        timeout: Duration,
        local: &LocalSockets,
    ) -> BoxStream<'static, ServerAckEvent> {
        crate::server_events::emit_with_ack(&self.shared, event, timeout, local)
    }

    fn namespace_created(&self, namespace: &Namespace) {
        self.shared.serve(namespace, true);
    }

    fn namespace_removed(&self, namespace: &Namespace) {
        self.shared.serve(namespace, false);
    }

    fn shutdown(&self) {
        self.shared.stop.send_replace(true);
    }

    fn stats(&self) -> Option<sio_server::broadcast::LayerStats> {
        let queued = self.shared.queued_bytes.load(Ordering::Relaxed);
        Some(self.shared.counts.stats(queued))
    }
}

/// A request as JSON, naming its namespace when it goes through a pattern's channels.
fn json_request(mut request: serde_json::Value, route: &Route) -> Vec<u8> {
    if let Some(namespace) = &route.namespace {
        request["nsp"] = json!(namespace.as_str());
    }
    request.to_string().into_bytes()
}

/// What this process found alone, for a request that has nowhere to go: all there is for a
/// namespace nothing here serves; for one the others may have, their part is unavailable while
/// this process is not subscribed.
fn stays_here<T>(
    shared: &Shared,
    local: &LocalSockets,
    namespace: &Namespace,
    found: Vec<T>,
) -> Result<Vec<T>, LayerError> {
    let served =
        shared.channels(namespace.as_str()).is_some() || local.pattern_of(namespace).is_some();
    if served && !shared.subscribed.load(Ordering::Relaxed) {
        return Err(LayerError::Unavailable(
            "not subscribed to Redis".to_owned(),
        ));
    }
    Ok(found)
}

/// A socket as another process describes it in a `fetchSockets` response; sio names the
/// namespace of a socket found through a pattern (`nsp`), which Node's adapter leaves out.
pub(crate) fn remote_socket(
    local: &LocalSockets,
    namespace: &Namespace,
    socket: &Value,
) -> Option<RemoteSocket> {
    let id = field(socket, "id")?.as_str()?;
    let namespace = match field(socket, "nsp").and_then(Value::as_str) {
        Some(name) => Namespace::new(name.to_owned()).ok()?,
        None => namespace.clone(),
    };
    let rooms = room_names(field(socket, "rooms"))
        .into_iter()
        .map(Room::from)
        .collect();
    let mut handshake = String::new();
    wire::write_json(
        field(socket, "handshake").unwrap_or(&Value::Nil),
        &mut handshake,
        &mut Vec::new(),
    );
    let handshake = RawJson::new(handshake).ok()?;
    // Node's `socket.data`: any JSON, an object unless its application set something else.
    let data = match field(socket, "data") {
        None => RawJson::empty_object(),
        Some(data) => {
            let mut json = String::new();
            wire::write_json(data, &mut json, &mut Vec::new());
            RawJson::new(json).unwrap_or_else(|_| RawJson::empty_object())
        }
    };
    Some(RemoteSocket::new(local, namespace, SocketId::from(id), rooms, handshake).with_data(data))
}

/// A relayed ack: Node's adapter carries the answer's first argument.
pub(crate) fn ack_response(argument: &Value) -> Option<AckResponse> {
    // Kept as MessagePack, as it came: read into a handler's types from either parser's form,
    // binaries and dates included.
    let array = wire::encode_message(&Value::Array(vec![argument.clone()]));
    let args = Args::from_msgpack(array.into()).ok()?;
    Some(AckResponse::new(args, Vec::new()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_keeps_to_its_byte_budget() {
        let layer = RedisLayer::new("redis://127.0.0.1:1/")
            .expect("a valid URL")
            .queue_bytes(100);
        let (queue, mut receiver) = mpsc::channel(16);
        let _ = layer.shared.outgoing.set(queue);
        let message = || Outgoing::Message {
            channel: "c".repeat(10),
            payload: vec![0; 50],
        };
        layer.shared.publish(message());
        layer.shared.publish(message());
        assert_eq!(layer.shared.dropped.load(Ordering::Relaxed), 1);
        let first = receiver.try_recv().expect("the first fits");
        assert!(receiver.try_recv().is_err(), "the second was over budget");
        layer.shared.dequeued(&first);
        layer.shared.publish(message());
        assert!(receiver.try_recv().is_ok(), "room again once dequeued");
    }
}
