//! The sockets of this process, as a channel layer sees them.

use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::{BoxStream, FuturesUnordered};
use sio_core::{AckId, Namespace, RawJson};

use crate::ack::AckResponse;
use crate::broadcast::layer::{Broadcast, Operation};
use crate::broadcast::remote_socket::RemoteSocket;
use crate::broadcast::target::{Room, Target};
use crate::client::close_connection;
use crate::disconnect_reason::DisconnectReason;
use crate::namespace::{NamespaceInner, Recipients};
use crate::server::WeakServer;
use crate::socket::Socket;
use crate::socket::outgoing::{self, OutgoingEvent, OutgoingHook};

/// The sockets of this process, for a [`ChannelLayer`](crate::broadcast::ChannelLayer) to
/// deliver to and act on. Cheap to clone; it does not keep the server alive, and once the server
/// is gone every method finds no sockets.
#[derive(Debug, Clone)]
pub struct LocalSockets {
    pub(crate) server: WeakServer,
}

impl LocalSockets {
    /// `read` applied to namespace `name` of this server; the default when there is none.
    fn with_namespace<T: Default>(
        &self,
        name: &Namespace,
        read: impl FnOnce(&NamespaceInner) -> T,
    ) -> T {
        let Some(server) = self.server.upgrade() else {
            return T::default();
        };
        server
            .inner()
            .with_namespace(name.as_str(), read)
            .unwrap_or_default()
    }

    fn matching(&self, namespace: &Namespace, target: &Target) -> Recipients<Socket> {
        self.with_namespace(namespace, |namespace| namespace.matching(target, None))
    }

    /// The recipients of `broadcast`, and the outgoing hook of their namespace with the event
    /// as it sees it (read back once for them all), if it has one.
    fn recipients(
        &self,
        broadcast: &Broadcast,
    ) -> (Recipients<Socket>, Option<(OutgoingHook, OutgoingEvent)>) {
        self.with_namespace(&broadcast.namespace, |namespace| {
            let recipients = namespace.matching(&broadcast.target, None);
            let hook = namespace
                .outgoing
                .and_then(|hook| Some((hook, OutgoingEvent::from_packet(&broadcast.packet)?)));
            (recipients, hook)
        })
    }

    /// Whether the server is still running.
    pub fn is_running(&self) -> bool {
        self.server.upgrade().is_some()
    }

    /// The namespaces this server declared as they are (not those made from patterns).
    pub fn namespaces(&self) -> Vec<Namespace> {
        let Some(server) = self.server.upgrade() else {
            return Vec::new();
        };
        let mut names: Vec<Namespace> = server
            .inner()
            .namespaces
            .values()
            .map(|namespace| namespace.name.clone())
            .collect();
        names.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        names
    }

    /// Delivers `broadcast` to the matching sockets of this process; returns how many it reached.
    ///
    /// Nothing waits on a recipient: each one's queue takes the shared bytes. A recipient whose
    /// queue is full is not reading, and its connection is closed.
    pub fn deliver(&self, broadcast: &Broadcast) -> usize {
        let (recipients, hook) = self.recipients(broadcast);
        for socket in recipients.iter() {
            if let Some((hook, event)) = &hook {
                outgoing::call(*hook, socket, event);
            }
            // A recipient whose queue is full is closed by the send itself.
            let _ = socket.send_packet(&broadcast.packet);
        }
        recipients.len()
    }

    /// A fresh ack id in `namespace`, for a packet to deliver with
    /// [`deliver_with_ack`](Self::deliver_with_ack); `None` for a namespace not served here.
    pub fn next_ack_id(&self, namespace: &Namespace) -> Option<AckId> {
        self.with_namespace(namespace, |namespace| Some(namespace.next_ack_id()))
    }

    /// Delivers `broadcast`, whose packet asks for ack `ack_id`, to the matching sockets of this
    /// process. Returns how many it reached and their answers, which end when each recipient
    /// answered, disconnected or let `timeout` pass.
    pub fn deliver_with_ack(
        &self,
        broadcast: &Broadcast,
        ack_id: AckId,
        timeout: Duration,
    ) -> (usize, BoxStream<'static, AckResponse>) {
        let (recipients, hook) = self.recipients(broadcast);
        let count = recipients.len();
        let waits: FuturesUnordered<_> = recipients
            .iter()
            .cloned()
            .map(|socket| {
                if let Some((hook, event)) = &hook {
                    outgoing::call(*hook, &socket, event);
                }
                let reply = socket.expect_ack(ack_id);
                let sent = socket.send_packet(&broadcast.packet);
                async move {
                    sent.ok()?;
                    socket.await_ack(ack_id, reply, timeout).await.ok()
                }
            })
            .collect();
        (count, waits.filter_map(std::future::ready).boxed())
    }

    /// Applies `operation` to the sockets of this process that `target` selects in `namespace`.
    pub fn apply(&self, namespace: &Namespace, target: &Target, operation: &Operation) {
        for socket in self.matching(namespace, target).iter() {
            match operation {
                Operation::Join(rooms) => {
                    for room in rooms {
                        socket.join_now(room.clone());
                    }
                }
                Operation::Leave(rooms) => {
                    for room in rooms {
                        socket.leave_now(room);
                    }
                }
                Operation::Disconnect { close: true } => {
                    close_connection(
                        socket.connection(),
                        DisconnectReason::ServerNamespaceDisconnect,
                    );
                }
                Operation::Disconnect { close: false } => {
                    socket.close(DisconnectReason::ServerNamespaceDisconnect, true);
                }
            }
        }
    }

    /// The sockets of this process that `target` selects in `namespace`.
    pub fn fetch_sockets(&self, namespace: &Namespace, target: &Target) -> Vec<RemoteSocket> {
        self.matching(namespace, target)
            .iter()
            .map(|socket| {
                RemoteSocket::new(
                    self,
                    namespace.clone(),
                    socket.id().clone(),
                    socket.rooms(),
                    handshake_json(socket),
                )
            })
            .collect()
    }

    /// Every room of `namespace` with at least one socket of this process (socket-id rooms
    /// included).
    pub fn rooms(&self, namespace: &Namespace) -> Vec<Room> {
        self.with_namespace(namespace, NamespaceInner::all_rooms)
    }
}

/// The handshake of a socket as Node's socket.io describes it to other processes.
fn handshake_json(socket: &Socket) -> RawJson {
    RawJson::from_value(&socket.handshake_details()).unwrap_or_else(|_| RawJson::null())
}
