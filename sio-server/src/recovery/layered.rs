//! Recovery from a channel layer's store (see [`SessionStore`](crate::broadcast::SessionStore)): the session is taken and the
//! missed events read while the layer goes on delivering, then the socket is made at a moment
//! when every entry the layer delivered so far is among those read, so that each event reaches
//! it once: missed, or live.

use sio_core::{EncodedPacket, Namespace};
use tracing::{debug, warn};

use super::Restored;
use crate::broadcast::{ReadLimits, SavedSession};
use crate::server::Server;

/// How many times the log is read on while the layer delivers faster than it is read.
const MAX_CATCH_UPS: usize = 100;

/// Restores session `pid` of `namespace` for a client whose last event was `offset`, from the
/// layer's store (nothing once `gone` says its connection went): `install` makes the socket (under the lock the layer delivers under, so that
/// nothing is delivered meanwhile) and returns `None` if it no longer can (the connection
/// closed), in which case the session is saved back. `None` if the session is not kept, the
/// offset is gone, the layer fails, or the missed events exceed the recovery's bounds.
pub(crate) async fn restore_from_layer<R>(
    server: &Server,
    namespace: &Namespace,
    pid: &str,
    offset: &str,
    gone: impl Fn() -> bool,
    install: impl FnOnce(Restored) -> Option<R>,
) -> Option<R> {
    let inner = server.inner();
    let recovery = inner.recovery.as_ref()?;
    let store = inner.layer.session_store()?;
    let _turn = recovery.restores.acquire().await.ok()?;
    // Its connection may have closed while it waited for its turn.
    if gone() {
        return None;
    }
    let session = match store.take_session(namespace, pid, offset).await {
        Ok(Some(session)) => session,
        Ok(None) => return None,
        Err(error) => {
            warn!(%error, namespace = %namespace, "recovery: the channel layer could not look up a session; a fresh socket");
            return None;
        }
    };
    let (mut missed, mut bytes) = (Vec::new(), 0_usize);
    let mut from = offset.to_owned();
    for _ in 0..MAX_CATCH_UPS {
        let left = ReadLimits::new(
            recovery.config.max_packets.saturating_sub(missed.len()),
            recovery.config.max_bytes.saturating_sub(bytes),
        );
        let read = match store
            .missed_events(namespace, &session.rooms, &from, left)
            .await
        {
            Ok(read) => read,
            Err(error) => {
                warn!(%error, namespace = %namespace, "recovery: the channel layer could not read the missed events; a fresh socket");
                return None;
            }
        };
        bytes = read
            .events
            .iter()
            .map(EncodedPacket::byte_len)
            .fold(bytes, usize::saturating_add);
        missed.extend(read.events);
        if missed.len() > recovery.config.max_packets || bytes > recovery.config.max_bytes {
            warn!(
                namespace = %namespace, events = missed.len(), bytes,
                "recovery: a client missed more than the recovery's bounds; a fresh socket"
            );
            return None;
        }
        from = read.offset;
        let sending = recovery.sending.lock();
        if *sending > read.position {
            // The layer delivered entries past those read: read on.
            continue;
        }
        let kept = session.clone();
        let restored = Restored {
            rooms: own_room_left_out(&session),
            sid: session.sid,
            pid: pid.to_owned(),
            data: session.data,
            missed,
            through: read.position,
        };
        let installed = install(restored);
        drop(sending);
        if installed.is_none() {
            store.release_session(&kept, recovery.config.max_disconnection_duration);
        }
        return installed;
    }
    debug!(namespace = %namespace, "recovery: the log grew faster than it was read; a fresh socket");
    store.release_session(&session, recovery.config.max_disconnection_duration);
    None
}

/// The session's rooms but the room of its own id, which a socket is in anyway.
fn own_room_left_out(session: &SavedSession) -> Vec<crate::broadcast::Room> {
    session
        .rooms
        .iter()
        .filter(|room| room.as_str() != session.sid.as_str())
        .cloned()
        .collect()
}
