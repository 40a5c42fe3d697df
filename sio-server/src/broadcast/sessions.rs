//! The plug-in API of a channel layer that keeps connection state recovery itself: its log of
//! events (whose entry ids are the offsets clients hold) and the sessions of sockets, in a store
//! every process reads, so that a client recovers on any process, even after its own died.

use std::time::Duration;

use futures_util::future::BoxFuture;
use sio_core::{EncodedPacket, Namespace, RawJson};

use crate::broadcast::{LayerError, Room};
use crate::socket::SocketId;

/// A socket's session as a [`SessionStore`] keeps it: what a recovered socket gets back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SavedSession {
    /// The namespace of the socket.
    pub namespace: Namespace,
    /// The private session id its client holds (Node's `pid`).
    pub pid: String,
    /// The socket's id, which the recovered socket keeps.
    pub sid: SocketId,
    /// Its rooms, the room of its own id included, as Node's socket.io saves them.
    pub rooms: Vec<Room>,
    /// Its data ([`Socket::data`](crate::Socket::data)).
    pub data: RawJson,
}

impl SavedSession {
    /// A session of `namespace`.
    ///
    /// ```
    /// use sio_core::{Namespace, RawJson};
    /// use sio_server::broadcast::{Room, SavedSession};
    /// use sio_server::SocketId;
    ///
    /// let session = SavedSession::new(
    ///     Namespace::root(),
    ///     "pid-1",
    ///     SocketId::from("sid-1"),
    ///     vec![Room::from("sid-1"), Room::from("lobby")],
    ///     RawJson::empty_object(),
    /// );
    /// assert_eq!(session.rooms.len(), 2);
    /// ```
    pub fn new(
        namespace: Namespace,
        pid: impl Into<String>,
        sid: SocketId,
        rooms: Vec<Room>,
        data: RawJson,
    ) -> Self {
        SavedSession {
            namespace,
            pid: pid.into(),
            sid,
            rooms,
            data,
        }
    }
}

/// The events a client missed, as a [`SessionStore`] read them from its log.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct MissedEvents {
    /// The events its socket's rooms received, in order, each with its offset appended as its
    /// last argument.
    pub events: Vec<EncodedPacket>,
    /// The offset of the last entry read, to read on from (the offset asked for if none).
    pub offset: String,
    /// The position of that entry in the log's order (see [`LocalSockets::deliver_logged`]).
    ///
    /// [`LocalSockets::deliver_logged`]: crate::broadcast::LocalSockets::deliver_logged
    pub position: u128,
}

impl MissedEvents {
    /// What was read: `events`, through the entry at `offset` and `position`.
    ///
    /// ```
    /// use sio_server::broadcast::MissedEvents;
    ///
    /// // Nothing after entry `1700000000000-3` (at position 1700000000000 << 64 | 3).
    /// let none = MissedEvents::new(Vec::new(), "1700000000000-3", (1_700_000_000_000 << 64) | 3);
    /// assert!(none.events.is_empty());
    /// ```
    pub fn new(events: Vec<EncodedPacket>, offset: impl Into<String>, position: u128) -> Self {
        MissedEvents {
            events,
            offset: offset.into(),
            position,
        }
    }
}

