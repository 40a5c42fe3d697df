//! The Socket.IO server: namespaces of consumers over one Engine.IO engine.
//!
//! Ownership runs one way: a [`Server`] handle is the engine, the engine owns its handler (the
//! server's state, [`ServerInner`]), and that state reaches back to the engine only through a
//! weak handle. Dropping the last handle closes the sessions still open and frees everything.

mod builder;
mod namespaces;
mod service;

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use sio_core::{AckId, DecoderLimits, EncodedPacket, Namespace, PacketEncoder, Parser};
use tokio::net::TcpListener;
use tracing::{debug, warn};

use crate::args::{EmitArgs, EmitArgsDyn};
use crate::broadcast::{BroadcastOperator, ChannelLayer, LocalSockets, Room, Target};
use crate::consumer::HookTasks;
use crate::consumer::middleware::ConnectMiddleware;
use crate::disconnect_reason::DisconnectReason;
use crate::engine::sync::{Mutex, MutexGuard};
use crate::engine::{Engine, EngineStats, WeakEngine};
use crate::namespace::NamespaceInner;
use crate::namespace::dynamic::Dynamic;
use crate::recovery::Recovery;
use crate::server_events::{ServerAcks, ServerEventsMailbox};
use crate::socket::{EmitError, Socket, SocketId};

pub use builder::ServerBuilder;
pub use service::ServerService;

/// Settings of the Socket.IO layer.
#[derive(Debug, Clone)]
pub(crate) struct SocketConfig {
    pub(crate) connect_timeout: Duration,
    pub(crate) mailbox_capacity: usize,
    /// Bytes of events that may wait for a socket's handler.
    pub(crate) mailbox_bytes: usize,
    /// What one binary packet may cost; `max_packet_bytes` and `max_repeated_bytes` follow
    /// `max_payload` unless set.
    pub(crate) decoder: DecoderLimits,
    /// How long the rest of a binary packet may take once its first frame arrived.
    pub(crate) attachment_timeout: Duration,
    /// How many namespaces one connection may be in (or joining) at once.
    pub(crate) max_namespaces_per_connection: usize,
    /// How packets are encoded, for every client.
    pub(crate) parser: Parser,
    /// What the server counts for its metrics, if they are on.
    pub(crate) counters: Option<std::sync::Arc<crate::metrics::counters::Counters>>,
}

/// The state of a server, owned by its engine as the engine's handler.
pub(crate) struct ServerInner {
    pub(crate) namespaces: HashMap<String, std::sync::Arc<NamespaceInner>>,
    /// The handlers of server-side events, by namespace.
    pub(crate) server_events: HashMap<String, ServerEventsMailbox>,
    /// Connection state recovery, if on.
    pub(crate) recovery: Option<Recovery>,
    /// The consumers declared for patterns and the namespaces made from them, if any.
    pub(crate) dynamic: Option<Dynamic>,
    pub(crate) layer: Box<dyn ChannelLayer>,
    /// This server's sockets as its channel layer sees them; also the server's weak handle to
    /// itself.
    pub(crate) local: LocalSockets,
    pub(crate) config: SocketConfig,
    /// The connect middleware of every namespace, in order.
    pub(crate) middleware: Vec<ConnectMiddleware>,
    /// Sockets by id, across namespaces, for server-wide lookups.
    sockets: Mutex<HashMap<SocketId, Socket>>,
    /// Hooks running on tasks of their own, which a shutdown waits for.
    pub(crate) hook_tasks: HookTasks,
    /// The runtime the server was built or served in, where a shutdown called from outside
    /// any runtime runs.
    pub(crate) runtime: std::sync::OnceLock<tokio::runtime::Handle>,
    packets_encoded: AtomicU64,
    /// What tells the Admin UI of every socket, in its development mode.
    #[cfg(feature = "admin")]
    pub(crate) notifier: Option<crate::admin::Notifier>,
}

impl fmt::Debug for ServerInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("namespaces", &self.namespaces.keys().collect::<Vec<_>>())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// The tasks that await a shutdown (see [`Server::shutdown`]), forgotten when it is dropped.
struct Caller<'a> {
    tasks: &'a HookTasks,
    ids: Vec<tokio::task::Id>,
}

