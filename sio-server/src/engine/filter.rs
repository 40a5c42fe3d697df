//! The application's say on handshakes: a filter that sees each new session's request before
//! it is opened (Node's `allowRequest`).

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::future::BoxFuture;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

use crate::engine::handshake::HandshakeInfo;
use crate::engine::http::ResponseBody;

/// A handshake the application refused: the client gets `status` (403 unless set) and a JSON
/// body `{"code":4,"message":..}`, as the reference server answers a refusal of its
/// `allowRequest`.
///
/// ```
/// use sio_server::engine::Refusal;
/// let refusal = Refusal::new("no token").with_status(http::StatusCode::UNAUTHORIZED);
/// assert_eq!(refusal.message(), "no token");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    status: StatusCode,
    message: String,
}

impl Refusal {
    /// A refusal with this message, answered 403.
    pub fn new(message: impl Into<String>) -> Self {
        Refusal {
            status: StatusCode::FORBIDDEN,
            message: message.into(),
        }
    }

    /// Answers with `status` instead of 403.
    pub fn with_status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    /// What the client reads as the message.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn response(&self) -> Response<ResponseBody> {
        let body = serde_json::json!({ "code": 4, "message": self.message }).to_string();
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

type FilterFn =
    dyn Fn(&HandshakeInfo) -> BoxFuture<'static, Result<(), Refusal>> + Send + Sync + 'static;

/// The filter of handshakes, shared by the engine's clones.
#[derive(Clone)]
pub(crate) struct RequestFilter(Arc<FilterFn>);

impl RequestFilter {
    pub(crate) fn new<F, Fut>(filter: F) -> Self
    where
        F: Fn(&HandshakeInfo) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), Refusal>> + Send + 'static,
    {
        RequestFilter(Arc::new(move |request| Box::pin(filter(request))))
    }

    pub(crate) async fn check(&self, request: &HandshakeInfo) -> Result<(), Refusal> {
        (self.0)(request).await
    }
}

impl fmt::Debug for RequestFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RequestFilter")
    }
}
