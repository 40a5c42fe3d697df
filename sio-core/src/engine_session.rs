//! The Engine.IO session state machine: handshake, heartbeat, polling, upgrade and close.
//!
//! Sans-IO: the runtime reports what happened with `handle_*` calls (passing the current time),
//! asks what to do with `poll_*` calls, and sleeps until [`EngineSession::poll_timeout`].

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use bytestring::ByteString;
use thiserror::Error;

use crate::engine_v3::for_each_packet_v3;
use crate::{
    EnginePacket, EngineVersion, Frame, Handshake, SessionConfig, Sid, Transport, decode_binary_v3,
    decode_payload, decode_text_v3, encode_payload, encode_payload_v3, frame_v3, payload_len,
};

/// Why a session ended; the names follow the reference server's close reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CloseReason {
    /// The client sent `close`, or its WebSocket closed.
    TransportClose,
    /// No pong within `ping_timeout` of a ping being queued.
    PingTimeout,
    /// The client sent something that does not decode.
    ParseError,
    /// The client broke the transport rules (two GETs or two POSTs at once).
    TransportError,
    /// The server closed the session.
    ServerClose,
}

impl CloseReason {
    /// The reason as the reference server names it.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::TransportClose => "transport close",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::ParseError => "parse error",
            CloseReason::TransportError => "transport error",
            CloseReason::ServerClose => "forced close",
        }
    }
}

/// What the session tells the runtime, from [`EngineSession::poll_event`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// A text message from the client.
    Message(ByteString),
    /// A binary message from the client.
    Binary(Bytes),
    /// The session moved to WebSocket; polling requests are refused from now on.
    Upgraded,
    /// The session is over; the runtime forgets it. Reported exactly once.
    Closed(CloseReason),
}

/// A polling request the session refuses; the runtime answers it with HTTP 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum PollingError {
    /// A GET while another GET is pending: the session is closed.
    #[error("a GET request is already pending for this session")]
    ConcurrentGet,
    /// A POST while another POST is in progress: the session is closed.
    #[error("a POST request is already in progress for this session")]
    ConcurrentPost,
    /// The session now uses WebSocket, or never used polling.
    #[error("this session does not use polling")]
    NotPolling,
    /// The session is closed.
    #[error("this session is closed")]
    Closed,
}

/// A WebSocket the session does not take; the runtime accepts it and closes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum UpgradeError {
    /// The session already has a WebSocket, or one is being probed.
    #[error("this session already has a WebSocket")]
    AlreadyHasWebSocket,
    /// Upgrades are disabled.
    #[error("upgrades are not allowed")]
    NotAllowed,
    /// The session is closed.
    #[error("this session is closed")]
    Closed,
}

