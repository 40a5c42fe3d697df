//! Broadcasts and server-side operations on a selection of sockets, in every process the
//! channel layer reaches.

use std::time::Duration;

use futures_util::StreamExt;
use sio_core::Namespace;

use crate::args::EmitArgs;
use crate::broadcast::acks::BroadcastAcks;
use crate::broadcast::layer::{Broadcast, ChannelLayer, InMemoryLayer, LayerError, Operation};
use crate::broadcast::remote_socket::RemoteSocket;
use crate::broadcast::target::{Room, Target};
use crate::server::{Server, ServerInner};
use crate::server_events::{ServerAcks, ServerSideEmit};
use crate::socket::EmitError;

/// A selection of sockets of one namespace: all of them, narrowed with [`to`](Self::to) and
/// [`except`](Self::except). Get one from [`Server::of`](crate::Server::of),
/// [`Socket::broadcast`](crate::Socket::broadcast) or [`Socket::to`](crate::Socket::to).
///
/// Everything it does goes through the server's
/// [`ChannelLayer`](crate::broadcast::ChannelLayer), so with a layer that spans processes it
/// reaches the sockets of every process.
///
/// ```no_run
/// # async fn run(server: sio_server::Server) -> Result<(), sio_server::EmitError> {
/// server.of("/chat").to("lobby").except("muted").emit("chat_message", "hello")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct BroadcastOperator {
    server: Server,
    /// `None` for a name that is not a valid namespace: nothing, anywhere, can match it.
    namespace_name: Option<Namespace>,
    target: Target,
    /// This process only: the channel layer's other processes are left out.
    local: bool,
    /// Each recipient gets it only if its transport takes it at once.
    volatile: bool,
}

impl std::fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("namespace", &self.namespace_name)
            .field("target", &self.target)
            .field("local", &self.local)
            .field("volatile", &self.volatile)
            .finish()
    }
}

impl BroadcastOperator {
    pub(crate) fn new(server: Server, namespace_name: Option<Namespace>, target: Target) -> Self {
        BroadcastOperator {
            server,
            namespace_name,
            target,
            local: false,
            volatile: false,
        }
    }

    /// Narrows to this process's sockets (Node's `local` flag): what the operator does then
    /// does not go through the channel layer at all (a layer of the application's own does not
    /// see it either), so the other processes neither receive it nor answer for their sockets.
    ///
    /// ```no_run
    /// # fn run(server: sio_server::Server) -> Result<(), sio_server::EmitError> {
    /// // Only the clients connected to this process, e.g. before it restarts.
    /// server.of("/").local().emit("maintenance", "this server restarts in a minute")?;
    /// # Ok(()) }
    /// ```
    pub fn local(mut self) -> Self {
        self.local = true;
        self
    }

