//! The task of one socket: runs its consumer's `connect`, then its events one at a time, then
//! `disconnect`. Panics are caught here, so a failing handler costs only its own socket.

use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use sio_core::RawJson;
use tokio::sync::{mpsc, watch};
use tracing::{error, warn};

use super::{ConnectError, Consumer};
use crate::disconnect_reason::DisconnectReason;
use crate::event::IncomingEvent;
use crate::socket::Socket;

fn panic_message(payload: &(dyn std::any::Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}

pub(crate) async fn run<C: Consumer>(
    mut consumer: C,
    socket: Socket,
    auth: Option<RawJson>,
    mut mailbox: mpsc::Receiver<Box<IncomingEvent>>,
    mut disconnected: watch::Receiver<Option<DisconnectReason>>,
) {
    let connected = AssertUnwindSafe(consumer.connect(&socket, auth))
        .catch_unwind()
        .await;
    match connected {
        Ok(Ok(())) => socket.admit(),
        Ok(Err(refusal)) => return socket.refuse(&refusal),
        Err(panic) => {
            error!(
                namespace = C::NAMESPACE,
                panic = panic_message(&*panic),
                "`connect` panicked; the client gets a connect error"
            );
            return socket.refuse(&ConnectError::new("server error"));
        }
    }

    loop {
        let event = tokio::select! {
            biased;
            _ = disconnected.wait_for(Option::is_some) => break,
            event = mailbox.recv() => match event {
                Some(event) => event,
                None => break,
            },
        };
        socket.inner.mailbox_bytes.release(event.cost());
        let name = event.name().to_owned();
        match AssertUnwindSafe(consumer.on_event(&socket, *event))
            .catch_unwind()
            .await
        {
            Ok(Ok(())) => {}
            Ok(Err(failure)) => {
                warn!(socket = %socket.id(), event = %name, error = %failure, "handler failed");
            }
            Err(panic) => {
                error!(
                    socket = %socket.id(),
                    event = %name,
                    panic = panic_message(&*panic),
                    "handler panicked; disconnecting its socket"
                );
                socket.close(DisconnectReason::ServerError, true);
                break;
            }
        }
    }
    // Events still queued are dropped (their acks answered empty) before the hook runs.
    drop(mailbox);
    let reason = socket
        .disconnect_reason()
        .unwrap_or(DisconnectReason::ServerNamespaceDisconnect);
    if AssertUnwindSafe(consumer.disconnect(&socket, reason))
        .catch_unwind()
        .await
        .is_err()
    {
        error!(socket = %socket.id(), "`disconnect` panicked");
    }
}
