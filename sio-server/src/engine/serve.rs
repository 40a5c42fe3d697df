//! Serving an engine on its own, or an application with the engine mounted in it, with the
//! timeouts a server on the open internet needs.

use std::io;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_service::Service;
use tracing::{debug, warn};

use crate::engine::handler::EngineHandler;
use crate::engine::handshake::RemoteAddr;
use crate::engine::http::BoxError;
use crate::engine::service::Engine;

/// Serves `engine` on every connection `listener` accepts, until the process ends.
///
/// HTTP/1.1 with upgrades, `TCP_NODELAY` set; each request carries its peer's [`RemoteAddr`].
/// A connection whose request headers do not arrive within the engine's
/// [`header_read_timeout`](crate::engine::EngineBuilder::header_read_timeout) (30 s by
/// default) is closed. Failures to accept (such as running out of file descriptors) are logged
/// and retried.
///
/// ```no_run
/// # use sio_server::engine::{Connection, Engine, Message};
/// # async fn run() -> std::io::Result<()> {
/// let engine = Engine::builder().build(|_: &Connection, _: Message| {});
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
/// println!("listening on {}", listener.local_addr()?);
/// sio_server::engine::serve(listener, engine).await
/// # }
/// ```
pub async fn serve<H: EngineHandler>(listener: TcpListener, engine: Engine<H>) -> io::Result<()> {
    let header_read_timeout = engine.inner().config.header_read_timeout;
    serve_service(listener, engine, header_read_timeout).await
}

/// Serves any tower service, such as an axum `Router` with the engine mounted in it, the way
/// [`serve`] serves an engine: HTTP/1.1 with upgrades, `TCP_NODELAY`, each request tagged with
/// its peer's [`RemoteAddr`], and connections whose request headers take longer than
/// `header_read_timeout` closed (which `axum::serve` does not do).
///
/// With axum, `serve_service(listener, router, timeout)` where `axum::serve(listener, router)`
/// would be. Any tower service will do, the engine itself included:
///
/// ```no_run
/// use std::time::Duration;
/// use sio_server::engine::{Connection, Engine, Message};
///
/// # async fn run() -> std::io::Result<()> {
/// let engine = Engine::builder().build(|_: &Connection, _: Message| {});
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// sio_server::engine::serve_service(listener, engine, Duration::from_secs(10)).await
/// # }
/// ```
pub async fn serve_service<S, B>(
    listener: TcpListener,
    service: S,
    header_read_timeout: Duration,
) -> io::Result<()>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                warn!(%error, "accept failed; retrying");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let mut inner = service.clone();
        let service = TowerToHyperService::new(tower_service_fn(
            move |mut request: http::Request<Incoming>| {
                request.extensions_mut().insert(RemoteAddr(peer));
                inner.call(request)
            },
        ));
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(error) = connection.await {
                debug!(%error, %peer, "HTTP connection ended with an error");
            }
        });
    }
}

/// A tower service from a closure, so each connection can tag its requests with the peer.
fn tower_service_fn<F>(f: F) -> ServiceFn<F> {
    ServiceFn(f)
}

#[derive(Clone)]
struct ServiceFn<F>(F);

impl<F, R, Fut, T, E> Service<R> for ServiceFn<F>
where
    F: FnMut(R) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    type Response = T;
    type Error = E;
    type Future = Fut;

    fn poll_ready(&mut self, _: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), E>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: R) -> Fut {
        (self.0)(request)
    }
}
