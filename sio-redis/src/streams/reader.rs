//! The reader task: reads the stream in order (this process's own entries too, which it
//! delivers here only when read back, so that every process delivers in the stream's order)
//! and resumes where it stopped whenever Redis comes back.

use std::sync::Arc;
use std::time::Duration;

use redis::Value as RedisValue;
use tracing::{info, warn};

use super::in_flight::ReadBack;
use super::incoming;
use super::message::Message;
use super::shared::Shared;
use super::writer::{self, HEARTBEAT};
use crate::shared::Backoff;

/// A stream entry: its id and fields.
pub(crate) type Entry = (String, Vec<(String, Vec<u8>)>);

pub(crate) async fn run(shared: Arc<Shared>) {
    let mut stop = shared.stop.subscribe();
    let mut backoff = Backoff::new();
    let mut reported_down = false;
    let mut connected_before = false;
    // Where the stream ended when this process started, then the last entry read.
    let mut last: Option<String> = None;
    let block = shared.options.block;
    let config = writer::connection_config(block + HEARTBEAT);
    loop {
        let connected = tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            connected = shared.client.get_multiplexed_async_connection_with_config(&config) => connected,
        };
        let mut connection = match connected {
            Ok(connection) => connection,
            Err(err) => {
                if !reported_down {
                    warn!(error = %err, "redis streams layer: cannot reach Redis to read the stream; retrying");
                    reported_down = true;
                }
                tokio::select! {
                    _ = stop.wait_for(|stopped| *stopped) => return,
                    () = tokio::time::sleep(backoff.next()) => continue,
                }
            }
        };
        if last.is_none() {
            let end = redis::cmd("XREVRANGE")
                .arg(&shared.options.stream_name)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async::<RedisValue>(&mut connection)
                .await;
            match end {
                Ok(end) => {
                    let end = entries(&end).pop().map(|(id, _)| id);
                    last = Some(end.unwrap_or_else(|| "0-0".to_owned()));
                }
                Err(err) => {
                    warn!(error = %err, "redis streams layer: cannot find the stream's end; retrying");
                    tokio::select! {
                        _ = stop.wait_for(|stopped| *stopped) => return,
                        () = tokio::time::sleep(backoff.next()) => continue,
                    }
                }
            }
            shared.reading.send_replace(true);
        }
        info!("redis streams layer: reading the stream");
        if std::mem::replace(&mut connected_before, true) {
            shared.counts.reconnected();
        }
        reported_down = false;
        backoff.reset();
        loop {
            let from = last.clone().unwrap_or_else(|| "0-0".to_owned());
            let mut command = redis::cmd("XREAD");
            command
                .arg("COUNT")
                .arg(shared.options.read_count)
                .arg("BLOCK")
                .arg(u64::try_from(block.as_millis()).unwrap_or(u64::MAX))
                .arg("STREAMS")
                .arg(&shared.options.stream_name)
                .arg(&from);
            let read = command.query_async::<RedisValue>(&mut connection);
            let read = tokio::select! {
                _ = stop.wait_for(|stopped| *stopped) => return,
                read = read => read,
            };
            let reply = match read {
                Ok(reply) => reply,
                Err(err) => {
                    warn!(error = %err, "redis streams layer: reading the stream failed; reconnecting");
                    // What this process appended may be gone with Redis: delivered here now.
                    shared.deliver_in_flight_here();
                    break;
                }
            };
            let Some(local) = shared.local.get() else {
                continue;
            };
            let read = streams(&reply);
            // Behind by the age of the newest entry this read returned; caught up when none.
            let newest = read
                .iter()
                .flat_map(|stream| stream.iter())
                .filter_map(|(id, _)| id.split('-').next()?.parse::<u64>().ok())
                .max();
            shared.counts.read_entries_from(newest);
            for stream in read {
                for (id, fields) in stream {
                    match Message::from_entry(&fields) {
                        Ok(message)
                            if message.uid == shared.uid && own_number(&fields).is_some() =>
                        {
                            // This process's own: delivered once, here or now.
                            let number = own_number(&fields).unwrap_or_default();
                            match shared.in_flight().read_back(number) {
                                ReadBack::Skip => {}
                                ReadBack::Deliver(lost) => {
                                    shared.apply_all_here(lost);
                                    incoming::on_entry(&shared, local, message, &id);
                                }
                            }
                        }
                        Ok(message) => incoming::on_entry(&shared, local, message, &id),
                        Err(err) => {
                            warn!(entry = %id, error = %err, "redis streams layer: ignoring a malformed entry");
                        }
                    }
                    last = Some(id);
                }
            }
        }
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            () = tokio::time::sleep(Duration::from_millis(100)) => {}
        }
    }
}

/// The number this process gave an entry of its own (`sio`).
fn own_number(fields: &[(String, Vec<u8>)]) -> Option<u64> {
    fields
        .iter()
        .find(|(name, _)| name == "sio")
        .and_then(|(_, value)| std::str::from_utf8(value).ok()?.parse().ok())
}

/// The entries of each stream of an `XREAD` reply (nil when the block timed out).
fn streams(reply: &RedisValue) -> Vec<Vec<Entry>> {
    match reply {
        RedisValue::Array(streams) => streams
            .iter()
            .filter_map(|stream| match stream {
                RedisValue::Array(pair) if pair.len() == 2 => Some(entries(&pair[1])),
                _ => None,
            })
            .collect(),
        RedisValue::Map(streams) => streams
            .iter()
            .map(|(_, stream_entries)| entries(stream_entries))
            .collect(),
        _ => Vec::new(),
    }
}

/// The entries of an `XRANGE` reply: `[[id, [field, value, ...]], ...]`.
pub(crate) fn entries(reply: &RedisValue) -> Vec<Entry> {
    let RedisValue::Array(items) = reply else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let RedisValue::Array(pair) = item else {
                return None;
            };
            let [id, fields] = pair.as_slice() else {
                return None;
            };
            let id = String::from_utf8_lossy(bytes(id)?).into_owned();
            let fields = match fields {
                RedisValue::Array(flat) => flat
                    .chunks_exact(2)
                    .filter_map(|pair| {
                        Some((
                            String::from_utf8_lossy(bytes(&pair[0])?).into_owned(),
                            bytes(&pair[1])?.to_vec(),
                        ))
                    })
                    .collect(),
                RedisValue::Map(map) => map
                    .iter()
                    .filter_map(|(key, value)| {
                        Some((
                            String::from_utf8_lossy(bytes(key)?).into_owned(),
                            bytes(value)?.to_vec(),
                        ))
                    })
                    .collect(),
                _ => return None,
            };
            Some((id, fields))
        })
        .collect()
}

fn bytes(value: &RedisValue) -> Option<&[u8]> {
    match value {
        RedisValue::BulkString(bytes) => Some(bytes),
        RedisValue::SimpleString(text) => Some(text.as_bytes()),
        _ => None,
    }
}
