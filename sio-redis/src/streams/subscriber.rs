//! The subscriber task: hears the pub/sub channels of the namespaces served here (requests to
//! every process, and responses to this one's), and resubscribes with backoff whenever Redis
//! goes away.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{PubSub, PubSubSink};
use sio_core::Namespace;
use tracing::{info, warn};

use super::incoming;
use super::message::Message;
use super::shared::Shared;
use super::writer::HEARTBEAT;
use crate::shared::Backoff;

/// How long Redis may take to connect or to answer a command.
const TIMEOUT: Duration = Duration::from_secs(2);

enum Event {
    Message(Option<redis::Msg>),
    Changed,
    Heartbeat,
}

pub(crate) async fn run(shared: Arc<Shared>) {
    let mut stop = shared.stop.subscribe();
    let mut backoff = Backoff::new();
    let mut reported_down = false;
    loop {
        let subscribed = tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            subscribed = subscribe(&shared) => subscribed,
        };
        match subscribed {
            Ok((pubsub, mut heard)) => {
                info!("redis streams layer: subscribed to the channels");
                shared.subscribed.store(true, Ordering::Relaxed);
                backoff.reset();
                reported_down = false;
                let (mut sink, mut messages) = pubsub.split();
                let mut heartbeat = tokio::time::interval(HEARTBEAT);
                heartbeat.reset();
                loop {
                    let event = tokio::select! {
                        _ = stop.wait_for(|stopped| *stopped) => return,
                        message = messages.next() => Event::Message(message),
                        () = shared.namespaces_changed.notified() => Event::Changed,
                        _ = heartbeat.tick() => Event::Heartbeat,
                    };
                    let healthy = match event {
                        Event::Message(Some(message)) => {
                            on_message(&shared, &message);
                            true
                        }
                        Event::Message(None) => false,
                        Event::Changed => {
                            let caught_up = catch_up(&shared, &mut sink, &mut heard);
                            matches!(tokio::time::timeout(TIMEOUT, caught_up).await, Ok(Ok(())))
                        }
                        Event::Heartbeat => {
                            let pong = tokio::time::timeout(TIMEOUT, sink.ping::<redis::Value>());
                            matches!(pong.await, Ok(Ok(_)))
                        }
                    };
                    if !healthy {
                        break;
                    }
                }
                shared.subscribed.store(false, Ordering::Relaxed);
                warn!(
                    "redis streams layer: lost the subscription; requests to other processes fail until it is back"
                );
            }
            Err(err) if !reported_down => {
                warn!(error = %err, "redis streams layer: cannot subscribe; retrying");
                reported_down = true;
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = stop.wait_for(|stopped| *stopped) => return,
            () = tokio::time::sleep(backoff.next()) => {}
        }
    }
}

fn on_message(shared: &Arc<Shared>, message: &redis::Msg) {
    let Some(local) = shared.local.get() else {
        return;
    };
    match Message::from_pubsub(message.get_payload_bytes()) {
        Ok(decoded) => incoming::on_pubsub(shared, local, decoded),
        Err(err) => {
            warn!(channel = message.get_channel_name(), error = %err, "redis streams layer: ignoring a malformed message");
        }
    }
}

/// The public and private channels of some namespaces.
fn channels(shared: &Shared, namespaces: &HashSet<Namespace>) -> Vec<String> {
    namespaces
        .iter()
        .flat_map(|namespace| {
            [
                shared.public_channel(namespace.as_str()),
                shared.private_channel(namespace.as_str(), &shared.uid),
            ]
        })
        .collect()
}

/// A new connection subscribed to the channels of every namespace served now.
async fn subscribe(shared: &Shared) -> Result<(PubSub, HashSet<Namespace>), String> {
    let connect = tokio::time::timeout(TIMEOUT, shared.client.get_async_pubsub());
    let mut pubsub = connect
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|err| err.to_string())?;
    let wanted = shared.namespaces().clone();
    // The process's own channel too: while it hears it, other processes know it lives.
    let mut names = channels(shared, &wanted);
    names.push(shared.process_channel(&shared.uid));
    tokio::time::timeout(TIMEOUT, pubsub.subscribe(names))
        .await
        .map_err(|_| "subscribing timed out".to_owned())?
        .map_err(|err| err.to_string())?;
    Ok((pubsub, wanted))
}

/// Subscribes to the namespaces added since the last look and unsubscribes from those removed.
async fn catch_up(
    shared: &Shared,
    sink: &mut PubSubSink,
    heard: &mut HashSet<Namespace>,
) -> redis::RedisResult<()> {
    let wanted = shared.namespaces().clone();
    let added: HashSet<Namespace> = wanted.difference(heard).cloned().collect();
    let removed: HashSet<Namespace> = heard.difference(&wanted).cloned().collect();
    if !removed.is_empty() {
        sink.unsubscribe(channels(shared, &removed)).await?;
    }
    if !added.is_empty() {
        sink.subscribe(channels(shared, &added)).await?;
    }
    *heard = wanted;
    Ok(())
}
