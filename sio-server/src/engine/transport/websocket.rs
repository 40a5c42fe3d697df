//! The WebSocket transport: the upgrade handshake, then one task per socket that reads and
//! writes it.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use bytes::Bytes;
use bytestring::ByteString;
use futures_util::task::AtomicWaker;
use futures_util::{Sink, Stream};
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use sio_core::permessage_deflate::InflateError;
use sio_core::{CloseReason, Frame, Transport};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::error::ProtocolError;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::Frame as WsFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{CloseCode, Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{self, Message as WsMessage, Utf8Bytes};
use tracing::{Instrument, debug, warn};

use crate::engine::connection::CLOSE_POLICY;
use crate::engine::handler::EngineHandler;
use crate::engine::handshake::HandshakeInfo;
use crate::engine::http::{RequestError, ResponseBody, plain};
use crate::engine::service::EngineInner;
use crate::engine::session::SessionShared;
use crate::engine::transport::deflate::Deflater;
use crate::engine::transport::shared_stream::{Direct, WsIo};

type WsStream = WebSocketStream<WsIo>;

/// What a new WebSocket is for.
enum Purpose<D> {
    /// A new WebSocket-only session.
    Open(Box<HandshakeInfo>),
    /// The upgrade of a polling session; the socket's id is registered with the session.
    Upgrade(Arc<SessionShared<D>>, u64),
    /// A WebSocket for a session that already has one: accepted, then closed.
    Refuse,
}

/// How long the last frames of a closed session may take to leave; then the close frame gets as
/// long again.
const CLOSING_WRITE_TIMEOUT: Duration = Duration::from_secs(1);

/// WebSocket close codes of RFC 6455 the server ends with.
const CLOSE_PROTOCOL: u16 = 1002;
const CLOSE_INVALID_DATA: u16 = 1007;
const CLOSE_TOO_BIG: u16 = 1009;

/// WebSocket pings a client may send while the kernel takes none of the output: tungstenite
/// keeps a pong for each, so beyond this the client is closed (1008).
const MAX_STALLED_PINGS: u32 = 64;

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
    New(Box<HandshakeInfo>),
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

    // permessage-deflate, if the engine has it and the client offers it in a form it honours.
    let deflate = engine.deflater.as_ref().and_then(|deflater| {
        let agreement = deflater.agree(request.headers())?;
        Some((Arc::clone(deflater), agreement))
    });
    let answer = deflate.as_ref().map(|(_, agreement)| agreement.response());
    let max_payload = engine.config.session.max_payload;
    let on_upgrade = hyper::upgrade::on(request);
    let config = WebSocketConfig::default()
        .read_buffer_size(engine.config.websocket_read_buffer)
        .max_message_size(Some(engine.config.session.max_payload))
        .max_frame_size(Some(engine.config.session.max_payload));
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let (deflater, inflating) = match deflate {
                    Some((deflater, agreement)) => (
                        Some(deflater),
                        Some(Deflater::inflating(&agreement, max_payload)),
                    ),
                    None => (None, None),
                };
                let io = WsIo::new(upgraded, deflater.clone(), inflating);
                let socket = WebSocketStream::from_raw_socket(io, Role::Server, Some(config)).await;
                run(engine, purpose, socket, deflater).await;
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
    if let Some(Ok(answer)) = answer.map(HeaderValue::try_from) {
        headers.insert(header::SEC_WEBSOCKET_EXTENSIONS, answer);
    }
    Ok(response)
}

async fn run<H: EngineHandler>(
    engine: Arc<EngineInner<H>>,
    purpose: Purpose<H::Data>,
    mut socket: WsStream,
    deflater: Option<Arc<Deflater>>,
) {
    let (session, id) = match purpose {
        Purpose::Refuse => {
            let _ = socket.close(None).await;
            return;
        }
        Purpose::Upgrade(session, id) => (session, id),
        Purpose::Open(handshake) => {
            let session = engine.open_session(Transport::WebSocket, *handshake);
            let id = engine.next_websocket_id.fetch_add(1, Ordering::Relaxed);
            session.lock().websocket = Some(id);
            (session, id)
        }
    };
    // A task of its own, sized for the connection only: the upgrade's larger future ends here
    // instead of living as long as the connection. No tracing wrapper around each poll while
    // the span is off.
    let span = session.span.clone();
    let link = Link::new(session, id, socket, deflater);
    if span.is_disabled() {
        tokio::spawn(link);
    } else {
        tokio::spawn(link.instrument(span));
    }
}

/// The session stops using socket `id` (it closed, or its upgrade failed).
fn detach<D: Send + Sync + 'static>(session: &Arc<SessionShared<D>>, id: u64) {
    // A closed session keeps its socket id, so the last frames still go out.
    session.process(|state| {
        if state.websocket == Some(id) {
            state.session.handle_ws_closed();
        }
    });
    // Let the socket's task see it is no longer wanted.
    session.wake_output();
}

