//! A socket's part in connection state recovery: its session id, its restoration, the events
//! kept for its client, and the session it leaves behind.

use std::sync::Arc;

use sio_core::{EncodedPacket, RawJson};

use super::{Held, Phase, SharedData, Socket, SocketId, outgoing};
use crate::broadcast::{Broadcast, Room, SavedSession, Target};
use crate::client::Client;
use crate::disconnect_reason::DisconnectReason;
use crate::engine::Connection;
use crate::namespace::NamespaceInner;
use crate::recovery::{Recovery, Restored, Session};
use crate::server::Server;
use crate::socket::EmitError;

/// A socket's session, with connection state recovery on.
#[derive(Debug)]
pub(crate) struct SessionIds {
    /// The private session id (`pid`), told to the client in the CONNECT reply only.
    pid: Box<str>,
    /// Whether the socket is a restored one.
    recovered: bool,
    /// The position of the last event logged when it was restored: it has those, as missed.
    through: u128,
}

impl SessionIds {
    pub(crate) fn fresh() -> Self {
        SessionIds {
            pid: SocketId::random().as_str().into(),
            recovered: false,
            through: 0,
        }
    }
}

/// The reasons a client comes back from, as Node's: its session is kept.
fn recoverable(reason: DisconnectReason) -> bool {
    matches!(
        reason,
        DisconnectReason::TransportClose
            | DisconnectReason::TransportError
            | DisconnectReason::PingTimeout
            | DisconnectReason::ServerShuttingDown
            | DisconnectReason::ForcedClose
    )
}

impl Socket {
    /// Whether this socket is a client's earlier one, restored by connection state recovery
    /// (Node's `socket.recovered`): the same id, rooms and [`data`](Self::data), and the events
    /// it missed sent right after the CONNECT reply. See
    /// [`ServerBuilder::connection_state_recovery`](crate::ServerBuilder::connection_state_recovery).
    pub fn recovered(&self) -> bool {
        self.inner.session.as_ref().is_some_and(|ids| ids.recovered)
    }

    /// The private session id the CONNECT reply tells the client, with recovery on.
    pub(crate) fn pid(&self) -> Option<&str> {
        self.inner.session.as_ref().map(|ids| &*ids.pid)
    }

    /// Whether its connect middleware is skipped: a recovered socket, unless the settings say
    /// otherwise.
    pub(crate) fn skips_middleware(&self) -> bool {
        self.recovered()
            && self
                .inner
                .server
                .inner()
                .recovery
                .as_ref()
                .is_some_and(|recovery| recovery.config.skip_middlewares)
    }

    /// The socket a restored session makes: in its namespace and rooms at once, so that what
    /// is broadcast from now on reaches it, held with the events it missed until `connect`
    /// admits it.
    pub(crate) fn restore(
        namespace: Arc<NamespaceInner>,
        connection: Connection<Client>,
        server: Server,
        auth: Option<RawJson>,
        restored: Restored,
    ) -> Socket {
        let held = Held {
            packets: restored.missed,
            rooms: Vec::new(),
            live_bytes: 0,
        };
        let ids = SessionIds {
            pid: restored.pid.into(),
            recovered: true,
            through: restored.through,
        };
        let socket = Socket::with_ids(
            namespace,
            connection,
            server,
            auth,
            restored.sid,
            Some(ids),
            held,
        );
        socket.insert(SharedData(restored.data));
        socket.inner.namespace.add(&socket);
        for room in restored.rooms {
            socket.inner.namespace.join(&socket.inner.id, room);
        }
        socket
    }

    /// Sends an event to this socket with recovery on: kept first with its offset, so that sent
    /// or not its client gets it back; once a recovery restored the socket, the restored one
    /// gets it, as Node sends it to the room of the socket's id.
    pub(crate) fn emit_recorded(
        &self,
        recovery: &Recovery,
        packet: &EncodedPacket,
    ) -> Result<(), EmitError> {
        let own = Target {
            rooms: vec![Room::from(self.inner.id.as_str())],
            except: Vec::new(),
        };
        let mut full = None;
        let (packet, sent) = {
            // Kept and queued in one step: the order of the offsets is the order of the sends.
            let _sending = recovery.sending.lock();
            let (packet, number) = recovery.record(self.namespace(), &own, packet);
            let mut sent = self.queue_recorded(&packet, number).map(drop);
            if sent == Err(EmitError::Disconnected) {
                for restored in self.inner.namespace.matching(&own, None).iter() {
                    sent = restored.queue_recorded(&packet, number).map(drop);
                    if sent == Err(EmitError::QueueFull) {
                        full = Some(restored.clone());
                    }
                }
            } else if sent == Err(EmitError::QueueFull) {
                full = Some(self.clone());
            }
            (packet, sent)
        };
        if let Some(socket) = full {
            socket.close_not_reading();
        }
        outgoing::notify(self, &packet);
        #[cfg(feature = "admin")]
        if sent.is_ok() {
            self.inner
                .server
                .inner()
                .notify(|admin| admin.event_sent(self, &packet));
        }
        sent
    }

