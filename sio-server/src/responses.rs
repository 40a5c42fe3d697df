//! The plain HTTP answers of the engine.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use tracing::debug;

use crate::engine::ResponseBody;

/// A `text/plain` response.
pub(crate) fn plain(status: StatusCode, body: impl Into<Bytes>) -> Response<ResponseBody> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    response
}

/// HTTP 400, with the reason in the body and the log.
pub(crate) fn bad_request(reason: &'static str) -> Response<ResponseBody> {
    debug!(reason, "bad request");
    plain(StatusCode::BAD_REQUEST, reason)
}