/// Wakes the task of a WebSocket for input, and says so: a poll for output alone (a broadcast
/// reaching this socket) then skips the read, which would clear tungstenite's read buffer and ask
/// the socket for nothing.
struct ReadWake {
    readable: AtomicBool,
    task: AtomicWaker,
}

impl Wake for ReadWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.readable.store(true, Ordering::Release);
        self.task.wake();
    }
}

/// The one task of a WebSocket: it reads frames into the session, whose handlers may run right
/// there, and writes what the session queues, in the same poll, so that an answer written
/// while reading goes out with no wake-up. A client that stops reading does not stop the
/// reading; the session's bound and its heartbeat deal with it. Once the session is done with
/// the socket, it sends the close frame.
///
/// A future written by hand: an `async fn` would hold the socket twice (as its argument and as
/// its local), and the closing timer besides, in the task of every connection.
struct Link<D: Send + Sync + 'static> {
    ws: WsStream,
    session: Arc<SessionShared<D>>,
    id: u64,
    /// Whether input may have arrived, and the waker reads register to say so.
    read_wake: Arc<ReadWake>,
    read_waker: Waker,
    /// Whether input is still taken (until the client closes, breaks a rule, or the socket is
    /// no longer the session's).
    reading: bool,
    /// Frames taken from the session, not yet handed to the socket; this and the session's
    /// queue trade places, so neither allocates again.
    outgoing: VecDeque<Frame>,
    /// Whether messages were handed over since the last flush.
    unflushed: bool,
    /// Once the session closed: how long its last frames may still take; then, afresh, the
    /// close frame.
    grace: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Whether the socket is still served (then closed).
    serving: bool,
    /// The close frame, until it is handed to the socket.
    close: Option<Option<CloseFrame>>,
    /// WebSocket pings read since the last flush that completed, or the kernel last took
    /// bytes; see [`MAX_STALLED_PINGS`].
    stalled_pings: u32,
    /// What the kernel had taken of the stream at the last ping.
    written_at_ping: u64,
    /// Compresses what the task writes, if the client agreed to permessage-deflate.
    deflater: Option<Arc<Deflater>>,
}

impl<D: Send + Sync + 'static> Future for Link<D> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let link = self.get_mut();
        if link.serving {
            if link.serve(cx).is_pending() {
                return Poll::Pending;
            }
            link.serving = false;
            link.close = Some(close_frame(&link.session, link.id));
            link.grace = None;
        }
        if link.send_close(cx).is_pending() {
            return Poll::Pending;
        }
        // The stream closes once this task and the session let it go.
        let mut state = link.session.lock();
        if state
            .ws_stream
            .as_ref()
            .is_some_and(|(id, _)| *id == link.id)
        {
            state.ws_stream = None;
            state.ws_idle = false;
        }
        drop(state);
        debug!(websocket = link.id, "WebSocket done");
        Poll::Ready(())
    }
}