    /// Sends an event to this socket when the channel layer keeps the log: as a broadcast to
    /// the room of its id, as Node does, which the layer logs and delivers with its offset (to
    /// the socket that restored this one, once this one is gone, though it says
    /// [`EmitError::Disconnected`]). While `connect` runs (the socket is not yet where the
    /// layer delivers), it is queued as it is, not logged.
    pub(crate) fn emit_through_layer(&self, packet: &EncodedPacket) -> Result<(), EmitError> {
        if self.is_connecting() {
            outgoing::notify(self, packet);
            return self.send_packet(packet);
        }
        let server = self.inner.server.inner();
        let broadcast = Broadcast {
            namespace: self.namespace().clone(),
            target: Target {
                rooms: vec![Room::from(self.inner.id.as_str())],
                except: Vec::new(),
            },
            packet: packet.clone(),
            volatile: false,
        };
        server.layer.broadcast(&broadcast, &server.local);
        // As with the server's own log: the restored socket may get it, this one did not.
        if self.is_connected() {
            Ok(())
        } else {
            Err(EmitError::Disconnected)
        }
    }

    /// Holds this socket's session in the channel layer's store, if it keeps them, while it is
    /// connected (every ping interval, so a store that lost it has it back).
    pub(crate) fn hold_session(&self) {
        let phase = self.inner.phase.lock();
        if matches!(*phase, Phase::Connected) {
            self.hold_session_locked();
        }
    }

    /// [`hold_session`](Self::hold_session) for a caller holding the phase lock of a connected
    /// socket (when it is admitted, and when its rooms or data change): under that lock, so
    /// that what its close tells the store comes after.
    pub(super) fn hold_session_locked(&self) {
        let Some(pid) = self.pid() else {
            return;
        };
        let server = self.inner.server.inner();
        let (Some(recovery), Some(store)) =
            (server.recovery.as_ref(), server.layer.session_store())
        else {
            return;
        };
        if recovery.in_layer {
            let rooms = self.inner.namespace.rooms_of(&self.inner.id);
            store.hold_session(&self.saved(pid, rooms), recovery.live_ttl);
        }
    }

    /// This socket's session as a layer's store keeps it, with `rooms`.
    fn saved(&self, pid: &str, mut rooms: Vec<Room>) -> SavedSession {
        let own = Room::from(self.inner.id.as_str());
        if !rooms.contains(&own) {
            rooms.push(own);
        }
        SavedSession::new(
            self.namespace().clone(),
            pid,
            self.inner.id.clone(),
            rooms,
            self.data(),
        )
    }

    /// Queues event `number` of the recovery log; `Ok(false)` when this socket was restored with
    /// it among the events it missed. A full queue is the caller's to act on.
    pub(crate) fn queue_recorded(
        &self,
        packet: &EncodedPacket,
        number: u128,
    ) -> Result<bool, EmitError> {
        if self
            .inner
            .session
            .as_ref()
            .is_some_and(|ids| number <= ids.through)
        {
            return Ok(false);
        }
        self.queue_packet(packet).map(|()| true)
    }

    /// Keeps this socket's session when it leaves for a reason its client recovers from, with
    /// the rooms it was in; with a layer that keeps the sessions, forgets it otherwise.
    pub(crate) fn persist_session(&self, reason: DisconnectReason, rooms: &[Room]) {
        let Some(pid) = self.pid() else {
            return;
        };
        let server = self.inner.server.inner();
        let Some(recovery) = server.recovery.as_ref() else {
            return;
        };
        if let Some(store) = server.layer.session_store().filter(|_| recovery.in_layer) {
            if recoverable(reason) {
                let session = self.saved(pid, rooms.to_vec());
                store.release_session(&session, recovery.config.max_disconnection_duration);
            } else {
                store.drop_session(pid);
            }
            return;
        }
        if !recoverable(reason) {
            return;
        }
        let own = self.inner.id.as_str();
        let session = Session {
            namespace: self.namespace().clone(),
            sid: self.inner.id.clone(),
            rooms: rooms
                .iter()
                .filter(|room| room.as_str() != own)
                .cloned()
                .collect(),
            data: self.data(),
            at: std::time::Instant::now(),
        };
        recovery.persist(pid, session);
    }
}
