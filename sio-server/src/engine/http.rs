//! The HTTP side of the engine: the types of its responses, and every refusal with its status.

use std::fmt;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use sio_core::PollingError;
use tracing::debug;

/// The body of every response of the engine.
pub type ResponseBody = Full<Bytes>;

/// The error type request bodies may fail with.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A `text/plain` response.
pub(crate) fn plain(status: StatusCode, body: impl Into<Bytes>) -> Response<ResponseBody> {
    typed(status, "text/plain; charset=UTF-8", body)
}

/// A response of `content_type`.
pub(crate) fn typed(
    status: StatusCode,
    content_type: &'static str,
    body: impl Into<Bytes>,
) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Why the engine refused a request. Each knows its status; its text is the response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RequestError {
    /// The path is not the engine's.
    NotFound,
    /// `EIO` is missing or not 4.
    UnsupportedVersion,
    /// `transport` is missing, unknown or turned off.
    UnknownTransport,
    /// `sid` names no open session.
    UnknownSession,
    /// A request without `sid` that is not a GET.
    HandshakeNotGet,
    /// A preflight while no CORS rules are configured.
    CrossOriginRefused,
    /// `transport=websocket` on a request that is not a WebSocket handshake.
    NotWebSocketHandshake,
    /// A WebSocket handshake without its key.
    MissingWebSocketKey,
    /// A second GET while one is pending.
    ConcurrentGet,
    /// A POST while another is in progress.
    ConcurrentPost,
    /// A polling request for a session on WebSocket.
    NotPolling,
    /// A request for a session that closed.
    SessionClosed,
    /// The POST body failed to arrive.
    UnreadableBody,
    /// The POST body does not decode.
    UndecodablePayload,
    /// The POST body is above `max_payload`.
    PayloadTooLarge,
    /// The POST body did not arrive within the body timeout.
    BodyTimeout,
    /// A WebSocket handshake from an origin the CORS allow-list does not name.
    OriginNotAllowed,
    /// A handshake while the server shuts down.
    ShuttingDown,
}

/// Node's body for a protocol version it does not serve.
const UNSUPPORTED_VERSION_BODY: &str = r#"{"code":5,"message":"Unsupported protocol version"}"#;

impl RequestError {
    /// The HTTP status it is answered with.
    pub(crate) fn status(self) -> StatusCode {
        match self {
            RequestError::NotFound => StatusCode::NOT_FOUND,
            RequestError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            RequestError::BodyTimeout => StatusCode::REQUEST_TIMEOUT,
            RequestError::OriginNotAllowed => StatusCode::FORBIDDEN,
            RequestError::ShuttingDown => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// What the client reads in the body.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RequestError::NotFound => "not found",
            RequestError::UnsupportedVersion => "unsupported or missing protocol version",
            RequestError::UnknownTransport => "unknown or disallowed transport",
            RequestError::UnknownSession => "unknown session id",
            RequestError::HandshakeNotGet => "a handshake must be a GET request",
            RequestError::CrossOriginRefused => "cross-origin requests are not allowed",
            RequestError::NotWebSocketHandshake => {
                "transport=websocket needs a WebSocket handshake"
            }
            RequestError::MissingWebSocketKey => "missing Sec-WebSocket-Key",
            RequestError::ConcurrentGet => {
                "a GET request is already pending; the session is closed"
            }
            RequestError::ConcurrentPost => "a POST request is in progress; the session is closed",
            RequestError::NotPolling => "this session does not use polling",
            RequestError::SessionClosed => "this session is closed",
            RequestError::UnreadableBody => "the request body could not be read",
            RequestError::UndecodablePayload => {
                "the payload does not decode; the session is closed"
            }
            RequestError::PayloadTooLarge => "payload too large",
            RequestError::BodyTimeout => {
                "the request body did not arrive in time; the session is closed"
            }
            RequestError::OriginNotAllowed => "origin not allowed",
            RequestError::ShuttingDown => "the server is shutting down",
        }
    }

    /// The response; a 400 is logged at `debug` (a 413 is logged where it happens, with the
    /// session it closes).
    pub(crate) fn response(self) -> Response<ResponseBody> {
        if self.status() == StatusCode::BAD_REQUEST {
            debug!(reason = self.as_str(), "bad request");
        }
        if self == RequestError::UnsupportedVersion {
            // Node's answer, word for word: an old client (Engine.IO v3 with the option off)
            // reads it as the reference server sends it.
            let mut response = plain(self.status(), UNSUPPORTED_VERSION_BODY);
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return response;
        }
        let mut response = plain(self.status(), Bytes::from_static(self.as_str().as_bytes()));
        if matches!(
            self,
            RequestError::PayloadTooLarge | RequestError::BodyTimeout
        ) {
            // What is left of the body is not read: the connection ends with this answer.
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl From<PollingError> for RequestError {
    fn from(error: PollingError) -> Self {
        match error {
            PollingError::ConcurrentGet => RequestError::ConcurrentGet,
            PollingError::ConcurrentPost => RequestError::ConcurrentPost,
            PollingError::NotPolling => RequestError::NotPolling,
            PollingError::Closed => RequestError::SessionClosed,
        }
    }
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::error::Error for RequestError {}

#[cfg(test)]
mod tests {
    use super::RequestError;
    use http::StatusCode;

    #[test]
    fn each_refusal_has_its_status_and_text() {
        assert_eq!(RequestError::NotFound.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            RequestError::PayloadTooLarge.status(),
            StatusCode::PAYLOAD_TOO_LARGE
        );
        assert_eq!(
            RequestError::UnknownSession.status(),
            StatusCode::BAD_REQUEST
        );
        let response = RequestError::UnknownSession.response();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers()[http::header::CONTENT_TYPE],
            "text/plain; charset=UTF-8"
        );
    }
}
