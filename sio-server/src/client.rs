//! One Engine.IO connection seen by the Socket.IO layer: a [`Client`] decodes its packets and
//! routes them to its namespace sockets without ever awaiting application code.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sio_core::{
    CloseReason, DecodedPacket, EngineVersion, Namespace, PacketDecoder, RawJson, SocketPacket,
    Transport,
};
use tokio::sync::oneshot;
use tracing::{debug, error, warn};

use crate::ack::AckResponse;
use crate::consumer::{ConnectError, MailboxFull, MailboxLimits, Runner};
use crate::disconnect_reason::DisconnectReason;
use crate::engine::sync::Mutex;
use crate::engine::{Connection, EngineHandler, HandshakeInfo, Message};
use crate::event::IncomingEvent;
use crate::legacy;
use crate::metrics::counters::add;
use crate::namespace::NamespaceInner;
use crate::server::{Server, ServerInner};
use crate::socket::Socket;

/// The Socket.IO state of one Engine.IO connection: the engine keeps it as the connection's
/// [`EngineHandler::Data`].
pub(crate) struct Client {
    decoder: Mutex<Decoder>,
    sockets: Mutex<NamespaceSockets>,
    /// Whether a namespace was ever joined (the connect timeout then no longer applies).
    joined: AtomicBool,
    /// The connect-timeout task, ended at the first join (or the close) so an idle connection
    /// keeps no timer.
    connect_timer: Mutex<Option<tokio::task::AbortHandle>>,
    /// The deadline task of a binary packet waiting for its attachments.
    attachment_timer: Mutex<Option<tokio::task::AbortHandle>>,
    /// Whether the client speaks Socket.IO v2 (protocol 4, over Engine.IO v3).
    legacy: bool,
}

impl Client {
    /// Whether the client speaks Socket.IO v2 (see `legacy`).
    pub(crate) fn is_legacy(&self) -> bool {
        self.legacy
    }
}

/// The sockets of one connection, one per namespace joined. A list: a connection joins few
/// namespaces, and a map would cost every connection an allocation several times larger.
#[derive(Default)]
struct NamespaceSockets {
    sockets: Vec<Socket>,
    /// Who waits for the connection to move to WebSocket (see [`Socket::upgraded`]); under
    /// this lock, which costs no lock of its own.
    upgrade_waiters: Vec<oneshot::Sender<()>>,
    /// Whether a CONNECT was refused for being one namespace too many (warned once).
    over_namespace_cap: bool,
    /// The namespaces whose CONNECT waits for the channel layer to restore a session.
    restoring: Vec<Namespace>,
}

impl NamespaceSockets {
    fn get(&self, namespace: &Namespace) -> Option<&Socket> {
        self.sockets
            .iter()
            .find(|socket| socket.namespace() == namespace)
    }

    fn remove(&mut self, namespace: &Namespace) -> Option<Socket> {
        let index = self
            .sockets
            .iter()
            .position(|socket| socket.namespace() == namespace)?;
        // In join order, as the reference server tells them of a close.
        Some(self.sockets.remove(index))
    }
}

/// The connection's packet decoder, and how many binary packets began waiting (which names the
/// one a timer is for).
struct Decoder {
    packets: PacketDecoder,
    started: u64,
}

impl Client {
    fn socket(&self, namespace: &Namespace) -> Option<Socket> {
        self.sockets.lock().get(namespace).cloned()
    }

    /// Takes every namespace socket off the connection.
    fn take_sockets(&self) -> Vec<Socket> {
        std::mem::take(&mut self.sockets.lock().sockets)
    }

    fn stop_connect_timer(&self) {
        if let Some(timer) = self.connect_timer.lock().take() {
            timer.abort();
        }
    }

    fn stop_attachment_timer(&self) {
        if let Some(timer) = self.attachment_timer.lock().take() {
            timer.abort();
        }
    }

