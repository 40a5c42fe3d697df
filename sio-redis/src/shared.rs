//! What the layer's handle and its two background tasks share.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use rmpv::Value;
use sio_server::broadcast::{Broadcast, LocalSockets};
use tokio::sync::{Notify, mpsc, watch};
use tracing::warn;

use crate::channels::Channels;
use crate::responses::Pending;
use crate::subscriptions::Subscriptions;

/// The request types of the adapter protocol (`RequestType` in `lib/index.ts`).
pub(crate) mod request_type {
    pub(crate) const SOCKETS: u64 = 0;
    pub(crate) const ALL_ROOMS: u64 = 1;
    pub(crate) const REMOTE_JOIN: u64 = 2;
    pub(crate) const REMOTE_LEAVE: u64 = 3;
    pub(crate) const REMOTE_DISCONNECT: u64 = 4;
    pub(crate) const REMOTE_FETCH: u64 = 5;
    pub(crate) const SERVER_SIDE_EMIT: u64 = 6;
    pub(crate) const BROADCAST: u64 = 7;
    pub(crate) const BROADCAST_CLIENT_COUNT: u64 = 8;
    pub(crate) const BROADCAST_ACK: u64 = 9;
}

/// Something for the publisher task to send.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// A broadcast, converted to the adapter's form by the publisher, off the handler's path,
    /// for the channels of its namespace (found when it was queued).
    Broadcast(Broadcast, Arc<Channels>),
    /// A message ready to publish.
    Message { channel: String, payload: Vec<u8> },
}

impl Outgoing {
    /// The bytes it holds, counted against the queue's byte budget.
    pub(crate) fn size(&self) -> usize {
        match self {
            Outgoing::Broadcast(broadcast, _) => broadcast.packet.byte_len(),
            Outgoing::Message { channel, payload } => channel.len() + payload.len(),
        }
    }
}

pub(crate) struct Shared {
    pub(crate) client: redis::Client,
    /// This process's id among the adapter's peers (6 characters, as Node's `uid2(6)`).
    pub(crate) uid: String,
    pub(crate) key: String,
    pub(crate) requests_timeout: Duration,
    pub(crate) queue_capacity: usize,
    /// The most bytes the queue may hold, whatever the number of messages.
    pub(crate) queue_bytes: usize,
    pub(crate) queued_bytes: AtomicUsize,
    /// Set by `start`.
    pub(crate) local: OnceLock<LocalSockets>,
    /// The namespaces served, and which of them the subscriber has yet to catch up on.
    pub(crate) subscriptions: Mutex<Subscriptions>,
    /// Wakes the subscriber when `subscriptions` changed.
    pub(crate) subscriptions_changed: Notify,
    pub(crate) outgoing: OnceLock<mpsc::Sender<Outgoing>>,
    /// The publishing connection while Redis is reachable, for requests that await a reply.
    pub(crate) connection: watch::Sender<Option<MultiplexedConnection>>,
    /// Set while the publisher cannot reach Redis: messages are dropped, not queued.
    pub(crate) down: AtomicBool,
    /// Whether this process is subscribed, and so hears responses and broadcasts.
    pub(crate) subscribed: AtomicBool,
    /// Requests waiting for other processes' responses, by request id.
    pub(crate) pending: Arc<Pending<Value>>,
    /// Messages not published since the last report: Redis unreachable or the queue full.
    pub(crate) dropped: AtomicU64,
    /// What the server's metrics read (`ChannelLayer::stats`): messages given up since the
    /// start, and connections made again after one was lost.
    pub(crate) counts: crate::counts::LayerCounts,
    pub(crate) stop: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn is_connected(&self) -> bool {
        self.connection.borrow().is_some()
    }

    /// Queues a message for the publisher; never waits. While Redis is unreachable, or when
    /// the queue is full (in messages or in bytes), the message is dropped: the first drop is logged, the next ones are
    /// counted and reported when publishing goes on.
    pub(crate) fn publish(&self, outgoing: Outgoing) {
        let Some(queue) = self.outgoing.get() else {
            return;
        };
        let size = outgoing.size();
        let reason = if self.down.load(Ordering::Relaxed) {
            "Redis is unreachable"
        } else if self.queued_bytes.fetch_add(size, Ordering::Relaxed) + size > self.queue_bytes {
            self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            "the publishing queue holds too many bytes"
        } else if queue.try_send(outgoing).is_err() {
            self.queued_bytes.fetch_sub(size, Ordering::Relaxed);
            "the publishing queue is full"
        } else {
            return;
        };
        self.counts.dropped();
        if self.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
            warn!(reason, "redis layer: dropping messages to other processes");
        }
    }

    /// Takes a message the publisher dequeued off the byte budget.
    pub(crate) fn dequeued(&self, outgoing: &Outgoing) {
        self.queued_bytes
            .fetch_sub(outgoing.size(), Ordering::Relaxed);
    }

    pub(crate) fn publish_json(&self, channel: &str, value: &serde_json::Value) {
        self.publish(Outgoing::Message {
            channel: channel.to_owned(),
            payload: value.to_string().into_bytes(),
        });
    }
}

/// A fresh id, as Node's `uid2(6)` makes them.
pub(crate) fn random_id() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Waits growing delays between reconnection attempts: 100 ms doubling up to 2 s.
#[derive(Debug)]
pub(crate) struct Backoff(Duration);

impl Backoff {
    const FIRST: Duration = Duration::from_millis(100);
    const MAX: Duration = Duration::from_secs(2);

    pub(crate) fn new() -> Self {
        Backoff(Self::FIRST)
    }

    pub(crate) fn reset(&mut self) {
        self.0 = Self::FIRST;
    }

    pub(crate) fn next(&mut self) -> Duration {
        let delay = self.0;
        self.0 = (self.0 * 2).min(Self::MAX);
        delay
    }
}
