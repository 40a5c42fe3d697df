//! The log of events and the sessions of sockets gone, in this process's memory, bounded in
//! count, bytes and time.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use sio_core::{EncodedPacket, Namespace, RawJson};

use super::ConnectionStateRecovery;
use crate::broadcast::{Room, Target};
use crate::engine::sync::Mutex;
use crate::socket::SocketId;

/// Connection state recovery in this process: the events sent with their offsets, and the
/// sessions of sockets that left.
pub(crate) struct Recovery {
    pub(crate) config: ConnectionStateRecovery,
    /// Starts every offset: one of another process, or of an earlier run, is not found here.
    prefix: String,
    state: Mutex<State>,
    /// Held while an event is kept and queued to its recipients, so that each client gets the
    /// events in the order of their offsets, and while a restored socket is put in its rooms.
    /// Under it are taken the log's lock, sockets' phase and state, the namespaces' rooms,
    /// connections' queues, and for a restore the connection's sockets and the server's map of
    /// sockets; nothing that may close a connection is done under it. With a layer that keeps the log, it holds the position of the last entry the
    /// layer delivered.
    pub(crate) sending: Mutex<u128>,
    /// Whether the channel layer keeps the log and the sessions (see
    /// [`SessionStore`](crate::broadcast::SessionStore)): this one then stays empty.
    pub(crate) in_layer: bool,
    /// How long a connected socket's session lives in the layer's store unless held again.
    pub(crate) live_ttl: std::time::Duration,
    /// Restores from the layer's store under way at once, each holding what its client missed:
    /// a crowd of clients coming back together costs a bounded amount of memory.
    pub(crate) restores: tokio::sync::Semaphore,
}

/// How many restores from a layer's store run at once.
const CONCURRENT_RESTORES: usize = 16;

#[derive(Default)]
struct State {
    packets: VecDeque<Stored>,
    /// The number of `packets[0]`; the next event recorded is `first + packets.len()`.
    first: u64,
    bytes: usize,
    sessions: HashMap<String, Session>,
    /// What the sessions hold (rooms and data), bounded apart from the events by `max_bytes`.
    session_bytes: usize,
    /// Session ids in the order they were saved, for expiry and the count bound; an id whose
    /// session was restored or saved again since is skipped.
    saved: VecDeque<(Instant, String)>,
}

/// An event as it was sent, with whom it went to.
struct Stored {
    namespace: Namespace,
    target: Target,
    packet: EncodedPacket,
    at: Instant,
    bytes: usize,
}

/// A socket that left for a reason its client recovers from.
pub(crate) struct Session {
    pub(crate) namespace: Namespace,
    pub(crate) sid: SocketId,
    /// Its rooms, its own excepted.
    pub(crate) rooms: Vec<Room>,
    pub(crate) data: RawJson,
    pub(crate) at: Instant,
}

/// A session restored: the socket as it was, the events it missed, and the number of the last
/// event recorded when it was restored (a later delivery of an earlier one is a duplicate).
pub(crate) struct Restored {
    pub(crate) sid: SocketId,
    pub(crate) pid: String,
    pub(crate) rooms: Vec<Room>,
    pub(crate) data: RawJson,
    pub(crate) missed: Vec<EncodedPacket>,
    pub(crate) through: u128,
}

/// The bytes a session holds: its rooms' names and its data.
fn session_bytes(session: &Session) -> usize {
    session
        .rooms
        .iter()
        .map(|room| room.as_str().len())
        .fold(session.data.as_str().len(), usize::saturating_add)
}

impl Recovery {
    /// Recovery with `config`; `in_layer` when the channel layer keeps the log and sessions,
    /// whose sessions of connected sockets live `live_ttl` unless held again.
    pub(crate) fn new(
        config: ConnectionStateRecovery,
        in_layer: bool,
        live_ttl: std::time::Duration,
    ) -> Self {
        Recovery {
            config,
            in_layer,
            live_ttl,
            restores: tokio::sync::Semaphore::new(CONCURRENT_RESTORES),
            prefix: SocketId::random().as_str()[..8].to_owned(),
            state: Mutex::new(State {
                // Numbers start at 1: a socket that recovered nothing has seen through 0.
                first: 1,
                ..State::default()
            }),
            sending: Mutex::new(0),
        }
    }

