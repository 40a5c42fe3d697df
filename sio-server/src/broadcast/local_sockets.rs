//! The sockets of this process, as a channel layer sees them.

use std::borrow::Cow;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::{BoxStream, FuturesUnordered};
use sio_core::{AckId, EncodedPacket, Namespace, RawJson};

use crate::ack::AckResponse;
use crate::broadcast::acks::AckEvent;
use crate::broadcast::layer::{Broadcast, Operation};
use crate::broadcast::remote_socket::RemoteSocket;
use crate::broadcast::target::{Room, Target};
use crate::client::close_connection;
use crate::disconnect_reason::DisconnectReason;
use crate::metrics::counters::add;
use crate::namespace::{NamespaceInner, Recipients};
use crate::recovery::Recovery;
use crate::server::{ServerInner, WeakServer};
use crate::server_events::ServerEvent;
use crate::socket::EmitError;
use crate::socket::outgoing::{self, OutgoingEvent, OutgoingHook};
use crate::socket::{Socket, SocketId};

/// The sockets of this process, for a [`ChannelLayer`](crate::broadcast::ChannelLayer) to
/// deliver to and act on. Cheap to clone; it does not keep the server alive, and once the server
/// is gone every method finds no sockets.
#[derive(Debug, Clone)]
pub struct LocalSockets {
    pub(crate) server: WeakServer,
}

impl LocalSockets {
    /// Runs `each` on the namespaces `name` selects in this process: the one of that name, or
    /// for a pattern every namespace made from it now. Nothing once the server is gone.
    fn for_each_namespace(&self, name: &Namespace, each: impl FnMut(&NamespaceInner)) {
        if let Some(server) = self.server.upgrade() {
            server.inner().for_each_namespace(name.as_str(), each);
        }
    }

    /// How the server encodes packets: a layer encodes what it delivers for this parser (the
    /// default once the server is gone).
    ///
    /// ```
    /// use sio_server::broadcast::{Broadcast, ChannelLayer, LocalSockets};
    ///
    /// struct Logging;
    ///
    /// impl ChannelLayer for Logging {
    ///     fn broadcast(&self, broadcast: &Broadcast, local: &LocalSockets) {
    ///         // A packet arriving from elsewhere would be encoded for this parser.
    ///         tracing::debug!(parser = ?local.parser(), "broadcast");
    ///         local.deliver(broadcast);
    ///     }
    /// }
    /// ```
    pub fn parser(&self) -> sio_core::Parser {
        self.server
            .upgrade()
            .map_or_else(Default::default, |server| server.inner().config.parser)
    }

    /// Whether the server is still running.
    pub fn is_running(&self) -> bool {
        self.server.upgrade().is_some()
    }

