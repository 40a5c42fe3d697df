//! Configuring a [`Server`]: its consumers, the Socket.IO options, and the engine's.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sio_core::{DecoderLimits, Namespace, Parser, Transport};

use super::{Parts, Server, ServerInner, SocketConfig, WeakServer};
use crate::broadcast::{ChannelLayer, InMemoryLayer};
use crate::consumer::middleware::{self, ConnectMiddleware};
use crate::consumer::{ConnectError, Consumer, ErasedConsumer};
use crate::engine::{Cors, Engine, EngineBuilder, HandshakeInfo, Refusal};
use crate::namespace::approval::{self, NamespaceFilter};
use crate::namespace::dynamic::{ChildLimits, Dynamic, Family};
use crate::namespace::{Factory, NamespaceInner};
use crate::recovery::{ConnectionStateRecovery, Recovery};
use crate::server_events::{ServerEvents, ServerEventsMailbox};
use crate::socket::{Handshake, OutgoingHook, Socket};

/// Builds a [`Server`]. Defaults follow the reference server: path `/socket.io/`, a 45 s connect
/// timeout, the Engine.IO defaults of [`EngineBuilder`], and the in-memory channel layer.
///
/// ```
/// use std::time::Duration;
/// use sio_server::{Cors, Server, Transport};
///
/// let server = Server::builder()
///     .path("/realtime/")
///     .transports(&[Transport::WebSocket])
///     .ping_interval(Duration::from_secs(10))
///     .cors(Cors::origins(["https://chat.example"]))
///     .build();
/// # drop(server);
/// ```
#[must_use]
pub struct ServerBuilder {
    engine: EngineBuilder,
    namespaces: HashMap<String, (Factory, Option<OutgoingHook>)>,
    /// Consumers declared for patterns, in order.
    families: Vec<Family>,
    /// Predicates given to patterns, attached to their families at `build`.
    filters: Vec<(String, NamespaceFilter)>,
    child_limits: ChildLimits,
    middleware: Vec<ConnectMiddleware>,
    server_events: HashMap<String, ServerEventsMailbox>,
    recovery: Option<ConnectionStateRecovery>,
    layer: Box<dyn ChannelLayer>,
    config: SocketConfig,
    /// `max_binary_packet_bytes` if set; otherwise eight times `max_payload`.
    binary_packet_bytes: Option<usize>,
    /// `mailbox_bytes` if set; otherwise twice the largest packet.
    mailbox_bytes: Option<usize>,
    /// The metrics to attach the server to once built.
    #[cfg(feature = "metrics")]
    metrics: Option<crate::metrics::Metrics>,
    /// The Admin UI, if on.
    #[cfg(feature = "admin")]
    admin: Option<Arc<crate::admin::Admin>>,
}

impl std::fmt::Debug for ServerBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerBuilder")
            .field("engine", &self.engine)
            .field("namespaces", &self.namespaces.keys().collect::<Vec<_>>())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for ServerBuilder {
    fn default() -> Self {
        ServerBuilder {
            engine: Engine::builder().path("/socket.io/"),
            namespaces: HashMap::new(),
            families: Vec::new(),
            filters: Vec::new(),
            child_limits: ChildLimits {
                max_per_pattern: 10_000,
                cleanup_empty: false,
            },
            middleware: Vec::new(),
            server_events: HashMap::new(),
            recovery: None,
            layer: Box::new(InMemoryLayer),
            binary_packet_bytes: None,
            mailbox_bytes: None,
            config: SocketConfig {
                connect_timeout: Duration::from_secs(45),
                max_namespaces_per_connection: 100,
                mailbox_capacity: 256,
                mailbox_bytes: 0,
                decoder: DecoderLimits::default(),
                attachment_timeout: Duration::from_secs(30),
                parser: Parser::Json,
                counters: None,
            },
            #[cfg(feature = "metrics")]
            metrics: None,
            #[cfg(feature = "admin")]
            admin: None,
        }
    }
}

