//! The HTTP service of a [`Server`](crate::Server), to mount in axum or hyper.

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};

use super::ServerInner;
use crate::engine::{BoxError, Engine, ResponseBody};

/// The HTTP service of a [`Server`](crate::Server), from [`Server::service`](crate::Server::service):
/// a tower service that answers both Engine.IO transports on the server's path. Cheap to clone.
///
/// In axum: `Router::new().route_service("/socket.io/", server.service())`. Called by hand:
///
/// ```no_run
/// use tower_service::Service;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let server = sio_server::Server::builder().build();
/// let mut service = server.service();
/// let handshake = http::Request::get("/socket.io/?EIO=4&transport=polling")
///     .body(http_body_util::Full::new(bytes::Bytes::new()))?;
/// let response = service.call(handshake).await?;
/// assert_eq!(response.status(), http::StatusCode::OK);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServerService {
    engine: Engine<ServerInner>,
}

impl ServerService {
    pub(super) fn new(engine: Engine<ServerInner>) -> Self {
        ServerService { engine }
    }
}

impl fmt::Debug for ServerService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerService")
            .field("engine", &self.engine)
            .finish()
    }
}

impl<B> tower_service::Service<Request<B>> for ServerService
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        tower_service::Service::<Request<B>>::poll_ready(&mut self.engine, cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        self.engine.call(request)
    }
}