impl<D: Send + Sync + 'static> Link<D> {
    fn new(
        session: Arc<SessionShared<D>>,
        id: u64,
        ws: WsStream,
        deflater: Option<Arc<Deflater>>,
    ) -> Self {
        match ws.get_ref().shared() {
            Some(stream) => {
                let mut state = session.lock();
                // A socket that is not (or no longer) the session's never takes the place.
                if state.websocket == Some(id) {
                    state.ws_stream = Some((id, Arc::clone(stream)));
                }
            }
            None => debug!(
                websocket = id,
                "not a plain TCP stream: frames go through the socket's task only"
            ),
        }
        let read_wake = Arc::new(ReadWake {
            readable: AtomicBool::new(true),
            task: AtomicWaker::new(),
        });
        Link {
            ws,
            session,
            id,
            read_waker: Waker::from(Arc::clone(&read_wake)),
            read_wake,
            reading: true,
            outgoing: VecDeque::new(),
            unflushed: false,
            grace: None,
            serving: true,
            close: None,
            stalled_pings: 0,
            written_at_ping: 0,
            deflater,
        }
    }

    /// Ready once the socket is done: closed and flushed, failed, or no longer the session's.
    fn serve(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        self.read_wake.task.register(cx.waker());
        loop {
            let mut progress = false;
            if self.reading && self.read_wake.readable.swap(false, Ordering::AcqRel) {
                let mut read_cx = Context::from_waker(&self.read_waker);
                if let Poll::Ready(message) = Pin::new(&mut self.ws).poll_next(&mut read_cx) {
                    progress = true;
                    // More may be buffered or waiting: read on until the socket says pending.
                    self.read_wake.readable.store(true, Ordering::Release);
                    self.read(message);
                }
            }
            // One batch at a time: what the session queues meanwhile stays there, within its
            // bound (repeated probes collapse there), until the socket has taken this one.
            let in_flight = !self.outgoing.is_empty() || self.unflushed;
            let (current, closed) = {
                let mut state = self.session.lock();
                let current = state.websocket == Some(self.id);
                // Under the lock that drains: output queued from now on wakes the task.
                state.register_ws_waker(self.id, cx);
                if current && !in_flight {
                    state.session.drain_ws(&mut self.outgoing);
                }
                let closed = state.session.close_reason().is_some();
                // A frame written directly may have left bytes waiting: they are flushed here.
                let mut idle = current && !closed && self.outgoing.is_empty() && !self.unflushed;
                if idle && self.ws.get_ref().shared().is_some_and(|s| s.has_pending()) {
                    self.unflushed = true;
                    idle = false;
                }
                // Nothing in flight: whoever emits may write to the socket itself.
                if current {
                    state.ws_idle = idle;
                    state.ws_writing = !self.outgoing.is_empty() || self.unflushed;
                }
                (current, closed)
            };
            if closed || !current {
                self.reading = false;
            }
            match self.write(cx) {
                Poll::Ready(Ok(wrote)) => progress |= wrote,
                Poll::Ready(Err(())) => {
                    // The socket failed: the session must not keep queueing for it.
                    detach(&self.session, self.id);
                    return Poll::Ready(());
                }
                Poll::Pending => {}
            }
            let written = self.outgoing.is_empty() && !self.unflushed;
            if written && (closed || !current) {
                return Poll::Ready(());
            }
            if (closed || !current) && !written {
                // A client that stopped reading had its chance: the last frames (or those of a
                // socket the session no longer uses) get a grace period, no more.
                let grace = self
                    .grace
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(CLOSING_WRITE_TIMEOUT)));
                if grace.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(());
                }
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }

    /// Hands what is queued to the socket and flushes it; `Ok(true)` if anything moved.
    fn write(&mut self, cx: &mut Context<'_>) -> Poll<Result<bool, ()>> {
        let mut moved = false;
        if let Some(written) = self.write_lone_frame() {
            if written {
                return Poll::Ready(Ok(true));
            }
            // Part of it waits in the stream: the flush below hands it over.
            moved = true;
        }
        let mut ws = Pin::new(&mut self.ws);
        while !self.outgoing.is_empty() {
            match ws.as_mut().poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(_)) => return Poll::Ready(Err(())),
                Poll::Pending => return Poll::Pending,
            }
            let Some(frame) = self.outgoing.pop_front() else {
                break;
            };
            let message = to_ws_message(frame, self.deflater.as_deref());
            if ws.as_mut().start_send(message).is_err() {
                return Poll::Ready(Err(()));
            }
            self.unflushed = true;
            moved = true;
        }
        if self.unflushed {
            match ws.poll_flush(cx) {
                Poll::Ready(Ok(())) => {
                    self.unflushed = false;
                    self.stalled_pings = 0;
                    moved = true;
                }
                Poll::Ready(Err(_)) => return Poll::Ready(Err(())),
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(Ok(moved))
    }

    /// Writes a lone queued frame straight to the stream, framed there, when nothing of
    /// tungstenite's waits (a pong, a frame it buffered) and the client has not closed: what
    /// an answer costs is then one `send`, not tungstenite's buffer and flush around it.
    /// `Some(true)` if the kernel took all of it, `Some(false)` if part waits in the stream
    /// (then flushed by tungstenite's flush, as its own bytes are), `None` if nothing was
    /// written.
    fn write_lone_frame(&mut self) -> Option<bool> {
        if self.outgoing.len() != 1 || self.unflushed || !self.reading {
            return None;
        }
        let stream = self.ws.get_ref().shared()?;
        let frame = self.outgoing.front()?;
        let compressed = self
            .deflater
            .as_deref()
            .and_then(|deflater| deflater.compress(frame));
        let written = match stream.write_frame(frame, compressed.as_ref()) {
            Direct::Written => true,
            Direct::Partly => false,
            Direct::NotNow => return None,
        };
        self.outgoing.clear();
        if written {
            self.stalled_pings = 0;
        } else {
            self.unflushed = true;
        }
        Some(written)
    }

    /// One message from the client, or the end of its input.
    fn read(&mut self, message: Option<Result<WsMessage, tungstenite::Error>>) {
        let (session, id) = (&self.session, self.id);
        let frame = match message {
            Some(Ok(WsMessage::Text(text))) => match ByteString::try_from(Bytes::from(text)) {
                Ok(text) => Frame::Text(text),
                Err(_) => {
                    violation(
                        session,
                        id,
                        CLOSE_INVALID_DATA,
                        "invalid UTF-8 in a text message",
                    );
                    return self.stop_reading();
                }
            },
            Some(Ok(WsMessage::Binary(bytes))) => Frame::Binary(bytes),
            Some(Ok(WsMessage::Ping(_))) => {
                // tungstenite answers each with a pong, which waits while the client does not
                // read: the flush that sends it says whether it does, and so does any byte the
                // kernel took since the last ping.
                self.unflushed = true;
                if let Some(stream) = self.ws.get_ref().shared() {
                    let written = stream.written();
                    if written != self.written_at_ping {
                        self.written_at_ping = written;
                        self.stalled_pings = 0;
                    }
                }
                self.stalled_pings += 1;
                if self.stalled_pings > MAX_STALLED_PINGS {
                    violation(session, id, CLOSE_POLICY, "pings sent while not reading");
                    return self.stop_reading();
                }
                return;
            }
            Some(Ok(WsMessage::Pong(_) | WsMessage::Frame(_))) => return,
            Some(Ok(WsMessage::Close(_))) | None => return self.stop_reading(),
            Some(Err(tungstenite::Error::Capacity(error))) => {
                warn!(%error, "WebSocket message above maxPayload; closing");
                session.lock().close_code = Some((id, CLOSE_TOO_BIG));
                return self.stop_reading();
            }
            Some(Err(tungstenite::Error::Protocol(
                ProtocolError::ResetWithoutClosingHandshake,
            ))) => {
                debug!("WebSocket reset by the client");
                return self.stop_reading();
            }
            Some(Err(tungstenite::Error::Protocol(error))) => {
                violation(session, id, CLOSE_PROTOCOL, &error.to_string());
                return self.stop_reading();
            }
            Some(Err(tungstenite::Error::Utf8(error))) => {
                violation(session, id, CLOSE_INVALID_DATA, &error);
                return self.stop_reading();
            }
            Some(Err(tungstenite::Error::Io(error)))
                if error
                    .get_ref()
                    .is_some_and(|inner| inner.is::<InflateError>()) =>
            {
                match error
                    .get_ref()
                    .and_then(|e| e.downcast_ref::<InflateError>())
                {
                    Some(error @ InflateError::TooBig { .. }) => {
                        warn!(%error, "compressed WebSocket message above maxPayload; closing");
                        session.lock().close_code = Some((id, error.close_code()));
                    }
                    Some(error) => violation(session, id, error.close_code(), &error.to_string()),
                    None => {}
                }
                return self.stop_reading();
            }
            Some(Err(error)) => {
                debug!(%error, "WebSocket read failed");
                return self.stop_reading();
            }
        };
        let current = session.process(|state| {
            if state.websocket != Some(id) {
                return false;
            }
            // What the handlers answer goes out in this poll: no need to be woken for it.
            state.ws_task_running();
            state.session.handle_ws_frame(frame, Instant::now());
            true
        });
        if !current {
            self.stop_reading();
        }
    }

    fn stop_reading(&mut self) {
        self.reading = false;
        detach(&self.session, self.id);
    }

    /// Hands the close frame to the socket and flushes it, within a grace period of its own.
    fn send_close(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.write_close(cx).is_ready() {
            return Poll::Ready(());
        }
        let grace = self
            .grace
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(CLOSING_WRITE_TIMEOUT)));
        grace.as_mut().poll(cx)
    }

    /// Ready once the close frame is flushed, or the socket failed.
    fn write_close(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let mut ws = Pin::new(&mut self.ws);
        if self.close.is_some() {
            match ws.as_mut().poll_ready(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(_)) => return Poll::Ready(()),
                Poll::Ready(Ok(())) => {}
            }
            let frame = self.close.take().flatten();
            if ws.as_mut().start_send(WsMessage::Close(frame)).is_err() {
                return Poll::Ready(());
            }
        }
        ws.poll_flush(cx).map(|_| ())
    }
}

/// A frame as tungstenite writes it. Text is already UTF-8 (a `ByteString`): it goes out as a
/// raw text frame, not checked again for every recipient of a broadcast. With
/// permessage-deflate, a message worth compressing goes out compressed, RSV1 set.
fn to_ws_message(frame: Frame, deflater: Option<&Deflater>) -> WsMessage {
    if let Some(compressed) = deflater.and_then(|deflater| deflater.compress(&frame)) {
        let opcode = match frame {
            Frame::Text(_) => Data::Text,
            Frame::Binary(_) => Data::Binary,
        };
        let mut frame = WsFrame::message(compressed, OpCode::Data(opcode), true);
        frame.header_mut().rsv1 = true;
        return WsMessage::Frame(frame);
    }
    match frame {
        Frame::Text(text) => WsMessage::Frame(WsFrame::message(
            text.into_bytes(),
            OpCode::Data(Data::Text),
            true,
        )),
        Frame::Binary(bytes) => WsMessage::Binary(bytes),
    }
}
