//! One Engine.IO connection seen by the Socket.IO layer: a [`Client`] decodes its packets and
//! routes them to its namespace sockets without ever awaiting application code.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};

use sio_core::{CloseReason, DecodedPacket, Namespace, PacketDecoder, RawJson, SocketPacket};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::ack::AckResponse;
use crate::consumer::ConnectError;
use crate::disconnect_reason::DisconnectReason;
use crate::engine::sync::Mutex;
use crate::engine::{Connection, EngineHandler, HandshakeInfo, Message};
use crate::event::IncomingEvent;
use crate::server::ServerInner;
use crate::socket::Socket;

/// The Socket.IO state of one Engine.IO connection: the engine keeps it as the connection's
/// [`EngineHandler::Data`].
pub(crate) struct Client {
    decoder: Mutex<PacketDecoder>,
    sockets: Mutex<HashMap<Namespace, Socket>>,
    /// Whether a namespace was ever joined (the connect timeout then no longer applies).
    joined: AtomicBool,
    /// The connect-timeout task, ended at the first join (or the close) so an idle connection
    /// keeps no timer.
    connect_timer: Mutex<Option<tokio::task::AbortHandle>>,
}

impl Client {
    fn socket(&self, namespace: &Namespace) -> Option<Socket> {
        self.sockets.lock().get(namespace).cloned()
    }

    /// Takes every namespace socket off the connection.
    fn take_sockets(&self) -> Vec<Socket> {
        self.sockets
            .lock()
            .drain()
            .map(|(_, socket)| socket)
            .collect()
    }

    fn stop_connect_timer(&self) {
        if let Some(timer) = self.connect_timer.lock().take() {
            timer.abort();
        }
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

    fn connection_data(&self, _handshake: &HandshakeInfo) -> Client {
        Client {
            decoder: Mutex::new(PacketDecoder::new(self.config.max_attachments)),
            sockets: Mutex::new(HashMap::new()),
            joined: AtomicBool::new(false),
            connect_timer: Mutex::new(None),
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
        }
    }

    fn on_message(&self, connection: &Connection<Client>, message: Message) {
        let decoded = {
            let mut decoder = connection.data().decoder.lock();
            match message {
                Message::Text(text) => decoder.decode_text(text),
                Message::Binary(bytes) => decoder.decode_binary(bytes),
            }
        };
        match decoded {
            Ok(Some(decoded)) => self.route(connection, decoded),
            Ok(None) => {}
            Err(error) => {
                warn!(sid = %connection.sid(), %error, "undecodable Socket.IO packet; closing the connection");
                connection.close();
            }
        }
    }

    fn on_close(&self, connection: &Connection<Client>, reason: CloseReason) {
        let client = connection.data();
        client.stop_connect_timer();
        for socket in client.take_sockets() {
            socket.close(reason.into(), false);
        }
    }
}

impl ServerInner {
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
                let incoming = IncomingEvent::new(
                    event.name().to_owned(),
                    event.args().clone(),
                    attachments,
                    ack_id,
                    socket.clone(),
                );
                // Boxed: the channel reserves its slots up front, and a pointer per slot keeps an
                // idle socket's mailbox small.
                match socket.inner.mailbox.try_send(Box::new(incoming)) {
                    Ok(()) => {}
                    Err(mpsc::error::TrySendError::Full(_)) => {
                        warn!(
                            socket = %socket.id(),
                            capacity = self.config.mailbox_capacity,
                            "events arrive faster than the handler runs; disconnecting the socket"
                        );
                        client.sockets.lock().remove(&namespace);
                        socket.close(DisconnectReason::MailboxFull, true);
                    }
                    Err(mpsc::error::TrySendError::Closed(_)) => {}
                }
            }
            SocketPacket::Ack {
                namespace,
                ack_id,
                args,
                ..
            } => {
                if let Some(socket) = client.socket(&namespace) {
                    socket.resolve_ack(ack_id, AckResponse::new(args, attachments));
                }
            }
            SocketPacket::ConnectError { .. } => {
                warn!("client sent CONNECT_ERROR, which only servers send; closing");
                connection.close();
            }
        }
    }

    fn connect(
        &self,
        connection: &Connection<Client>,
        namespace: Namespace,
        auth: Option<RawJson>,
    ) {
        let client = connection.data();
        let (Some(inner), Some(server)) = (self.namespace(namespace.as_str()), self.handle())
        else {
            let packet = SocketPacket::ConnectError {
                namespace,
                data: ConnectError::new("Invalid namespace").payload(),
            };
            let _ = connection.send_frame(packet.encode());
            return;
        };
        let mut sockets = client.sockets.lock();
        if sockets.contains_key(&namespace) {
            debug!(namespace = %namespace, "second CONNECT to a joined namespace; ignored");
            return;
        }
        client.joined.store(true, Ordering::Relaxed);
        client.stop_connect_timer();
        let (mailbox, events) = mpsc::channel(self.config.mailbox_capacity);
        let (socket, disconnected) = Socket::new(
            std::sync::Arc::clone(inner),
            connection.clone(),
            server,
            mailbox,
            auth.clone(),
        );
        sockets.insert(namespace, socket.clone());
        drop(sockets);
        self.remember_socket(&socket);
        (inner.spawner)(socket, auth, events, disconnected);
    }
}
