//! The writer task: the only one that appends to the stream, publishes and saves sessions (what
//! was queued in its order; the sessions, the latest write of each, before each batch), so that
//! a handler never waits on Redis.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use redis::AsyncConnectionConfig;
use rmpv::Value;
use sio_server::broadcast::Operation;
use tokio::sync::mpsc;
use tracing::{info, warn};

use super::message::{self, Message, kind};
use super::session_writes::SessionWrite;
use super::sessions::encode;
use super::shared::{Outgoing, Shared};
use crate::shared::Backoff;
use crate::wire::{self, object};

/// How often an idle connection is checked with a PING.
pub(crate) const HEARTBEAT: Duration = Duration::from_secs(5);

/// Commands sent to Redis in one round trip at most.
const BATCH: usize = 256;

pub(crate) fn connection_config(response_timeout: Duration) -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(2)))
        .set_response_timeout(Some(response_timeout))
}

/// Connects, waits for the reader to know where the stream ends, then sends what the queue
/// holds in batches; on any error reconnects with backoff. Ends when the layer is dropped or
/// shut down.
pub(crate) async fn run(shared: Arc<Shared>, mut queue: mpsc::Receiver<Outgoing>) {
    let mut stop = shared.stop.subscribe();
    let mut reading = shared.reading.subscribe();
    let mut backoff = Backoff::new();
    let mut reported_down = false;
    let config = connection_config(Duration::from_secs(2));
    loop {
        let connected = tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            connected = shared.client.get_multiplexed_async_connection_with_config(&config) => connected,
        };
        let mut connection = match connected {
            Ok(connection) => connection,
            Err(err) => {
                shared.down.store(true, Ordering::Relaxed);
                drain_here(&shared, &mut queue);
                if !reported_down {
                    warn!(error = %err, "redis streams layer: cannot reach Redis; broadcasts reach this process only until it is back");
                    reported_down = true;
                }
                tokio::select! {
                    _ = stop.wait_for(|stopped| *stopped) => return,
                    () = tokio::time::sleep(backoff.next()) => continue,
                }
            }
        };
        shared.down.store(false, Ordering::Relaxed);
        reported_down = false;
        backoff.reset();
        shared.connection.send_replace(Some(connection.clone()));
        // What this process appends is delivered here when the reader reads it back: the
        // reader must know where the stream ended before anything is appended.
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            _ = reading.wait_for(|reading| *reading) => {}
        }
        let dropped = shared.dropped.swap(0, Ordering::Relaxed);
        info!(dropped, "redis streams layer: writing to Redis");
        let mut batch = Vec::with_capacity(BATCH);
        let mut idle = tokio::time::interval(HEARTBEAT);
        idle.reset();
        loop {
            let wake = tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => Wake::Stop,
                received = queue.recv_many(&mut batch, BATCH) => Wake::Queue(received),
                () = shared.session_writes_changed.notified() => Wake::Sessions,
                _ = idle.tick() => Wake::Idle,
            };
            match wake {
                Wake::Stop => {
                    // Sessions released by a shutdown are written if the runtime lets this
                    // task run a moment more (the server's shutdown does not wait for it).
                    let flush = write_sessions(&shared, &mut connection);
                    let _ = tokio::time::timeout(Duration::from_secs(2), flush).await;
                    return;
                }
                Wake::Idle => {
                    // Session writes put back after a failure are made when nothing else
                    // wakes the writer; then the connection is checked.
                    let checked = match write_sessions(&shared, &mut connection).await {
                        Ok(()) => redis::cmd("PING").query_async::<()>(&mut connection).await,
                        Err(err) => Err(err),
                    };
                    if let Err(err) = checked {
                        lost_connection(&shared, &mut queue, 0, &err);
                        break;
                    }
                    continue;
                }
                Wake::Queue(0) => return,
                Wake::Queue(_) | Wake::Sessions => {}
            }
            idle.reset();
            // Sessions first: every write made before a barrier was queued is in Redis when it
            // is answered.
            if let Err(err) = write_sessions(&shared, &mut connection).await {
                // What was received goes where a failed write's would: here only.
                for outgoing in batch.drain(..) {
                    shared.dequeued(&outgoing);
                    if let Some(local) = shared.local.get() {
                        outgoing.apply_here(local);
                    }
                }
                lost_connection(&shared, &mut queue, 0, &err);
                break;
            }
            let received = batch.len();
            let mut pipe = redis::pipe();
            let mut barriers = Vec::new();
            for outgoing in batch.drain(..) {
                shared.dequeued(&outgoing);
                match outgoing {
                    Outgoing::Barrier(barrier) => barriers.push(barrier),
                    outgoing => add(&shared, &mut pipe, outgoing),
                }
            }
            if !pipe.is_empty()
                && let Err(err) = pipe.query_async::<()>(&mut connection).await
            {
                lost_connection(&shared, &mut queue, received, &err);
                break;
            }
            for barrier in barriers {
                let _ = barrier.send(());
            }
            let dropped = shared.dropped.swap(0, Ordering::Relaxed);
            if dropped > 0 {
                warn!(
                    dropped,
                    "redis streams layer: messages were not sent to Redis"
                );
            }
        }
    }
}