impl Caller<'_> {
    fn note(&mut self) {
        if let Some(id) = self.tasks.exclude_current() {
            self.ids.push(id);
        }
    }
}

impl Drop for Caller<'_> {
    fn drop(&mut self) {
        self.tasks.include(&self.ids);
    }
}

/// Ends a shutdown once its steps end: what is left of the hooks is aborted if they did not
/// complete, the channel layer stops, and `serve` may return.
struct Over<'a> {
    server: &'a Server,
    completed: bool,
}

impl Drop for Over<'_> {
    fn drop(&mut self) {
        let inner = self.server.inner();
        if !self.completed {
            inner.hook_tasks.abort();
        }
        inner.layer.shutdown();
        self.server.engine.finish_shutdown();
    }
}

/// Counts of a server, from [`Server::stats`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct ServerStats {
    /// The Engine.IO sessions.
    pub engine: EngineStats,
    /// Sockets connected now, over all namespaces.
    pub sockets: usize,
    /// Event packets encoded since the start: a broadcast counts once, whatever its recipients.
    pub packets_encoded: u64,
}

/// A Socket.IO server: namespaces of [`Consumer`](crate::Consumer)s over Engine.IO. Cheap to
/// clone; reachable from every socket with [`Socket::server`], and usable from any task.
///
/// ```no_run
/// use sio_server::{Consumer, HandlerError, IncomingEvent, Server, Socket};
///
/// #[derive(Default)]
/// struct Chat;
///
/// impl Consumer for Chat {
///     const NAMESPACE: &'static str = "/chat";
///     async fn on_event(&mut self, socket: &Socket, event: IncomingEvent) -> Result<(), HandlerError> {
///         let text: String = event.arg(0)?;
///         socket.server().of("/chat").emit("chat_message", &text)?;
///         Ok(())
///     }
/// }
///
/// # async fn run() -> std::io::Result<()> {
/// let server = Server::builder().consumer::<Chat>().build();
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// server.serve(listener).await
/// # }
/// ```
#[derive(Clone)]
pub struct Server {
    engine: Engine<ServerInner>,
}

/// A [`Server`] that does not keep it alive, from [`Server::downgrade`]: for a task that should
/// end with the server rather than hold it.
///
/// ```
/// let server = sio_server::Server::builder().build();
/// let weak = server.downgrade();
/// assert!(weak.upgrade().is_some());
/// drop(server);
/// assert!(weak.upgrade().is_none());
/// ```
#[derive(Clone)]
pub struct WeakServer {
    engine: WeakEngine<ServerInner>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.inner(), f)
    }
}

impl fmt::Debug for WeakServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakServer").finish_non_exhaustive()
    }
}

impl WeakServer {
    /// The server, if it is still alive.
    pub fn upgrade(&self) -> Option<Server> {
        self.engine.upgrade().map(|engine| Server { engine })
    }
}

/// What the builder hands a new server.
pub(crate) struct Parts {
    pub(crate) namespaces: HashMap<String, std::sync::Arc<NamespaceInner>>,
    pub(crate) dynamic: Option<Dynamic>,
    pub(crate) layer: Box<dyn ChannelLayer>,
    pub(crate) config: SocketConfig,
    pub(crate) middleware: Vec<ConnectMiddleware>,
    pub(crate) server_events: HashMap<String, ServerEventsMailbox>,
    pub(crate) recovery: Option<Recovery>,
    /// The admin namespace, if the Admin UI is on in development mode.
    #[cfg(feature = "admin")]
    pub(crate) admin_namespace: Option<String>,
}

impl ServerInner {
    /// Tells the Admin UI, if it is on in development mode.
    #[cfg(feature = "admin")]
    pub(crate) fn notify(&self, notify: impl FnOnce(&crate::admin::Notifier)) {
        if let Some(notifier) = &self.notifier {
            notify(notifier);
        }
    }

    /// Runs `count` on the server's counters, if its metrics are on: a branch, and nothing else,
    /// when they are off.
    pub(crate) fn count(&self, count: impl FnOnce(&crate::metrics::counters::Counters)) {
        if let Some(counters) = &self.config.counters {
            count(counters);
        }
    }