/// The outgoing queue is full: the client is not reading fast enough.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("outgoing queue full ({queued} bytes queued, limit {limit})")]
pub struct QueueFull {
    /// Bytes already queued.
    pub queued: usize,
    /// The configured limit.
    pub limit: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Upgrade {
    /// No WebSocket besides the transport in use.
    Idle,
    /// A WebSocket was opened for this polling session and must finish by `deadline`.
    Probing { deadline: Instant, probed: bool },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heartbeat {
    /// The next ping is due at this instant.
    Waiting(Instant),
    /// A ping was queued; the pong must arrive before this instant.
    AwaitingPong(Instant),
    /// Engine.IO v3: the client pings, and its next ping must arrive before this instant.
    ClientPings(Instant),
}

/// One Engine.IO session, from handshake to close.
///
/// ```
/// use std::time::{Duration, Instant};
/// use sio_core::{EngineSession, Frame, SessionConfig, SessionEvent, Sid, Transport};
///
/// let start = Instant::now();
/// let mut session = EngineSession::new(Sid::new("abc"), Transport::Polling, SessionConfig::default(), start);
/// session.handle_get(start).unwrap();
/// let body = session.poll_get_response().unwrap();
/// assert!(body.starts_with(br#"0{"sid":"abc""#));
///
/// session.begin_post().unwrap();
/// session.finish_post("4hello".into(), start);
/// assert_eq!(session.poll_event(), Some(SessionEvent::Message("hello".into())));
///
/// session.send(Frame::Text("4world".into())).unwrap();
/// session.handle_get(start).unwrap();
/// assert_eq!(session.poll_get_response().unwrap(), "4world");
/// ```
#[derive(Debug)]
pub struct EngineSession {
    sid: Sid,
    config: SessionConfig,
    version: EngineVersion,
    /// v3: the client asked for binary messages as base64 text (`b64`).
    base64: bool,
    /// Whether the last polling body was v3's binary form.
    binary_body: bool,
    /// v3: a pong waits in the queue; a client that pings faster than it reads gets no more
    /// than one.
    pong_waiting: bool,
    transport: Transport,
    upgrade: Upgrade,
    heartbeat: Heartbeat,
    /// Frames for the client on the transport in use.
    queue: VecDeque<Frame>,
    /// Bytes of every frame in `queue`, control frames included, bounded by `max_queued_bytes`.
    queued_bytes: usize,
    /// Frames for the WebSocket being probed (`3probe`).
    probe_queue: VecDeque<Frame>,
    get_pending: bool,
    post_active: bool,
    events: VecDeque<SessionEvent>,
    closed: Option<CloseReason>,
    /// A server close on polling with messages queued: the `close` packet follows them in a
    /// response of its own.
    close_after_queue: bool,
    /// A message was refused for a full queue: every later one is refused too until the queue
    /// has drained, so that no message slips in after one that was dropped.
    refusing: bool,
}

impl EngineSession {
    /// Starts a session whose handshake arrived at `now` on `transport`; the `open` packet is the
    /// first frame queued.
    pub fn new(sid: Sid, transport: Transport, config: SessionConfig, now: Instant) -> Self {
        let upgrades = match transport {
            Transport::Polling if config.allow_upgrade => vec![Transport::WebSocket],
            _ => Vec::new(),
        };
        let open = Handshake {
            sid: sid.clone(),
            upgrades,
            ping_interval: config.ping_interval,
            ping_timeout: config.ping_timeout,
            max_payload: config.max_payload as u64,
        }
        .encode();
        let heartbeat = Heartbeat::Waiting(now + config.ping_interval);
        let queued_bytes = open.len();
        EngineSession {
            sid,
            config,
            version: EngineVersion::V4,
            base64: false,
            binary_body: false,
            pong_waiting: false,
            transport,
            upgrade: Upgrade::Idle,
            heartbeat,
            queue: VecDeque::from([open]),
            queued_bytes,
            probe_queue: VecDeque::new(),
            get_pending: false,
            post_active: false,
            events: VecDeque::new(),
            closed: None,
            close_after_queue: false,
            refusing: false,
        }
    }

    /// Starts an Engine.IO v3 session (`EIO=3`), as [`new`](Self::new) starts a v4 one: the
    /// client pings and the server answers, and the session closes when no ping arrives within
    /// `ping_interval + ping_timeout`; polling payloads and binary messages take v3's forms,
    /// binary messages as base64 text if the client asked for it (`base64`, its `b64` query
    /// parameter).
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use sio_core::{EngineSession, SessionConfig, Sid, Transport};
    ///
    /// let start = Instant::now();
    /// let config = SessionConfig::default();
    /// let mut session = EngineSession::new_v3(Sid::new("abc"), Transport::Polling, config, true, start);
    /// session.handle_get(start).unwrap();
    /// let body = session.poll_get_response().unwrap();
    /// let (len, open) = std::str::from_utf8(&body).unwrap().split_once(':').unwrap();
    /// assert!(open.starts_with(r#"0{"sid":"abc""#));
    /// assert_eq!(len.parse::<usize>().unwrap(), open.len());
    /// session.begin_post().unwrap();
    /// session.finish_post("1:2".into(), start);
    /// session.handle_get(start).unwrap();
    /// assert_eq!(session.poll_get_response().unwrap(), "1:3");
    /// // No ping within 25 s + 20 s: closed.
    /// session.handle_timeout(start + Duration::from_secs(46));
    /// assert!(session.close_reason().is_some());
    /// ```
    pub fn new_v3(
        sid: Sid,
        transport: Transport,
        config: SessionConfig,
        base64: bool,
        now: Instant,
    ) -> Self {
        let deadline = now + config.ping_interval + config.ping_timeout;
        EngineSession {
            version: EngineVersion::V3,
            base64,
            heartbeat: Heartbeat::ClientPings(deadline),
            ..EngineSession::new(sid, transport, config, now)
        }
    }

    /// The protocol revision the session speaks.
    pub fn version(&self) -> EngineVersion {
        self.version
    }

    /// Whether the body [`poll_get_response`](Self::poll_get_response) gave last is v3's
    /// binary payload form, to be sent as `application/octet-stream`.
    pub fn get_response_is_binary(&self) -> bool {
        self.binary_body
    }

    /// The session id.
    pub fn sid(&self) -> &Sid {
        &self.sid
    }

    /// The transport in use (WebSocket once an upgrade completed).
    pub fn transport(&self) -> Transport {
        self.transport
    }

    /// The settings.
    pub fn config(&self) -> &SessionConfig {
        &self.config
    }

    /// Whether a WebSocket is being probed for an upgrade.
    pub fn is_upgrading(&self) -> bool {
        matches!(self.upgrade, Upgrade::Probing { .. })
    }

    /// Why the session closed, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.closed
    }

    /// Bytes of frames waiting for the client, control frames included.
    pub fn queued_bytes(&self) -> usize {
        self.queued_bytes
    }

    /// Whether the pending GET or the WebSocket has something to take: the runtime wakes its
    /// writers only then.
    pub fn has_output(&self) -> bool {
        !self.queue.is_empty() || !self.probe_queue.is_empty() || self.close_after_queue
    }

    /// Whether [`poll_event`](Self::poll_event) has something.
    pub fn has_events(&self) -> bool {
        !self.events.is_empty()
    }

    /// Whether a polling GET is waiting for an answer.
    pub fn has_pending_get(&self) -> bool {
        self.get_pending
    }

    // ---- sending ----

    /// Queues a message frame for the client.
    ///
    /// Refused when the client has more than `max_queued_bytes` waiting, and from then on until
    /// the queue has drained (a smaller message must not slip in after one that was dropped);
    /// the runtime then applies its slow-client policy. Frames sent after the session closed
    /// are dropped.
    pub fn send(&mut self, frame: Frame) -> Result<(), QueueFull> {
        self.send_all(std::slice::from_ref(&frame))
    }

    /// Queues frames that belong together (a binary packet and its attachments): all of them,
    /// or none when they do not fit.
    pub fn send_all(&mut self, frames: &[Frame]) -> Result<(), QueueFull> {
        if self.closed.is_some() {
            return Ok(());
        }
        let len: usize = frames.iter().map(Frame::len).sum();
        if self.refusing
            || (self.queued_bytes.saturating_add(len) > self.config.max_queued_bytes
                && self.queued_bytes > 0)
        {
            self.refusing = true;
            return Err(QueueFull {
                queued: self.queued_bytes,
                limit: self.config.max_queued_bytes,
            });
        }
        for frame in frames {
            self.enqueue(frame.clone());
        }
        Ok(())
    }

    /// Queues a frame, counted against the bound; the session's own control frames (a ping, a
    /// close) always go in, and are few.
    fn enqueue(&mut self, frame: Frame) {
        self.queued_bytes = self.queued_bytes.saturating_add(frame.len());
        self.queue.push_back(frame);
    }

    /// Closes the session from the server side: a polling client is told with a `close` packet,
    /// a WebSocket is closed after its last frames.
    pub fn close(&mut self) {
        self.finish(CloseReason::ServerClose);
    }

    /// Ends the session without a `close` packet: what is queued still goes out, then the
    /// transport closes (a WebSocket is closed, a polling client's next GET is refused), so the
    /// client takes it for a lost connection and reconnects, as after a server restart. A
    /// graceful shutdown ends sessions so: a `close` packet makes some clients (python-socketio)
    /// give up for good.
    pub fn discard(&mut self) {
        self.finish_with(CloseReason::ServerClose, false);
    }

    // ---- incoming packets ----

    fn handle_packet(&mut self, packet: EnginePacket, now: Instant) {
        match packet {
            EnginePacket::Message(text) => self.events.push_back(SessionEvent::Message(text)),
            EnginePacket::Binary(bytes) => self.events.push_back(SessionEvent::Binary(bytes)),
            EnginePacket::Pong(_) => match self.heartbeat {
                Heartbeat::AwaitingPong(_) => {
                    self.heartbeat = Heartbeat::Waiting(now + self.config.ping_interval);
                }
                // A v3 client answers no pings: the reference server closes it.
                Heartbeat::ClientPings(_) => self.finish(CloseReason::TransportError),
                Heartbeat::Waiting(_) => {}
            },
            // A v3 client's ping: answered with a bare pong, as the reference server does.
            EnginePacket::Ping(_) if self.version == EngineVersion::V3 => {
                self.heartbeat = Heartbeat::ClientPings(
                    now + self.config.ping_interval + self.config.ping_timeout,
                );
                if !self.pong_waiting {
                    self.pong_waiting = true;
                    self.enqueue(EnginePacket::Pong(ByteString::new()).encode());
                }
            }
            EnginePacket::Close => self.finish(CloseReason::TransportClose),
            // v4 clients do not ping, and open, upgrade and noop mean nothing on an established
            // transport: ignored, as the reference server does.
            EnginePacket::Open(_)
            | EnginePacket::Ping(_)
            | EnginePacket::Upgrade
            | EnginePacket::Noop => {}
        }
    }

    /// Ends the session; a polling client that did not end it is told with a `close` packet.
    fn finish(&mut self, reason: CloseReason) {
        self.finish_with(reason, true);
    }

    /// Ends the session, a polling client told with a `close` packet if `tell`.
    fn finish_with(&mut self, reason: CloseReason, tell: bool) {
        if self.closed.is_none() {
            // As the reference server does: a WebSocket is simply closed after its last frames;
            // polling answers `close`, and after messages still queued it does so in a later
            // response, since clients handle a close found in a payload before the messages
            // ahead of it.
            let polling = self.transport == Transport::Polling && tell;
            if polling && reason == CloseReason::ServerClose && !self.queue.is_empty() {
                self.close_after_queue = true;
            } else if polling && reason != CloseReason::TransportClose {
                self.enqueue(EnginePacket::Close.encode());
            }
            self.closed = Some(reason);
            self.upgrade = Upgrade::Idle;
            self.probe_queue.clear();
            self.events.push_back(SessionEvent::Closed(reason));
        }
    }

    // ---- polling ----

    /// A polling GET arrived; answer it once [`poll_get_response`](Self::poll_get_response) has
    /// something.
    ///
    /// A second GET while one is pending closes the session, as the specification requires.
    pub fn handle_get(&mut self, _now: Instant) -> Result<(), PollingError> {
        self.check_polling()?;
        if self.get_pending {
            self.finish(CloseReason::TransportError);
            return Err(PollingError::ConcurrentGet);
        }
        self.get_pending = true;
        Ok(())
    }

    /// The pending GET went away before it was answered (the client disconnected).
    pub fn handle_get_cancelled(&mut self) {
        self.get_pending = false;
    }

    /// The body for the pending GET, if it should be answered now: the queued frames up to
    /// `max_payload` (a larger frame goes alone, none is ever dropped), or `6` once an upgrade
    /// probe succeeded, or what is left (ending with `1`) once the server closed the session, or
    /// `6` once the client did.
    pub fn poll_get_response(&mut self) -> Option<Bytes> {
        let batch = self.take_get_response()?;
        self.binary_body = false;
        if self.version == EngineVersion::V3 {
            let payload = encode_payload_v3(&batch, !self.base64);
            self.binary_body = payload.binary;
            return Some(payload.body);
        }
        let mut body = BytesMut::with_capacity(batch.iter().map(|f| payload_len(f) + 1).sum());
        encode_payload(&batch, &mut body);
        Some(body.freeze())
    }

    /// The frames for the pending GET, if it should be answered now.
    fn take_get_response(&mut self) -> Option<Vec<Frame>> {
        if !self.get_pending {
            return None;
        }
        if self.closed == Some(CloseReason::TransportClose) {
            // The client closed: an empty answer lets its pending GET end cleanly.
            self.get_pending = false;
            return Some(vec![EnginePacket::Noop.encode()]);
        }
        // Once the probe succeeded, polling only ends its pending GETs with noop; until then it
        // carries the queue as usual (a probe may never get through).
        let probed = matches!(self.upgrade, Upgrade::Probing { probed: true, .. });
        if probed || self.transport == Transport::WebSocket {
            self.get_pending = false;
            return Some(vec![EnginePacket::Noop.encode()]);
        }
        if self.queue.is_empty() {
            if !self.close_after_queue {
                return None;
            }
            self.close_after_queue = false;
            self.get_pending = false;
            return Some(vec![EnginePacket::Close.encode()]);
        }
        self.get_pending = false;
        Some(self.take_batch())
    }

    fn take_batch(&mut self) -> Vec<Frame> {
        let mut batch = Vec::new();
        let mut size = 0;
        while let Some(frame) = self.queue.front() {
            let len = payload_len(frame) + usize::from(!batch.is_empty());
            if !batch.is_empty() && size + len > self.config.max_payload {
                break;
            }
            size += len;
            if let Some(frame) = self.queue.pop_front() {
                self.dequeued(&frame);
                batch.push(frame);
            }
        }
        batch
    }

    fn dequeued(&mut self, frame: &Frame) {
        if matches!(frame, Frame::Text(text) if text == "3") {
            self.pong_waiting = false;
        }
        self.queued_bytes = self.queued_bytes.saturating_sub(frame.len());
        if self.queued_bytes == 0 {
            self.refusing = false;
        }
    }

    /// A polling POST started; its body follows with [`finish_post`](Self::finish_post).
    ///
    /// A second POST while one is in progress closes the session.
    pub fn begin_post(&mut self) -> Result<(), PollingError> {
        self.check_polling()?;
        if self.post_active {
            self.finish(CloseReason::TransportError);
            return Err(PollingError::ConcurrentPost);
        }
        self.post_active = true;
        Ok(())
    }

    /// The body of the POST begun with [`begin_post`](Self::begin_post) arrived; a body that does
    /// not decode closes the session with [`CloseReason::ParseError`].
    pub fn finish_post(&mut self, body: Bytes, now: Instant) {
        self.finish_post_as(body, false, now);
    }

    /// The body of a v3 client's POST sent as `application/octet-stream`: v3's binary payload
    /// form. (A v4 session reads it as any other body.)
    pub fn finish_binary_post(&mut self, body: Bytes, now: Instant) {
        self.finish_post_as(body, true, now);
    }

    fn finish_post_as(&mut self, body: Bytes, binary: bool, now: Instant) {
        self.post_active = false;
        if self.closed.is_some() {
            return;
        }
        if self.version == EngineVersion::V3 {
            // Each packet handled as it is decoded, as v4's are; those before one that does not
            // decode count, as in the reference server.
            let decoded = for_each_packet_v3(body, binary, |packet| {
                self.handle_packet(packet, now);
                if self.closed.is_some() {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            });
            if decoded.is_err() {
                self.fail_parse();
            }
            return;
        }
        let packets = match decode_payload(body) {
            Ok(packets) => packets,
            Err(_) => return self.fail_parse(),
        };
        for packet in packets {
            match packet {
                Ok(packet) => self.handle_packet(packet, now),
                Err(_) => return self.fail_parse(),
            }
            if self.closed.is_some() {
                return;
            }
        }
    }

    /// The POST ended without a body (the client went away).
    pub fn abort_post(&mut self) {
        self.post_active = false;
    }

    /// The transport failed in a way the client must be told about (a POST body above
    /// `max_payload`, say): the session closes with [`CloseReason::TransportError`].
    pub fn handle_transport_error(&mut self) {
        self.post_active = false;
        self.finish(CloseReason::TransportError);
    }

    fn fail_parse(&mut self) {
        self.finish(CloseReason::ParseError);
    }

    fn check_polling(&self) -> Result<(), PollingError> {
        // A session the server closed keeps serving what it queued (its `close` packet last), so
        // the client learns of the close instead of meeting a 400.
        let draining = self.closed == Some(CloseReason::ServerClose) && self.has_output();
        if self.closed.is_some() && !draining {
            return Err(PollingError::Closed);
        }
        if self.transport != Transport::Polling {
            return Err(PollingError::NotPolling);
        }
        Ok(())
    }

    // ---- WebSocket ----

    /// A WebSocket opened with this polling session's sid: the upgrade probe begins.
    pub fn handle_ws_open(&mut self, now: Instant) -> Result<(), UpgradeError> {
        if self.closed.is_some() {
            return Err(UpgradeError::Closed);
        }
        if self.transport == Transport::WebSocket || self.is_upgrading() {
            return Err(UpgradeError::AlreadyHasWebSocket);
        }
        if !self.config.allow_upgrade {
            return Err(UpgradeError::NotAllowed);
        }
        self.upgrade = Upgrade::Probing {
            deadline: now + self.config.upgrade_timeout,
            probed: false,
        };
        Ok(())
    }

    /// A frame arrived on the session's WebSocket (the one being probed, or the one in use).
    pub fn handle_ws_frame(&mut self, frame: Frame, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        let packet = match (self.version, frame) {
            (EngineVersion::V3, Frame::Text(text)) => decode_text_v3(&text),
            (EngineVersion::V3, Frame::Binary(bytes)) => decode_binary_v3(bytes),
            (_, frame) => EnginePacket::decode(frame),
        };
        let Ok(packet) = packet else {
            return self.fail_parse();
        };
        let Upgrade::Probing { deadline, probed } = self.upgrade else {
            return self.handle_packet(packet, now);
        };
        match packet {
            EnginePacket::Ping(data) if &*data == "probe" => {
                // One answer waits at most: a client that probes again and again without
                // reading gets no more than one.
                if self.probe_queue.is_empty() {
                    self.probe_queue
                        .push_back(EnginePacket::Pong(data).encode());
                }
                self.upgrade = Upgrade::Probing {
                    deadline,
                    probed: true,
                };
            }
            EnginePacket::Upgrade if probed => {
                self.upgrade = Upgrade::Idle;
                self.transport = Transport::WebSocket;
                self.events.push_back(SessionEvent::Upgraded);
            }
            // Anything else on a probing WebSocket abandons the upgrade; polling goes on.
            _ => self.abandon_upgrade(),
        }
    }

    fn abandon_upgrade(&mut self) {
        self.upgrade = Upgrade::Idle;
        self.probe_queue.clear();
    }

    /// The session's WebSocket closed. While probing, only the upgrade ends; otherwise the session
    /// does.
    pub fn handle_ws_closed(&mut self) {
        if self.is_upgrading() {
            self.abandon_upgrade();
        } else if self.transport == Transport::WebSocket {
            self.finish(CloseReason::TransportClose);
        }
    }

    /// Whether a frame sent now would be the next the WebSocket writes: it is the transport in
    /// use, and nothing is queued ahead. A runtime whose socket has nothing in flight may then
    /// write the frame itself instead of sending it through the queue.
    ///
    /// ```
    /// # use std::time::Instant;
    /// # use sio_core::{EngineSession, SessionConfig, Sid, Transport};
    /// let now = Instant::now();
    /// let mut session =
    ///     EngineSession::new(Sid::new("s"), Transport::WebSocket, SessionConfig::default(), now);
    /// assert!(!session.ws_idle(), "the open packet waits");
    /// session.drain_ws(&mut Default::default());
    /// assert!(session.ws_idle());
    /// ```
    /// (Never for v3, whose binary frames [`drain_ws`](Self::drain_ws) rewrites.)
    pub fn ws_idle(&self) -> bool {
        self.closed.is_none()
            && self.version == EngineVersion::V4
            && self.transport == Transport::WebSocket
            && !self.is_upgrading()
            && self.queue.is_empty()
    }

    /// Moves the frames due on the WebSocket to the end of `out`: the probe answer while
    /// probing, the queue once the WebSocket is the transport in use (with a `close` packet last
    /// if the server closed the session). An empty `out` trades places with the queue, so the
    /// two allocations take turns and no frame is moved one by one.
    ///
    /// A v3 session's binary messages come out in v3's form (see [`frame_v3`]).
    pub fn drain_ws(&mut self, out: &mut VecDeque<Frame>) {
        let start = out.len();
        if self.is_upgrading() {
            take_all(&mut self.probe_queue, out);
        } else if self.transport == Transport::WebSocket {
            take_all(&mut self.queue, out);
            self.queued_bytes = 0;
            self.pong_waiting = false;
        }
        if self.version == EngineVersion::V3 {
            for frame in out.iter_mut().skip(start) {
                if let Frame::Binary(_) = frame {
                    let binary = std::mem::replace(frame, Frame::Text(ByteString::new()));
                    *frame = frame_v3(binary, self.base64);
                }
            }
        }
    }

    // ---- time ----

    /// When the session next needs [`handle_timeout`](Self::handle_timeout): a ping due, a pong
    /// deadline, or an upgrade deadline. `None` once closed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed.is_some() {
            return None;
        }
        let heartbeat = match self.heartbeat {
            Heartbeat::Waiting(at) | Heartbeat::AwaitingPong(at) | Heartbeat::ClientPings(at) => at,
        };
        match self.upgrade {
            Upgrade::Probing { deadline, .. } => Some(heartbeat.min(deadline)),
            Upgrade::Idle => Some(heartbeat),
        }
    }

    /// Time has reached `now`: queues a ping if one is due, closes the session if a pong is
    /// overdue, abandons an upgrade that took too long.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        if let Upgrade::Probing { deadline, .. } = self.upgrade
            && now >= deadline
        {
            self.abandon_upgrade();
        }
        match self.heartbeat {
            Heartbeat::Waiting(at) if now >= at => {
                self.enqueue(EnginePacket::Ping(ByteString::new()).encode());
                self.heartbeat = Heartbeat::AwaitingPong(now + self.config.ping_timeout);
            }
            Heartbeat::AwaitingPong(deadline) | Heartbeat::ClientPings(deadline)
                if now >= deadline =>
            {
                self.finish(CloseReason::PingTimeout);
            }
            _ => {}
        }
    }

    // ---- events ----

    /// The next thing to tell the application, in order.
    pub fn poll_event(&mut self) -> Option<SessionEvent> {
        self.events.pop_front()
    }
}

/// Moves every frame of `from` to the end of `to`.
fn take_all(from: &mut VecDeque<Frame>, to: &mut VecDeque<Frame>) {
    if to.is_empty() {
        std::mem::swap(from, to);
    } else {
        to.extend(from.drain(..));
    }
}
