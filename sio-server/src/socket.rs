//! A client's connection to one namespace.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::de::DeserializeOwned;
use sio_core::{AckId, EncodedPacket, Namespace, PacketEncoder, RawJson, SocketPacket};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot, watch};
use tracing::debug;

use crate::ack::{AckError, AckResponse};
use crate::namespace::NamespaceInner;
use crate::server::ServerInner;
use crate::{
    BroadcastOperator, Connection, DisconnectReason, EmitArgs, HandshakeInfo, IncomingEvent, Room,
    SendError, Server,
};

/// Why an emit did not go out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EmitError {
    /// The socket is disconnected.
    #[error("the socket is disconnected")]
    Disconnected,
    /// The client is not reading: its outgoing queue is full.
    #[error("the client is not reading: its outgoing queue is full")]
    QueueFull,
    /// An argument does not serialize.
    #[error(transparent)]
    Encode(#[from] sio_core::EncodeError),
}

/// The id of a socket: random, and unrelated to the Engine.IO session id (which is the
/// credential of polling requests and must not leak).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(pub(crate) Arc<str>);

impl SocketId {
    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for SocketId {
    /// An id as another process reports it.
    fn from(id: &str) -> Self {
        SocketId(Arc::from(id))
    }
}

impl From<String> for SocketId {
    fn from(id: String) -> Self {
        SocketId(Arc::from(id))
    }
}

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a socket stands: admitted or not yet.
#[derive(Debug)]
enum Phase {
    /// `connect` is running: emits and joins wait for its answer.
    Connecting {
        held: Vec<EncodedPacket>,
        rooms: Vec<Room>,
    },
    Connected,
    Disconnected,
}

pub(crate) struct SocketInner {
    id: SocketId,
    pub(crate) namespace: Arc<NamespaceInner>,
    connection: Connection,
    server: Arc<ServerInner>,
    phase: Mutex<Phase>,
    acks: Mutex<HashMap<u64, oneshot::Sender<AckResponse>>>,
    state: Mutex<http::Extensions>,
    pub(crate) mailbox: mpsc::Sender<Box<IncomingEvent>>,
    disconnect: watch::Sender<Option<DisconnectReason>>,
    auth: Option<RawJson>,
}

/// A client's connection to one namespace. Cheap to clone.
#[derive(Clone)]
pub struct Socket {
    pub(crate) inner: Arc<SocketInner>,
}

impl fmt::Debug for Socket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.inner.id)
            .field("namespace", &self.inner.namespace.name)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

impl Socket {
    pub(crate) fn new(
        id: SocketId,
        namespace: Arc<NamespaceInner>,
        connection: Connection,
        server: Arc<ServerInner>,
        mailbox: mpsc::Sender<Box<IncomingEvent>>,
        auth: Option<RawJson>,
    ) -> (Socket, watch::Receiver<Option<DisconnectReason>>) {
        let (disconnect, disconnected) = watch::channel(None);
        let socket = Socket {
            inner: Arc::new(SocketInner {
                id,
                namespace,
                connection,
                server,
                phase: Mutex::new(Phase::Connecting {
                    held: Vec::new(),
                    rooms: Vec::new(),
                }),
                acks: Mutex::new(HashMap::new()),
                state: Mutex::new(http::Extensions::new()),
                mailbox,
                disconnect,
                auth,
            }),
        };
        (socket, disconnected)
    }

    /// The socket id, random; the socket is always in the room of this name.
    pub fn id(&self) -> &SocketId {
        &self.inner.id
    }