    /// Makes [`emit`](Self::emit) skip each selected socket whose transport does not take the
    /// event at once (Node's `volatile` flag; see [`Socket::is_writable`](crate::Socket::is_writable)):
    /// a client that lags gets the next event, not a backlog. Acks gathered with
    /// [`emit_with_ack`](Self::emit_with_ack) ignore it.
    ///
    /// ```no_run
    /// # fn run(server: sio_server::Server) -> Result<(), sio_server::EmitError> {
    /// server.of("/game").to("match-7").volatile().emit("positions", [[1, 2], [3, 4]])?;
    /// # Ok(()) }
    /// ```
    pub fn volatile(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// The layer everything goes through: the server's, or for `local` the one of a single
    /// process.
    fn layer<'a>(&self, server: &'a ServerInner) -> &'a dyn ChannelLayer {
        if self.local {
            &InMemoryLayer
        } else {
            &*server.layer
        }
    }

    /// Narrows to the sockets in `room` (several `to` make a union).
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.target.rooms.push(room.into());
        self
    }

    /// Leaves out the sockets in `room`.
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.target.except.push(room.into());
        self
    }

    /// Sends an event to every selected socket, encoded once; nothing waits on a recipient.
    /// For a pattern (`server.of("/workspace/{id}")`), every namespace made from it, in every
    /// process the channel layer reaches.
    pub fn emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        let Some(namespace) = &self.namespace_name else {
            return Ok(());
        };
        let server = self.server.inner();
        let packet = server.encode_event(namespace, None, event, &data)?;
        let broadcast = Broadcast {
            namespace: namespace.clone(),
            target: self.target.clone(),
            packet,
            volatile: self.volatile,
        };
        self.layer(server).broadcast(&broadcast, &server.local);
        Ok(())
    }

    /// Sends an event to every selected socket and gathers their acks for up to `timeout`:
    /// which socket answered what, and which did not answer in time (or disconnected first).
    pub async fn emit_with_ack(
        &self,
        event: &str,
        data: impl EmitArgs,
        timeout: Duration,
    ) -> Result<BroadcastAcks, EmitError> {
        let server = self.server.inner();
        let Some(namespace) = &self.namespace_name else {
            return Ok(BroadcastAcks::default());
        };
        let Some(id) = server.local.next_ack_id(namespace) else {
            return Ok(BroadcastAcks::default());
        };
        let packet = server.encode_event(namespace, Some(id), event, &data)?;
        let broadcast = Broadcast {
            namespace: namespace.clone(),
            target: self.target.clone(),
            packet,
            volatile: false,
        };
        let events = self
            .layer(server)
            .broadcast_with_ack(&broadcast, id, timeout, &server.local);
        // The layer ends the stream at `timeout`; the bound here guards against one that does
        // not.
        let until = tokio::time::sleep(timeout + Duration::from_millis(100));
        Ok(BroadcastAcks::gather(events.take_until(until)).await)
    }

    /// Sends an event to the [`ServerEvents`](crate::ServerEvents) handler of this namespace
    /// in every other process (Node's `serverSideEmit`), through the channel layer: not to
    /// sockets, and not to this process's own handler. It reaches nobody with the in-memory
    /// layer, nor after [`local`](Self::local).
    ///
    /// ```no_run
    /// # fn run(server: sio_server::Server) -> Result<(), sio_server::EmitError> {
    /// server.of("/chat").server_side_emit("user_banned", 42)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`EmitError::ReservedName`] for a reserved name, [`EmitError::Encode`] for data that
    /// does not serialize, and [`EmitError::NotForProcesses`] on a selection narrowed with
    /// [`to`](Self::to) or [`except`](Self::except) (processes have no rooms) or on a pattern
    /// (`/workspace/{id}`).
    pub fn server_side_emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        let Some(event) = self.server_side_event(event, &data)? else {
            return Ok(());
        };
        let server = self.server.inner();
        self.layer(server).server_side_emit(&event, &server.local);
        Ok(())
    }

    /// Sends an event as [`server_side_emit`](Self::server_side_emit) does and gathers each
    /// process's answer for up to `timeout` (Node's `serverSideEmit` with a callback, whose
    /// adapter waits for its `requestsTimeout` instead). A process answers once, with the
    /// first argument of its handler's [`Ack`](crate::Ack); one without a handler for the
    /// event does not answer, as in Node.
    ///
    /// # Errors
    ///
    /// As for [`server_side_emit`](Self::server_side_emit).
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        data: impl EmitArgs,
        timeout: Duration,
    ) -> Result<ServerAcks, EmitError> {
        let Some(event) = self.server_side_event(event, &data)? else {
            return Ok(ServerAcks::nobody_asked());
        };
        let server = self.server.inner();
        let events = self
            .layer(server)
            .server_side_emit_with_ack(&event, timeout, &server.local);
        // The layer ends the stream at `timeout`; the bound here guards against one that does
        // not.
        let until = tokio::time::sleep(timeout + Duration::from_millis(100));
        Ok(ServerAcks::gather(events.take_until(until)).await)
    }

    /// The event to send other processes; `None` when it goes nowhere (an invalid namespace).
    fn server_side_event(
        &self,
        event: &str,
        data: &impl EmitArgs,
    ) -> Result<Option<ServerSideEmit>, EmitError> {
        if !self.target.rooms.is_empty() || !self.target.except.is_empty() {
            return Err(EmitError::NotForProcesses);
        }
        let Some(namespace) = &self.namespace_name else {
            return Ok(None);
        };
        if sio_core::NamespacePattern::parse(namespace.as_str()).is_ok_and(|p| p.is_dynamic()) {
            return Err(EmitError::NotForProcesses);
        }
        ServerSideEmit::new(namespace.clone(), event, data).map(Some)
    }

    /// The selected sockets, from every process.
    pub async fn fetch_sockets(&self) -> Result<Vec<RemoteSocket>, LayerError> {
        let Some(namespace) = &self.namespace_name else {
            return Ok(Vec::new());
        };
        let server = self.server.inner();
        self.layer(server)
            .fetch_sockets(namespace, &self.target, &server.local)
            .await
    }

    fn apply(&self, operation: Operation) {
        let Some(namespace) = &self.namespace_name else {
            return;
        };
        let server = self.server.inner();
        self.layer(server)
            .apply(namespace, &self.target, &operation, &server.local);
    }

    /// Makes the selected sockets join `room`.
    pub fn sockets_join(&self, room: impl Into<Room>) {
        self.apply(Operation::Join(vec![room.into()]));
    }

    /// Makes the selected sockets leave `room`.
    pub fn sockets_leave(&self, room: impl Into<Room>) {
        self.apply(Operation::Leave(vec![room.into()]));
    }

    /// Disconnects the selected sockets from the namespace; with `close`, their whole
    /// connections are closed.
    pub fn disconnect_sockets(&self, close: bool) {
        self.apply(Operation::Disconnect { close });
    }

    /// Every room of the namespace with at least one socket, in any process (socket-id rooms
    /// included); for a pattern, of each namespace made from it.
    pub async fn rooms(&self) -> Result<Vec<Room>, LayerError> {
        let Some(namespace) = &self.namespace_name else {
            return Ok(Vec::new());
        };
        let server = self.server.inner();
        self.layer(server).rooms(namespace, &server.local).await
    }
}
