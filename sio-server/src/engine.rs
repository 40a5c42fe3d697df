//! The Engine.IO server: one service that answers polling requests and WebSocket upgrades on
//! one path.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use sio_core::{EngineSession, EngineVersion, Transport};
use tracing::{Instrument, debug};

use crate::connection::{HandshakeInfo, RemoteAddr};
use crate::engine_builder::EngineConfig;
use crate::registry::Registry;
use crate::responses::{bad_request, plain};
use crate::session_shared::SessionShared;
use crate::{EngineBuilder, EngineHandler, EngineStats, polling, websocket};

/// The body of every response of the engine.
pub type ResponseBody = Full<Bytes>;

/// The error type request bodies may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An Engine.IO server: a tower/hyper service for one path, answering both HTTP long-polling
/// and WebSocket requests. Cheap to clone; clones share the sessions.
///
/// Serve it standalone with [`serve`](crate::serve), or mount it in an axum or hyper
/// application (which must serve connections with upgrades enabled, as axum does).
///
/// ```no_run
/// use sio_server::{Connection, Engine, Message};
///
/// # async fn run() -> std::io::Result<()> {
/// let engine = Engine::builder().build(|connection: &Connection, message: Message| {
///     let _ = connection.send(message); // echo
/// });
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// sio_server::serve(listener, engine).await
/// # }
/// ```
#[derive(Clone)]
pub struct Engine {
    pub(crate) inner: Arc<EngineInner>,
}

pub(crate) struct EngineInner {
    pub(crate) config: EngineConfig,
    pub(crate) registry: Registry,
    pub(crate) handler: Box<dyn EngineHandler>,
    pub(crate) next_websocket_id: AtomicU64,
}

impl fmt::Debug for EngineInner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EngineInner")
            .field("config", &self.config)
            .field("stats", &self.registry.stats())
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Engine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.inner, f)
    }
}

impl Engine {
    /// Starts configuring an engine.
    pub fn builder() -> EngineBuilder {
        EngineBuilder::default()
    }

    /// Counts of open sessions by transport, and totals.
    pub fn stats(&self) -> EngineStats {
        self.inner.registry.stats()
    }

    /// Closes every open session; each client is told with a `close` packet.
    pub fn close_all(&self) {
        for session in self.inner.registry.all() {
            session.process(|state| state.session.close());
        }
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
        let inner = Arc::clone(&self.inner);
        async move {
            // Only the `Origin` header matters to CORS: keep that, not a copy of every header.
            let origin = inner
                .config
                .cors
                .as_ref()
                .and(request.headers().get(http::header::ORIGIN).cloned());
            let mut response = Arc::clone(&inner).route(request).await;
            if let Some(cors) = &inner.config.cors {
                cors.apply(origin.as_ref(), response.headers_mut());
            }
            response
        }
    }
}

/// The query parameters the engine reads.
struct Query<'a> {
    version: Option<EngineVersion>,
    transport: Option<Transport>,
    sid: Option<std::borrow::Cow<'a, str>>,
}

impl<'a> Query<'a> {
    fn parse(query: &'a str) -> Self {
        let mut parsed = Query {
            version: None,
            transport: None,
            sid: None,
        };
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                "EIO" => parsed.version = EngineVersion::from_query(&value),
                "transport" => parsed.transport = Transport::from_query(&value),
                "sid" => parsed.sid = Some(value),
                _ => {}
            }
        }
        parsed
    }
}

impl EngineInner {
    pub(crate) fn new(config: EngineConfig, handler: Box<dyn EngineHandler>) -> Self {
        EngineInner {
            config,
            registry: Registry::default(),
            handler,
            next_websocket_id: AtomicU64::new(0),
        }
    }

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

    async fn route<B>(self: Arc<Self>, mut request: Request<B>) -> Response<ResponseBody>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        if !self.path_matches(request.uri().path()) {
            return plain(StatusCode::NOT_FOUND, "not found");
        }
        if request.method() == Method::OPTIONS {
            return self.preflight(&request);
        }
        let uri = request.uri().clone();
        let query = Query::parse(uri.query().unwrap_or(""));
        if query.version.is_none() {
            return bad_request("unsupported or missing protocol version (EIO=4 expected)");
        }
        let Some(transport) = query.transport.filter(|t| self.transport_allowed(*t)) else {
            return bad_request("unknown or disallowed transport");
        };
        let sid = query.sid.as_deref();
        match transport {
            Transport::WebSocket => websocket::upgrade(self, &mut request, sid),
            Transport::Polling => match (request.method(), sid) {
                (&Method::GET, None) => {
                    let session = self.open_session(Transport::Polling, handshake_info(&request));
                    polling::get(session).await
                }
                (&Method::GET, Some(sid)) => match self.registry.get(sid) {
                    Some(session) => polling::get(session).await,
                    None => bad_request("unknown session id"),
                },
                (&Method::POST, Some(sid)) => match self.registry.get(sid) {
                    Some(session) => polling::post(session, request.into_body()).await,
                    None => bad_request("unknown session id"),
                },
                _ => bad_request("a handshake must be a GET request"),
            },
        }
    }

    fn preflight<B>(&self, request: &Request<B>) -> Response<ResponseBody> {
        let Some(cors) = &self.config.cors else {
            return bad_request("cross-origin requests are not allowed");
        };
        let mut response = plain(StatusCode::NO_CONTENT, "");
        cors.apply_preflight(request.headers(), response.headers_mut());
        response
    }

    /// Starts a session on `transport` and tells the application.
    pub(crate) fn open_session(
        self: &Arc<Self>,
        transport: Transport,
        handshake: HandshakeInfo,
    ) -> Arc<SessionShared> {
        let sid = self.registry.new_sid();
        let session = EngineSession::new(
            sid.clone(),
            transport,
            self.config.session.clone(),
            Instant::now(),
        );
        let shared = SessionShared::new(sid, session, handshake, Arc::clone(self));
        self.registry.insert(Arc::clone(&shared), transport);
        shared.span.in_scope(|| debug!("session opened"));
        tokio::spawn(run_timers(Arc::clone(&shared)).instrument(shared.span.clone()));
        self.handler.on_open(&shared.connection());
        shared
    }
}

/// What a session keeps of the request that opened it.
///
/// Copied, not cloned: hyper's header values and URI share its whole read buffer (8 KiB or more),
/// which a clone would keep alive for as long as the session lives.
pub(crate) fn handshake_info<B>(request: &Request<B>) -> HandshakeInfo {
    let mut headers = http::HeaderMap::with_capacity(request.headers().len());
    for (name, value) in request.headers() {
        if let Ok(value) = http::HeaderValue::from_bytes(value.as_bytes()) {
            headers.append(name.clone(), value);
        }
    }
    let uri = request
        .uri()
        .to_string()
        .parse()
        .unwrap_or_else(|_| request.uri().clone());
    HandshakeInfo {
        uri,
        headers,
        remote_addr: request.extensions().get::<RemoteAddr>().map(|addr| addr.0),
    }
}

/// Sleeps until the session's next deadline (ping due, pong overdue, upgrade overdue) and runs
/// it, until the session closes.
async fn run_timers(session: Arc<SessionShared>) {
    let mut closed = session.closed();
    loop {
        let Some(deadline) = session.lock().session.poll_timeout() else {
            return;
        };
        tokio::select! {
            () = tokio::time::sleep_until(deadline.into()) => session.tick(),
            () = session.timer.notified() => {}
            _ = closed.wait_for(|closed| *closed) => return,
        }
    }
}

impl<B> tower_service::Service<Request<B>> for Engine
where
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
