//! A socket of any process, as `fetch_sockets` finds it.

use sio_core::{Namespace, RawJson};

use crate::args::EmitArgs;
use crate::broadcast::local_sockets::LocalSockets;
use crate::broadcast::operator::BroadcastOperator;
use crate::broadcast::target::Room;
use crate::socket::{EmitError, SocketId};

/// A socket of this process or another, found by
/// [`BroadcastOperator::fetch_sockets`]: what it was
/// when fetched, and the operations that reach it wherever it is.
///
/// ```no_run
/// # async fn run(server: sio_server::Server) -> Result<(), Box<dyn std::error::Error>> {
/// for socket in server.of("/chat").to("lobby").fetch_sockets().await? {
///     println!("{} is in {:?}", socket.id(), socket.rooms());
///     socket.emit("system_message", "the lobby is closing")?;
///     socket.leave("lobby");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct RemoteSocket {
    local: LocalSockets,
    namespace: Namespace,
    id: SocketId,
    rooms: Vec<Room>,
    handshake: RawJson,
    data: RawJson,
}

impl RemoteSocket {
    /// A socket described by the process that holds it: its rooms, and its handshake as Node's
    /// socket.io describes it (`headers`, `query`, `auth`, `address`, `url`).
    pub fn new(
        local: &LocalSockets,
        namespace: Namespace,
        id: SocketId,
        rooms: Vec<Room>,
        handshake: RawJson,
    ) -> Self {
        RemoteSocket {
            local: local.clone(),
            namespace,
            id,
            rooms,
            handshake,
            data: RawJson::empty_object(),
        }
    }

    /// With the data its process keeps for it (Node's `socket.data`, sio's
    /// [`Socket::set_data`](crate::Socket::set_data)).
    pub fn with_data(mut self, data: RawJson) -> Self {
        self.data = data;
        self
    }

    /// The data its process keeps for it (Node's `socket.data`): `{}` unless set.
    pub fn data(&self) -> &RawJson {
        &self.data
    }

    /// The socket id.
    pub fn id(&self) -> &SocketId {
        &self.id
    }

    /// Its namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.namespace
    }

    /// Its rooms when it was fetched.
    pub fn rooms(&self) -> &[Room] {
        &self.rooms
    }

    /// Its handshake, as JSON.
    pub fn handshake(&self) -> &RawJson {
        &self.handshake
    }

    /// The operator that selects this socket, wherever it is (the room of its id).
    fn operator(&self) -> Option<BroadcastOperator> {
        let server = self.local.server.upgrade()?;
        Some(server.of(self.namespace.as_str()).to(&self.id))
    }

    /// Sends it an event, wherever it is.
    pub fn emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        match self.operator() {
            Some(operator) => operator.emit(event, data),
            None => Ok(()),
        }
    }

    /// Makes it join `room`.
    pub fn join(&self, room: impl Into<Room>) {
        if let Some(operator) = self.operator() {
            operator.sockets_join(room);
        }
    }

    /// Makes it leave `room`.
    pub fn leave(&self, room: impl Into<Room>) {
        if let Some(operator) = self.operator() {
            operator.sockets_leave(room);
        }
    }

    /// Disconnects it; with `close`, its whole connection is closed.
    pub fn disconnect(&self, close: bool) {
        if let Some(operator) = self.operator() {
            operator.disconnect_sockets(close);
        }
    }
}
