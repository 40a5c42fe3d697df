//! Broadcasts and server-side operations on a selection of sockets.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;

use crate::ack::AckResponse;
use crate::channel_layer::{Broadcast, LocalSockets};
use crate::namespace::{NamespaceInner, Target};
use crate::server::ServerInner;
use crate::{DisconnectReason, EmitArgs, EmitError, Room, Socket, SocketId};

/// A selection of sockets of one namespace: all of them, narrowed with [`to`](Self::to) and
/// [`except`](Self::except). Get one from [`Server::of`](crate::Server::of),
/// [`Socket::broadcast`] or [`Socket::to`].
///
/// ```no_run
/// # async fn run(server: sio_server::Server) -> Result<(), sio_server::EmitError> {
/// server.of("/chat").to("lobby").except("muted").emit("chat_message", "hello")?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
#[must_use]
pub struct BroadcastOperator {
    pub(crate) server: Arc<ServerInner>,
    pub(crate) namespace: Option<Arc<NamespaceInner>>,
    /// `None` for a name that is not a valid namespace: nothing, anywhere, can match it.
    pub(crate) namespace_name: Option<sio_core::Namespace>,
    pub(crate) target: Target,
    pub(crate) except_socket: Option<SocketId>,
}

impl std::fmt::Debug for BroadcastOperator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BroadcastOperator")
            .field("namespace", &self.namespace_name)
            .field("target", &self.target)
            .field("except_socket", &self.except_socket)
            .finish()
    }
}

impl BroadcastOperator {
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

    pub(crate) fn except_socket(mut self, id: SocketId) -> Self {
        self.except_socket = Some(id);
        self
    }

    fn local(&self) -> Vec<Socket> {
        match &self.namespace {
            Some(namespace) => namespace.matching(&self.target, self.except_socket.as_ref()),
            None => Vec::new(),
        }
    }

    /// Sends an event to every selected socket, encoded once; nothing waits on a recipient.
    pub fn emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        let Some(namespace) = &self.namespace_name else {
            return Ok(());
        };
        let packet = self.server.encode_event(namespace, None, event, &data)?;
        let broadcast = Broadcast {
            namespace: namespace.clone(),
            target: self.target.clone(),
            except_socket: self.except_socket.clone(),
            packet,
        };
        self.server.layer.broadcast(
            &broadcast,
            &LocalSockets {
                server: &self.server,
            },
        );
        Ok(())
    }

    /// Sends an event to every selected socket and gathers their acks for up to `timeout`; a
    /// socket that did not answer in time (or disconnected) is missing from the result.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        data: impl EmitArgs,
        timeout: Duration,
    ) -> Result<Vec<AckResponse>, EmitError> {
        let Some(namespace) = &self.namespace else {
            return Ok(Vec::new());
        };
        let id = namespace.next_ack_id();
        let packet = self
            .server
            .encode_event(&namespace.name, Some(id), event, &data)?;
        let waits = self.local().into_iter().map(|socket| {
            let reply = socket.expect_ack(id);
            let sent = socket.send_packet(&packet);
            async move {
                sent.ok()?;
                socket.await_ack(id, reply, timeout).await.ok()
            }
        });
        Ok(join_all(waits).await.into_iter().flatten().collect())
    }

    /// The selected sockets.
    pub fn fetch_sockets(&self) -> Vec<Socket> {
        self.local()
    }

    /// Makes the selected sockets join `room`.
    pub fn sockets_join(&self, room: impl Into<Room>) {
        let room = room.into();
        for socket in self.local() {
            socket.join_now(room.clone());
        }
    }

    /// Makes the selected sockets leave `room`.
    pub fn sockets_leave(&self, room: impl Into<Room>) {
        let room = room.into();
        for socket in self.local() {
            socket.leave_now(&room);
        }
    }

    /// Disconnects the selected sockets from the namespace; with `close`, their whole
    /// connections are closed.
    pub fn disconnect_sockets(&self, close: bool) {
        for socket in self.local() {
            if close {
                crate::sio_connection::close_connection(
                    socket.connection(),
                    DisconnectReason::ServerNamespaceDisconnect,
                );
            } else {
                socket.close(DisconnectReason::ServerNamespaceDisconnect, true);
            }
        }
    }

    /// Every room of the namespace with at least one socket (socket-id rooms included).
    pub fn rooms(&self) -> Vec<Room> {
        self.namespace
            .as_ref()
            .map(|namespace| namespace.all_rooms())
            .unwrap_or_default()
    }
}
