//! Configuring an [`Engine`]: the reference server's options and defaults.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use sio_core::{SessionConfig, Transport};

use crate::engine::compression::HttpCompression;
use crate::engine::cors::Cors;
use crate::engine::filter::{Refusal, RequestFilter};
use crate::engine::handler::EngineHandler;
use crate::engine::handshake::HandshakeInfo;
use crate::engine::hooks::{ConnectionError, Hooks, RequestHead, SessionCookie};
use crate::engine::service::{Engine, WeakEngine};
use crate::engine::transport::deflate::PerMessageDeflate;

/// Settings of an Engine.IO server; build one with [`Engine::builder`].
#[derive(Debug, Clone)]
pub(crate) struct EngineConfig {
    pub(crate) path: String,
    pub(crate) session: SessionConfig,
    pub(crate) polling: bool,
    pub(crate) websocket: bool,
    pub(crate) cors: Option<Cors>,
    pub(crate) websocket_read_buffer: usize,
    /// How long `serve` waits for a request's headers.
    pub(crate) header_read_timeout: Duration,
    /// How long a POST body may take to arrive.
    pub(crate) body_timeout: Duration,
    pub(crate) allow_request: Option<RequestFilter>,
    pub(crate) hooks: Hooks,
    pub(crate) cookie: Option<SessionCookie>,
    pub(crate) http_compression: HttpCompression,
    pub(crate) per_message_deflate: Option<PerMessageDeflate>,
    pub(crate) allow_eio3: bool,
}

/// Builds an [`Engine`] with the reference server's defaults: path `/engine.io/`, a ping every
/// 25 s, 20 s for the pong, 1 MB payloads, 10 s for an upgrade, both transports, no CORS.
///
/// ```
/// use std::time::Duration;
/// use sio_server::engine::{Connection, Cors, Engine};
///
/// let engine = Engine::builder()
///     .path("/engine.io/")
///     .ping_interval(Duration::from_millis(300))
///     .ping_timeout(Duration::from_millis(200))
///     .cors(Cors::any())
///     .build(|connection: &Connection, message| {
///         let _ = connection.send(message);
///     });
/// # drop(engine);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct EngineBuilder {
    config: EngineConfig,
}

impl Default for EngineBuilder {
    fn default() -> Self {
        EngineBuilder {
            config: EngineConfig {
                path: "/engine.io/".to_owned(),
                session: SessionConfig::default(),
                polling: true,
                websocket: true,
                cors: None,
                websocket_read_buffer: 4096,
                header_read_timeout: Duration::from_secs(30),
                body_timeout: Duration::from_secs(60),
                allow_request: None,
                hooks: Hooks::default(),
                cookie: None,
                http_compression: HttpCompression::default(),
                per_message_deflate: None,
                allow_eio3: false,
            },
        }
    }
}

