//! A client's connection to one namespace.

pub(crate) mod emit;
mod handshake;
mod id;
mod lifecycle;
pub(crate) mod outgoing;
mod recovery;
mod volatile;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use sio_core::{EncodedPacket, Namespace, RawJson, Transport};
use tokio::sync::oneshot;

use crate::ack::AckResponse;
use crate::broadcast::{BroadcastOperator, Room};
use crate::client::Client;
use crate::consumer::Runner;
use crate::disconnect_reason::DisconnectReason;
use crate::engine::sync::Mutex;
use crate::engine::{Connection, HandshakeInfo};
use crate::legacy;
use crate::namespace::NamespaceInner;
use crate::server::Server;

pub use emit::EmitError;
pub use handshake::Handshake;
pub(crate) use handshake::now_millis;
pub use id::SocketId;
pub use outgoing::{OutgoingEvent, OutgoingHook};
pub use volatile::Volatile;

/// Where a socket stands: admitted or not yet.
#[derive(Debug)]
enum Phase {
    /// `connect` is running: emits and joins wait for its answer (boxed: a socket spends
    /// little of its life here, and the lock it shares a cache line with stays small).
    Connecting(Box<Held>),
    Connected,
    /// Gone; with the rooms it was in until its consumer's `disconnecting` has run.
    #[allow(clippy::box_collection)] // a thin pointer: the phase stays two words
    Disconnected(Option<Box<Vec<Room>>>),
}

/// What waits for `connect` to accept.
#[derive(Debug, Default)]
struct Held {
    packets: Vec<EncodedPacket>,
    rooms: Vec<Room>,
    /// For a restored socket, the bytes broadcasts held for it while `connect` runs.
    live_bytes: usize,
}

// In declaration order: what every emit reads shares a cache line with the reference count,
// which a broadcast touches anyway.
#[repr(C)]
pub(crate) struct SocketInner {
    phase: Mutex<Phase>,
    connection: Connection<Client>,
    id: SocketId,
    pub(crate) namespace: Arc<NamespaceInner>,
    pub(crate) server: Server,
    acks: Mutex<HashMap<u64, oneshot::Sender<AckResponse>>>,
    state: Mutex<http::Extensions>,
    /// Its consumer, and the events waiting for it.
    pub(crate) runner: Runner,
    auth: Option<RawJson>,
    /// When it connected, in milliseconds since the Unix epoch.
    issued: u64,
    /// Its session for connection state recovery, if that is on.
    session: Option<recovery::SessionIds>,
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

/// The data of [`Socket::set_data`], kept with the socket's typed state.
#[derive(Clone)]
struct SharedData(RawJson);

impl Socket {
    pub(crate) fn new(
        namespace: Arc<NamespaceInner>,
        connection: Connection<Client>,
        server: Server,
        auth: Option<RawJson>,
    ) -> Socket {
        let session = server
            .inner()
            .recovery
            .is_some()
            .then(recovery::SessionIds::fresh);
        // A v2 client's id is its connection's, as Node makes it and the client expects.
        let id = if connection.data().is_legacy() {
            legacy::socket_id(&namespace.name, connection.sid().as_str())
        } else {
            SocketId::random()
        };
        Socket::with_ids(
            namespace,
            connection,
            server,
            auth,
            id,
            session,
            Held::default(),
        )
    }

    fn with_ids(
        namespace: Arc<NamespaceInner>,
        connection: Connection<Client>,
        server: Server,
        auth: Option<RawJson>,
        id: SocketId,
        session: Option<recovery::SessionIds>,
        held: Held,
    ) -> Socket {
        Socket {
            inner: Arc::new(SocketInner {
                phase: Mutex::new(Phase::Connecting(Box::new(held))),
                connection,
                id,
                namespace,
                server,
                acks: Mutex::new(HashMap::new()),
                state: Mutex::new(http::Extensions::new()),
                runner: Runner::new(),
                auth,
                issued: now_millis(),
                session,
            }),
        }
    }

    /// The socket id, random; the socket is always in the room of this name.
    pub fn id(&self) -> &SocketId {
        &self.inner.id
    }

    /// The namespace.
    pub fn namespace(&self) -> &Namespace {
        &self.inner.namespace.name
    }

    /// The values of the parameters of the pattern its namespace was made from, in order: for
    /// a socket of `/workspace/7` served by the consumer of `/workspace/{id}`, `[("id", "7")]`.
    /// Empty for a namespace declared as it is.
    pub fn params(&self) -> &[(String, String)] {
        &self.inner.namespace.params
    }