/// What the writer wakes up for.
enum Wake {
    Stop,
    Queue(usize),
    Sessions,
    Idle,
}

/// Session writes per round trip.
const SESSION_BATCH: usize = 1024;

/// Writes the session writes waiting now (those made meanwhile wait for the next pass, so a
/// stream of them never holds the queue up), in batches; on failure, puts back those not
/// written (unless a later write replaced them) for when Redis is back.
async fn write_sessions(
    shared: &Shared,
    connection: &mut redis::aio::MultiplexedConnection,
) -> redis::RedisResult<()> {
    let mut waiting = shared.session_writes().take_all();
    while !waiting.is_empty() {
        let writes: Vec<_> = waiting.drain(..waiting.len().min(SESSION_BATCH)).collect();
        let mut pipe = redis::pipe();
        for (pid, write) in &writes {
            let (key, owner) = (shared.session_key(pid), shared.owner_key(pid));
            match write {
                // The owner first: a process that takes sessions sees it held before it sees
                // the new value.
                SessionWrite::Hold(session, ttl) => {
                    let ttl = millis(*ttl);
                    pipe.cmd("SET")
                        .arg(&owner)
                        .arg(&shared.uid)
                        .arg("PX")
                        .arg(ttl)
                        .ignore();
                    pipe.cmd("SET")
                        .arg(&key)
                        .arg(encode(session))
                        .arg("PX")
                        .arg(ttl)
                        .ignore();
                }
                SessionWrite::Release(session, ttl) => {
                    pipe.cmd("SET")
                        .arg(&key)
                        .arg(encode(session))
                        .arg("PX")
                        .arg(millis(*ttl))
                        .ignore();
                    pipe.cmd("DEL").arg(&owner).ignore();
                }
                SessionWrite::Drop => {
                    pipe.cmd("DEL").arg(&key).arg(&owner).ignore();
                }
            }
        }
        if let Err(err) = pipe.query_async::<()>(connection).await {
            let mut back = shared.session_writes();
            back.put_back(writes);
            back.put_back(waiting);
            return Err(err);
        }
    }
    Ok(())
}

/// While Redis is unreachable, what waited is applied here, as what comes next will be.
fn drain_here(shared: &Shared, queue: &mut mpsc::Receiver<Outgoing>) {
    while let Ok(outgoing) = queue.try_recv() {
        shared.dequeued(&outgoing);
        if let Some(local) = shared.local.get() {
            outgoing.apply_here(local);
        }
    }
}