    pub(crate) fn new(parts: Parts, this: WeakServer) -> Self {
        let Parts {
            namespaces,
            dynamic,
            layer,
            config,
            middleware,
            server_events,
            recovery,
            #[cfg(feature = "admin")]
            admin_namespace,
        } = parts;
        #[cfg(feature = "admin")]
        let notifier = admin_namespace.map(|namespace| crate::admin::Notifier {
            namespace,
            server: this.clone(),
        });
        ServerInner {
            namespaces,
            server_events,
            recovery,
            dynamic,
            layer,
            local: LocalSockets { server: this },
            config,
            middleware,
            sockets: Mutex::new(HashMap::new()),
            hook_tasks: HookTasks::default(),
            runtime: std::sync::OnceLock::new(),
            packets_encoded: AtomicU64::new(0),
            #[cfg(feature = "admin")]
            notifier,
        }
    }

    /// Keeps the runtime this runs in, if none is kept yet.
    pub(crate) fn note_runtime(&self) {
        if self.runtime.get().is_none()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let _ = self.runtime.set(runtime);
        }
    }

    /// A handle to this server, unless it is being dropped.
    pub(crate) fn handle(&self) -> Option<Server> {
        self.local.server.upgrade()
    }

    pub(crate) fn encode_event(
        &self,
        namespace: &Namespace,
        ack: Option<AckId>,
        event: &str,
        data: &dyn EmitArgsDyn,
    ) -> Result<EncodedPacket, EmitError> {
        // As Node's `emit` throws: a client would take such an event for a lifecycle one.
        if sio_core::RESERVED_EVENTS.contains(&event) {
            return Err(EmitError::ReservedName(event.to_owned()));
        }
        let mut packet = PacketEncoder::new_event(self.config.parser, namespace, ack, event);
        data.write_args_dyn(&mut packet)?;
        self.packets_encoded.fetch_add(1, Ordering::Relaxed);
        Ok(packet.finish())
    }

    pub(crate) fn remember_socket(&self, socket: &Socket) {
        self.sockets_map()
            .insert(socket.id().clone(), socket.clone());
    }

    /// Forgets `socket`, unless a socket restored with its id took its place meanwhile.
    pub(crate) fn forget_socket(&self, socket: &Socket) {
        let mut sockets = self.sockets_map();
        if sockets
            .get(socket.id())
            .is_some_and(|known| std::sync::Arc::ptr_eq(&known.inner, &socket.inner))
        {
            sockets.remove(socket.id());
        }
    }

    /// Every socket of the server, across namespaces.
    pub(crate) fn all_sockets(&self) -> Vec<Socket> {
        self.sockets_map().values().cloned().collect()
    }

    fn sockets_map(&self) -> MutexGuard<'_, HashMap<SocketId, Socket>> {
        self.sockets.lock()
    }
}

impl Server {
    /// Starts configuring a server.
    pub fn builder() -> ServerBuilder {
        ServerBuilder::default()
    }

    pub(crate) fn inner(&self) -> &ServerInner {
        self.engine.handler()
    }

    /// The HTTP service to mount (at `/socket.io/` unless configured otherwise).
    pub fn service(&self) -> ServerService {
        ServerService::new(self.engine.clone())
    }

    /// Serves the server on every connection `listener` accepts, until
    /// [`shutdown`](Self::shutdown): then it stops accepting, and returns once the shutdown is
    /// over.
    pub async fn serve(&self, listener: TcpListener) -> std::io::Result<()> {
        self.inner().note_runtime();
        crate::engine::serve(listener, self.engine.clone()).await
    }

    /// A handle that does not keep the server alive.
    pub fn downgrade(&self) -> WeakServer {
        WeakServer {
            engine: self.engine.downgrade(),
        }
    }

    /// The sockets of `namespace`, to broadcast to or act on. An unknown or invalid namespace
    /// selects nothing.
    pub fn of(&self, namespace: &str) -> BroadcastOperator {
        BroadcastOperator::new(
            self.clone(),
            Namespace::new(namespace.to_owned()).ok(),
            Target::default(),
        )
    }

