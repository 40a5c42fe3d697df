//! The Engine.IO server: one service that answers polling requests and WebSocket upgrades on
//! one path.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use sio_core::{CloseReason, EngineSession, EngineVersion, Transport};
use tracing::debug;

use crate::engine::builder::{EngineBuilder, EngineConfig};
use crate::engine::connection::{Connection, Message};
use crate::engine::filter::Refusal;
use crate::engine::handler::EngineHandler;
use crate::engine::handshake::HandshakeInfo;
use crate::engine::hooks::{ConnectionError, NODE_MESSAGES, RequestHead};
use crate::engine::http::{BoxError, RequestError, ResponseBody, plain};
use crate::engine::query::Query;
use crate::engine::registry::{EngineStats, Registry};
use crate::engine::session::{SessionHost, SessionShared};
use crate::engine::shutdown::{Shutdown, deadline_after};
use crate::engine::timers::Timers;
use crate::engine::transport::deflate::Deflater;
use crate::engine::transport::websocket::Opening;
use crate::engine::transport::{polling, websocket};

/// An Engine.IO server: a tower/hyper service for one path, answering both HTTP long-polling
/// and WebSocket requests, whose connections a handler `H` is told about. Cheap to clone; clones
/// share the sessions.
///
/// Serve it standalone with [`serve`](crate::engine::serve), or mount it in an axum or hyper
/// application (which must serve connections with upgrades enabled, as axum does).
///
/// ```no_run
/// use sio_server::engine::{Connection, Engine, Message};
///
/// # async fn run() -> std::io::Result<()> {
/// let engine = Engine::builder().build(|connection: &Connection, message: Message| {
///     let _ = connection.send(message); // echo
/// });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// sio_server::engine::serve(listener, engine).await
/// # }
/// ```
pub struct Engine<H: EngineHandler> {
    handle: Arc<Handle<H>>,
}

/// An [`Engine`] that does not keep it alive, from [`Engine::downgrade`].
pub struct WeakEngine<H: EngineHandler> {
    handle: Weak<Handle<H>>,
}

/// What the application's handles share. Sessions hold the engine itself, not this: once the
/// last handle is gone, no request can reach a session any more, and this closes them all.
struct Handle<H: EngineHandler> {
    inner: Arc<EngineInner<H>>,
}

impl<H: EngineHandler> Drop for Handle<H> {
    fn drop(&mut self) {
        // A closed polling session waits in the registry for the GET that takes its last
        // frames; that GET can no longer come. Forgetting it breaks the registry -> session ->
        // engine cycle, so the engine is freed once its connections' tasks end.
        for session in self.inner.registry.all() {
            session.process(|state| state.session.close());
            session.forget();
        }
    }
}

pub(crate) struct EngineInner<H: EngineHandler> {
    pub(crate) config: EngineConfig,
    pub(crate) registry: Registry<H::Data>,
    pub(crate) handler: H,
    pub(crate) next_websocket_id: AtomicU64,
    /// Every session's deadlines, served by one task.
    pub(crate) timers: Arc<Timers>,
    pub(crate) shutdown: Shutdown,
    /// Compresses WebSocket messages, if permessage-deflate is on.
    pub(crate) deflater: Option<Arc<Deflater>>,
}

impl<H: EngineHandler> Clone for Engine<H> {
    fn clone(&self) -> Self {
        Engine {
            handle: Arc::clone(&self.handle),
        }
    }
}

impl<H: EngineHandler> Clone for WeakEngine<H> {
    fn clone(&self) -> Self {
        WeakEngine {
            handle: Weak::clone(&self.handle),
        }
    }
}

impl<H: EngineHandler> fmt::Debug for Engine<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Engine")
            .field("config", &self.inner().config)
            .field("stats", &self.inner().registry.stats())
            .finish_non_exhaustive()
    }
}

impl<H: EngineHandler> fmt::Debug for WeakEngine<H> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakEngine").finish_non_exhaustive()
    }
}

impl Engine<fn(&Connection, Message)> {
    /// Starts configuring an engine.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }
}

impl<H: EngineHandler> Engine<H> {
    /// An engine whose handler is made from the engine's own weak handle, so that the handler
    /// can reach the engine without keeping it alive.
    pub(crate) fn new_cyclic(
        config: EngineConfig,
        handler: impl FnOnce(WeakEngine<H>) -> H,
    ) -> Self {
        let handle = Arc::new_cyclic(|weak| Handle {
            inner: Arc::new(EngineInner {
                deflater: config.per_message_deflate.clone().map(Deflater::new),
                config,
                registry: Registry::default(),
                handler: handler(WeakEngine {
                    handle: Weak::clone(weak),
                }),
                next_websocket_id: AtomicU64::new(0),
                timers: Arc::default(),
                shutdown: Shutdown::default(),
            }),
        });
        Engine { handle }
    }