impl ServerBuilder {
    /// Serves namespace `C::NAMESPACE` with a fresh `C::default()` per client.
    pub fn consumer<C: Consumer + Default>(self) -> Self {
        self.consumer_with(C::default)
    }

    /// Turns on connection state recovery (Node's `connectionStateRecovery`): a client that
    /// lost its connection for less than the maximum disconnection duration comes back as the
    /// same socket (same id, rooms and [`data`](crate::Socket::data)), with every event it
    /// missed, in order; [`Socket::recovered`](crate::Socket::recovered) says so. The official
    /// clients need no option. Off by default, as in Node: with it on, every event without ack
    /// and not volatile is kept before it is sent, and carries its offset as a last argument,
    /// which the client's handlers see.
    ///
    /// ```
    /// use sio_server::{ConnectionStateRecovery, Server};
    ///
    /// let server = Server::builder()
    ///     .connection_state_recovery(ConnectionStateRecovery::default())
    ///     .build();
    /// # drop(server);
    /// ```
    pub fn connection_state_recovery(mut self, recovery: ConnectionStateRecovery) -> Self {
        self.recovery = Some(recovery);
        self
    }

    /// Takes the server-side events of namespace `H::NAMESPACE` that other processes send
    /// (Node's `serverSideEmit`) with `handler`, one instance for the whole process; see
    /// [`ServerEvents`] and `#[server_events]`. The namespace needs no consumer: with a
    /// channel layer that spans processes, this process hears it for these events alone.
    ///
    /// # Panics
    ///
    /// If `H::NAMESPACE` is not a valid namespace (a pattern, such as `/workspace/{id}`, is not
    /// one) or already has a server-event handler, or (at [`build`](Self::build)) if a
    /// consumer's pattern matches it.
    pub fn server_events<H: ServerEvents>(mut self, handler: H) -> Self {
        if let Err(error) = sio_core::validate_namespace(H::NAMESPACE) {
            panic!("invalid server-event namespace: {error}");
        }
        assert!(
            !sio_core::NamespacePattern::parse(H::NAMESPACE).is_ok_and(|p| p.is_dynamic()),
            "server-event namespace `{}` is a pattern; server-side events go to a namespace as it is",
            H::NAMESPACE
        );
        let previous = self
            .server_events
            .insert(H::NAMESPACE.to_owned(), ServerEventsMailbox::new(handler));
        assert!(
            previous.is_none(),
            "namespace `{}` has two server-event handlers",
            H::NAMESPACE
        );
        self
    }

    /// Serves namespace `C::NAMESPACE` with `factory()` per client; the factory can hand each
    /// instance shared state (a pool, a cache).
    ///
    /// A namespace with parameters, such as `/workspace/{id}` (see
    /// [`NamespacePattern`](sio_core::NamespacePattern)), is a family: each name that matches
    /// becomes a namespace of its own at its first CONNECT, served by this consumer, whose
    /// sockets read the values with [`Socket::param`](crate::Socket::param). A name declared
    /// as it is wins over a pattern that matches it, as in Node.
    ///
    /// # Panics
    ///
    /// If `C::NAMESPACE` is not a valid namespace or pattern, already has a consumer, or (at
    /// [`build`](Self::build)) is a pattern that shares a name with another consumer's pattern.
    pub fn consumer_with<C, F>(mut self, factory: F) -> Self
    where
        C: Consumer,
        F: Fn() -> C + Send + Sync + 'static,
    {
        let pattern = sio_core::NamespacePattern::parse(C::NAMESPACE)
            .unwrap_or_else(|error| panic!("invalid consumer namespace: {error}"));
        let factory: Factory = Arc::new(move || Box::new(factory()) as Box<dyn ErasedConsumer>);
        if pattern.is_dynamic() {
            assert!(
                self.families
                    .iter()
                    .all(|family| family.pattern.as_str() != C::NAMESPACE),
                "namespace `{}` has two consumers",
                C::NAMESPACE
            );
            self.families
                .push(Family::new(pattern, factory, C::outgoing_hook()));
            return self;
        }
        let previous = self
            .namespaces
            .insert(C::NAMESPACE.to_owned(), (factory, C::outgoing_hook()));
        assert!(
            previous.is_none(),
            "namespace `{}` has two consumers",
            C::NAMESPACE
        );
        self
    }