    /// Resolves once `connection` is on WebSocket (at once if it is), or never if it closes
    /// first (the sender is dropped).
    pub(crate) fn wait_for_upgrade(
        &self,
        connection: &Connection<Client>,
    ) -> Option<oneshot::Receiver<()>> {
        let mut sockets = self.sockets.lock();
        // Under the lock `on_upgrade` takes: an upgrade cannot slip between the look and the
        // registration.
        if connection.transport() == Transport::WebSocket || connection.is_closed() {
            return None;
        }
        // Waiters that gave up are let go of first: a connection that stays on polling keeps
        // only those still waiting.
        sockets.upgrade_waiters.retain(|waiter| !waiter.is_closed());
        let (sender, receiver) = oneshot::channel();
        sockets.upgrade_waiters.push(sender);
        Some(receiver)
    }

    /// Removes a socket that ended from its connection's namespaces, so the client may join
    /// again.
    pub(crate) fn forget(&self, socket: &Socket) {
        let mut sockets = self.sockets.lock();
        if sockets
            .get(socket.namespace())
            .is_some_and(|current| current.id() == socket.id())
        {
            sockets.remove(socket.namespace());
        }
    }
}

/// Closes `connection` the way the reference server does: each of its namespace sockets is told
/// with a DISCONNECT first, so clients see a server disconnect rather than a lost transport.
pub(crate) fn close_connection(connection: &Connection<Client>, reason: DisconnectReason) {
    for socket in connection.data().take_sockets() {
        socket.close(reason, true);
    }
    connection.close();
}

/// The Socket.IO server is the engine's handler.
impl EngineHandler for ServerInner {
    type Data = Client;

    fn connection_data(&self, handshake: &HandshakeInfo) -> Client {
        Client {
            decoder: Mutex::new(Decoder {
                packets: PacketDecoder::for_parser(self.config.parser, self.config.decoder),
                started: 0,
            }),
            sockets: Mutex::new(NamespaceSockets::default()),
            joined: AtomicBool::new(false),
            connect_timer: Mutex::new(None),
            attachment_timer: Mutex::new(None),
            legacy: handshake.engine_version() == Some(EngineVersion::V3),
        }
    }

    fn on_open(&self, connection: &Connection<Client>) {
        // A connection that joins no namespace in time is closed.
        let timeout = self.config.connect_timeout;
        let watched = connection.clone();
        let timer = tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if !watched.data().joined.load(Ordering::Relaxed) && !watched.is_closed() {
                debug!(sid = %watched.sid(), "no namespace joined in time; closing");
                watched.close();
            }
        });
        *connection.data().connect_timer.lock() = Some(timer.abort_handle());
        // Closed meanwhile (on another task, before the timer was stored): `on_close` found no
        // timer to stop, so stop it here rather than let it hold the connection.
        if connection.is_closed() {
            connection.data().stop_connect_timer();
            return;
        }
        // A v2 client is connected to `/` by the server, and waits for it.
        if connection.data().legacy {
            self.connect(connection, Namespace::root(), None);
        }
    }

    fn on_message(&self, connection: &Connection<Client>, message: Message) {
        let client = connection.data();
        self.count(|counters| {
            let bytes = match &message {
                Message::Text(text) => text.len(),
                Message::Binary(bytes) => bytes.len(),
            };
            add(&counters.bytes_received, bytes as u64);
            add(&counters.packets_received, 1);
        });
        let (decoded, waiting) = {
            let mut decoder = client.decoder.lock();
            let was_waiting = decoder.packets.is_waiting();
            let decoded = match message {
                Message::Text(text) if client.legacy && text.starts_with('0') => {
                    let text = legacy::connect_with_query_as_auth(&text).unwrap_or(text);
                    decoder.packets.decode_text(text)
                }
                Message::Text(text) => decoder.packets.decode_text(text),
                Message::Binary(bytes) => decoder.packets.decode_binary(bytes),
            };
            // A binary packet that just began waiting gets a deadline for the rest.
            let started = !was_waiting && decoder.packets.is_waiting();
            if started {
                decoder.started += 1;
            }
            (decoded, started.then_some(decoder.started))
        };
        if let Some(packet) = waiting {
            self.expect_attachments(connection, packet);
        }
        match decoded {
            Ok(Some(decoded)) => {
                if decoded.packet.attachments() > 0 {
                    client.stop_attachment_timer();
                }
                self.route(connection, decoded);
            }
            Ok(None) => {}
            Err(error) => {
                warn!(sid = %connection.sid(), %error, "undecodable Socket.IO packet; closing the connection");
                connection.close_for_violation();
            }
        }
    }

    fn on_upgrade(&self, connection: &Connection<Client>) {
        self.count(|counters| add(&counters.upgrades, 1));
        #[cfg(feature = "admin")]
        if self.notifier.is_some() {
            let sockets = connection.data().sockets.lock().sockets.clone();
            for socket in &sockets {
                self.notify(|admin| admin.upgraded(socket));
            }
        }
        let waiters = std::mem::take(&mut connection.data().sockets.lock().upgrade_waiters);
        for waiter in waiters {
            let _ = waiter.send(());
        }
    }

    fn on_close(&self, connection: &Connection<Client>, reason: CloseReason) {
        let client = connection.data();
        client.stop_connect_timer();
        client.stop_attachment_timer();
        // Those waiting for an upgrade learn it will not come.
        drop(std::mem::take(&mut client.sockets.lock().upgrade_waiters));
        for socket in client.take_sockets() {
            socket.close(reason.into(), false);
        }
    }
}