    pub(crate) fn inner(&self) -> &Arc<EngineInner<H>> {
        &self.handle.inner
    }

    /// The handler the engine tells about its connections.
    pub fn handler(&self) -> &H {
        &self.inner().handler
    }

    /// A handle that does not keep the engine alive. Once every [`Engine`] handle is dropped
    /// (and so every service that could take a request), the engine closes its sessions.
    pub fn downgrade(&self) -> WeakEngine<H> {
        WeakEngine {
            handle: Arc::downgrade(&self.handle),
        }
    }

    /// Counts of open sessions by transport, and totals.
    pub fn stats(&self) -> EngineStats {
        self.inner().registry.stats()
    }

    /// Closes every open session; each client is told with a `close` packet.
    pub fn close_all(&self) {
        for session in self.inner().registry.all() {
            session.process(|state| state.session.close());
        }
    }

    /// Shuts the engine down: new sessions are refused, every open one is closed without a
    /// `close` packet (so its client reconnects, to another server of a rolling restart say), and [`serve`](crate::engine::serve) stops accepting and returns
    /// once the HTTP connections it serves have closed, or `deadline` has passed.
    ///
    /// ```no_run
    /// # use std::time::Duration;
    /// # use sio_server::engine::{Connection, Engine, Message};
    /// # async fn run(engine: Engine<fn(&Connection, Message)>) {
    /// engine.shutdown(Duration::from_secs(5)).await;
    /// # }
    /// ```
    pub async fn shutdown(&self, deadline: std::time::Duration) {
        if self.begin_shutdown(deadline_after(deadline)) {
            self.discard_all();
            self.finish_shutdown();
        }
        self.shutdown_finished().await;
    }

    /// Ends every open session without a `close` packet (see
    /// [`EngineSession::discard`](sio_core::EngineSession::discard)): clients take it for a lost
    /// connection and reconnect.
    pub(crate) fn discard_all(&self) {
        for session in self.inner().registry.all() {
            session.process(|state| state.session.discard());
        }
    }

    /// Begins a shutdown that must be over by `deadline`; `false` if one had begun.
    pub(crate) fn begin_shutdown(&self, deadline: Instant) -> bool {
        self.inner().shutdown.begin(deadline)
    }

    /// Whether a shutdown began.
    pub(crate) fn is_shutting_down(&self) -> bool {
        self.inner().shutdown.has_begun()
    }

    /// The shutdown is over: `serve` returns.
    pub(crate) fn finish_shutdown(&self) {
        self.inner().shutdown.finish();
    }

    /// Resolves, with the shutdown's deadline, once a shutdown began and every session is gone
    /// (each client took its `close`), or the deadline passed: the moment to stop accepting and
    /// close idle HTTP connections. Earlier, a polling client's request already on its way
    /// would find its connection closed rather than its session's `close`.
    pub(crate) fn drained(&self) -> impl Future<Output = Instant> + Send + 'static {
        let begun = self.inner().shutdown.begun();
        let watched = self.downgrade();
        async move {
            let deadline = begun.await;
            while Instant::now() < deadline
                && watched
                    .upgrade()
                    .is_some_and(|engine| engine.stats().open > 0)
            {
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            }
            deadline
        }
    }

    /// Resolves once a shutdown began and every session is gone, or its deadline passed: the
    /// signal a server that serves the engine (an axum one, say) stops on: a polling client's
    /// request already on its way still finds its session's end, not a closed connection.
    ///
    /// ```no_run
    /// # use sio_server::engine::{Connection, Engine, Message};
    /// # async fn run(engine: Engine<fn(&Connection, Message)>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    /// let signal = engine.shutdown_signal();
    /// let timeout = std::time::Duration::from_secs(30);
    /// sio_server::engine::serve_service_with_shutdown(listener, engine.clone(), timeout, signal).await?;
    /// engine.shutdown_finished().await;
    /// # Ok(()) }
    /// ```
    pub fn shutdown_signal(&self) -> impl Future<Output = ()> + Send + 'static {
        let drained = self.drained();
        async move {
            drained.await;
        }
    }

    /// Resolves once a shutdown is over (see [`shutdown_signal`](Self::shutdown_signal) for an
    /// example).
    pub fn shutdown_finished(&self) -> impl Future<Output = ()> + Send + 'static {
        self.inner().shutdown.finished()
    }

    /// Answers one request. The future never fails: errors become HTTP error responses.
    pub fn handle<B>(
        &self,
        request: Request<B>,
    ) -> impl Future<Output = Response<ResponseBody>> + Send + 'static
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let inner = Arc::clone(self.inner());
        async move {
            // Only the `Origin` header matters to CORS: keep that, not a copy of every header.
            let origin = inner
                .config
                .cors
                .as_ref()
                .and(request.headers().get(http::header::ORIGIN).cloned());
            let hooks = &inner.config.hooks;
            let head = hooks.want_request().then(|| RequestHead::of(&request));
            let mut response = match Arc::clone(&inner).route(request).await {
                Ok(mut response) => {
                    if let Some(head) = &head {
                        hooks.answered(response.headers_mut(), head);
                    }
                    response
                }
                Err(Refused::Request(error)) => {
                    if let Some(head) = head {
                        hooks.refused(|| ConnectionError::of(error, head));
                    }
                    error.response()
                }
                Err(Refused::Filter(refusal)) => {
                    if let Some(head) = head {
                        hooks.refused(|| {
                            let context = serde_json::json!({ "message": refusal.message() });
                            Some(ConnectionError::new(4, NODE_MESSAGES[4], context, head))
                        });
                    }
                    refusal.response()
                }
            };
            if let Some(cors) = &inner.config.cors {
                cors.apply(origin.as_ref(), response.headers_mut());
            }
            response
        }
    }
}

