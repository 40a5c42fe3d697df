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
/// Sessions are saved when a socket connects and whenever its rooms or data change, refreshed
/// while it stays, and saved one last time when it leaves for a reason its client recovers
/// from, so that a client whose process died recovers on another.
///
/// [`LocalSockets::deliver_logged`]: crate::broadcast::LocalSockets::deliver_logged
///
/// The shape of one, keeping sessions in a map and no events (so a client recovers only if it
/// missed nothing): a real store keeps both where every process reads them, as
/// `sio::redis::RedisStreamsLayer` does.
///
/// ```
/// use std::collections::HashMap;
/// use std::sync::Mutex;
/// use std::time::Duration;
///
/// use futures_util::future::{BoxFuture, FutureExt};
/// use sio_core::Namespace;
/// use sio_server::broadcast::{
///     ChannelLayer, LayerError, MissedEvents, Room, SavedSession, SessionStore,
/// };
///
/// #[derive(Default)]
/// struct Sessions(Mutex<HashMap<String, SavedSession>>);
///
/// impl SessionStore for Sessions {
///     fn save_session(&self, session: &SavedSession, _ttl: Duration) {
///         self.0.lock().unwrap().insert(session.pid.clone(), session.clone());
///     }
///     fn refresh_sessions(&self, _pids: &[String], _ttl: Duration) {}
///     fn drop_session(&self, pid: &str) {
///         self.0.lock().unwrap().remove(pid);
///     }
///     fn take_session(
///         &self,
///         _namespace: &Namespace,
///         pid: &str,
///         _offset: &str,
///     ) -> BoxFuture<'static, Result<Option<SavedSession>, LayerError>> {
///         std::future::ready(Ok(self.0.lock().unwrap().remove(pid))).boxed()
///     }
///     fn missed_events(
///         &self,
///         _namespace: &Namespace,
///         _rooms: &[Room],
///         offset: &str,
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
    /// Saves `session`, to be forgotten after `ttl` unless saved or refreshed again. Must not
    /// wait.
    fn save_session(&self, session: &SavedSession, ttl: Duration);

    /// Pushes the expiry of the sessions `pids` (sockets still connected) to `ttl` from now.
    /// Must not wait.
    fn refresh_sessions(&self, pids: &[String], ttl: Duration);

    /// Forgets session `pid`: its socket left for good. Must not wait.
    fn drop_session(&self, pid: &str);

    /// Takes session `pid` away (a session is restored once), if it is kept and `offset` is
    /// still in the log; `None` otherwise.
    fn take_session(
        &self,
        namespace: &Namespace,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<'static, Result<Option<SavedSession>, LayerError>>;

    /// The events of `namespace` logged after `offset` that a socket in `rooms` received, up to
    /// the end of the log as it is now.
    fn missed_events(
        &self,
        namespace: &Namespace,
        rooms: &[Room],
        offset: &str,
    ) -> BoxFuture<'static, Result<MissedEvents, LayerError>>;
}

/// How long a connected socket's session lives in a [`SessionStore`] unless refreshed: the
/// maximum disconnection duration plus two heartbeats, so that it outlives a process killed
/// between two refreshes by the whole duration.
pub(crate) fn live_ttl(max_disconnection_duration: Duration, ping_interval: Duration) -> Duration {
    max_disconnection_duration.saturating_add(ping_interval.saturating_mul(2))
}