    /// Gives `packet`, an event for `target` in `namespace`, its offset as its last argument
    /// and keeps it; returns the packet to send and its number.
    pub(crate) fn record(
        &self,
        namespace: &Namespace,
        target: &Target,
        packet: &EncodedPacket,
    ) -> (EncodedPacket, u128) {
        self.record_at(namespace, target, packet, Instant::now())
    }

    fn record_at(
        &self,
        namespace: &Namespace,
        target: &Target,
        packet: &EncodedPacket,
        now: Instant,
    ) -> (EncodedPacket, u128) {
        let mut state = self.state.lock();
        self.expire(&mut state, now);
        let number = state.first + state.packets.len() as u64;
        let offset = format!("{}-{number:x}", self.prefix);
        let offset = RawJson::from_value(&offset).unwrap_or_else(|_| RawJson::null());
        let packet = packet.with_last_arg(&offset);
        let bytes = packet.byte_len();
        state.bytes = state.bytes.saturating_add(bytes);
        state.packets.push_back(Stored {
            namespace: namespace.clone(),
            target: target.clone(),
            packet: packet.clone(),
            at: now,
            bytes,
        });
        while state.packets.len() > self.config.max_packets || state.bytes > self.config.max_bytes {
            drop_oldest(&mut state);
        }
        (packet, u128::from(number))
    }

    /// Keeps the session `pid` of a socket that left.
    pub(crate) fn persist(&self, pid: &str, session: Session) {
        let mut state = self.state.lock();
        self.expire(&mut state, session.at);
        state.saved.push_back((session.at, pid.to_owned()));
        state.session_bytes = state.session_bytes.saturating_add(session_bytes(&session));
        if let Some(replaced) = state.sessions.insert(pid.to_owned(), session) {
            state.session_bytes = state.session_bytes.saturating_sub(session_bytes(&replaced));
        }
        // Entries of sessions restored since stay in `saved` until they expire: twice the
        // bound keeps them from growing with a client that comes and goes.
        let max = self.config.max_sessions;
        while state.sessions.len() > max
            || state.saved.len() > max.saturating_mul(2)
            || state.session_bytes > self.config.max_bytes
        {
            let Some((at, pid)) = state.saved.pop_front() else {
                break;
            };
            forget_session(&mut state, &pid, at);
        }
    }

    /// Restores session `pid` of `namespace` for a client whose last event was `offset`, and
    /// hands it to `admit` while nothing can be recorded (so that every event is either missed
    /// or delivered to the socket `admit` makes); `None`, with nothing kept, if the session is
    /// unknown or expired, or the offset is no longer (or never was) in the log.
    pub(crate) fn restore<R>(
        &self,
        namespace: &Namespace,
        pid: &str,
        offset: &str,
        admit: impl FnOnce(Restored) -> R,
    ) -> Option<R> {
        self.restore_at(namespace, pid, offset, admit, Instant::now())
    }

    fn restore_at<R>(
        &self,
        namespace: &Namespace,
        pid: &str,
        offset: &str,
        admit: impl FnOnce(Restored) -> R,
        now: Instant,
    ) -> Option<R> {
        let mut state = self.state.lock();
        self.expire(&mut state, now);
        if state
            .sessions
            .get(pid)
            .is_none_or(|session| session.namespace != *namespace)
        {
            return None;
        }
        let number = offset
            .strip_prefix(self.prefix.as_str())
            .and_then(|rest| rest.strip_prefix('-'))
            .and_then(|hex| u64::from_str_radix(hex, 16).ok())?;
        let next = state.first + state.packets.len() as u64;
        if number < state.first || number >= next {
            return None;
        }
        let session = state.sessions.remove(pid)?;
        state.session_bytes = state.session_bytes.saturating_sub(session_bytes(&session));
        let mut rooms: HashSet<&Room> = session.rooms.iter().collect();
        let own = Room::from(session.sid.as_str());
        rooms.insert(&own);
        let missed = state
            .packets
            .iter()
            .skip(usize::try_from(number + 1 - state.first).unwrap_or(usize::MAX))
            .filter(|stored| stored.namespace == *namespace && reaches(&stored.target, &rooms))
            .map(|stored| stored.packet.clone())
            .collect();
        let restored = Restored {
            sid: session.sid,
            pid: pid.to_owned(),
            rooms: session.rooms,
            data: session.data,
            missed,
            through: u128::from(next - 1),
        };
        Some(admit(restored))
    }