/// Why a request got no session's answer.
enum Refused {
    Request(RequestError),
    Filter(Refusal),
}

impl From<RequestError> for Refused {
    fn from(error: RequestError) -> Self {
        Refused::Request(error)
    }
}

impl<H: EngineHandler> WeakEngine<H> {
    /// The engine, if it is still alive.
    pub fn upgrade(&self) -> Option<Engine<H>> {
        self.handle.upgrade().map(|handle| Engine { handle })
    }
}

impl<H: EngineHandler> EngineInner<H> {
    fn path_matches(&self, path: &str) -> bool {
        let configured = self.config.path.as_str();
        path == configured || path == configured.trim_end_matches('/')
    }

    fn transport_allowed(&self, transport: Transport) -> bool {
        match transport {
            Transport::Polling => self.config.polling,
            Transport::WebSocket => self.config.websocket,
        }
    }

    async fn route<B>(
        self: Arc<Self>,
        mut request: Request<B>,
    ) -> Result<Response<ResponseBody>, Refused>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if !self.path_matches(request.uri().path()) {
            return Err(RequestError::NotFound.into());
        }
        if request.method() == Method::OPTIONS {
            return Ok(self.preflight(&request)?);
        }
        let uri = request.uri().clone();
        let query = Query::parse(uri.query().unwrap_or(""));
        // In Node's order: the transport, then the version.
        let transport = query
            .transport
            .filter(|t| self.transport_allowed(*t))
            .ok_or(RequestError::UnknownTransport)?;
        match query.version {
            Some(EngineVersion::V4) => {}
            Some(EngineVersion::V3) if self.config.allow_eio3 => {}
            _ => return Err(RequestError::UnsupportedVersion.into()),
        }
        let sid = query.sid.as_deref();
        if transport == Transport::WebSocket {
            websocket::check_handshake(&request)?;
            // Browsers do not apply CORS to WebSockets: an origin allow-list is enforced here.
            if let Some(cors) = &self.config.cors
                && !cors.admits(request.headers().get(http::header::ORIGIN))
            {
                return Err(RequestError::OriginNotAllowed.into());
            }
        }
        if sid.is_none() && self.shutdown.has_begun() {
            return Err(RequestError::ShuttingDown.into());
        }
        let handshake = match sid {
            None if request.method() == Method::GET => {
                let mut handshake = HandshakeInfo::copy_of(&request);
                if let Some(filter) = &self.config.allow_request
                    && let Err(refusal) = filter.check(&handshake).await
                {
                    debug!(
                        reason = refusal.message(),
                        "handshake refused by the request filter"
                    );
                    return Err(Refused::Filter(refusal));
                }
                handshake.release_map();
                Some(handshake)
            }
            None => return Err(RequestError::HandshakeNotGet.into()),
            Some(_) => None,
        };
        let routed = match (transport, handshake, sid) {
            (Transport::WebSocket, Some(handshake), _) => {
                websocket::upgrade(self, &mut request, Opening::New(Box::new(handshake)))
            }
            (Transport::WebSocket, None, Some(sid)) => {
                websocket::upgrade(self, &mut request, Opening::Upgrade(sid))
            }
            (Transport::Polling, Some(handshake), _) => {
                let session = self.open_session(Transport::Polling, handshake);
                let cookie = self
                    .config
                    .cookie
                    .as_ref()
                    .and_then(|cookie| cookie.header_for(session.sid.as_str()));
                let compress = self.config.http_compression.for_request(request.headers());
                let mut response = polling::get(session, compress).await?;
                if let Some(cookie) = cookie {
                    response
                        .headers_mut()
                        .append(http::header::SET_COOKIE, cookie);
                }
                Ok(response)
            }
            (Transport::Polling, None, Some(sid)) => match *request.method() {
                Method::GET => {
                    let compress = self.config.http_compression.for_request(request.headers());
                    polling::get(self.session(sid)?, compress).await
                }
                Method::POST => {
                    let body_timeout = self.config.body_timeout;
                    // A v3 client sends its binary payload form as octet-stream.
                    let binary = request
                        .headers()
                        .get(http::header::CONTENT_TYPE)
                        .is_some_and(|value| value == "application/octet-stream");
                    let body = request.into_body();
                    polling::post(self.session(sid)?, body, binary, body_timeout).await
                }
                _ => Err(RequestError::HandshakeNotGet),
            },
            (_, None, None) => Err(RequestError::HandshakeNotGet),
        };
        Ok(routed?)
    }

    pub(crate) fn session(&self, sid: &str) -> Result<Arc<SessionShared<H::Data>>, RequestError> {
        self.registry.get(sid).ok_or(RequestError::UnknownSession)
    }

    fn preflight<B>(&self, request: &Request<B>) -> Result<Response<ResponseBody>, RequestError> {
        let cors = self
            .config
            .cors
            .as_ref()
            .ok_or(RequestError::CrossOriginRefused)?;
        let mut response = plain(StatusCode::NO_CONTENT, "");
        cors.apply_preflight(request.headers(), response.headers_mut());
        Ok(response)
    }

    /// Starts a session on `transport` and tells the handler.
    pub(crate) fn open_session(
        self: &Arc<Self>,
        transport: Transport,
        handshake: HandshakeInfo,
    ) -> Arc<SessionShared<H::Data>> {
        let sid = self.registry.new_sid();
        let config = self.config.session.clone();
        let session = match handshake.engine_version() {
            Some(EngineVersion::V3) => {
                // Any non-empty `b64`, as Node reads it, asks for binary as base64 text.
                let base64 = handshake.query("b64").is_some_and(|b64| !b64.is_empty());
                EngineSession::new_v3(sid.clone(), transport, config, base64, Instant::now())
            }
            _ => EngineSession::new(sid.clone(), transport, config, Instant::now()),
        };
        let data = self.handler.connection_data(&handshake);
        let host: Arc<dyn SessionHost<H::Data>> = Arc::clone(self) as _;
        let shared = SessionShared::new(sid, session, handshake, host, data);
        self.registry.insert(Arc::clone(&shared), transport);
        shared.span.in_scope(|| debug!("session opened"));
        let first_deadline = shared.lock().arm();
        if let Some(at) = first_deadline {
            shared.schedule(at);
        }
        self.handler.on_open(&shared.connection());
        // A shutdown that began since the request was let in did not see this session (its
        // flag is set before it lists them): it ends here, as those ended, after `on_open`.
        if self.shutdown.has_begun() {
            shared.process(|state| state.session.discard());
        }
        shared
    }
}

impl<H: EngineHandler> SessionHost<H::Data> for EngineInner<H> {
    fn on_message(&self, connection: &Connection<H::Data>, message: Message) {
        self.handler.on_message(connection, message);
    }

    fn on_close(&self, connection: &Connection<H::Data>, reason: CloseReason) {
        self.handler.on_close(connection, reason);
    }

    fn on_upgrade(&self, connection: &Connection<H::Data>) {
        self.handler.on_upgrade(connection);
    }

    fn registry(&self) -> &Registry<H::Data> {
        &self.registry
    }

    fn timers(&self) -> &Arc<Timers> {
        &self.timers
    }
}

impl<H, B> tower_service::Service<Request<B>> for Engine<H>
where
    H: EngineHandler,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let response = self.handle(request);
        Box::pin(async move { Ok(response.await) })
    }
}
