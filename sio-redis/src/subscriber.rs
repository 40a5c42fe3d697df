//! The subscriber task: hears the other processes' broadcasts, requests and responses, and
//! resubscribes with backoff whenever Redis goes away.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::PubSub;
use tracing::{info, warn};

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
                    let message = tokio::select! {
                        _ = stop.wait_for(|stopped| *stopped) => return,
                        message = messages.next() => Some(message),
                        _ = heartbeat.tick() => None,
                    };
                    match message {
                        Some(Some(message)) => incoming::handle(&shared, &message),
                        Some(None) => break,
                        None => {
                            // A half-open connection never ends the stream: a PING finds it.
                            let pong = tokio::time::timeout(
                                Duration::from_secs(2),
                                sink.ping::<redis::Value>(),
                            );
                            if !matches!(pong.await, Ok(Ok(_))) {
                                break;
                            }
                        }
                    }
                }
                shared.subscribed.store(false, Ordering::Relaxed);
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

async fn subscribe(shared: &Shared) -> Result<PubSub, String> {
    let connect = tokio::time::timeout(Duration::from_secs(2), shared.client.get_async_pubsub());
    let mut pubsub = connect
        .await
        .map_err(|_| "connection timed out".to_owned())?
        .map_err(|err| err.to_string())?;
    for channels in shared
        .channels
        .get()
        .into_iter()
        .flat_map(|all| all.values())
    {
        pubsub
            .psubscribe(channels.broadcast_pattern())
            .await
            .map_err(|err| err.to_string())?;
        pubsub
            .subscribe(&[
                &channels.request,
                &channels.response,
                &channels.specific_response,
            ])
            .await
            .map_err(|err| err.to_string())?;
    }
    Ok(pubsub)
}