/// The store of a channel layer that keeps connection state recovery for every process (see
/// [`ChannelLayer::session_store`](crate::broadcast::ChannelLayer::session_store)).
///
/// With such a layer, the server keeps no log of its own: every event without ack and not
/// volatile (direct emits included, as a broadcast to the room of the socket's id) goes through
/// [`ChannelLayer::broadcast`](crate::broadcast::ChannelLayer::broadcast), and the layer hands
/// each entry of its log to [`LocalSockets::deliver_logged`] in the log's order, with its offset.
///
/// A connected socket's session is *held*: saved when the socket is admitted, whenever its rooms
/// or data change, and again every ping interval (so a store that lost it, Redis restarted,
/// has it back), but not to be taken while the process holding it lives, since its socket is
/// still there. When the socket leaves for a reason its client recovers from, its session is
/// *released*, for any process to take; otherwise it is dropped. So a client recovers on any
/// process after a disconnection, and after the death of its process too.
///
/// Calls for one socket come in the order the socket changed, and a store applies them in
/// that order; [`take_session`](Self::take_session) sees every call made before it (that the
/// store did not have to drop). [`hold_session`](Self::hold_session) is called under the
/// socket's lock: like the others, it must not wait nor call back into the server.
///
/// [`LocalSockets::deliver_logged`]: crate::broadcast::LocalSockets::deliver_logged
///
/// The shape of one, keeping sessions in a map: a real store keeps them, and the log of
/// events whose entry ids are the offsets, where every process reads them, as
/// `sio::redis::RedisStreamsLayer` does (this one, with no log, gives no event an offset, so no
/// client comes back with one).
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
///
/// use futures_util::future::{BoxFuture, FutureExt};
/// use sio_core::Namespace;
/// use sio_server::broadcast::{
///     ChannelLayer, LayerError, MissedEvents, ReadLimits, Room, SavedSession, SessionStore,
/// };
///
/// /// Sessions by private id, with whether a live socket holds them.
/// #[derive(Default)]
/// struct Sessions(Mutex<HashMap<String, (SavedSession, bool)>>);
///
/// impl SessionStore for Sessions {
///     fn hold_session(&self, session: &SavedSession, _ttl: Duration) {
///         self.0.lock().unwrap().insert(session.pid.clone(), (session.clone(), true));
///     }
///     fn release_session(&self, session: &SavedSession, _ttl: Duration) {
///         self.0.lock().unwrap().insert(session.pid.clone(), (session.clone(), false));
///     }
///     fn drop_session(&self, pid: &str) {
///         self.0.lock().unwrap().remove(pid);
///     }
///     fn take_session(
///         &self,
///         _namespace: &Namespace,
///         pid: &str,
///         _offset: &str,
///     ) -> BoxFuture<'static, Result<Option<SavedSession>, LayerError>> {
///         let mut sessions = self.0.lock().unwrap();
///         let released = sessions.get(pid).is_some_and(|(_, held)| !held);
///         let taken = released.then(|| sessions.remove(pid)).flatten();
///         std::future::ready(Ok(taken.map(|(session, _)| session))).boxed()
///     }
///     fn missed_events(
///         &self,
///         _namespace: &Namespace,
///         _rooms: &[Room],
///         offset: &str,
///         _limits: ReadLimits,
///     ) -> BoxFuture<'static, Result<MissedEvents, LayerError>> {
///         std::future::ready(Ok(MissedEvents::new(Vec::new(), offset, 0))).boxed()
///     }
/// }
///
/// #[derive(Default)]
/// struct OneProcess(Sessions);
///
/// impl ChannelLayer for OneProcess {
///     fn session_store(&self) -> Option<&dyn SessionStore> {
///         Some(&self.0)
///     }
/// }
/// ```
pub trait SessionStore: Send + Sync {
    /// Saves the session of a socket connected to this process, to be forgotten after `ttl`
    /// unless held again; not to be taken while this process lives. Must not wait.
    fn hold_session(&self, session: &SavedSession, ttl: Duration);

    /// Saves the session of a socket that left for a reason its client recovers from, for
    /// any process to take within `ttl`. Must not wait.
    fn release_session(&self, session: &SavedSession, ttl: Duration);

    /// Forgets session `pid`: its socket left for good. Must not wait.
    fn drop_session(&self, pid: &str);

    /// Takes session `pid` away (a session is restored once), if it was released (or its
    /// holder is gone) and `offset` is still in the log; `None` otherwise.
    fn take_session(
        &self,
        namespace: &Namespace,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<'static, Result<Option<SavedSession>, LayerError>>;

    /// The events of `namespace` logged after `offset` that a socket in `rooms` received, up to
    /// the end of the log as it is now, or until more than `limits` were read (the client is
    /// then given a fresh socket).
    fn missed_events(
        &self,
        namespace: &Namespace,
        rooms: &[Room],
        offset: &str,
        limits: ReadLimits,
    ) -> BoxFuture<'static, Result<MissedEvents, LayerError>>;
}

/// How much of the missed events one restore may read (the recovery's `max_packets` and
/// `max_bytes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadLimits {
    /// Events at most.
    pub events: usize,
    /// Bytes of events at most ([`EncodedPacket::byte_len`]).
    pub bytes: usize,
}

impl ReadLimits {
    /// At most `events` events and `bytes` bytes.
    ///
    /// ```
    /// use sio_server::broadcast::ReadLimits;
    ///
    /// let limits = ReadLimits::new(10_000, 64 << 20);
    /// assert_eq!(limits.events, 10_000);
    /// ```
    pub fn new(events: usize, bytes: usize) -> Self {
        ReadLimits { events, bytes }
    }
}

/// How long a connected socket's session lives in a [`SessionStore`] unless held again: the
/// maximum disconnection duration plus two heartbeats (it is held again every ping interval),
/// so that it outlives a process killed between two by the whole duration.
pub(crate) fn live_ttl(max_disconnection_duration: Duration, ping_interval: Duration) -> Duration {
    max_disconnection_duration.saturating_add(ping_interval.saturating_mul(2))
}
