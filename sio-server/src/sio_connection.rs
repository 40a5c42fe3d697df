//! One Engine.IO connection seen by the Socket.IO layer: decodes its packets and routes them
//! without ever awaiting application code.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sio_core::{CloseReason, DecodedPacket, Namespace, PacketDecoder, SocketPacket};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::ack::AckResponse;
use crate::registry::random_id;
use crate::server::ServerInner;
use crate::{
    ConnectError, Connection, DisconnectReason, EngineHandler, IncomingEvent, Message, Socket,
    SocketId,
};

/// The Socket.IO state of one Engine.IO connection.
struct SioConnection {
    decoder: Mutex<PacketDecoder>,
    sockets: Mutex<HashMap<Namespace, Socket>>,
    /// Whether a namespace was ever joined (the connect timeout then no longer applies).
    joined: AtomicBool,
    /// The connect-timeout task, ended at the first join so an idle connection keeps no timer.
    connect_timer: Mutex<Option<tokio::task::AbortHandle>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}

/// The engine handler of a Socket.IO server.
pub(crate) struct SioHandler(pub(crate) Arc<ServerInner>);

impl SioHandler {
    fn state(connection: &Connection) -> Option<Arc<SioConnection>> {
        connection
            .shared
            .upper
            .get()
            .and_then(|state| Arc::clone(state).downcast::<SioConnection>().ok())
    }

    fn route(&self, connection: &Connection, state: &SioConnection, decoded: DecodedPacket) {
        let DecodedPacket {
            packet,
            attachments,
        } = decoded;
        match packet {
            SocketPacket::Connect { namespace, data } => {
                self.connect(connection, state, namespace, data);
            }
            SocketPacket::Disconnect { namespace } => {
                let socket = lock(&state.sockets).remove(&namespace);
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
                let Some(socket) = lock(&state.sockets).get(&namespace).cloned() else {
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
                            capacity = self.0.config.mailbox_capacity,
                            "events arrive faster than the handler runs; disconnecting the socket"
                        );
                        lock(&state.sockets).remove(&namespace);
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
                if let Some(socket) = lock(&state.sockets).get(&namespace).cloned() {
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
        connection: &Connection,
        state: &SioConnection,
        namespace: Namespace,
        auth: Option<sio_core::RawJson>,
    ) {
        let Some(inner) = self.0.namespace(namespace.as_str()).cloned() else {
            let packet = SocketPacket::ConnectError {
                namespace,
                data: ConnectError::new("Invalid namespace").payload(),
            };
            let _ = connection.send_frame(packet.encode());
            return;
        };
        let mut sockets = lock(&state.sockets);
        if sockets.contains_key(&namespace) {
            debug!(namespace = %namespace, "second CONNECT to a joined namespace; ignored");
            return;
        }
        state.joined.store(true, Ordering::Relaxed);
        if let Some(timer) = lock(&state.connect_timer).take() {
            timer.abort();
        }
        let (mailbox, events) = mpsc::channel(self.0.config.mailbox_capacity);
        let (socket, disconnected) = Socket::new(
            SocketId(Arc::from(random_id())),
            Arc::clone(&inner),
            connection.clone(),
            Arc::clone(&self.0),
            mailbox,
            auth.clone(),
        );
        sockets.insert(namespace, socket.clone());
        drop(sockets);
        self.0.remember_socket(&socket);
        (inner.spawner)(socket, auth, events, disconnected);
    }
}

impl EngineHandler for SioHandler {
    fn on_open(&self, connection: &Connection) {
        let state = Arc::new(SioConnection {
            decoder: Mutex::new(PacketDecoder::new(self.0.config.max_attachments)),
            sockets: Mutex::new(HashMap::new()),
            joined: AtomicBool::new(false),
            connect_timer: Mutex::new(None),
        });
        let _ = connection.shared.upper.set(Arc::clone(&state) as _);
        // A connection that joins no namespace in time is closed.
        let timeout = self.0.config.connect_timeout;
        let watched = connection.clone();
        let joined = Arc::clone(&state);
        let timer = tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if !joined.joined.load(Ordering::Relaxed) && !watched.is_closed() {
                debug!(sid = %watched.sid(), "no namespace joined in time; closing");
                watched.close();
            }
        });
        *lock(&state.connect_timer) = Some(timer.abort_handle());
    }

    fn on_message(&self, connection: &Connection, message: Message) {
        let Some(state) = Self::state(connection) else {
            return;
        };
        let decoded = {
            let mut decoder = lock(&state.decoder);
            match message {
                Message::Text(text) => decoder.decode_text(text),
                Message::Binary(bytes) => decoder.decode_binary(bytes),
            }
        };
        match decoded {
            Ok(Some(decoded)) => self.route(connection, &state, decoded),
            Ok(None) => {}
            Err(error) => {
                warn!(sid = %connection.sid(), %error, "undecodable Socket.IO packet; closing the connection");
                connection.close();
            }
        }
    }

    fn on_close(&self, connection: &Connection, reason: CloseReason) {
        let Some(state) = Self::state(connection) else {
            return;
        };
        let sockets: Vec<Socket> = lock(&state.sockets).drain().map(|(_, s)| s).collect();
        for socket in sockets {
            socket.close(reason.into(), false);
        }
    }
}

/// Removes a socket that ended from its connection's namespaces, so the client may join again.
pub(crate) fn forget(socket: &Socket) {
    let Some(state) = SioHandler::state(socket.connection()) else {
        return;
    };
    let mut sockets = lock(&state.sockets);
    if sockets
        .get(socket.namespace())
        .is_some_and(|current| current.id() == socket.id())
    {
        sockets.remove(socket.namespace());
    }
}

/// Closes `connection` the way the reference server does: each of its namespace sockets is told
/// with a DISCONNECT first, so clients see a server disconnect rather than a lost transport.
pub(crate) fn close_connection(connection: &Connection, reason: DisconnectReason) {
    if let Some(state) = SioHandler::state(connection) {
        let sockets: Vec<Socket> = lock(&state.sockets).drain().map(|(_, s)| s).collect();
        for socket in sockets {
            socket.close(reason, true);
        }
    }
    connection.close();
}
