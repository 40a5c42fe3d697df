//! How a socket is admitted, refused and ended.

use sio_core::{RawJson, SocketPacket};
use tracing::debug;

use super::{Phase, Socket};
use crate::consumer::{ConnectError, Runner};
use crate::disconnect_reason::DisconnectReason;
use crate::engine::SendError;
use crate::legacy;
use crate::socket::EmitError;

impl Socket {
    /// Admits the socket after `connect` accepted: answers CONNECT, sends what `connect` emitted,
    /// applies its joins.
    pub(crate) fn admit(&self) {
        let mut phase = self.inner.phase.lock();
        let Phase::Connecting(held) = std::mem::replace(&mut *phase, Phase::Connected) else {
            return;
        };
        let data = match self.pid() {
            Some(pid) => serde_json::json!({ "sid": self.inner.id.as_str(), "pid": pid }),
            None => serde_json::json!({ "sid": self.inner.id.as_str() }),
        };
        // A v2 client's CONNECT answer has no payload: it knows its id already.
        let legacy = self.inner.connection.data().is_legacy();
        let reply = SocketPacket::Connect {
            namespace: self.namespace().clone(),
            data: if legacy {
                None
            } else {
                RawJson::from_value(&data).ok()
            },
        };
        // In its namespace and rooms before the client hears it is: the answer may leave at
        // once (written straight to an idle socket), and a client that acts on it must find the
        // server as it says. A broadcast that reaches the socket meanwhile waits for the phase
        // lock, so it never overtakes the answer. (A restored socket is in them already.)
        if !self.recovered() {
            self.inner.namespace.add(self);
        }
        for room in held.rooms {
            self.inner.namespace.join(&self.inner.id, room);
        }
        let mut overflowed = self
            .inner
            .connection
            .send_frame(reply.encode_as(self.parser()))
            == Err(SendError::QueueFull);
        // Still under the lock, so nothing sent meanwhile overtakes what `connect` emitted.
        // Nothing after a packet that did not fit: a later one must not leave a gap.
        for packet in held.packets {
            if overflowed {
                break;
            }
            overflowed = self.write(&packet) == Err(EmitError::QueueFull);
        }
        self.hold_session_locked();
        drop(phase);
        #[cfg(feature = "admin")]
        self.inner
            .server
            .inner()
            .notify(|admin| admin.socket_connected(self));
        if overflowed {
            // A client that reads nothing would wait for these forever. Closed once the lock
            // is released: the close tells this socket, which takes the lock.
            self.close_not_reading();
        }
        debug!(socket = %self.inner.id, namespace = %self.namespace(), "socket connected");
    }

    /// Refuses the socket: CONNECT_ERROR, and no trace left.
    pub(crate) fn refuse(&self, error: &ConnectError) {
        {
            let mut phase = self.inner.phase.lock();
            // Closed while `connect` ran (its transport went, a shutdown): `close` told
            // everyone already, and let go of the namespace.
            if matches!(*phase, Phase::Disconnected(_)) {
                return;
            }
            *phase = Phase::Disconnected(None);
        }
        let packet = SocketPacket::ConnectError {
            namespace: self.namespace().clone(),
            data: if self.inner.connection.data().is_legacy() {
                legacy::refusal_payload(error)
            } else {
                error.payload()
            },
        };
        // A restored socket was in its namespace and rooms from the start. Gone before the
        // client hears of it, as in `close`.
        if self.recovered() {
            self.inner.namespace.remove(self);
        }
        self.inner.server.inner().forget_socket(self);
        self.connection().data().forget(self);
        self.inner
            .server
            .inner()
            .detach_namespace(&self.inner.namespace);
        if self
            .inner
            .connection
            .send_frame(packet.encode_as(self.parser()))
            == Err(SendError::QueueFull)
        {
            self.close_not_reading();
        }
    }

    /// Ends the socket once: leaves every room (keeping their names for `disconnecting`), fails
    /// pending acks, and has its consumer run `disconnecting` and `disconnect` after the hook it
    /// runs now.
    pub(crate) fn close(&self, reason: DisconnectReason, tell_client: bool) {
        let mut phase = self.inner.phase.lock();
        // The rooms `disconnecting` reads, taken under the phase lock: no join or leave slips in.
        let rooms = match &*phase {
            Phase::Disconnected(_) => return,
            Phase::Connecting(_) => None,
            Phase::Connected => Some(Box::new(self.inner.namespace.rooms_of(&self.inner.id))),
        };
        // Its session is kept from the rooms it was in (a restored socket is in its rooms
        // while `connect` runs), once it is out of the namespace and the server's map.
        let kept = match (&rooms, self.pid()) {
            (Some(rooms), Some(_)) => Some(rooms.to_vec()),
            (None, Some(_)) if self.recovered() => {
                Some(self.inner.namespace.rooms_of(&self.inner.id))
            }
            _ => None,
        };
        // The rooms the Admin UI is told it left, after its departure, as Node's `leaveAll`.
        #[cfg(feature = "admin")]
        let left: Vec<crate::Room> = match &rooms {
            Some(rooms) if self.inner.server.inner().notifier.is_some() => rooms.to_vec(),
            _ => Vec::new(),
        };
        *phase = Phase::Disconnected(rooms);
        drop(phase);
        self.inner
            .server
            .inner()
            .count(|counters| counters.disconnected(reason));
        #[cfg(feature = "admin")]
        self.inner.server.inner().notify(|admin| {
            admin.socket_disconnected(self, reason);
            for room in &left {
                admin.room_left(self, room);
            }
        });
        self.inner.namespace.remove(self);
        self.inner.server.inner().forget_socket(self);
        if let Some(rooms) = kept {
            self.persist_session(reason, &rooms);
        }
        self.connection().data().forget(self);
        self.inner
            .server
            .inner()
            .detach_namespace(&self.inner.namespace);
        // The client hears of it once the socket is gone from the server: the packet may leave
        // at once, and a client that connects again must not find the old socket in its place.
        if tell_client {
            let packet = SocketPacket::Disconnect {
                namespace: self.namespace().clone(),
            };
            let _ = self
                .inner
                .connection
                .send_frame(packet.encode_as(self.parser()));
        }
        self.inner.acks.lock().clear();
        debug!(socket = %self.inner.id, reason = reason.as_str(), "socket disconnected");
        Runner::end(self, reason);
    }

    /// Its consumer's `disconnecting` has run: the rooms it was in are forgotten.
    pub(crate) fn forget_leaving_rooms(&self) {
        let rooms = match &mut *self.inner.phase.lock() {
            Phase::Disconnected(rooms) => rooms.take(),
            _ => None,
        };
        drop(rooms);
    }
}