    /// Forgets what expired, now.
    pub(crate) fn sweep(&self) {
        let mut state = self.state.lock();
        self.expire(&mut state, Instant::now());
    }

    /// Forgets what is older than the maximum disconnection duration.
    fn expire(&self, state: &mut State, now: Instant) {
        let Some(threshold) = now.checked_sub(self.config.max_disconnection_duration) else {
            return;
        };
        while state
            .packets
            .front()
            .is_some_and(|stored| stored.at < threshold)
        {
            drop_oldest(state);
        }
        while let Some((at, _)) = state.saved.front()
            && *at < threshold
        {
            if let Some((at, pid)) = state.saved.pop_front() {
                forget_session(state, &pid, at);
            }
        }
    }
}

fn drop_oldest(state: &mut State) {
    if let Some(stored) = state.packets.pop_front() {
        state.bytes = state.bytes.saturating_sub(stored.bytes);
        state.first += 1;
    }
}

/// Forgets session `pid` if it is still the one saved at `at`.
fn forget_session(state: &mut State, pid: &str, at: Instant) {
    if state
        .sessions
        .get(pid)
        .is_some_and(|session| session.at == at)
        && let Some(session) = state.sessions.remove(pid)
    {
        state.session_bytes = state.session_bytes.saturating_sub(session_bytes(&session));
    }
}

