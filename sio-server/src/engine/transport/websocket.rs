//! The WebSocket transport: the upgrade handshake, then one reader and one writer task per
//! socket.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use bytestring::ByteString;
use futures_util::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;
use sio_core::{CloseReason, Frame, Transport};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, Utf8Bytes};
use tracing::{Instrument, debug, warn};

use crate::engine::connection::CLOSE_POLICY;
use crate::engine::handler::EngineHandler;
use crate::engine::handshake::HandshakeInfo;
use crate::engine::http::{RequestError, ResponseBody, plain};
use crate::engine::service::EngineInner;
use crate::engine::session::SessionShared;

type WsStream = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// What a new WebSocket is for.
enum Purpose<D> {
    /// A new WebSocket-only session.
    Open(HandshakeInfo),
    /// The upgrade of a polling session; the socket's id is registered with the session.
    Upgrade(Arc<SessionShared<D>>, u64),
    /// A WebSocket for a session that already has one: accepted, then closed.
    Refuse,
}

/// How long the last frames of a closed session may take to leave.
const CLOSING_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// WebSocket close codes of RFC 6455 the server ends with.
const CLOSE_PROTOCOL: u16 = 1002;
const CLOSE_INVALID_DATA: u16 = 1007;
const CLOSE_TOO_BIG: u16 = 1009;

/// WebSocket `id` broke the rules: logged, and its close says which.
fn violation<D: Send + Sync + 'static>(session: &SessionShared<D>, id: u64, code: u16, what: &str) {
    warn!(code, error = what, "WebSocket protocol violation; closing");
    session.lock().close_code = Some((id, code));
}

/// The close frame WebSocket `id` ends with: its violation's code if it broke a rule, 1008 if
/// it is the session's and the session closed on input that did not decode, none otherwise (the
/// client sees 1005, as before).
fn close_frame<D: Send + Sync + 'static>(
    session: &SessionShared<D>,
    id: u64,
) -> Option<CloseFrame> {
    let state = session.lock();
    let own = state.close_code.filter(|(socket, _)| *socket == id);
    let code = own
        .map(|(_, code)| code)
        .or(match state.session.close_reason() {
            Some(CloseReason::ParseError) if state.websocket == Some(id) => Some(CLOSE_POLICY),
            _ => None,
        })?;
    Some(CloseFrame {
        code: CloseCode::from(code),
        reason: Utf8Bytes::from_static(""),
    })
}

/// Checks that a request is a WebSocket handshake the engine can accept.
pub(crate) fn check_handshake<B>(request: &Request<B>) -> Result<(), RequestError> {
    if !is_websocket_handshake(request.method(), request.headers()) {
        return Err(RequestError::NotWebSocketHandshake);
    }
    if !request.headers().contains_key(header::SEC_WEBSOCKET_KEY) {
        return Err(RequestError::MissingWebSocketKey);
    }
    Ok(())
}

fn is_websocket_handshake(method: &Method, headers: &HeaderMap) -> bool {
    let has = |name, wanted: &str| {
        headers.get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|value| {
                value
                    .split(',')
                    .any(|token| token.trim().eq_ignore_ascii_case(wanted))
            })
        })
    };
    method == Method::GET
        && has(header::CONNECTION, "upgrade")
        && has(header::UPGRADE, "websocket")
        && headers
            .get(header::SEC_WEBSOCKET_VERSION)
            .is_some_and(|v| v == "13")
}

/// What a WebSocket request asks for: a new session (its handshake admitted by the filter), or
/// the upgrade of the session with this sid.
pub(crate) enum Opening<'a> {
    New(HandshakeInfo),
    Upgrade(&'a str),
}

