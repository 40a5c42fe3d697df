//! The publisher task: the only writer to Redis, so a handler never waits on it.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::AsyncConnectionConfig;
use rmpv::Value;
use sio_server::broadcast::Broadcast;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::shared::{Backoff, Outgoing, Shared};
use crate::wire;

/// How often an idle publishing connection, and the subscription, are checked with a PING.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(5);

/// Messages sent to Redis in one round trip at most.
const BATCH: usize = 256;

fn connection_config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(Duration::from_secs(2)))
}

/// Connects, publishes what the queue holds in batches, and on any error reconnects with
/// backoff. Ends when the layer is dropped or shut down.
pub(crate) async fn run(shared: Arc<Shared>, mut queue: mpsc::Receiver<Outgoing>) {
    let mut stop = shared.stop.subscribe();
    let mut backoff = Backoff::new();
    let mut reported_down = false;
    let mut connected_before = false;
    let config = connection_config();
    loop {
        let connected = tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            connected = shared.client.get_multiplexed_async_connection_with_config(&config) => connected,
        };
        let mut connection = match connected {
            Ok(connection) => connection,
            Err(err) => {
                shared.down.store(true, Ordering::Relaxed);
                if !reported_down {
                    warn!(error = %err, "redis layer: cannot reach Redis to publish; broadcasts reach this process only until it is back");
                    reported_down = true;
                }
                tokio::select! {
                    _ = stop.wait_for(|stopped| *stopped) => return,
                    () = tokio::time::sleep(backoff.next()) => continue,
                }
            }
        };
        shared.down.store(false, Ordering::Relaxed);
        if std::mem::replace(&mut connected_before, true) {
            shared.counts.reconnected();
        }
        let dropped = shared.dropped.swap(0, Ordering::Relaxed);
        info!(dropped, "redis layer: publishing to Redis");
        reported_down = false;
        backoff.reset();
        shared.connection.send_replace(Some(connection.clone()));
        let mut batch = Vec::with_capacity(BATCH);
        let mut idle = tokio::time::interval(HEARTBEAT);
        idle.reset();
        loop {
            let received = tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => return,
                received = queue.recv_many(&mut batch, BATCH) => Some(received),
                _ = idle.tick() => None,
            };
            let Some(received) = received else {
                // An idle connection is checked, so a dead one is found before it is needed.
                if let Err(err) = redis::cmd("PING").query_async::<()>(&mut connection).await {
                    shared.lost_connection(&mut queue, 0, &err);
                    break;
                }
                continue;
            };
            if received == 0 {
                return;
            }
            idle.reset();
            let mut pipe = redis::pipe();
            let mut commands = 0;
            for outgoing in batch.drain(..) {
                shared.dequeued(&outgoing);
                if let Some((channel, payload)) = shared.message(outgoing) {
                    pipe.publish(channel, payload).ignore();
                    commands += 1;
                }
            }
            if commands == 0 {
                continue;
            }
            if let Err(err) = pipe.query_async::<()>(&mut connection).await {
                shared.lost_connection(&mut queue, received, &err);
                break;
            }
            let dropped = shared.dropped.swap(0, Ordering::Relaxed);
            if dropped > 0 {
                warn!(
                    dropped,
                    "redis layer: messages to other processes were dropped"
                );
            }
        }
    }
}

impl Shared {
    /// The publishing connection failed: until it is back, messages are dropped, and so is
    /// what waited behind the failure (it would arrive late, out of its moment).
    fn lost_connection(
        &self,
        queue: &mut mpsc::Receiver<Outgoing>,
        lost: usize,
        err: &redis::RedisError,
    ) {
        self.down.store(true, Ordering::Relaxed);
        self.connection.send_replace(None);
        let mut lost = lost;
        while let Ok(outgoing) = queue.try_recv() {
            self.dequeued(&outgoing);
            lost += 1;
        }
        warn!(error = %err, lost, "redis layer: publishing failed; reconnecting");
    }
}

impl Shared {
    /// The channel and bytes of a queued message.
    fn message(&self, outgoing: Outgoing) -> Option<(String, Vec<u8>)> {
        match outgoing {
            Outgoing::Message { channel, payload } => Some((channel, payload)),
            Outgoing::Broadcast(broadcast, channels) => {
                let data = match wire::event_data(&broadcast.packet) {
                    Ok(data) => data,
                    Err(err) => {
                        warn!(error = %err, "redis layer: a broadcast does not convert; not published");
                        return None;
                    }
                };
                let channel = channels.broadcast_to(&broadcast.target.rooms);
                let message = Value::Array(vec![
                    self.uid.as_str().into(),
                    wire::packet_object(&broadcast.namespace, data),
                    wire::broadcast_opts(&broadcast.target, flags(&broadcast)),
                ]);
                Some((channel, wire::encode_message(&message)))
            }
        }
    }
}

/// A broadcast's flags as the adapter publishes them (Node's `volatile`).
fn flags(broadcast: &Broadcast) -> Vec<(&'static str, Value)> {
    if broadcast.volatile {
        vec![("volatile", Value::Boolean(true))]
    } else {
        Vec::new()
    }
}