impl ServerInner {
    /// Binary packet number `packet` of this connection waits for its attachments: if they
    /// are not all in within `attachment_timeout`, the connection is closed and the packet
    /// dropped.
    fn expect_attachments(&self, connection: &Connection<Client>, packet: u64) {
        let timeout = self.config.attachment_timeout;
        let watched = connection.clone();
        let task = tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            let client = watched.data();
            let unfinished = {
                let decoder = client.decoder.lock();
                decoder.started == packet && decoder.packets.is_waiting()
            };
            if unfinished {
                warn!(
                    sid = %watched.sid(),
                    timeout_ms = timeout.as_millis() as u64,
                    "a binary packet's attachments did not all arrive in time; closing the connection"
                );
                watched.close_for_violation();
            }
        });
        let previous = connection
            .data()
            .attachment_timer
            .lock()
            .replace(task.abort_handle());
        if let Some(previous) = previous {
            previous.abort();
        }
        // Closed meanwhile: `on_close` may have found no timer to stop.
        if connection.is_closed() {
            connection.data().stop_attachment_timer();
        }
    }

    fn route(&self, connection: &Connection<Client>, decoded: DecodedPacket) {
        let client = connection.data();
        let DecodedPacket {
            packet,
            attachments,
        } = decoded;
        match packet {
            SocketPacket::Connect { namespace, data } => {
                self.connect(connection, namespace, data);
            }
            SocketPacket::Disconnect { namespace } => {
                let socket = client.sockets.lock().remove(&namespace);
                if let Some(socket) = socket {
                    socket.close(DisconnectReason::ClientNamespaceDisconnect, false);
                }
            }
            SocketPacket::Event {
                namespace,
                ack_id,
                event,
                ..
            } => {
                let Some(socket) = client.socket(&namespace) else {
                    debug!(namespace = %namespace, "event for a namespace not joined; ignored");
                    return;
                };
                self.count(|counters| add(&counters.events_received, 1));
                let incoming = IncomingEvent::new(
                    event.shared_name(),
                    event.args().clone(),
                    attachments,
                    ack_id,
                    socket.clone(),
                    self.config.decoder.max_repeated_bytes,
                );
                #[cfg(feature = "admin")]
                self.notify(|admin| admin.event_received(&socket, &incoming));
                let limits = MailboxLimits {
                    capacity: self.config.mailbox_capacity,
                    bytes: self.config.mailbox_bytes,
                };
                if Runner::deliver(&socket, Box::new(incoming), limits) == Err(MailboxFull) {
                    warn!(
                        socket = %socket.id(),
                        capacity = limits.capacity,
                        bytes = limits.bytes,
                        "events arrive faster than the handler runs; disconnecting the socket"
                    );
                    client.sockets.lock().remove(&namespace);
                    socket.close(DisconnectReason::MailboxFull, true);
                }
            }
            SocketPacket::Ack {
                namespace,
                ack_id,
                args,
                ..
            } => {
                if let Some(socket) = client.socket(&namespace) {
                    let max_expansion = self.config.decoder.max_repeated_bytes;
                    let response = AckResponse::with_expansion(args, attachments, max_expansion);
                    socket.resolve_ack(ack_id, response);
                }
            }
            SocketPacket::ConnectError { .. } => {
                warn!("client sent CONNECT_ERROR, which only servers send; closing");
                connection.close();
            }
        }
    }

    /// The socket a client's earlier session makes, if recovery is on, its CONNECT names a
    /// session (`pid`) and its last offset, and both are still known; as Node, any other auth
    /// makes a fresh socket.
    fn recover(
        &self,
        namespace: &Arc<NamespaceInner>,
        connection: &Connection<Client>,
        server: &Server,
        auth: Option<&RawJson>,
    ) -> Option<Socket> {
        let recovery = self.recovery.as_ref()?;
        let Resume { pid, offset } = auth?.deserialize().ok()?;
        let restored = recovery.restore(&namespace.name, &pid, &offset, |restored| {
            Socket::restore(
                Arc::clone(namespace),
                connection.clone(),
                server.clone(),
                auth.cloned(),
                restored,
            )
        });
        match &restored {
            Some(socket) => {
                debug!(socket = %socket.id(), namespace = %namespace.name, "session recovered");
            }
            None => debug!(namespace = %namespace.name, "session not recovered; a fresh socket"),
        }
        restored
    }

    fn connect(
        &self,
        connection: &Connection<Client>,
        namespace: Namespace,
        auth: Option<RawJson>,
    ) {
        let client = connection.data();
        if self
            .handle()
            .is_some_and(|server| server.is_shutting_down())
        {
            // Its session is about to end, and the client to come back elsewhere: neither
            // admitted nor refused (a refusal would keep it from retrying).
            debug!(namespace = %namespace, "CONNECT during a shutdown; ignored");
            return;
        }
        {
            let mut sockets = client.sockets.lock();
            if sockets.get(&namespace).is_some() || sockets.restoring.contains(&namespace) {
                debug!(namespace = %namespace, "second CONNECT to a joined namespace; ignored");
                return;
            }
            let max = self.config.max_namespaces_per_connection;
            if sockets.sockets.len() + sockets.restoring.len() >= max {
                let first = !std::mem::replace(&mut sockets.over_namespace_cap, true);
                drop(sockets);
                if first {
                    warn!(
                        namespace = %namespace, max,
                        "a connection is in as many namespaces as it may; its CONNECTs beyond are \
                         refused (logged once per connection; see `max_namespaces_per_connection`)"
                    );
                }
                let packet = SocketPacket::ConnectError {
                    namespace,
                    data: ConnectError::new("too many namespaces on one connection").payload(),
                };
                let _ = connection.send_frame(packet.encode_as(self.config.parser));
                return;
            }
        }
        let Some(server) = self.handle() else {
            return;
        };
        let Some(inner) = self.attach_namespace(namespace.as_str()) else {
            let packet = SocketPacket::ConnectError {
                namespace,
                data: ConnectError::new("Invalid namespace").payload(),
            };
            let _ = connection.send_frame(packet.encode_as(self.config.parser));
            return;
        };
        // The factory is application code: it runs outside the lock, and a panic costs only
        // this CONNECT. (A connection's packets are handled one at a time: no other CONNECT
        // can join this namespace meanwhile.)
        let made = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (inner.factory)()));
        let Ok(consumer) = made else {
            self.detach_namespace(&inner);
            error!(
                namespace = %namespace,
                "the consumer factory panicked; the client gets a connect error"
            );
            let packet = SocketPacket::ConnectError {
                namespace,
                data: ConnectError::new("server error").payload(),
            };
            let _ = connection.send_frame(packet.encode_as(self.config.parser));
            return;
        };
        let mut sockets = client.sockets.lock();
        client.joined.store(true, Ordering::Relaxed);
        client.stop_connect_timer();
        if let Some(resume) = self.resume_from_layer(auth.as_ref()) {
            // The layer's store answers later: the namespace is taken meanwhile, so that a
            // second CONNECT to it is ignored.
            sockets.restoring.push(namespace);
            drop(sockets);
            tokio::spawn(restore_then_connect(
                connection.clone(),
                inner,
                server,
                consumer,
                auth,
                resume,
            ));
            return;
        }
        let socket = match self.recover(&inner, connection, &server, auth.as_ref()) {
            Some(restored) => restored,
            None => Socket::new(inner, connection.clone(), server, auth.clone()),
        };
        sockets.sockets.push(socket.clone());
        drop(sockets);
        self.remember_socket(&socket);
        // `connect` runs here, and answers here unless it awaits something.
        Runner::connect(&socket, consumer, auth);
    }

    /// The client's `pid` and `offset`, when the channel layer keeps the sessions.
    fn resume_from_layer(&self, auth: Option<&RawJson>) -> Option<Resume> {
        self.recovery
            .as_ref()
            .filter(|recovery| recovery.in_layer)?;
        auth?.deserialize().ok()
    }
}

