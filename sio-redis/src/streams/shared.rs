//! What the streams layer's handle and its background tasks share.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use rmpv::Value;
use sio_core::Namespace;
use sio_server::broadcast::{Broadcast, LocalSockets, Operation, Target};
use tokio::sync::{Notify, mpsc, oneshot, watch};
use tracing::warn;

use super::in_flight::InFlight;
use super::message::Message;
use super::session_writes::{SessionWrite, SessionWrites};
use crate::responses::Pending;

/// The layer's settings, as the Node adapter's options name them.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub(crate) stream_name: String,
    pub(crate) channel_prefix: String,
    pub(crate) max_len: u64,
    pub(crate) read_count: u64,
    pub(crate) block: Duration,
    pub(crate) session_key_prefix: String,
    pub(crate) requests_timeout: Duration,
    pub(crate) queue_capacity: usize,
    pub(crate) queue_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            stream_name: "socket.io".to_owned(),
            channel_prefix: "socket.io".to_owned(),
            max_len: 10_000,
            read_count: 100,
            block: Duration::from_secs(5),
            session_key_prefix: "sio:session:".to_owned(),
            requests_timeout: Duration::from_secs(5),
            queue_capacity: 8192,
            queue_bytes: 64 << 20,
        }
    }
}

/// Something for the writer task to send.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A broadcast to append to the stream (converted off the caller's path).
    Broadcast(Broadcast),
    /// An operation on sockets to append to the stream.
    Operation(Namespace, Target, Operation),
    /// A message to publish on a channel.
    Publish { channel: String, payload: Vec<u8> },
    /// Answered once everything queued before it, and every session write made before it,
    /// is in Redis.
    Barrier(oneshot::Sender<()>),
}

impl Outgoing {
    /// The bytes it holds, counted against the queue's byte budget.
    pub(crate) fn size(&self) -> usize {
        match self {
            Outgoing::Broadcast(broadcast) => broadcast.packet.byte_len(),
            Outgoing::Operation(..) | Outgoing::Barrier(_) => 64,
            Outgoing::Publish { channel, payload } => channel.len() + payload.len(),
        }
    }

    /// What it does here when it cannot go to Redis: a broadcast or an operation still
    /// reaches this process's sockets (the other processes miss it).
    pub(crate) fn apply_here(self, local: &LocalSockets) {
        match self {
            Outgoing::Broadcast(broadcast) => {
                local.deliver(&broadcast);
            }
            Outgoing::Operation(namespace, target, operation) => {
                local.apply(&namespace, &target, &operation);
            }
            _ => {}
        }
    }
}

pub(crate) struct Shared {
    pub(crate) client: redis::Client,
    /// This process's id among the adapter's peers (16 hex digits, as Node's `randomId`).
    pub(crate) uid: String,
    pub(crate) options: Options,
    /// Set by `start`.
    pub(crate) local: OnceLock<LocalSockets>,
    pub(crate) outgoing: OnceLock<mpsc::Sender<Outgoing>>,
    pub(crate) queued_bytes: AtomicUsize,
    /// The writer's connection while Redis is reachable, for requests that await a reply.
    pub(crate) connection: watch::Sender<Option<MultiplexedConnection>>,
    /// Set while the writer cannot reach Redis: broadcasts reach this process only.
    pub(crate) down: AtomicBool,
    /// Set once the reader knows where the stream ends: the writer appends from then on, so
    /// that the reader reads every entry this process appends.
    pub(crate) reading: watch::Sender<bool>,
    /// Whether the subscriber hears the pub/sub channels (responses, requests).
    pub(crate) subscribed: AtomicBool,
    /// The namespaces whose channels the subscriber is to hear.
    pub(crate) namespaces: Mutex<HashSet<Namespace>>,
    pub(crate) namespaces_changed: Notify,
    /// Requests waiting for other processes' responses, by request id.
    pub(crate) pending: Arc<Pending<Message>>,
    /// This process's entries appended and not read back yet.
    pub(crate) in_flight: Mutex<InFlight>,
    /// Session writes waiting for the writer, by private session id (the latest for each).
    pub(crate) session_writes: Mutex<SessionWrites>,
    pub(crate) session_writes_changed: Notify,
    /// Messages not sent since the last report.
    pub(crate) dropped: AtomicU64,
    /// What the server's metrics read (`ChannelLayer::stats`), the reader's lag included.
    pub(crate) counts: crate::counts::LayerCounts,
    pub(crate) stop: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn new(client: redis::Client, options: Options) -> Self {
        Shared {
            client,
            uid: random_uid(),
            options,
            local: OnceLock::new(),
            outgoing: OnceLock::new(),
            queued_bytes: AtomicUsize::new(0),
            connection: watch::Sender::new(None),
            down: AtomicBool::new(false),
            reading: watch::Sender::new(false),
            subscribed: AtomicBool::new(false),
            namespaces: Mutex::default(),
            namespaces_changed: Notify::new(),
            pending: Arc::default(),
            in_flight: Mutex::default(),
            session_writes: Mutex::default(),
            session_writes_changed: Notify::new(),
            dropped: AtomicU64::new(0),
            counts: crate::counts::LayerCounts::default(),
            stop: watch::Sender::new(false),
        }
    }

