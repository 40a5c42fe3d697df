//! HTTP long-polling: a GET waits for what is queued, a POST delivers a payload.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::BodyExt;
use sio_core::CloseReason;

use crate::engine::compression::Compress;
use crate::engine::http::{BoxError, RequestError, ResponseBody, plain};
use crate::engine::session::SessionShared;

type Answer = Result<Response<ResponseBody>, RequestError>;

/// Answers a GET with everything queued (cut to `max_payload`), waiting until there is something;
/// compressed as `compress` says.
pub(crate) async fn get<D: Send + Sync + 'static>(
    session: Arc<SessionShared<D>>,
    compress: Option<Compress>,
) -> Answer {
    let now = Instant::now();
    // Timers run first, so a session whose deadline passed is gone even if its timer task has
    // not woken yet.
    let accepted = session.process(|state| {
        state.session.handle_timeout(now);
        state.session.handle_get(now)
    });
    accepted?;
    let mut pending = PendingGet {
        session: &session,
        answered: false,
    };
    loop {
        let notified = session.output.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (body, binary, closed, drained) = session.process(|state| {
            let body = state.session.poll_get_response();
            let binary = state.session.get_response_is_binary();
            let closed = state.session.close_reason().is_some();
            (body, binary, closed, !state.session.has_output())
        });
        if let Some(body) = body {
            pending.answered = true;
            if closed && drained {
                // The last of a closed session's output is out.
                session.forget();
            }
            let mut response = Compress::ok(compress, body);
            if binary {
                // Engine.IO v3's binary payload form.
                response.headers_mut().insert(
                    http::header::CONTENT_TYPE,
                    http::HeaderValue::from_static("application/octet-stream"),
                );
            }
            return Ok(response);
        }
        if closed {
            pending.answered = true;
            return Err(RequestError::SessionClosed);
        }
        notified.await;
    }
}

/// Tells the session when a GET goes away unanswered (the client disconnected).
struct PendingGet<'a, D: Send + Sync + 'static> {
    session: &'a SessionShared<D>,
    answered: bool,
}

impl<D: Send + Sync + 'static> Drop for PendingGet<'_, D> {
    fn drop(&mut self) {
        if !self.answered {
            self.session.lock().session.handle_get_cancelled();
        }
    }
}

/// Takes a POST body of packets (`binary`: sent as `application/octet-stream`, which only
/// Engine.IO v3 gives a meaning); `ok` when accepted, 400 when it does not decode, 413 when it
/// exceeds `max_payload`, 408 when it takes longer than `timeout` (each of those closes the
/// session).
pub(crate) async fn post<D, B>(
    session: Arc<SessionShared<D>>,
    body: B,
    binary: bool,
    timeout: Duration,
) -> Answer
where
    D: Send + Sync + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let now = Instant::now();
    let begun = session.process(|state| {
        state.session.handle_timeout(now);
        state.session.begin_post()
    });
    begun?;
    let mut active = ActivePost {
        session: &session,
        finished: false,
    };
    let max_payload = session.lock().session.config().max_payload;
    let read = tokio::time::timeout(timeout, read_body(Box::pin(body), max_payload)).await;
    active.finished = true;
    let body = match read {
        Ok(Read::Complete(body)) => body,
        Ok(Read::TooLarge(rest)) => {
            // As the reference server does, a body above the limit ends the session.
            tracing::warn!(parent: &session.span, max_payload, "POST body too large; session closed");
            session.process(|state| state.session.handle_transport_error());
            // The rest is read and dropped before the answer, within bounds: answering while
            // the client still writes would reset the connection and lose the 413.
            let _ = tokio::time::timeout(timeout, drain(rest, max_payload.saturating_mul(8))).await;
            return Err(RequestError::PayloadTooLarge);
        }
        Ok(Read::Failed) => {
            session.lock().session.abort_post();
            return Err(RequestError::UnreadableBody);
        }
        Err(_) => {
            tracing::warn!(parent: &session.span, timeout_ms = timeout.as_millis() as u64, "POST body too slow; session closed");
            session.process(|state| state.session.handle_transport_error());
            return Err(RequestError::BodyTimeout);
        }
    };
    let reason = session.process(|state| {
        if binary {
            state.session.finish_binary_post(body, Instant::now());
        } else {
            state.session.finish_post(body, Instant::now());
        }
        state.session.close_reason()
    });
    if reason == Some(CloseReason::ParseError) {
        tracing::warn!(parent: &session.span, "undecodable polling payload; session closed");
        return Err(RequestError::UndecodablePayload);
    }
    Ok(plain(StatusCode::OK, "ok"))
}

/// A POST body as far as it was read.
enum Read<B> {
    Complete(Bytes),
    /// Above the limit; the rest of the body is still unread.
    TooLarge(B),
    Failed,
}

/// Reads a body of at most `limit` bytes, keeping its chunks as they came (one chunk, the usual
/// case, is not copied).
async fn read_body<B>(mut body: B, limit: usize) -> Read<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    let mut chunks: Vec<Bytes> = Vec::new();
    let mut len = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Read::Failed;
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        len = len.saturating_add(data.len());
        if len > limit {
            return Read::TooLarge(body);
        }
        chunks.push(data);
    }
    match chunks.len() {
        0 => Read::Complete(Bytes::new()),
        1 => Read::Complete(chunks.swap_remove(0)),
        _ => Read::Complete(chunks.concat().into()),
    }
}

/// Reads and drops what is left of a body, up to `limit` bytes.
async fn drain<B>(mut body: B, limit: usize)
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    let mut drained = 0usize;
    while drained <= limit {
        match body.frame().await {
            Some(Ok(frame)) => {
                drained = drained.saturating_add(frame.data_ref().map_or(0, Bytes::len));
            }
            _ => return,
        }
    }
}

/// Ends the session's POST if the request goes away before its body arrived.
struct ActivePost<'a, D: Send + Sync + 'static> {
    session: &'a SessionShared<D>,
    finished: bool,
}

impl<D: Send + Sync + 'static> Drop for ActivePost<'_, D> {
    fn drop(&mut self) {
        if !self.finished {
            self.session.lock().session.abort_post();
        }
    }
}