    /// The namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.inner.namespace.name
    }

    /// The HTTP request that opened the connection (headers, query, remote address).
    pub fn handshake(&self) -> &HandshakeInfo {
        self.inner.connection.handshake()
    }

    /// The auth payload the client sent with its CONNECT, if any.
    pub fn auth(&self) -> Option<&RawJson> {
        self.inner.auth.as_ref()
    }

    /// The server, for broadcasts and server-wide operations.
    pub fn server(&self) -> Server {
        Server {
            inner: Arc::clone(&self.inner.server),
        }
    }

    /// Whether the socket is still connected (or still connecting).
    pub fn is_connected(&self) -> bool {
        !matches!(*lock(&self.inner.phase), Phase::Disconnected)
    }

    /// Keeps a value of type `T` with the socket, replacing the previous one.
    pub fn insert<T: Clone + Send + Sync + 'static>(&self, value: T) {
        lock(&self.inner.state).insert(value);
    }

    /// The value of type `T` kept with the socket, cloned.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        lock(&self.inner.state).get::<T>().cloned()
    }

    /// Sends an event to this client. See [`EmitArgs`] for how `data` becomes arguments.
    pub fn emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        let packet = self
            .inner
            .server
            .encode_event(self.namespace(), None, event, &data)?;
        self.send_packet(&packet)
    }

    /// Sends an event and waits up to `timeout` for the client's ack; its first argument is
    /// deserialized into `R`.
    pub async fn emit_with_ack<R: DeserializeOwned>(
        &self,
        event: &str,
        data: impl EmitArgs,
        timeout: Duration,
    ) -> Result<R, AckError> {
        self.emit_with_ack_response(event, data, timeout)
            .await?
            .get(0)
    }

    /// Sends an event and waits up to `timeout` for the client's ack, with all its arguments.
    pub async fn emit_with_ack_response(
        &self,
        event: &str,
        data: impl EmitArgs,
        timeout: Duration,
    ) -> Result<AckResponse, AckError> {
        let id = self.inner.namespace.next_ack_id();
        let packet = self
            .inner
            .server
            .encode_event(self.namespace(), Some(id), event, &data)?;
        let reply = self.expect_ack(id);
        self.send_packet(&packet)?;
        self.await_ack(id, reply, timeout).await
    }

    pub(crate) fn expect_ack(&self, id: AckId) -> oneshot::Receiver<AckResponse> {
        let (sender, receiver) = oneshot::channel();
        lock(&self.inner.acks).insert(id.0, sender);
        receiver
    }

    pub(crate) async fn await_ack(
        &self,
        id: AckId,
        reply: oneshot::Receiver<AckResponse>,
        timeout: Duration,
    ) -> Result<AckResponse, AckError> {
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                lock(&self.inner.acks).remove(&id.0);
                Err(AckError::Timeout)
            }
        }
    }

    /// An ACK arrived from the client.
    pub(crate) fn resolve_ack(&self, id: AckId, response: AckResponse) {
        if let Some(sender) = lock(&self.inner.acks).remove(&id.0) {
            let _ = sender.send(response);
        } else {
            debug!(ack = id.0, "ack for no pending emit (late or unknown)");
        }
    }

    pub(crate) fn send_ack(&self, id: AckId, reply: &dyn EmitArgsDyn) -> Result<(), EmitError> {
        let mut packet = PacketEncoder::ack(self.namespace(), id);
        reply.write_args_dyn(&mut packet)?;
        self.send_packet(&packet.finish())
    }

    /// Queues a packet: held while `connect` runs, dropped once disconnected.
    pub(crate) fn send_packet(&self, packet: &EncodedPacket) -> Result<(), EmitError> {
        let mut phase = lock(&self.inner.phase);
        match &mut *phase {
            Phase::Connecting { held, .. } => {
                held.push(packet.clone());
                Ok(())
            }
            Phase::Connected => {
                drop(phase);
                self.write(packet)
            }
            Phase::Disconnected => Err(EmitError::Disconnected),
        }
    }

    fn write(&self, packet: &EncodedPacket) -> Result<(), EmitError> {
        for frame in packet.frames() {
            self.inner
                .connection
                .send_frame(frame)
                .map_err(|error| match error {
                    SendError::Closed => EmitError::Disconnected,
                    SendError::QueueFull => EmitError::QueueFull,
                })?;
        }
        Ok(())
    }

    /// Joins `room`; while `connect` runs, the join waits for the acceptance.
    pub async fn join(&self, room: impl Into<Room>) {
        self.join_now(room.into());
    }

    pub(crate) fn join_now(&self, room: Room) {
        let mut phase = lock(&self.inner.phase);
        match &mut *phase {
            Phase::Connecting { rooms, .. } => rooms.push(room),
            Phase::Connected => self.inner.namespace.join(self, room),
            Phase::Disconnected => {}
        }
    }

    /// Leaves `room`.
    pub async fn leave(&self, room: impl Into<Room>) {
        self.leave_now(&room.into());
    }

    pub(crate) fn leave_now(&self, room: &Room) {
        let mut phase = lock(&self.inner.phase);
        match &mut *phase {
            Phase::Connecting { rooms, .. } => rooms.retain(|r| r != room),
            Phase::Connected => self.inner.namespace.leave(&self.inner.id, room),
            Phase::Disconnected => {}
        }
    }

    /// Leaves every room but its own.
    pub async fn leave_all(&self) {
        for room in self.rooms() {
            if room.as_str() != self.inner.id.as_str() {
                self.leave_now(&room);
            }
        }
    }

    /// The rooms the socket is in, its own included.
    pub fn rooms(&self) -> Vec<Room> {
        match &*lock(&self.inner.phase) {
            Phase::Connecting { rooms, .. } => rooms.clone(),
            Phase::Connected => self.inner.namespace.rooms_of(&self.inner.id),
            Phase::Disconnected => Vec::new(),
        }
    }

    /// Broadcasts to every socket of the namespace but this one.
    pub fn broadcast(&self) -> BroadcastOperator {
        self.server()
            .of_namespace(Arc::clone(&self.inner.namespace))
            .except(&self.inner.id)
    }

    /// Broadcasts to the sockets in `room`, this one left out.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Disconnects the socket from its namespace; the client is told.
    pub fn disconnect(&self) {
        self.close(DisconnectReason::ServerNamespaceDisconnect, true);
    }

    /// Admits the socket after `connect` accepted: answers CONNECT, sends what `connect` emitted,
    /// applies its joins.
    pub(crate) fn admit(&self) {
        let mut phase = lock(&self.inner.phase);
        let Phase::Connecting { held, rooms } = std::mem::replace(&mut *phase, Phase::Connected)
        else {
            return;
        };
        let reply = SocketPacket::Connect {
            namespace: self.namespace().clone(),
            data: RawJson::from_value(&serde_json::json!({ "sid": self.inner.id.as_str() })).ok(),
        };
        let _ = self.inner.connection.send_frame(reply.encode());
        self.inner.namespace.add(self);
        for room in rooms {
            self.inner.namespace.join(self, room);
        }
        // Still under the lock, so nothing sent meanwhile overtakes what `connect` emitted.
        for packet in held {
            let _ = self.write(&packet);
        }
        drop(phase);
        debug!(socket = %self.inner.id, namespace = %self.namespace(), "socket connected");
    }

    /// Refuses the socket: CONNECT_ERROR, and no trace left.
    pub(crate) fn refuse(&self, error: &crate::ConnectError) {
        *lock(&self.inner.phase) = Phase::Disconnected;
        let packet = SocketPacket::ConnectError {
            namespace: self.namespace().clone(),
            data: error.payload(),
        };
        let _ = self.inner.connection.send_frame(packet.encode());
        self.inner.server.forget_socket(self);
        crate::sio_connection::forget(self);
    }

    /// Ends the socket once: leaves every room, fails pending acks, tells the consumer task.
    pub(crate) fn close(&self, reason: DisconnectReason, tell_client: bool) {
        let was = std::mem::replace(&mut *lock(&self.inner.phase), Phase::Disconnected);
        if matches!(was, Phase::Disconnected) {
            return;
        }
        if tell_client {
            let packet = SocketPacket::Disconnect {
                namespace: self.namespace().clone(),
            };
            let _ = self.inner.connection.send_frame(packet.encode());
        }
        self.inner.namespace.remove(&self.inner.id);
        self.inner.server.forget_socket(self);
        crate::sio_connection::forget(self);
        lock(&self.inner.acks).clear();
        self.inner.disconnect.send_replace(Some(reason));
        debug!(socket = %self.inner.id, reason = reason.as_str(), "socket disconnected");
    }

    pub(crate) fn disconnect_reason(&self) -> Option<DisconnectReason> {
        *self.inner.disconnect.borrow()
    }

    pub(crate) fn connection(&self) -> &Connection {
        &self.inner.connection
    }
}

/// [`EmitArgs`] behind a reference, so acks can be sent without knowing the reply type.
pub(crate) trait EmitArgsDyn {
    fn write_args_dyn(&self, packet: &mut PacketEncoder) -> Result<(), sio_core::EncodeError>;
}

impl<T: EmitArgs + ?Sized> EmitArgsDyn for T {
    fn write_args_dyn(&self, packet: &mut PacketEncoder) -> Result<(), sio_core::EncodeError> {
        self.write_args(packet)
    }
}