/// What a client that comes back sends in its CONNECT auth (with other fields of its own).
#[derive(serde::Deserialize)]
struct Resume {
    pid: String,
    offset: String,
}

/// Restores the client's session from the channel layer's store, or makes a fresh socket if
/// it cannot, then runs `connect` as a synchronous CONNECT would. Nothing is made if the
/// connection closed meanwhile.
async fn restore_then_connect(
    connection: Connection<Client>,
    namespace: Arc<NamespaceInner>,
    server: Server,
    consumer: Box<dyn crate::consumer::ErasedConsumer>,
    auth: Option<RawJson>,
    resume: Resume,
) {
    let client = connection.data();
    // Taken off the namespaces being restored, and put in its place, under one lock; nothing
    // if the connection closed (its sockets were taken then, or will be from this lock on).
    let admit = |socket: Option<Socket>| {
        let mut sockets = client.sockets.lock();
        sockets.restoring.retain(|name| *name != namespace.name);
        // As a CONNECT during a shutdown: neither admitted nor refused.
        if connection.is_closed() || server.is_shutting_down() {
            return None;
        }
        let socket = socket.unwrap_or_else(|| {
            Socket::new(
                Arc::clone(&namespace),
                connection.clone(),
                server.clone(),
                auth.clone(),
            )
        });
        sockets.sockets.push(socket.clone());
        // Under the connection's lock, as its close takes the socket off it: a close that
        // comes later forgets it too.
        server.inner().remember_socket(&socket);
        Some(socket)
    };
    let restored = crate::recovery::restore_from_layer(
        &server,
        &namespace.name,
        &resume.pid,
        &resume.offset,
        || connection.is_closed(),
        |restored| {
            let socket = Socket::restore(
                Arc::clone(&namespace),
                connection.clone(),
                server.clone(),
                auth.clone(),
                restored,
            );
            let admitted = admit(Some(socket.clone()));
            if admitted.is_none() {
                // Made in its namespace and rooms, for a connection already gone.
                socket.inner.namespace.remove(&socket);
            }
            admitted
        },
    )
    .await;
    let socket = match restored {
        Some(socket) => {
            debug!(socket = %socket.id(), namespace = %namespace.name, "session recovered from the channel layer");
            socket
        }
        None => {
            debug!(namespace = %namespace.name, "session not recovered; a fresh socket");
            let Some(socket) = admit(None) else {
                server.inner().detach_namespace(&namespace);
                return;
            };
            socket
        }
    };
    Runner::connect(&socket, consumer, auth);
}