    /// The namespaces this server declared as they are, for consumers or for
    /// [server-side events](crate::ServerEvents) (not those made from patterns), sorted.
    pub fn namespaces(&self) -> Vec<Namespace> {
        let Some(server) = self.server.upgrade() else {
            return Vec::new();
        };
        let inner = server.inner();
        let mut names: Vec<Namespace> = inner
            .namespaces
            .values()
            .map(|namespace| namespace.name.clone())
            .chain(
                inner
                    .server_events
                    .keys()
                    .filter_map(|name| Namespace::new(name.clone()).ok()),
            )
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Hands a server-side event another process sent to the
    /// [`ServerEvents`](crate::ServerEvents) handler of `namespace` in this process; `false`
    /// when there is none (the event is dropped, unanswered, as Node drops one nobody listens
    /// to) or its mailbox is full.
    pub fn server_side_event(&self, namespace: &Namespace, event: ServerEvent) -> bool {
        let Some(server) = self.server.upgrade() else {
            return false;
        };
        let Some(mailbox) = server.inner().server_events.get(namespace.as_str()) else {
            return false;
        };
        mailbox.deliver(event, &self.server)
    }

    /// The patterns consumers were declared for (`/workspace/{id}`), in declaration order.
    /// Every method here takes a pattern as a namespace that stands for every namespace made
    /// from it in this process; [`ChannelLayer::namespace_created`] and
    /// [`namespace_removed`](crate::broadcast::ChannelLayer::namespace_removed) tell which
    /// those are (but for one still waiting for its pattern's predicate).
    ///
    /// [`ChannelLayer::namespace_created`]: crate::broadcast::ChannelLayer::namespace_created
    pub fn patterns(&self) -> Vec<Namespace> {
        self.server
            .upgrade()
            .map(|server| server.inner().patterns())
            .unwrap_or_default()
    }

    /// The pattern a namespace named `namespace` is made from, whether or not this process has
    /// it now (`/workspace/7` → `/workspace/{id}`); `None` for a name declared as it is, or that
    /// no pattern matches. A layer can reach through the pattern the namespaces that exist
    /// only in other processes.
    pub fn pattern_of(&self, namespace: &Namespace) -> Option<Namespace> {
        self.server
            .upgrade()?
            .inner()
            .pattern_of(namespace.as_str())
    }

    /// Delivers `broadcast`, the entry at `offset` of the log of a layer that keeps connection
    /// state recovery (see [`SessionStore`](crate::broadcast::SessionStore)), at `position` in
    /// the log's order: with recovery on and not volatile, the event goes with `offset` as its
    /// last argument, and a socket restored with it among its missed events skips it. A layer
    /// calls it in the log's order. Otherwise, as [`deliver`](Self::deliver).
    pub fn deliver_logged(&self, broadcast: &Broadcast, offset: &str, position: u128) -> usize {
        let Some(server) = self.server.upgrade() else {
            return 0;
        };
        let inner = server.inner();
        match inner.recovery.as_ref().filter(|_| !broadcast.volatile) {
            Some(recovery) => {
                let offset = RawJson::from_value(&offset).unwrap_or_else(|_| RawJson::null());
                let reached =
                    deliver_recorded(inner, recovery, broadcast, Some((&offset, position)));
                count_broadcast(inner, reached);
                reached
            }
            None => self.deliver(broadcast),
        }
    }

    /// Delivers `broadcast` to the matching sockets of this process; returns how many it reached.
    ///
    /// Nothing waits on a recipient: each one's queue takes the shared bytes. A recipient whose
    /// queue is full is not reading, and its connection is closed; a volatile broadcast skips
    /// every recipient whose transport does not take it at once. A broadcast to a pattern is
    /// re-addressed to each namespace made from it.
    pub fn deliver(&self, broadcast: &Broadcast) -> usize {
        let Some(server) = self.server.upgrade() else {
            return 0;
        };
        let server = server.inner();
        // With recovery on, the event is kept with its offset before it goes (volatile ones
        // are not kept, as in Node).
        // With a layer that keeps the log, it is one of the layer's own (Redis unreachable):
        // sent without an offset.
        if let Some(recovery) = server.recovery.as_ref()
            && !broadcast.volatile
            && !recovery.in_layer
        {
            let reached = deliver_recorded(server, recovery, broadcast, None);
            count_broadcast(server, reached);
            return reached;
        }
        let mut reached = 0;
        server.for_each_namespace(broadcast.namespace.as_str(), |namespace| {
            let packet = addressed(&broadcast.packet, &broadcast.namespace, namespace);
            let recipients = namespace.matching(&broadcast.target, None);
            let hook = outgoing_hook(namespace, &packet);
            for socket in recipients.iter() {
                if let Some((hook, event)) = &hook {
                    outgoing::call(*hook, socket, event);
                }
                // A recipient whose queue is full is closed by the send itself.
                let sent = if broadcast.volatile {
                    socket.send_volatile(&packet) == Ok(true)
                } else {
                    socket.send_packet(&packet).is_ok()
                };
                reached += usize::from(sent);
            }
        });
        count_broadcast(server, reached);
        reached
    }

    /// A fresh ack id in `namespace` (unique in each namespace of a pattern), for a packet to
    /// deliver with [`deliver_with_ack`](Self::deliver_with_ack); `None` for a namespace not
    /// served here.
    pub fn next_ack_id(&self, namespace: &Namespace) -> Option<AckId> {
        self.server
            .upgrade()?
            .inner()
            .next_ack_id(namespace.as_str())
    }

    /// Delivers `broadcast`, whose packet asks for ack `ack_id`, to the matching sockets of this
    /// process: which they are, and their answers, which end when each recipient answered,
    /// disconnected or let `timeout` pass.
    pub fn deliver_with_ack(
        &self,
        broadcast: &Broadcast,
        ack_id: AckId,
        timeout: Duration,
    ) -> LocalAcks {
        let waits = FuturesUnordered::new();
        let mut sent = Vec::new();
        let mut written_count = 0;
        self.for_each_namespace(&broadcast.namespace, |namespace| {
            let packet = addressed(&broadcast.packet, &broadcast.namespace, namespace);
            let hook = outgoing_hook(namespace, &packet);
            for socket in namespace.matching(&broadcast.target, None).iter() {
                if let Some((hook, event)) = &hook {
                    outgoing::call(*hook, socket, event);
                }
                let reply = socket.expect_ack(ack_id);
                let written = socket.send_packet(&packet);
                written_count += usize::from(written.is_ok());
                let socket = socket.clone();
                sent.push(socket.id().clone());
                waits.push(async move {
                    written.ok()?;
                    let answer = socket.await_ack(ack_id, reply, timeout).await.ok()?;
                    Some((socket.id().clone(), answer))
                });
            }
        });
        if let Some(server) = self.server.upgrade() {
            count_broadcast(server.inner(), written_count);
        }
        LocalAcks {
            sent,
            answers: waits.filter_map(std::future::ready).boxed(),
        }
    }

    /// Applies `operation` to the sockets of this process that `target` selects in `namespace`.
    pub fn apply(&self, namespace: &Namespace, target: &Target, operation: &Operation) {
        let mut selected = Vec::new();
        self.for_each_namespace(namespace, |namespace| {
            selected.push(namespace.matching(target, None));
        });
        for socket in selected.iter().flat_map(Recipients::iter) {
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

    /// The sockets of this process that `target` selects in `namespace`, each with the
    /// namespace it is in (for a pattern, the one made from it).
    pub fn fetch_sockets(&self, namespace: &Namespace, target: &Target) -> Vec<RemoteSocket> {
        // With the Admin UI in development mode, a socket's data carries `_admin`, as Node's.
        #[cfg(feature = "admin")]
        let admin_details = self
            .server
            .upgrade()
            .is_some_and(|server| server.inner().notifier.is_some());
        #[cfg(not(feature = "admin"))]
        let admin_details = false;
        let mut sockets = Vec::new();
        self.for_each_namespace(namespace, |namespace| {
            let found = namespace.matching(target, None);
            sockets.extend(
                found
                    .iter()
                    .map(|socket| describe_with(self, socket, admin_details)),
            );
        });
        sockets
    }

    /// Every room of `namespace` with at least one socket of this process (socket-id rooms
    /// included), sorted.
    pub fn rooms(&self, namespace: &Namespace) -> Vec<Room> {
        let mut rooms = Vec::new();
        self.for_each_namespace(namespace, |namespace| {
            rooms.extend(namespace.all_rooms());
        });
        rooms.sort();
        rooms.dedup();
        rooms
    }
}

/// The sockets of this process a broadcast with ack went to, and their answers, from
/// [`LocalSockets::deliver_with_ack`].
#[non_exhaustive]
pub struct LocalAcks {
    /// The sockets the event was sent to.
    pub sent: Vec<SocketId>,
    /// Each answer with its socket, as it comes; ends when each socket answered, disconnected
    /// or let the timeout pass.
    pub answers: BoxStream<'static, (SocketId, AckResponse)>,
}

impl LocalAcks {
    /// As [`AckEvent`]s: where the event went, then the answers.
    pub fn events(self) -> BoxStream<'static, AckEvent> {
        let sent = futures_util::stream::once(std::future::ready(AckEvent::Sent(self.sent)));
        let answers = self
            .answers
            .map(|(socket, answer)| AckEvent::Answered(Some(socket), answer));
        sent.chain(answers).boxed()
    }
}

impl std::fmt::Debug for LocalAcks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalAcks")
            .field("sent", &self.sent)
            .finish_non_exhaustive()
    }
}