    pub(crate) fn of_namespace(&self, namespace: &NamespaceInner) -> BroadcastOperator {
        BroadcastOperator::new(
            self.clone(),
            Some(namespace.name.clone()),
            Target::default(),
        )
    }

    /// The sockets of the main namespace `/` in `room`.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.of("/").to(room)
    }

    /// The sockets of the main namespace `/` not in `room`.
    pub fn except(&self, room: impl Into<Room>) -> BroadcastOperator {
        self.of("/").except(room)
    }

    /// Sends an event to every socket of the main namespace `/`.
    pub fn emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        self.of("/").emit(event, data)
    }

    /// Sends an event to the [`ServerEvents`](crate::ServerEvents) handler of the main
    /// namespace `/` in every other process (Node's `io.serverSideEmit`); see
    /// [`BroadcastOperator::server_side_emit`].
    pub fn server_side_emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        self.of("/").server_side_emit(event, data)
    }

    /// Sends an event to the [`ServerEvents`](crate::ServerEvents) handler of the main
    /// namespace `/` in every other process and gathers their answers for up to `timeout`; see
    /// [`BroadcastOperator::server_side_emit_with_ack`].
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        data: impl EmitArgs,
        timeout: Duration,
    ) -> Result<ServerAcks, EmitError> {
        self.of("/")
            .server_side_emit_with_ack(event, data, timeout)
            .await
    }

    /// The namespaces this process serves now, sorted: those declared as they are, and those
    /// made from patterns.
    ///
    /// ```
    /// let server = sio_server::Server::builder().build();
    /// assert!(server.namespaces().is_empty());
    /// ```
    pub fn namespaces(&self) -> Vec<Namespace> {
        let mut names: Vec<Namespace> = self
            .inner()
            .all_namespaces()
            .iter()
            .map(|namespace| namespace.name.clone())
            .collect();
        names.sort();
        names
    }

    /// A socket of this process by id.
    pub fn socket(&self, id: &str) -> Option<Socket> {
        self.inner().sockets_map().get(&SocketId::from(id)).cloned()
    }

    /// Counts of sessions, sockets and encoded packets.
    pub fn stats(&self) -> ServerStats {
        let inner = self.inner();
        ServerStats {
            engine: self.engine.stats(),
            sockets: inner
                .all_namespaces()
                .iter()
                .map(|namespace| namespace.socket_count())
                .sum(),
            packets_encoded: inner.packets_encoded.load(Ordering::Relaxed),
        }
    }

    /// Shuts the server down gracefully, as Node's `io.close()` does, and returns once it is
    /// done:
    ///
    /// 1. new connections and new sockets are refused (a handshake gets 503);
    /// 2. every socket ends with [`DisconnectReason::ServerShuttingDown`], its consumer's
    ///    `disconnecting` and `disconnect` run, and every connection's transport is closed.
    ///    Clients get neither a Socket.IO DISCONNECT nor an Engine.IO `close`, either of which
    ///    tells some clients not to come back: they see their transport close (a WebSocket
    ///    closed, a polling request refused) and reconnect, to another server of a rolling
    ///    restart say;
    /// 3. handlers still running (and the `disconnect` hooks) get until `deadline` to finish;
    ///    those still running then are aborted, with a warning;
    /// 4. the channel layer stops.
    ///
    /// [`serve`](Self::serve) stops accepting once every session is gone (or the deadline
    /// passed), lets each HTTP connection finish its request, and returns once the shutdown is
    /// over. The steps run on a task of their own: dropping this future does not stop them. A
    /// handler may await it: its own task is neither waited for nor aborted. A second call
    /// aborts what is left at once, and returns when the first does.
    ///
    /// ```no_run
    /// use std::time::Duration;
    ///
    /// # async fn run() -> std::io::Result<()> {
    /// let server = sio_server::Server::builder().build();
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    /// let serving = tokio::spawn({
    ///     let server = server.clone();
    ///     async move { server.serve(listener).await }
    /// });
    /// tokio::signal::ctrl_c().await?;
    /// server.shutdown(Duration::from_secs(10)).await;
    /// serving.await??;
    /// # Ok(()) }
    /// ```
    pub async fn shutdown(&self, deadline: Duration) {
        let inner = self.inner();
        let finished = self.engine.shutdown_finished();
        // A handler that awaits the shutdown is not waited for: it waits for the shutdown. Its
        // task is noted now and at each poll (a handler moves to a task of its own once
        // pending), and forgotten when this future ends.
        let mut caller = Caller {
            tasks: &inner.hook_tasks,
            ids: Vec::new(),
        };
        caller.note();
        let until = crate::engine::deadline_after(deadline);
        if self.engine.begin_shutdown(until) {
            // On a task of its own, so that it goes on to its end even if this future is
            // dropped (a caller's `select!` or `timeout`).
            let server = self.clone();
            let steps = async move { server.shut_down(until).await };
            let runtime = tokio::runtime::Handle::try_current()
                .ok()
                .or_else(|| inner.runtime.get().cloned());
            match runtime {
                Some(runtime) => drop(runtime.spawn(steps)),
                // No runtime was ever seen: no hook can be running on one.
                None => steps.await,
            }
        } else {
            inner.hook_tasks.abort();
        }
        let mut finished = std::pin::pin!(finished);
        std::future::poll_fn(|cx| {
            caller.note();
            finished.as_mut().poll(cx)
        })
        .await;
    }

    /// The steps of [`shutdown`](Self::shutdown), once.
    async fn shut_down(&self, until: Instant) {
        let inner = self.inner();
        // However this ends (its future dropped, on the path without a runtime), the shutdown
        // is over once it does.
        let mut over = Over {
            server: self,
            completed: false,
        };
        let sockets: Vec<Socket> = inner.sockets_map().values().cloned().collect();
        debug!(sockets = sockets.len(), "shutting down");
        for socket in &sockets {
            socket.close(DisconnectReason::ServerShuttingDown, false);
        }
        self.engine.discard_all();
        // Every hook task, and every socket's last hook: one being polled where its event
        // arrived hands its `disconnect` to a task only once it returns.
        let done = || {
            sockets
                .iter()
                .all(|socket| socket.inner.runner.is_settled())
        };
        if !inner.hook_tasks.finish_by(until, done).await {
            warn!("handlers still running when the shutdown's deadline passed were aborted");
        }
        over.completed = true;
    }

    /// Whether a [`shutdown`](Self::shutdown) began.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.engine.is_shutting_down()
    }

    /// Resolves once [`shutdown`](Self::shutdown) has closed every session (or its deadline
    /// passed): the signal that stops a server the application serves the service with, such
    /// as [`serve_service_with_shutdown`](crate::engine::serve_service_with_shutdown) or axum's
    /// `with_graceful_shutdown`. Not earlier: a polling client's request already on its way
    /// still finds its session's `close`, rather than its HTTP connection closed.
    ///
    /// With axum: `axum::serve(listener, app).with_graceful_shutdown(server.shutdown_signal())`,
    /// then `server.shutdown_finished().await`. Or:
    ///
    /// ```no_run
    /// # async fn run(server: sio_server::Server, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// use std::time::Duration;
    ///
    /// let signal = server.shutdown_signal();
    /// let app = server.service(); // or a router with it mounted
    /// sio_server::engine::serve_service_with_shutdown(listener, app, Duration::from_secs(30), signal)
    ///     .await?;
    /// server.shutdown_finished().await; // the handlers still running, up to the deadline
    /// # Ok(()) }
    /// ```
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        self.engine.shutdown_signal()
    }

    /// Resolves once a [`shutdown`](Self::shutdown) is over: its handlers finished (or were
    /// aborted) and the channel layer stopped. For the code that serves the server itself, while
    /// another task called `shutdown`.
    ///
    /// ```no_run
    /// # async fn run(server: sio_server::Server) {
    /// let finished = server.shutdown_finished();
    /// tokio::spawn({
    ///     let server = server.clone();
    ///     async move { server.shutdown(std::time::Duration::from_secs(5)).await }
    /// });
    /// finished.await;
    /// # }
    /// ```
    pub fn shutdown_finished(&self) -> impl Future<Output = ()> + Send + 'static {
        self.engine.shutdown_finished()
    }
}