    /// Parameter `name` of its namespace's pattern, as a `T`: text as it is, or a number or a
    /// boolean as JSON writes it (`7`, `-1.5`, `true`; not `007` or `+5`).
    ///
    /// ```
    /// use sio_server::{Consumer, HandlerError, IncomingEvent, Socket};
    ///
    /// #[derive(Default)]
    /// struct Workspace;
    ///
    /// impl Consumer for Workspace {
    ///     const NAMESPACE: &'static str = "/workspace/{id}";
    ///
    ///     async fn on_event(&mut self, socket: &Socket, _: IncomingEvent) -> Result<(), HandlerError> {
    ///         let id: u64 = socket.param("id")?;
    ///         socket.emit("workspace", id)?;
    ///         Ok(())
    ///     }
    /// }
    /// ```
    pub fn param<T: serde::de::DeserializeOwned>(&self, name: &str) -> crate::Result<T> {
        let value = self
            .params()
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .ok_or_else(|| {
                crate::Error::msg(format!(
                    "namespace `{}` has no parameter `{name}`",
                    self.namespace()
                ))
            })?;
        // As text first; then as the number or boolean the text may spell.
        let text = serde_json::Value::String(value.to_owned());
        match T::deserialize(text) {
            Ok(typed) => Ok(typed),
            Err(as_text) => match serde_json::from_str::<serde_json::Value>(value) {
                Ok(scalar @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_))) => {
                    Ok(T::deserialize(scalar)?)
                }
                _ => Err(as_text.into()),
            },
        }
    }

    /// The HTTP request that opened the connection (headers, query, remote address).
    pub fn handshake(&self) -> &HandshakeInfo {
        self.inner.connection.handshake()
    }

    /// The handshake as Node's `socket.handshake` gives it (headers, time, address, `xdomain`,
    /// `secure`, `issued`, url, query, auth), made on each call; it serializes as Node's does.
    pub fn handshake_details(&self) -> Handshake {
        Handshake::of(self)
    }

    /// The transport the connection uses now: polling until an upgrade to WebSocket is done.
    pub fn transport(&self) -> Transport {
        self.inner.connection.transport()
    }

    /// Resolves with `true` once the connection is on WebSocket (at once if it is already), or
    /// with `false` if the connection closes first: Node's `socket.conn.on("upgrade")`. It
    /// holds no handle to the socket or the connection, so a task may wait on it freely; a
    /// socket that only leaves its namespace (its connection goes on) leaves it waiting.
    ///
    /// ```
    /// use sio_server::{Socket, Transport};
    ///
    /// async fn connect(socket: &Socket) {
    ///     let upgraded = socket.upgraded();
    ///     let id = socket.id().clone();
    ///     tokio::spawn(async move {
    ///         if upgraded.await {
    ///             tracing::info!(%id, "upgraded to WebSocket");
    ///         }
    ///     });
    ///     # let _ = Transport::Polling;
    /// }
    /// ```
    pub fn upgraded(&self) -> impl Future<Output = bool> + Send + 'static {
        let connection = &self.inner.connection;
        let waiter = connection.data().wait_for_upgrade(connection);
        let transport = connection.transport();
        async move {
            match waiter {
                Some(waiter) => waiter.await.is_ok(),
                None => transport == Transport::WebSocket,
            }
        }
    }

    /// The auth payload the client sent with its CONNECT, if any.
    pub fn auth(&self) -> Option<&RawJson> {
        self.inner.auth.as_ref()
    }

    /// The server, for broadcasts and server-wide operations.
    pub fn server(&self) -> Server {
        self.inner.server.clone()
    }

    /// Whether the socket is still connected (or still connecting).
    pub fn is_connected(&self) -> bool {
        !matches!(*self.inner.phase.lock(), Phase::Disconnected(_))
    }

    /// Whether `connect` is still running for it.
    pub(crate) fn is_connecting(&self) -> bool {
        matches!(*self.inner.phase.lock(), Phase::Connecting(_))
    }

    /// Keeps a value of type `T` with the socket, replacing the previous one.
    pub fn insert<T: Clone + Send + Sync + 'static>(&self, value: T) {
        let previous = self.inner.state.lock().insert(value);
        drop(previous); // its `Drop` runs outside the lock
    }

    /// The value of type `T` kept with the socket, cloned.
    pub fn get<T: Clone + Send + Sync + 'static>(&self) -> Option<T> {
        self.inner.state.lock().get::<T>().cloned()
    }

    /// Sets the data other processes see of this socket (Node's `socket.data`): what
    /// [`fetch_sockets`](crate::BroadcastOperator::fetch_sockets) reports of it to any process,
    /// sio's or Node's (whose tools read fields of it). `{}` until set.
    ///
    /// ```
    /// # fn connect(socket: &sio_server::Socket) -> sio_server::Result<()> {
    /// socket.set_data(&serde_json::json!({ "user": "ada", "role": "admin" }))?;
    /// assert_eq!(socket.data().as_str(), r#"{"user":"ada","role":"admin"}"#);
    /// # Ok(()) }
    /// ```
    pub fn set_data(&self, data: &impl serde::Serialize) -> crate::Result<()> {
        self.insert(SharedData(RawJson::from_value(data)?));
        self.hold_session();
        // The Admin UI hears of data set once the socket is admitted; what `connect` sets
        // comes with the socket's arrival.
        #[cfg(feature = "admin")]
        self.inner.server.inner().notify(|admin| {
            if matches!(*self.inner.phase.lock(), Phase::Connected) {
                admin.data_updated(self);
            }
        });
        Ok(())
    }

    /// The data other processes see of this socket (see [`set_data`](Self::set_data)), as
    /// JSON; `{}` until set.
    pub fn data(&self) -> RawJson {
        self.get::<SharedData>()
            .map_or_else(RawJson::empty_object, |SharedData(data)| data)
    }

    /// Joins `room`; while `connect` runs, the join waits for the acceptance.
    pub async fn join(&self, room: impl Into<Room>) {
        self.join_now(room.into());
    }

    pub(crate) fn join_now(&self, room: Room) {
        let mut phase = self.inner.phase.lock();
        match &mut *phase {
            // A restored socket is in its namespace and rooms while `connect` runs.
            Phase::Connecting(_) if self.recovered() => {
                self.inner.namespace.join(&self.inner.id, room);
            }
            Phase::Connecting(held) => held.rooms.push(room),
            Phase::Connected => {
                // Kept for the Admin UI, if one is told, as Node's adapter tells: only of a
                // socket that was not in the room.
                #[cfg(feature = "admin")]
                let told = self.inner.server.inner().notifier.is_some();
                #[cfg(feature = "admin")]
                let joined = told.then(|| room.clone());
                let changed = self.inner.namespace.join(&self.inner.id, room);
                self.hold_session_locked();
                drop(phase);
                #[cfg(feature = "admin")]
                if let (true, Some(joined)) = (changed, joined) {
                    self.inner
                        .server
                        .inner()
                        .notify(|admin| admin.room_joined(self, &joined));
                }
                #[cfg(not(feature = "admin"))]
                let _ = changed;
            }
            Phase::Disconnected(_) => {}
        }
    }

    /// Leaves `room`.
    pub async fn leave(&self, room: impl Into<Room>) {
        self.leave_now(&room.into());
    }

    pub(crate) fn leave_now(&self, room: &Room) {
        let mut phase = self.inner.phase.lock();
        match &mut *phase {
            Phase::Connecting(_) if self.recovered() => {
                self.inner.namespace.leave(&self.inner.id, room);
            }
            Phase::Connecting(held) => held.rooms.retain(|r| r != room),
            Phase::Connected => {
                let changed = self.inner.namespace.leave(&self.inner.id, room);
                self.hold_session_locked();
                drop(phase);
                #[cfg(feature = "admin")]
                if changed {
                    self.inner
                        .server
                        .inner()
                        .notify(|admin| admin.room_left(self, room));
                }
                #[cfg(not(feature = "admin"))]
                let _ = changed;
            }
            Phase::Disconnected(_) => {}
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

    /// The rooms the socket is in, its own included. Once it has disconnected, the rooms it
    /// was in, until its consumer's `disconnecting` has run; then none.
    pub fn rooms(&self) -> Vec<Room> {
        match &*self.inner.phase.lock() {
            Phase::Connecting(_) if self.recovered() => {
                self.inner.namespace.rooms_of(&self.inner.id)
            }
            Phase::Connecting(held) => held.rooms.clone(),
            Phase::Connected => self.inner.namespace.rooms_of(&self.inner.id),
            Phase::Disconnected(rooms) => rooms.as_deref().cloned().unwrap_or_default(),
        }
    }

    /// Broadcasts to every socket of the namespace but this one.
    pub fn broadcast(&self) -> BroadcastOperator {
        self.inner
            .server
            .of_namespace(&self.inner.namespace)
            .except(&self.inner.id)
    }

    /// Broadcasts to the sockets in `room`, this one left out.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Disconnects the socket from its namespace; the client is told. Its other namespaces on
    /// the same connection go on; [`close_connection`](Self::close_connection) ends them all.
    pub fn disconnect(&self) {
        self.close(DisconnectReason::ServerNamespaceDisconnect, true);
    }

    /// Disconnects every socket of this client's connection, this one included (each is told,
    /// with reason [`DisconnectReason::ServerNamespaceDisconnect`]), then closes the connection
    /// itself: Node's `socket.disconnect(true)`. Does nothing once this socket has disconnected.
    pub fn close_connection(&self) {
        if !self.is_connected() {
            return;
        }
        crate::client::close_connection(
            &self.inner.connection,
            DisconnectReason::ServerNamespaceDisconnect,
        );
    }

    pub(crate) fn connection(&self) -> &Connection<Client> {
        &self.inner.connection
    }
}