/// The packet of a broadcast to `to`, one of the namespaces its name selects: the same bytes,
/// unless the broadcast named a pattern.
fn addressed<'a>(
    packet: &'a EncodedPacket,
    to: &Namespace,
    namespace: &NamespaceInner,
) -> Cow<'a, EncodedPacket> {
    if namespace.name == *to {
        Cow::Borrowed(packet)
    } else {
        Cow::Owned(packet.for_namespace(&namespace.name))
    }
}

/// A broadcast reached `reached` sockets of this process: each an event sent.
fn count_broadcast(server: &ServerInner, reached: usize) {
    server.count(|counters| {
        let reached = reached as u64;
        add(&counters.broadcasts, 1);
        add(&counters.broadcast_recipients, reached);
        add(&counters.events_sent, reached);
    });
}

/// Delivers `broadcast` with recovery on: in each namespace the event is kept with its offset
/// (or, for `logged`, an entry of the layer's log, given its offset) and queued to its
/// recipients in one step (their sockets are found after it is kept, so a socket restored
/// meanwhile has it either among its missed events or live, never both); the recipients whose
/// queue is full are closed, and the outgoing hooks run, once that is done.
fn deliver_recorded(
    server: &ServerInner,
    recovery: &Recovery,
    broadcast: &Broadcast,
    logged: Option<(&RawJson, u128)>,
) -> usize {
    let mut reached = 0;
    let mut full = Vec::new();
    let mut notices = Vec::new();
    // What the Admin UI is told once the lock is released (what it emits is a broadcast too).
    #[cfg(feature = "admin")]
    let mut sent_to = Vec::new();
    {
        let mut sending = recovery.sending.lock();
        if let Some((_, position)) = logged {
            *sending = (*sending).max(position);
        }
        server.for_each_namespace(broadcast.namespace.as_str(), |namespace| {
            let packet = addressed(&broadcast.packet, &broadcast.namespace, namespace);
            let (packet, number) = match logged {
                Some((offset, position)) => (packet.with_last_arg(offset), position),
                None => recovery.record(&namespace.name, &broadcast.target, &packet),
            };
            let recipients = namespace.matching(&broadcast.target, None);
            for socket in recipients.iter() {
                match socket.queue_recorded(&packet, number) {
                    Ok(sent) => {
                        reached += usize::from(sent);
                        #[cfg(feature = "admin")]
                        if sent && server.notifier.is_some() {
                            sent_to.push((socket.clone(), packet.clone()));
                        }
                    }
                    Err(EmitError::QueueFull) => full.push(socket.clone()),
                    Err(_) => {}
                }
            }
            if let Some(notice) = outgoing_hook(namespace, &packet) {
                notices.push((notice, recipients));
            }
        });
    }
    for socket in full {
        socket.close_not_reading();
    }
    #[cfg(feature = "admin")]
    for (socket, packet) in sent_to {
        server.notify(|admin| admin.event_sent(&socket, &packet));
    }
    for ((hook, event), recipients) in notices {
        for socket in recipients.iter() {
            outgoing::call(hook, socket, &event);
        }
    }
    reached
}