/// Answers a WebSocket request (checked with [`check_handshake`]) with `101 Switching
/// Protocols` and drives the socket once the connection is handed over.
pub(crate) fn upgrade<H: EngineHandler, B>(
    engine: Arc<EngineInner<H>>,
    request: &mut Request<B>,
    opening: Opening<'_>,
) -> Result<Response<ResponseBody>, RequestError> {
    check_handshake(request)?;
    let key = request
        .headers()
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(RequestError::MissingWebSocketKey)?;
    let accept = derive_accept_key(key.as_bytes());
    let purpose = match opening {
        Opening::New(handshake) => Purpose::Open(handshake),
        Opening::Upgrade(sid) => {
            let session = engine.session(sid)?;
            let id = engine.next_websocket_id.fetch_add(1, Ordering::Relaxed);
            let now = Instant::now();
            let opened = session.process(|state| {
                state.session.handle_timeout(now);
                let opened = state.session.handle_ws_open(now);
                if opened.is_ok() {
                    state.websocket = Some(id);
                }
                opened
            });
            match opened {
                Ok(()) => Purpose::Upgrade(session, id),
                Err(error) => {
                    debug!(parent: &session.span, %error, "extra WebSocket refused");
                    Purpose::Refuse
                }
            }
        }
    };

    let on_upgrade = hyper::upgrade::on(request);
    let config = WebSocketConfig::default()
        .read_buffer_size(engine.config.websocket_read_buffer)
        .max_message_size(Some(engine.config.session.max_payload))
        .max_frame_size(Some(engine.config.session.max_payload));
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let socket = WebSocketStream::from_raw_socket(
                    TokioIo::new(upgraded),
                    Role::Server,
                    Some(config),
                )
                .await;
                run(engine, purpose, socket).await;
            }
            Err(error) => {
                debug!(%error, "WebSocket upgrade failed");
                if let Purpose::Upgrade(session, id) = purpose {
                    detach(&session, id);
                }
            }
        }
    });

    let mut response = plain(StatusCode::SWITCHING_PROTOCOLS, Bytes::new());
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    if let Ok(accept) = HeaderValue::from_str(&accept) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    Ok(response)
}

async fn run<H: EngineHandler>(
    engine: Arc<EngineInner<H>>,
    purpose: Purpose<H::Data>,
    mut socket: WsStream,
) {
    let (session, id) = match purpose {
        Purpose::Refuse => {
            let _ = socket.close(None).await;
            return;
        }
        Purpose::Upgrade(session, id) => (session, id),
        Purpose::Open(handshake) => {
            let session = engine.open_session(Transport::WebSocket, handshake);
            let id = engine.next_websocket_id.fetch_add(1, Ordering::Relaxed);
            session.lock().websocket = Some(id);
            (session, id)
        }
    };
    let span = session.span.clone();
    let (sink, stream) = socket.split();
    // The writer tells the reader when the socket is done (stale, failed, or closed).
    let done = Arc::new(tokio::sync::Notify::new());
    tokio::spawn(write(Arc::clone(&session), id, sink, Arc::clone(&done)).instrument(span.clone()));
    // The reader gets a task of its own, sized for reading only: the upgrade's larger future
    // ends here instead of living as long as the connection.
    tokio::spawn(read(session, id, stream, done).instrument(span));
}

/// The session stops using socket `id` (it closed, or its upgrade failed).
fn detach<D: Send + Sync + 'static>(session: &Arc<SessionShared<D>>, id: u64) {
    // A closed session keeps its socket id, so the writer still sends the last frames.
    session.process(|state| {
        if state.websocket == Some(id) {
            state.session.handle_ws_closed();
        }
    });
    // Let the writer see it is no longer wanted.
    session.output.notify_waiters();
}