    pub(crate) fn namespaces(&self) -> MutexGuard<'_, HashSet<Namespace>> {
        self.namespaces
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    pub(crate) fn is_connected(&self) -> bool {
        self.connection.borrow().is_some()
    }

    /// The channel every process serving `namespace` hears.
    pub(crate) fn public_channel(&self, namespace: &str) -> String {
        format!("{}#{namespace}#", self.options.channel_prefix)
    }

    /// The channel only process `uid` hears, for responses to its requests.
    pub(crate) fn private_channel(&self, namespace: &str, uid: &str) -> String {
        format!("{}#{namespace}#{uid}#", self.options.channel_prefix)
    }

    pub(crate) fn session_key(&self, pid: &str) -> String {
        format!("{}{pid}", self.options.session_key_prefix)
    }

    /// The key naming the process that holds session `pid` (sio's own; Node's adapter has
    /// none): set while its socket is connected there.
    pub(crate) fn owner_key(&self, pid: &str) -> String {
        format!("{}{pid}#owner", self.options.session_key_prefix)
    }

    /// Queues `outgoing` for the writer; never waits. While Redis is unreachable, or when the
    /// queue is full (in messages or bytes), it is not sent: a broadcast or an operation then
    /// reaches this process's sockets only. The first drop is logged, the next ones counted.
    pub(crate) fn send(&self, outgoing: Outgoing) {
        let Some(queue) = self.outgoing.get() else {
            // Never started (no runtime): this process is alone.
            if let Some(local) = self.local.get() {
                outgoing.apply_here(local);
            }
            return;
        };
        let size = outgoing.size();
        let refused = if self.down.load(Ordering::Relaxed) {
            Err(("Redis is unreachable", outgoing))
        } else if self.queued_bytes.fetch_add(size, Ordering::Relaxed) + size
            > self.options.queue_bytes
        {
            self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            Err(("the queue to Redis holds too many bytes", outgoing))
        } else {
            queue.try_send(outgoing).map_err(|err| {
                self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
                ("the queue to Redis is full", err.into_inner())
            })
        };
        let Err((reason, outgoing)) = refused else {
            return;
        };
        self.counts.dropped();
        if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
            warn!(
                reason,
                "redis streams layer: not sending to Redis; broadcasts reach this process only"
            );
        }
        if let Some(local) = self.local.get() {
            outgoing.apply_here(local);
        }
    }

    /// Takes a message the writer dequeued off the byte budget.
    pub(crate) fn dequeued(&self, outgoing: &Outgoing) {
        self.queued_bytes
            .fetch_sub(outgoing.size(), Ordering::Relaxed);
    }

    /// Writes session `pid` (replacing a write of it still waiting); never waits. While Redis
    /// is unreachable the latest write of each session waits for it to come back, within the
    /// queue's byte budget.
    pub(crate) fn write_session(&self, pid: &str, write: SessionWrite) {
        let kept = self
            .session_writes()
            .put(pid, write, self.options.queue_bytes);
        if kept {
            self.session_writes_changed.notify_one();
        } else if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
            warn!("redis streams layer: too many session writes wait for Redis; dropping some");
        }
    }

    pub(crate) fn in_flight(&self) -> MutexGuard<'_, InFlight> {
        self.in_flight
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Delivers here what this process appended and has not read back: Redis went away (the
    /// reader's connection or the writer's failed), and with it maybe the entries.
    pub(crate) fn deliver_in_flight_here(&self) {
        let flushed = self.in_flight().flush();
        self.apply_all_here(flushed);
    }

    /// Applies broadcasts and operations to this process's sockets only.
    pub(crate) fn apply_all_here(&self, outgoing: Vec<Outgoing>) {
        if let Some(local) = self.local.get() {
            for outgoing in outgoing {
                outgoing.apply_here(local);
            }
        }
    }

    pub(crate) fn session_writes(&self) -> MutexGuard<'_, SessionWrites> {
        self.session_writes
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The channel each sio process hears while it lives, whatever namespaces it serves:
    /// `<prefix>#sio#<uid>#` (a namespace starts with `/`, so it is no adapter's).
    pub(crate) fn process_channel(&self, uid: &str) -> String {
        format!("{}#sio#{uid}#", self.options.channel_prefix)
    }

    /// Hands a response to the request of its id, if this process waits for it.
    pub(crate) fn answer(&self, response: Message) {
        if let Some(id) = response.request_id().map(str::to_owned) {
            self.pending.answer(&id, response);
        }
    }

    /// Publishes a response to process `uid`'s request about `namespace`.
    pub(crate) fn respond(&self, namespace: &str, uid: &str, kind: u64, data: Value) {
        let response = Message {
            uid: self.uid.clone(),
            nsp: namespace.to_owned(),
            kind,
            data,
        };
        self.send(Outgoing::Publish {
            channel: self.private_channel(namespace, uid),
            payload: response.to_pubsub(),
        });
    }
}

/// A fresh process id: 16 hex digits, as Node's cluster adapter makes them.
fn random_uid() -> String {
    use rand::Rng;
    format!("{:016x}", rand::rng().random::<u64>())
}