/// The outgoing hook of `namespace`, if it has one, with the event as it sees it (read back
/// once for every recipient).
fn outgoing_hook(
    namespace: &NamespaceInner,
    packet: &EncodedPacket,
) -> Option<(OutgoingHook, OutgoingEvent)> {
    let hook = namespace.outgoing?;
    Some((hook, OutgoingEvent::from_packet(packet)?))
}

/// A local socket as another process (or the Admin UI) sees it.
#[cfg(feature = "admin")]
pub(crate) fn describe(socket: &Socket, admin_details: bool) -> RemoteSocket {
    let local = socket.server().inner().local.clone();
    describe_with(&local, socket, admin_details)
}

fn describe_with(local: &LocalSockets, socket: &Socket, admin_details: bool) -> RemoteSocket {
    let described = RemoteSocket::new(
        local,
        socket.namespace().clone(),
        socket.id().clone(),
        socket.rooms(),
        handshake_json(socket),
    );
    #[cfg(feature = "admin")]
    if admin_details {
        let data = socket
            .data()
            .deserialize()
            .unwrap_or(serde_json::Value::Null);
        let data = crate::admin::with_admin(data, crate::admin::admin_data(socket));
        if let Ok(data) = RawJson::from_value(&data) {
            return described.with_data(data);
        }
    }
    let _ = admin_details;
    described.with_data(socket.data())
}

/// The handshake of a socket as Node's socket.io describes it to other processes.
fn handshake_json(socket: &Socket) -> RawJson {
    RawJson::from_value(&socket.handshake_details()).unwrap_or_else(|_| RawJson::null())
}