async fn read<D: Send + Sync + 'static>(
    session: Arc<SessionShared<D>>,
    id: u64,
    mut stream: futures_util::stream::SplitStream<WsStream>,
    done: Arc<tokio::sync::Notify>,
) {
    let mut closed = session.closed();
    loop {
        let message = tokio::select! {
            message = stream.next() => message,
            _ = closed.wait_for(|closed| *closed) => break,
            () = done.notified() => break,
        };
        let frame = match message {
            Some(Ok(WsMessage::Text(text))) => match ByteString::try_from(Bytes::from(text)) {
                Ok(text) => Frame::Text(text),
                Err(_) => {
                    violation(
                        &session,
                        id,
                        CLOSE_INVALID_DATA,
                        "invalid UTF-8 in a text message",
                    );
                    break;
                }
            },
            Some(Ok(WsMessage::Binary(bytes))) => Frame::Binary(bytes),
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => continue,
            Some(Ok(WsMessage::Close(_))) | None => break,
            Some(Err(tungstenite::Error::Capacity(error))) => {
                warn!(%error, "WebSocket message above maxPayload; closing");
                session.lock().close_code = Some((id, CLOSE_TOO_BIG));
                break;
            }
            Some(Err(tungstenite::Error::Protocol(
                ProtocolError::ResetWithoutClosingHandshake,
            ))) => {
                debug!("WebSocket reset by the client");
                break;
            }
            Some(Err(tungstenite::Error::Protocol(error))) => {
                violation(&session, id, CLOSE_PROTOCOL, &error.to_string());
                break;
            }
            Some(Err(tungstenite::Error::Utf8(error))) => {
                violation(&session, id, CLOSE_INVALID_DATA, &error);
                break;
            }
            Some(Err(error)) => {
                debug!(%error, "WebSocket read failed");
                break;
            }
        };
        let current = session.process(|state| {
            if state.websocket != Some(id) {
                return false;
            }
            state.session.handle_ws_frame(frame, Instant::now());
            true
        });
        if !current {
            break;
        }
    }
    detach(&session, id);
}

fn to_ws_message(frame: Frame) -> Option<WsMessage> {
    match frame {
        Frame::Text(text) => Utf8Bytes::try_from(text.into_bytes())
            .ok()
            .map(WsMessage::Text),
        Frame::Binary(bytes) => Some(WsMessage::Binary(bytes)),
    }
}

async fn write<D: Send + Sync + 'static>(
    session: Arc<SessionShared<D>>,
    id: u64,
    mut sink: futures_util::stream::SplitSink<WsStream, WsMessage>,
    done: Arc<tokio::sync::Notify>,
) {
    let mut closed_signal = session.closed();
    let mut frames = Vec::new();
    loop {
        let notified = session.output.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let (current, closed) = {
            let mut state = session.lock();
            let current = state.websocket == Some(id);
            if current {
                state.session.drain_ws(&mut frames);
            }
            (current, state.session.close_reason().is_some())
        };
        if !frames.is_empty() {
            // Everything queued goes out in one flush.
            let written = {
                let batch = async {
                    for frame in frames.drain(..) {
                        if let Some(message) = to_ws_message(frame) {
                            sink.feed(message).await?;
                        }
                    }
                    sink.flush().await
                };
                tokio::pin!(batch);
                let closing = async {
                    if !closed {
                        let _ = closed_signal.wait_for(|closed| *closed).await;
                    }
                };
                // A client that stops reading blocks the write until the session ends (its pings go
                // unanswered too); then the last frames get a short grace period.
                tokio::select! {
                    result = &mut batch => result.is_ok(),
                    () = closing => tokio::time::timeout(CLOSING_WRITE_TIMEOUT, &mut batch)
                        .await
                        .is_ok_and(|result| result.is_ok()),
                }
            };
            frames.clear();
            if !written {
                // The socket failed: the session must not keep queueing for it.
                detach(&session, id);
                break;
            }
            continue;
        }
        if closed || !current {
            break;
        }
        notified.await;
    }
    let closing = close_frame(&session, id);
    let _ = tokio::time::timeout(CLOSING_WRITE_TIMEOUT, async {
        if closing.is_some() {
            let _ = sink.send(WsMessage::Close(closing)).await;
        }
        sink.close().await
    })
    .await;
    done.notify_one();
    debug!(websocket = id, "WebSocket writer done");
}