    /// The most namespaces one pattern may have at once (default 10,000): a CONNECT to a new
    /// name beyond it gets `Invalid namespace` (and a warning is logged, once), so clients
    /// cannot make the server keep namespaces without bound. A namespace no socket was ever
    /// admitted to goes as soon as its CONNECTs are done; one that had sockets stays unless
    /// [`cleanup_empty_child_namespaces`](Self::cleanup_empty_child_namespaces) is on, so
    /// without it this bounds how many ever had sockets. Names longer than 256 bytes never
    /// match a pattern.
    pub fn max_child_namespaces(mut self, max: usize) -> Self {
        self.child_limits.max_per_pattern = max;
        self
    }

    /// Makes a namespace from `pattern` only for the names `admit` approves: the pattern (the
    /// `NAMESPACE` of a consumer, written the same) says the shape of the names, `admit` the
    /// rest, for rules no pattern expresses (Node's `io.of(fn)`). It runs once per new
    /// namespace, at the first CONNECT to its name and before any middleware, with the name and
    /// the handshake (auth included) of that socket; sockets that come meanwhile wait for its
    /// answer. A name it refuses gets `Invalid namespace`, as in Node, and is not kept: a later
    /// CONNECT asks again. Once made, the namespace serves every CONNECT without asking (check
    /// each client in middleware). A name waiting for it counts against
    /// [`max_child_namespaces`](Self::max_child_namespaces).
    ///
    /// ```
    /// use sio_server::{Consumer, HandlerError, IncomingEvent, Server, Socket};
    ///
    /// /// `/dyn-1`, `/dyn-2`, ...: a pattern has whole segments only; the predicate does the rest.
    /// #[derive(Default)]
    /// struct Numbered;
    ///
    /// impl Consumer for Numbered {
    ///     const NAMESPACE: &'static str = "/{name}";
    ///     async fn on_event(&mut self, _: &Socket, _: IncomingEvent) -> Result<(), HandlerError> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let server = Server::builder()
    ///     .consumer::<Numbered>()
    ///     .admit_namespaces("/{name}", |name, _handshake| async move {
    ///         name.as_str()
    ///             .strip_prefix("/dyn-")
    ///             .is_some_and(|n| n.parse::<u32>().is_ok())
    ///     })
    ///     .build();
    /// # drop(server);
    /// ```
    ///
    /// # Panics
    ///
    /// At [`build`](Self::build), if no consumer was declared for `pattern`, or it was given
    /// two predicates.
    pub fn admit_namespaces<F, Fut>(mut self, pattern: &str, admit: F) -> Self
    where
        F: Fn(Namespace, Handshake) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.filters
            .push((pattern.to_owned(), approval::boxed(admit)));
        self
    }

    /// Whether a namespace made from a pattern is removed once its last socket leaves (default
    /// no), as Node's `cleanupEmptyChildNamespaces`; the next CONNECT to its name makes it
    /// again.
    ///
    /// ```
    /// use sio_server::{Consumer, HandlerError, IncomingEvent, Server, Socket};
    ///
    /// #[derive(Default)]
    /// struct Workspace;
    ///
    /// impl Consumer for Workspace {
    ///     const NAMESPACE: &'static str = "/workspace/{id}";
    ///     async fn on_event(&mut self, _: &Socket, _: IncomingEvent) -> Result<(), HandlerError> {
    ///         Ok(())
    ///     }
    /// }
    ///
    /// let server = Server::builder()
    ///     .consumer::<Workspace>()
    ///     .cleanup_empty_child_namespaces(true)
    ///     .max_child_namespaces(1_000)
    ///     .build();
    /// # drop(server);
    /// ```
    pub fn cleanup_empty_child_namespaces(mut self, cleanup: bool) -> Self {
        self.child_limits.cleanup_empty = cleanup;
        self
    }

    /// Adds a step to the connect middleware of every namespace (sio's own: Node's `io.use` is
    /// the main namespace's, which a consumer's `#[middleware]` methods are). The steps run in
    /// the order they were added, before the namespace's own middleware and its `connect`; each
    /// sees the socket (its handshake, its auth) and may keep typed data on it with
    /// [`Socket::insert`], for handlers to read with [`Socket::get`]. The first that refuses
    /// ends the chain: the client's `connect_error` gets the error's message and data.
    ///
    /// ```
    /// use sio_server::{ConnectError, Server, Socket};
    ///
    /// #[derive(Clone)]
    /// struct User(String);
    ///
    /// let server = Server::builder()
    ///     .middleware(|socket: Socket| async move {
    ///         let token = socket.handshake().header("authorization");
    ///         match token.and_then(|t| t.strip_prefix("Bearer ")) {
    ///             Some(name) => {
    ///                 socket.insert(User(name.to_owned()));
    ///                 Ok(())
    ///             }
    ///             None => Err(ConnectError::new("unauthorized").with_data("log in first")),
    ///         }
    ///     })
    ///     .build();
    /// # drop(server);
    /// ```
    pub fn middleware<F, Fut>(mut self, step: F) -> Self
    where
        F: Fn(Socket) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), ConnectError>> + Send + 'static,
    {
        self.middleware.push(middleware::boxed(step));
        self
    }

    /// How many namespaces one connection may be in at once, those it is joining included
    /// (default 100, at least 1): a CONNECT beyond gets a connect error, `too many namespaces
    /// on one connection`, and the connection stays. With patterns, one connection could
    /// otherwise hold a pattern's whole [`max_child_namespaces`](Self::max_child_namespaces)
    /// at once. (Over time, without
    /// [`cleanup_empty_child_namespaces`](Self::cleanup_empty_child_namespaces), namespaces it
    /// joined and left stay and still count against that limit.)
    ///
    /// ```
    /// let server = sio_server::Server::builder()
    ///     .max_namespaces_per_connection(8)
    ///     .build();
    /// # drop(server);
    /// ```
    pub fn max_namespaces_per_connection(mut self, max: usize) -> Self {
        self.config.max_namespaces_per_connection = max.max(1);
        self
    }

    /// How long a new connection may take to join a namespace before it is closed (default
    /// 45 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.config.connect_timeout = timeout;
        self
    }

    /// How many events may wait for a socket's handler (default 256). A client that sends faster
    /// than its handlers run is disconnected with
    /// [`DisconnectReason::MailboxFull`](crate::DisconnectReason::MailboxFull)
    /// rather than slowing its connection's reading, which would stall its heartbeat.
    pub fn mailbox_capacity(mut self, capacity: usize) -> Self {
        self.config.mailbox_capacity = capacity.max(1);
        self
    }

    /// How many bytes of events (their text and attachments) may wait for a socket's handler
    /// (default twice the largest packet: `2 × (max_binary_packet_bytes + max_payload)`, 18 MB
    /// with the defaults); beyond it the socket is disconnected with
    /// [`DisconnectReason::MailboxFull`](crate::DisconnectReason::MailboxFull), as beyond
    /// `mailbox_capacity`. One event always fits into an empty mailbox.
    pub fn mailbox_bytes(mut self, bytes: usize) -> Self {
        self.mailbox_bytes = Some(bytes);
        self
    }

    /// The most binary attachments one packet may announce (default 64).
    pub fn max_attachments(mut self, max: usize) -> Self {
        self.config.decoder.max_attachments = max;
        self
    }

    /// The most bytes the attachments of one binary packet may add up to (default eight times
    /// `max_payload`: each attachment is a message of its own, bounded by `max_payload`). A
    /// client whose packet goes beyond is closed.
    pub fn max_binary_packet_bytes(mut self, bytes: usize) -> Self {
        self.binary_packet_bytes = Some(bytes);
        self
    }

    /// How long the rest of a binary packet may take once its first frame arrived (default
    /// 30 s); a client that leaves one unfinished is closed, and what it sent is dropped.
    pub fn attachment_timeout(mut self, timeout: Duration) -> Self {
        self.config.attachment_timeout = timeout;
        self
    }

    /// The channel layer broadcasts go through (default: this process only).
    pub fn channel_layer(mut self, layer: impl ChannelLayer) -> Self {
        self.layer = Box::new(layer);
        self
    }

    /// The request path (default `/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.engine = self.engine.path(path);
        self
    }

    /// How often the server pings (default 25 s).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.engine = self.engine.ping_interval(interval);
        self
    }

    /// How long the server waits for a pong (default 20 s).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.engine = self.engine.ping_timeout(timeout);
        self
    }

    /// How polling responses are compressed (Node's `httpCompression`; default: gzip or
    /// deflate, as the client accepts, from 1 KiB on).
    ///
    /// ```
    /// use sio_server::Server;
    /// use sio_server::engine::HttpCompression;
    ///
    /// let server = Server::builder().http_compression(HttpCompression::off()).build();
    /// # drop(server);
    /// ```
    pub fn http_compression(mut self, compression: crate::engine::HttpCompression) -> Self {
        self.engine = self.engine.http_compression(compression);
        self
    }

    /// Compresses WebSocket messages with permessage-deflate for clients that offer it
    /// (Node's `perMessageDeflate`; default off, as in Node).
    ///
    /// ```
    /// use sio_server::Server;
    /// use sio_server::engine::PerMessageDeflate;
    ///
    /// let server = Server::builder().per_message_deflate(PerMessageDeflate::default()).build();
    /// # drop(server);
    /// ```
    pub fn per_message_deflate(mut self, deflate: crate::engine::PerMessageDeflate) -> Self {
        self.engine = self.engine.per_message_deflate(deflate);
        self
    }

    /// Accepts Socket.IO v2 clients (`socket.io-client` 2.x, over Engine.IO v3), as Node's
    /// `allowEIO3`; default off, and such a client then gets Node's 400
    /// `{"code":5,"message":"Unsupported protocol version"}`. They are served beside v3 and
    /// later clients, in the same rooms: the server connects them to `/` as soon as they
    /// connect (with no consumer for `/`, one that takes no events stands in), a namespace's
    /// CONNECT query string (`io("/chat", { query: { token } })`) is its auth, a refusal
    /// reaches them as its data or its message, and their socket ids are their connection's
    /// (`/chat#<sid>` outside `/`), as Node makes them.
    ///
    /// ```
    /// use sio_server::Server;
    ///
    /// let server = Server::builder().allow_eio3(true).build();
    /// # drop(server);
    /// ```
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.engine = self.engine.allow_eio3(allow);
        self
    }

    /// How packets are encoded (Node's `parser` option): [`Parser::Json`], the default
    /// `socket.io-parser`, or [`Parser::MsgPack`], `socket.io-msgpack-parser`, which every
    /// client must then use too. Handlers, acks and broadcasts are written the same for both:
    /// arguments are read from either format straight into their types.
    ///
    /// With MessagePack each packet is one binary message, byte buffers inside it: a client
    /// that sends a text message, or a packet that is not well formed, is closed. Socket.IO v2
    /// clients ([`allow_eio3`](Self::allow_eio3)) are not served with it: they are refused as
    /// when `allow_eio3` is off.
    ///
    /// ```
    /// use sio_server::{Parser, Server};
    ///
    /// let server = Server::builder().parser(Parser::MsgPack).build();
    /// # drop(server);
    /// ```
    pub fn parser(mut self, parser: Parser) -> Self {
        self.config.parser = parser;
        self
    }

    /// Counts what the server does for `metrics` (feature `metrics`), which serves them to
    /// Prometheus; see [`Metrics`](crate::metrics::Metrics). Off by default: without it nothing
    /// is counted.
    ///
    /// ```
    /// use sio_server::{Server, metrics::Metrics};
    ///
    /// let metrics = Metrics::new();
    /// let server = Server::builder().metrics(&metrics).build();
    /// # drop(server);
    /// ```
    #[cfg(feature = "metrics")]
    pub fn metrics(mut self, metrics: &crate::metrics::Metrics) -> Self {
        self.config.counters = Some(metrics.counters());
        self.metrics = Some(metrics.clone());
        self
    }

    /// Serves the Socket.IO Admin UI's namespace (feature `admin`; Node's `instrument`): see
    /// [`AdminUi`](crate::admin::AdminUi).
    ///
    /// # Panics
    ///
    /// If its namespace is not a valid one, or already has a consumer.
    #[cfg(feature = "admin")]
    pub fn admin_ui(mut self, ui: crate::admin::AdminUi) -> Self {
        let name = ui.namespace.clone();
        Namespace::new(name.clone())
            .unwrap_or_else(|error| panic!("invalid admin namespace: {error}"));
        let admin = Arc::new(crate::admin::Admin {
            config: ui,
            sessions: Arc::default(),
            verifications: tokio::sync::Semaphore::new(2),
        });
        let shared = Arc::clone(&admin);
        let factory: Factory = Arc::new(move || {
            Box::new(crate::admin::AdminConsumer {
                admin: Arc::clone(&shared),
            }) as Box<dyn ErasedConsumer>
        });
        let previous = self.namespaces.insert(name.clone(), (factory, None));
        assert!(previous.is_none(), "namespace `{name}` has two consumers");
        // Its statistics count packets and bytes.
        if self.config.counters.is_none() {
            self.config.counters = Some(Arc::default());
        }
        self.admin = Some(admin);
        self
    }

    /// The largest polling body or WebSocket message (default 1,000,000 bytes).
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.engine = self.engine.max_payload(bytes);
        self
    }

    /// The transports clients may use (default both).
    pub fn transports(mut self, transports: &[Transport]) -> Self {
        self.engine = self.engine.transports(transports);
        self
    }

    /// Cross-origin rules for browsers (default none).
    pub fn cors(mut self, cors: Cors) -> Self {
        self.engine = self.engine.cors(cors);
        self
    }

    /// A filter that sees the request of every new connection before it opens, and may refuse
    /// it (Node's `allowRequest`); see
    /// [`EngineBuilder::allow_request`](crate::engine::EngineBuilder::allow_request).
    pub fn allow_request<F, Fut>(mut self, filter: F) -> Self
    where
        F: Fn(&HandshakeInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Refusal>> + Send + 'static,
    {
        self.engine = self.engine.allow_request(filter);
        self
    }

    /// Any other engine option.
    pub fn engine(mut self, configure: impl FnOnce(EngineBuilder) -> EngineBuilder) -> Self {
        self.engine = configure(self.engine);
        self
    }

    /// Builds the server.
    pub fn build(mut self) -> Server {
        if self.config.parser == Parser::MsgPack && self.engine.allows_eio3() {
            tracing::warn!("Socket.IO v2 clients are not served with the MessagePack parser");
            self.engine = self.engine.allow_eio3(false);
        }
        // v2 clients are connected to `/` on arrival: it exists even with no consumer.
        let root_served = self.namespaces.contains_key("/")
            || self
                .families
                .iter()
                .any(|f| f.pattern.matches("/").is_some());
        if self.engine.allows_eio3() && !root_served {
            self = self.consumer::<crate::legacy::ImplicitRoot>();
        }
        // Placeholders may name attachments again for at most `max_payload` bytes; one packet's
        // attachments add up to at most eight messages unless configured.
        let max_payload = self.engine.max_payload_setting();
        self.config.decoder.max_repeated_bytes = max_payload;
        self.config.decoder.max_packet_bytes = self
            .binary_packet_bytes
            .unwrap_or(max_payload.saturating_mul(8));
        // Events waiting for a handler: as many bytes as the largest packet, twice over.
        self.config.mailbox_bytes = self.mailbox_bytes.unwrap_or(
            self.config
                .decoder
                .max_packet_bytes
                .saturating_add(max_payload)
                .saturating_mul(2),
        );
        let namespaces = self
            .namespaces
            .into_iter()
            .filter_map(|(name, (factory, outgoing))| {
                let namespace = Namespace::new(name.clone()).ok()?;
                let inner = NamespaceInner::new(namespace, factory, outgoing);
                Some((name, Arc::new(inner)))
            })
            .collect();
        for (index, family) in self.families.iter().enumerate() {
            for other in &self.families[index + 1..] {
                assert!(
                    !family.pattern.overlaps(&other.pattern),
                    "namespace patterns `{}` and `{}` both match some names; make them distinct",
                    family.pattern,
                    other.pattern
                );
            }
        }
        for name in self.server_events.keys() {
            if let Some(family) = self
                .families
                .iter()
                .find(|family| family.pattern.matches(name).is_some())
            {
                panic!(
                    "server-event namespace `{name}` is also made from consumer pattern `{}`; \
                     server-side events need a namespace of their own",
                    family.pattern
                );
            }
        }
        for (pattern, filter) in self.filters {
            let family = self
                .families
                .iter_mut()
                .find(|family| family.pattern.as_str() == pattern)
                .unwrap_or_else(|| {
                    panic!("`admit_namespaces`: no consumer was declared for pattern `{pattern}`")
                });
            assert!(
                family.filter.is_none(),
                "`admit_namespaces`: pattern `{pattern}` has two predicates"
            );
            family.filter = Some(filter);
        }
        let dynamic =
            (!self.families.is_empty()).then(|| Dynamic::new(self.families, self.child_limits));
        let ping_interval = self.engine.ping_interval_value();
        let in_layer = self.layer.session_store().is_some();
        let recovery = self.recovery.map(|config| {
            let live_ttl =
                crate::broadcast::live_ttl(config.max_disconnection_duration, ping_interval);
            Recovery::new(config, in_layer, live_ttl)
        });
        let engine = self.engine.build_cyclic(|engine| {
            let this = WeakServer { engine };
            let parts = Parts {
                namespaces,
                dynamic,
                layer: self.layer,
                config: self.config,
                middleware: self.middleware,
                server_events: self.server_events,
                recovery,
                #[cfg(feature = "admin")]
                admin_namespace: self
                    .admin
                    .as_ref()
                    .filter(|admin| admin.config.development)
                    .map(|admin| admin.config.namespace.clone()),
            };
            ServerInner::new(parts, this)
        });
        let server = Server { engine };
        #[cfg(feature = "metrics")]
        if let Some(metrics) = &self.metrics {
            metrics.attach(server.downgrade());
        }
        let inner = server.inner();
        inner.note_runtime();
        #[cfg(feature = "admin")]
        if let (Some(admin), Some(counters), Ok(runtime)) = (
            &self.admin,
            &inner.config.counters,
            tokio::runtime::Handle::try_current(),
        ) {
            let id = admin
                .config
                .server_id
                .clone()
                .unwrap_or_else(crate::admin::hostname);
            runtime.spawn(crate::admin::report_stats(
                server.downgrade(),
                admin.config.namespace.clone(),
                id,
                Arc::clone(counters),
            ));
        }
        inner.layer.start(&inner.local);
        if let Some(recovery) = &inner.recovery
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            let every = if recovery.in_layer {
                ping_interval
            } else {
                recovery.config.max_disconnection_duration
            };
            runtime.spawn(crate::recovery::sweep(server.downgrade(), every));
        }
        server
    }
}
