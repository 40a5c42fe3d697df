//! Serving an engine on its own, or an application with the engine mounted in it, with the
//! timeouts a server on the open internet needs.

use std::future::Future;
use std::io;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tower_service::Service;
use tracing::{debug, warn};

use crate::engine::handler::EngineHandler;
use crate::engine::handshake::RemoteAddr;
use crate::engine::http::BoxError;
use crate::engine::service::Engine;

/// Serves `engine` on every connection `listener` accepts, until the process ends or the engine
/// shuts down: then, once every session is gone (or the shutdown's deadline passed), it stops
/// accepting, lets each HTTP connection finish its request, and returns once the shutdown is
/// over.
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
    let finished = engine.shutdown_finished();
    let drained = engine.drained();
    let drained = async move { Some(drained.await) };
    serve_until(listener, engine, header_read_timeout, drained).await;
    finished.await;
    Ok(())
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
    serve_until(
        listener,
        service,
        header_read_timeout,
        std::future::pending(),
    )
    .await;
    Ok(())
}

/// [`serve_service`] until `signal` resolves: then it stops accepting, lets each open HTTP
/// connection finish the request it is serving, and returns once they have all closed.
/// WebSocket connections are the engine's once upgraded: the engine closes them.
///
/// With an engine, `signal` is [`Engine::shutdown_signal`], so the listener closes once
/// [`Engine::shutdown`] has closed every session (a Socket.IO server has the same signal):
///
/// ```no_run
/// use std::time::Duration;
/// use sio_server::engine::{Connection, Engine, Message};
///
/// # async fn run() -> std::io::Result<()> {
/// let engine = Engine::builder().build(|_: &Connection, _: Message| {});
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8000").await?;
/// let signal = engine.shutdown_signal();
/// sio_server::engine::serve_service_with_shutdown(listener, engine, Duration::from_secs(10), signal)
///     .await
/// # }
/// ```
pub async fn serve_service_with_shutdown<S, B>(
    listener: TcpListener,
    service: S,
    header_read_timeout: Duration,
    signal: impl Future<Output = ()> + Send,
) -> io::Result<()>
where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let signal = async move {
        signal.await;
        None
    };
    serve_until(listener, service, header_read_timeout, signal).await;
    Ok(())
}

/// Accepts until `signal` resolves, then waits for the open HTTP connections to close: until
/// the deadline it resolves with, if any, or for as long as they take.
async fn serve_until<S, B>(
    listener: TcpListener,
    service: S,
    header_read_timeout: Duration,
    signal: impl Future<Output = Option<Instant>> + Send,
) where
    S: Service<http::Request<Incoming>, Response = http::Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: http_body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    // Each connection's task holds a sender: the channel closes when the last one ends.
    let (alive, mut all_closed) = mpsc::channel::<()>(1);
    let stop = watch::Sender::new(false);
    let mut signal = std::pin::pin!(signal);
    let deadline = loop {
        let (stream, peer) = tokio::select! {
            deadline = &mut signal => break deadline,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    warn!(%error, "accept failed; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let mut inner = service.clone();
        let service = TowerToHyperService::new(tower_service_fn(
            move |mut request: http::Request<Incoming>| {
                request.extensions_mut().insert(RemoteAddr(peer));
                inner.call(request)
            },
        ));
        let alive = alive.clone();
        let mut stop = stop.subscribe();
        tokio::spawn(async move {
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = async { let _ = stop.wait_for(|stop| *stop).await; } => {
                    // The request in progress is answered; the connection closes after it.
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = ended {
                debug!(%error, %peer, "HTTP connection ended with an error");
            }
            drop(alive);
        });
    };
    drop(listener);
    stop.send_replace(true);
    drop(alive);
    let closed = all_closed.recv();
    match deadline {
        Some(deadline) => {
            let _ = tokio::time::timeout_at(deadline.into(), closed).await;
        }
        None => {
            closed.await;
        }
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
