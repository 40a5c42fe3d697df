//! The log of events and the sessions of sockets gone, in this process's memory, bounded in
//! count, bytes and time.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use sio_core::{EncodedPacket, Frame, Namespace, RawJson};

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
}

#[derive(Default)]
struct State {
    packets: VecDeque<Stored>,
    /// The number of `packets[0]`; the next event recorded is `first + packets.len()`.
    first: u64,
    bytes: usize,
    sessions: HashMap<String, Session>,
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
    pub(crate) through: u64,
}

fn size(packet: &EncodedPacket) -> usize {
    let text = match &packet.text {
        Frame::Text(text) => text.len(),
        Frame::Binary(bytes) => bytes.len(),
    };
    packet
        .attachments
        .iter()
        .map(|attachment| attachment.len())
        .fold(text, usize::saturating_add)
}

impl Recovery {
    pub(crate) fn new(config: ConnectionStateRecovery) -> Self {
        Recovery {
            config,
            prefix: SocketId::random().as_str()[..8].to_owned(),
            state: Mutex::new(State {
                // Numbers start at 1: a socket that recovered nothing has seen through 0.
                first: 1,
                ..State::default()
            }),
        }
    }

    /// Gives `packet`, an event for `target` in `namespace`, its offset as its last argument
    /// and keeps it; returns the packet to send and its number.
    pub(crate) fn record(
        &self,
        namespace: &Namespace,
        target: &Target,
        packet: &EncodedPacket,
    ) -> (EncodedPacket, u64) {
        let now = Instant::now();
        let mut state = self.state.lock();
        self.expire(&mut state, now);
        let number = state.first + state.packets.len() as u64;
        let offset = format!("{}-{number:x}", self.prefix);
        // An offset is letters, digits and `-`: it is its own JSON string once quoted.
        let offset = RawJson::new(format!("\"{offset}\"")).unwrap_or_else(|_| RawJson::null());
        let packet = packet.with_last_arg(&offset);
        let bytes = size(&packet);
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
        (packet, number)
    }

    /// Keeps the session `pid` of a socket that left.
    pub(crate) fn persist(&self, pid: &str, session: Session) {
        let mut state = self.state.lock();
        self.expire(&mut state, session.at);
        state.saved.push_back((session.at, pid.to_owned()));
        state.sessions.insert(pid.to_owned(), session);
        // Entries of sessions restored since stay in `saved` until they expire: twice the
        // bound keeps them from growing with a client that comes and goes.
        let max = self.config.max_sessions;
        while state.sessions.len() > max || state.saved.len() > max.saturating_mul(2) {
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
        let now = Instant::now();
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
        let own = Room::from(session.sid.as_str());
        let missed = state
            .packets
            .iter()
            .skip(usize::try_from(number + 1 - state.first).unwrap_or(usize::MAX))
            .filter(|stored| {
                stored.namespace == *namespace && reaches(&stored.target, &own, &session.rooms)
            })
            .map(|stored| stored.packet.clone())
            .collect();
        let restored = Restored {
            sid: session.sid,
            pid: pid.to_owned(),
            rooms: session.rooms,
            data: session.data,
            missed,
            through: next - 1,
        };
        Some(admit(restored))
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
    {
        state.sessions.remove(pid);
    }
}

/// Whether an event for `target` reached a socket in `own` and `rooms` (Node's rule: no rooms
/// named, or one of the socket's, and none of its rooms left out).
fn reaches(target: &Target, own: &Room, rooms: &[Room]) -> bool {
    let mine = |room: &Room| room == own || rooms.contains(room);
    let included = target.rooms.is_empty() || target.rooms.iter().any(mine);
    included && !target.except.iter().any(mine)
}