/// Whether an event for `target` reached a socket in `rooms`, its own included (Node's rule:
/// no rooms named, or one of the socket's, and none of its rooms left out).
fn reaches(target: &Target, rooms: &HashSet<&Room>) -> bool {
    let included = target.rooms.is_empty() || target.rooms.iter().any(|room| rooms.contains(room));
    included && !target.except.iter().any(|room| rooms.contains(room))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sio_core::{Frame, PacketEncoder};

    use super::*;

    fn event(n: u32) -> EncodedPacket {
        let mut event = PacketEncoder::event(&Namespace::root(), None, "n");
        event.arg(&n).expect("a number");
        event.finish()
    }

    fn to(rooms: &[&str]) -> Target {
        Target {
            rooms: rooms.iter().map(|room| Room::from(*room)).collect(),
            except: Vec::new(),
        }
    }

    /// The offset `record` appended to `packet`.
    fn offset(packet: &EncodedPacket) -> String {
        let Frame::Text(text) = &packet.text else {
            panic!("a text frame")
        };
        let quoted = text.rsplit(',').next().expect("an argument");
        quoted.trim_end_matches(']').trim_matches('"').to_owned()
    }

    fn session(rooms: &[&str]) -> Session {
        Session {
            namespace: Namespace::root(),
            sid: SocketId::from("s1"),
            rooms: rooms.iter().map(|room| Room::from(*room)).collect(),
            data: RawJson::empty_object(),
            at: Instant::now(),
        }
    }

    fn texts(restored: Restored) -> Vec<String> {
        restored
            .missed
            .iter()
            .map(|packet| match &packet.text {
                Frame::Text(text) => text.to_string(),
                Frame::Binary(_) => String::new(),
            })
            .collect()
    }

    #[test]
    fn a_session_gets_what_its_rooms_missed_after_its_offset_once() {
        let log = Recovery::new(ConnectionStateRecovery::default(), false, Duration::ZERO);
        let root = Namespace::root();
        let (first, _) = log.record(&root, &to(&["s1"]), &event(0));
        log.record(&root, &to(&["lobby"]), &event(1));
        log.record(&root, &to(&["elsewhere"]), &event(2));
        log.record(&root, &Target::default(), &event(3));
        let mut everyone_but_lobby = Target::default();
        everyone_but_lobby.except.push(Room::from("lobby"));
        log.record(&root, &everyone_but_lobby, &event(4));
        log.persist("p1", session(&["lobby"]));
        let restored = log.restore(&root, "p1", &offset(&first), |restored| {
            assert_eq!(restored.through, 5);
            texts(restored)
        });
        let missed = restored.expect("restored");
        assert_eq!(missed.len(), 2, "{missed:?}");
        assert!(missed[0].starts_with(r#"42["n",1,"#), "{missed:?}");
        assert!(missed[1].starts_with(r#"42["n",3,"#), "{missed:?}");
        // Restored once: the session is gone.
        assert!(log.restore(&root, "p1", &offset(&first), drop).is_none());
    }

    #[test]
    fn an_offset_no_longer_kept_or_from_elsewhere_restores_nothing() {
        let log = Recovery::new(
            ConnectionStateRecovery::default().max_packets(2),
            false,
            Duration::ZERO,
        );
        let root = Namespace::root();
        let (first, _) = log.record(&root, &Target::default(), &event(0));
        log.record(&root, &Target::default(), &event(1));
        let (third, _) = log.record(&root, &Target::default(), &event(2));
        log.persist("p1", session(&[]));
        assert!(log.restore(&root, "p1", &offset(&first), drop).is_none());
        assert!(log.restore(&root, "p1", "elsewhere-1", drop).is_none());
        let chat = Namespace::new("/chat").expect("a namespace");
        assert!(log.restore(&chat, "p1", &offset(&third), drop).is_none());
        // The failures above kept the session.
        assert!(log.restore(&root, "p1", &offset(&third), drop).is_some());
    }

    #[test]
    fn sessions_and_bytes_are_bounded_and_expire() {
        let config = ConnectionStateRecovery::default()
            .max_sessions(2)
            .max_bytes(200)
            .max_disconnection_duration(Duration::from_millis(50));
        let log = Recovery::new(config, false, Duration::ZERO);
        let root = Namespace::root();
        // Time is given, not read: nothing here depends on how fast the test runs.
        let start = Instant::now();
        for pid in ["p1", "p2", "p3"] {
            log.persist(
                pid,
                Session {
                    at: start,
                    ..session(&[])
                },
            );
        }
        for _ in 0..20 {
            log.record_at(&root, &Target::default(), &event(7), start);
        }
        let (last, _) = log.record_at(&root, &Target::default(), &event(8), start);
        {
            let state = log.state.lock();
            assert_eq!(state.sessions.len(), 2);
            assert!(!state.sessions.contains_key("p1"), "the oldest went first");
            assert!(state.bytes <= 200 && !state.packets.is_empty());
        }
        let later = start + Duration::from_millis(80);
        let restored = log.restore_at(&root, "p3", &offset(&last), drop, later);
        assert!(restored.is_none(), "expired");
        let state = log.state.lock();
        assert!(state.sessions.is_empty() && state.packets.is_empty());
    }

    #[test]
    fn what_sessions_hold_is_bounded_too() {
        let log = Recovery::new(
            ConnectionStateRecovery::default().max_bytes(200),
            false,
            Duration::ZERO,
        );
        let big = RawJson::from_value(&"x".repeat(150)).expect("a string");
        let start = Instant::now();
        for pid in ["p1", "p2"] {
            let kept = Session {
                data: big.clone(),
                at: start,
                ..session(&["lobby"])
            };
            log.persist(pid, kept);
        }
        let state = log.state.lock();
        assert_eq!(state.sessions.len(), 1);
        assert!(state.sessions.contains_key("p2"), "the newest stays");
        assert!(state.session_bytes <= 200);
    }

    #[tokio::test]
    async fn a_server_forgets_what_expired_even_when_idle() {
        let recovery = ConnectionStateRecovery::default()
            .max_disconnection_duration(Duration::from_millis(50));
        let server = crate::Server::builder()
            .connection_state_recovery(recovery)
            .build();
        let inner = server.inner();
        let log = inner.recovery.as_ref().expect("recovery is on");
        log.record(&Namespace::root(), &Target::default(), &event(1));
        log.persist("p1", session(&[]));
        // Nothing else happens: the sweep alone forgets them (polled, not timed).
        for _ in 0..200 {
            {
                let state = log.state.lock();
                if state.packets.is_empty() && state.sessions.is_empty() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("the idle server kept what expired");
    }
}