/// The connection failed: what was in the failed batch may or may not be in the stream (the
/// reader delivers what is); what waited behind it is applied here only, and so is what comes
/// until Redis is back.
fn lost_connection(
    shared: &Shared,
    queue: &mut mpsc::Receiver<Outgoing>,
    in_flight: usize,
    err: &redis::RedisError,
) {
    shared.down.store(true, Ordering::Relaxed);
    shared.connection.send_replace(None);
    shared.deliver_in_flight_here();
    drain_here(shared, queue);
    warn!(error = %err, in_flight, "redis streams layer: writing failed; reconnecting");
}

/// Adds the commands of `outgoing` to `pipe`.
fn add(shared: &Shared, pipe: &mut redis::Pipeline, outgoing: Outgoing) {
    match outgoing {
        Outgoing::Broadcast(broadcast) => {
            let flags = if broadcast.volatile {
                vec![("volatile", Value::Boolean(true))]
            } else {
                Vec::new()
            };
            match message::broadcast_data(&broadcast, flags, None) {
                Ok(data) => {
                    let message =
                        Message::new(&shared.uid, &broadcast.namespace, kind::BROADCAST, data);
                    append_own(shared, pipe, &message, Outgoing::Broadcast(broadcast));
                }
                Err(err) => {
                    warn!(error = %err, "redis streams layer: a broadcast does not convert; this process only");
                    if let Some(local) = shared.local.get() {
                        local.deliver(&broadcast);
                    }
                }
            }
        }
        Outgoing::Operation(namespace, target, operation) => {
            let opts = wire::broadcast_opts(&target, Vec::new());
            let (kind, data) = match &operation {
                Operation::Join(rooms) => (
                    kind::SOCKETS_JOIN,
                    object(vec![("opts", opts), ("rooms", wire::room_array(rooms))]),
                ),
                Operation::Leave(rooms) => (
                    kind::SOCKETS_LEAVE,
                    object(vec![("opts", opts), ("rooms", wire::room_array(rooms))]),
                ),
                Operation::Disconnect { close } => (
                    kind::DISCONNECT_SOCKETS,
                    object(vec![("opts", opts), ("close", Value::Boolean(*close))]),
                ),
                _ => return,
            };
            let message = Message::new(&shared.uid, &namespace, kind, data);
            append_own(
                shared,
                pipe,
                &message,
                Outgoing::Operation(namespace, target, operation),
            );
        }
        Outgoing::Publish { channel, payload } => {
            pipe.publish(channel, payload).ignore();
        }
        Outgoing::Barrier(_) => {}
    }
}

/// Appends `message`, which does `outgoing` here once read back, numbered in the entry
/// (`sio`) so that the reader knows it.
fn append_own(shared: &Shared, pipe: &mut redis::Pipeline, message: &Message, outgoing: Outgoing) {
    let (number, overflow) = shared.in_flight().push(outgoing);
    shared.apply_all_here(overflow);
    append(shared, pipe, message, number);
}

/// `XADD <stream> MAXLEN ~ <max> * <fields>`, as the adapter appends, with this process's
/// number for the entry.
fn append(shared: &Shared, pipe: &mut redis::Pipeline, message: &Message, number: u64) {
    let command = pipe
        .cmd("XADD")
        .arg(&shared.options.stream_name)
        .arg("MAXLEN")
        .arg("~")
        .arg(shared.options.max_len)
        .arg("*");
    for (name, value) in message.entry_fields() {
        command.arg(name).arg(value);
    }
    command.arg("sio").arg(number).ignore();
}

/// A duration in milliseconds, at least 1 (Redis refuses 0) and at most ten years (Redis
/// refuses an expiry past its clock's range).
pub(crate) fn millis(duration: Duration) -> u64 {
    const TEN_YEARS: u64 = 10 * 365 * 24 * 3600 * 1000;
    u64::try_from(duration.as_millis())
        .unwrap_or(u64::MAX)
        .clamp(1, TEN_YEARS)
}