impl EngineBuilder {
    /// The request path both transports answer on (default `/engine.io/`); a trailing `/` is
    /// optional in requests.
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.config.path = path.into();
        self
    }

    /// How often the server pings (default 25 s).
    pub fn ping_interval(mut self, interval: Duration) -> Self {
        self.config.session.ping_interval = interval;
        self
    }

    /// The ping interval set.
    pub(crate) fn ping_interval_value(&self) -> Duration {
        self.config.session.ping_interval
    }

    /// How long the server waits for a pong after queueing a ping (default 20 s).
    pub fn ping_timeout(mut self, timeout: Duration) -> Self {
        self.config.session.ping_timeout = timeout;
        self
    }

    /// The largest polling body or WebSocket message accepted, and the size outgoing polling
    /// batches are cut to (default 1,000,000 bytes). Larger POST bodies get HTTP 413; a larger
    /// WebSocket message closes the connection.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.config.session.max_payload = bytes;
        self
    }

    /// How long an upgrade may take from WebSocket open to the `upgrade` packet (default 10 s).
    pub fn upgrade_timeout(mut self, timeout: Duration) -> Self {
        self.config.session.upgrade_timeout = timeout;
        self
    }

    /// The most bytes of messages queued for one client (default 10 MB); see
    /// [`Connection::send`](crate::engine::Connection::send) for what happens beyond it.
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.config.session.max_queued_bytes = bytes;
        self
    }

    /// The transports clients may use (default both). Without WebSocket no upgrade is offered.
    pub fn transports(mut self, transports: &[Transport]) -> Self {
        self.config.polling = transports.contains(&Transport::Polling);
        self.config.websocket = transports.contains(&Transport::WebSocket);
        self
    }

    /// Cross-origin rules for browsers (default none: same origin only).
    pub fn cors(mut self, cors: Cors) -> Self {
        self.config.cors = Some(cors);
        self
    }

    /// The WebSocket read buffer per connection (default 4 KiB); larger messages still arrive
    /// whole, in more reads. It is most of an idle connection's memory: 1 KiB saves about 3 KB
    /// per connection.
    ///
    /// ```
    /// use sio_server::engine::{Connection, Engine, Message};
    ///
    /// let engine = Engine::builder()
    ///     .websocket_read_buffer(1024)
    ///     .build(|_: &Connection, _: Message| {});
    /// # drop(engine);
    /// ```
    pub fn websocket_read_buffer(mut self, bytes: usize) -> Self {
        self.config.websocket_read_buffer = bytes;
        self
    }

    /// How long [`serve`](crate::engine::serve) waits for the headers of a request (default
    /// 30 s), so that a client dribbling them (slowloris) cannot hold a connection. An engine
    /// mounted in another server relies on that server's own header timeout.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.config.header_read_timeout = timeout;
        self
    }

    /// How long the body of a polling POST may take to arrive (default 60 s); a slower one gets
    /// HTTP 408 and ends the session. It holds wherever the engine is mounted, and never applies
    /// to a long-polling GET waiting for data.
    pub fn body_timeout(mut self, timeout: Duration) -> Self {
        self.config.body_timeout = timeout;
        self
    }

    /// A filter that sees the request of every new session (both transports) before it opens,
    /// as Node's `allowRequest` does, and may refuse it. It may take its time: the future runs
    /// on the request's task. What it needs of the request, it copies before its future starts.
    ///
    /// ```
    /// use sio_server::engine::{Connection, Engine, Message, Refusal};
    ///
    /// let engine = Engine::builder()
    ///     .allow_request(|request| {
    ///         let token = request.query("token");
    ///         async move {
    ///             match token.as_deref() {
    ///                 Some("let-me-in") => Ok(()),
    ///                 _ => Err(Refusal::new("a valid token is required")),
    ///             }
    ///         }
    ///     })
    ///     .build(|_: &Connection, _: Message| {});
    /// # drop(engine);
    /// ```
    pub fn allow_request<F, Fut>(mut self, filter: F) -> Self
    where
        F: Fn(&HandshakeInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Refusal>> + Send + 'static,
    {
        self.config.allow_request = Some(RequestFilter::new(filter));
        self
    }

    /// Adds headers to the response that opens each session (the polling handshake, or the
    /// WebSocket `101`), as Node's `initial_headers` event does: to set a cookie of the
    /// application's, say. It runs after the [`cookie`](Self::cookie) is set, so it can change it.
    ///
    /// ```
    /// use sio_server::engine::{Connection, Engine, Message};
    ///
    /// let engine = Engine::builder()
    ///     .initial_headers(|headers, _request| {
    ///         headers.append("set-cookie", "mycookie=456".parse().unwrap());
    ///     })
    ///     .build(|_: &Connection, _: Message| {});
    /// # drop(engine);
    /// ```
    pub fn initial_headers<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut http::HeaderMap, &RequestHead) + Send + Sync + 'static,
    {
        self.config.hooks.initial_headers = Some(Arc::new(hook));
        self
    }

    /// Adds headers to every response of a session's requests (each polling GET and POST, and
    /// the WebSocket `101`), as Node's `headers` event does; refusals are left alone. On the
    /// request that opens a session it runs after [`initial_headers`](Self::initial_headers).
    ///
    /// ```
    /// use sio_server::engine::{Connection, Engine, Message};
    ///
    /// let engine = Engine::builder()
    ///     .headers(|headers, _request| {
    ///         headers.insert("x-served-by", "node-1".parse().unwrap());
    ///     })
    ///     .build(|_: &Connection, _: Message| {});
    /// # drop(engine);
    /// ```
    pub fn headers<F>(mut self, hook: F) -> Self
    where
        F: Fn(&mut http::HeaderMap, &RequestHead) + Send + Sync + 'static,
    {
        self.config.hooks.headers = Some(Arc::new(hook));
        self
    }

    /// How polling responses are compressed (Node's `httpCompression`; default: gzip or
    /// deflate, as the request accepts, from 1 KiB on). See [`HttpCompression`].
    pub fn http_compression(mut self, compression: HttpCompression) -> Self {
        self.config.http_compression = compression;
        self
    }

    /// Compresses WebSocket messages with permessage-deflate for clients that offer it
    /// (Node's `perMessageDeflate`; default off, as in Node). See [`PerMessageDeflate`].
    ///
    /// ```
    /// use sio_server::engine::{Connection, Engine, Message, PerMessageDeflate};
    ///
    /// let engine = Engine::builder()
    ///     .per_message_deflate(PerMessageDeflate::default())
    ///     .build(|_: &Connection, _: Message| {});
    /// # drop(engine);
    /// ```
    pub fn per_message_deflate(mut self, deflate: PerMessageDeflate) -> Self {
        self.config.per_message_deflate = Some(deflate);
        self
    }

    /// Accepts Engine.IO v3 clients (`EIO=3`: Socket.IO v2 clients), as Node's `allowEIO3`;
    /// default off, and a v3 client then gets 400 `{"code":5,"message":"Unsupported protocol
    /// version"}`, as from Node. A v3 client pings the server, which answers; its session
    /// closes when no ping arrives within `ping_interval + ping_timeout`.
    ///
    /// ```
    /// use sio_server::engine::{Connection, Engine, Message};
    ///
    /// let engine = Engine::builder().allow_eio3(true).build(|_: &Connection, _: Message| {});
    /// # drop(engine);
    /// ```
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.config.allow_eio3 = allow;
        self
    }

    /// Sets a cookie holding the session id on the handshake of each polling session (Node's
    /// `cookie` option; default none). As in Node, a session opened on WebSocket gets none: its
    /// id is not known until the upgrade is done.
    ///
    /// ```
    /// use sio_server::engine::{Connection, Engine, Message, SessionCookie};
    ///
    /// let engine = Engine::builder()
    ///     .cookie(SessionCookie::new("io"))
    ///     .build(|_: &Connection, _: Message| {});
    /// # drop(engine);
    /// ```
    pub fn cookie(mut self, cookie: SessionCookie) -> Self {
        self.config.cookie = Some(cookie);
        self
    }

    /// Told of every request the engine refuses, with Node's code, message and context (Node's
    /// `connection_error` event). The refusal itself is answered as before.
    ///
    /// ```
    /// use sio_server::engine::{Connection, Engine, Message};
    ///
    /// let engine = Engine::builder()
    ///     .on_connection_error(|error| {
    ///         tracing::info!(code = error.code(), message = error.message(), context = %error.context(), "refused");
    ///     })
    ///     .build(|_: &Connection, _: Message| {});
    /// # drop(engine);
    /// ```
    pub fn on_connection_error<F>(mut self, hook: F) -> Self
    where
        F: Fn(&ConnectionError) + Send + Sync + 'static,
    {
        self.config.hooks.connection_error = Some(Arc::new(hook));
        self
    }

    /// Whether this builder accepts Engine.IO v3 clients.
    pub(crate) fn allows_eio3(&self) -> bool {
        self.config.allow_eio3
    }

    /// The `max_payload` this builder has now.
    pub(crate) fn max_payload_setting(&self) -> usize {
        self.config.session.max_payload
    }

    /// Builds the engine, which `handler` is told about every connection of.
    pub fn build<H: EngineHandler>(self, handler: H) -> Engine<H> {
        self.build_cyclic(|_| handler)
    }

    /// Builds the engine with a handler that holds a weak handle to it.
    pub(crate) fn build_cyclic<H: EngineHandler>(
        mut self,
        handler: impl FnOnce(WeakEngine<H>) -> H,
    ) -> Engine<H> {
        self.config.session.allow_upgrade = self.config.polling && self.config.websocket;
        Engine::new_cyclic(self.config, handler)
    }
}
