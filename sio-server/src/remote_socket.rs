//! A socket of any process, as `fetch_sockets` finds it.

use sio_core::{Namespace, RawJson};

use crate::channel_layer::Operation;
use crate::namespace::Target;
use crate::{EmitArgs, EmitError, LocalSockets, Room, Server, SocketId};

/// A socket of this process or another, found by
/// [`BroadcastOperator::fetch_sockets`](crate::BroadcastOperator::fetch_sockets): what it was
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
        }
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

    fn server(&self) -> Option<Server> {
        self.local.server.upgrade().map(|inner| Server { inner })
    }

    fn target(&self) -> Target {
        Target {
            rooms: vec![Room::from(&self.id)],
            except: Vec::new(),
        }
    }

    /// Sends it an event, wherever it is.
    pub fn emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        match self.server() {
            Some(server) => server
                .of(self.namespace.as_str())
                .to(&self.id)
                .emit(event, data),
            None => Ok(()),
        }
    }

    fn apply(&self, operation: Operation) {
        if let Some(server) = self.server() {
            let local = &server.inner.local;
            server
                .inner
                .layer
                .apply(&self.namespace, &self.target(), &operation, local);
        }
    }

    /// Makes it join `room`.
    pub fn join(&self, room: impl Into<Room>) {
        self.apply(Operation::Join(vec![room.into()]));
    }

    /// Makes it leave `room`.
    pub fn leave(&self, room: impl Into<Room>) {
        self.apply(Operation::Leave(vec![room.into()]));
    }

    /// Disconnects it; with `close`, its whole connection is closed.
    pub fn disconnect(&self, close: bool) {
        self.apply(Operation::Disconnect { close });
    }
}
