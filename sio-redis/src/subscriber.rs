//! The subscriber task: hears the other processes' broadcasts, requests and responses, and
//! resubscribes with backoff whenever Redis goes away.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{PubSub, PubSubSink};
use tracing::{info, warn};

use crate::channels::Channels;
use crate::incoming;
use crate::publisher::HEARTBEAT;
use crate::shared::{Backoff, Shared};

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
            Ok(pubsub) => {
                info!("redis layer: subscribed; hearing the other processes");
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
                        () = shared.subscriptions_changed.notified() => Event::Changed,
                        _ = heartbeat.tick() => Event::Heartbeat,
                    };
                    let healthy = match event {
                        Event::Message(Some(message)) => {
                            incoming::handle(&shared, &message);
                            true
                        }
                        Event::Message(None) => false,
                        Event::Changed => {
                            let caught_up =
                                tokio::time::timeout(TIMEOUT, catch_up(&shared, &mut sink));
                            tokio::select! {
                                _ = stop.wait_for(|stopped| *stopped) => return,
                                caught_up = caught_up => matches!(caught_up, Ok(Ok(()))),
                            }
                        }
                        Event::Heartbeat => {
                            // A half-open connection never ends the stream: a PING finds it.
                            let pong = tokio::time::timeout(TIMEOUT, sink.ping::<redis::Value>());
                            matches!(pong.await, Ok(Ok(_)))
                        }
                    };
                    if !healthy {
                        break;
                    }
                }
                shared.subscribed.store(false, Ordering::Relaxed);
                shared.subscriptions().heard.clear();
                warn!(
                    "redis layer: lost the subscription; other processes' broadcasts are missed until it is back"
                );
            }
            Err(err) if !reported_down => {
                warn!(error = %err, "redis layer: cannot subscribe; retrying");
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

/// What the subscriber wakes up for.
enum Event {
    Message(Option<redis::Msg>),
    Changed,
    Heartbeat,
}

/// How long Redis may take to connect or to answer a command.
const TIMEOUT: Duration = Duration::from_secs(2);

/// A new connection subscribed to the channels of every namespace served now.
async fn subscribe(shared: &Shared) -> Result<PubSub, String> {
    let connect = tokio::time::timeout(TIMEOUT, shared.client.get_async_pubsub());
    let mut pubsub = connect
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|err| err.to_string())?;
    let wanted = {
        let mut subscriptions = shared.subscriptions();
        // Everything changed so far is in this snapshot.
        subscriptions.changed.clear();
        subscriptions.wanted.clone()
    };
    if !wanted.is_empty() {
        let (patterns, channels) = channel_names(wanted.values());
        let subscribed = async {
            pubsub.psubscribe(patterns).await?;
            pubsub.subscribe(channels).await
        };
        tokio::time::timeout(TIMEOUT, subscribed)
            .await
            .map_err(|_| "subscribing timed out".to_owned())?
            .map_err(|err| err.to_string())?;
    }
    shared.subscriptions().heard = wanted;
    Ok(pubsub)
}

/// Subscribes to the namespaces made since the last look and unsubscribes from those removed.
/// A namespace is heard (requests about it go out on its channels) once subscribed, and no
/// longer from before it is unsubscribed.
async fn catch_up(shared: &Shared, sink: &mut PubSubSink) -> redis::RedisResult<()> {
    let (added, removed) = {
        let mut subscriptions = shared.subscriptions();
        let changed = std::mem::take(&mut subscriptions.changed);
        let (mut added, mut removed) = (Vec::new(), Vec::new());
        for name in changed {
            match (
                subscriptions.wanted.get(&name),
                subscriptions.heard.get(&name),
            ) {
                (Some(wanted), Some(had)) if Arc::ptr_eq(wanted, had) => {}
                (Some(wanted), _) => added.push((name, Arc::clone(wanted))),
                (None, Some(_)) => {
                    if let Some(gone) = subscriptions.heard.remove(&name) {
                        removed.push(gone);
                    }
                }
                (None, None) => {}
            }
        }
        (added, removed)
    };
    if !removed.is_empty() {
        let (patterns, channels) = channel_names(removed.iter());
        sink.punsubscribe(patterns).await?;
        sink.unsubscribe(channels).await?;
    }
    if !added.is_empty() {
        let (patterns, channels) = channel_names(added.iter().map(|(_, channels)| channels));
        sink.psubscribe(patterns).await?;
        sink.subscribe(channels).await?;
        shared.subscriptions().heard.extend(added);
    }
    Ok(())
}

/// The broadcast patterns and the request and response channels of some namespaces.
fn channel_names<'a>(
    namespaces: impl Iterator<Item = &'a Arc<Channels>>,
) -> (Vec<String>, Vec<String>) {
    let (mut patterns, mut channels) = (Vec::new(), Vec::new());
    for namespace in namespaces {
        patterns.push(namespace.broadcast_pattern());
        channels.extend([
            namespace.request.clone(),
            namespace.response.clone(),
            namespace.specific_response.clone(),
        ]);
    }
    (patterns, channels)
}
