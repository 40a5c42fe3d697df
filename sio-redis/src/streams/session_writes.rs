//! The session writes waiting for the writer task: the latest of each session only, bounded
//! in bytes, so that saving every connected socket's session each ping interval never floods
//! the writer's queue, and what Redis missed while away is written when it is back.

use std::collections::HashMap;
use std::time::Duration;

use sio_server::broadcast::SavedSession;

/// What is to be written of a session; a later write for the same session replaces it. The
/// session is encoded by the writer, once, however often it changed before (a socket joining
/// many rooms at once costs one encoding, and nothing on the socket's path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SessionWrite {
    /// Saved for `ttl`, held by this process.
    Hold(SavedSession, Duration),
    /// Saved for `ttl`, for any process to take.
    Release(SavedSession, Duration),
    /// Forgotten.
    Drop,
}

impl SessionWrite {
    /// The bytes it holds, with its session id.
    fn size(&self, pid: &str) -> usize {
        let session = match self {
            SessionWrite::Hold(session, _) | SessionWrite::Release(session, _) => session,
            SessionWrite::Drop => return pid.len(),
        };
        session.rooms.iter().map(|room| room.as_str().len()).fold(
            pid.len() + session.data.as_str().len(),
            usize::saturating_add,
        )
    }
}

/// The writes waiting, by private session id.
#[derive(Debug, Default)]
pub(crate) struct SessionWrites {
    writes: HashMap<String, SessionWrite>,
    bytes: usize,
}

impl SessionWrites {
    /// Keeps `write` of session `pid` in place of an earlier one; `false` (nothing kept) when
    /// that would hold more than `max_bytes`.
    pub(crate) fn put(&mut self, pid: &str, write: SessionWrite, max_bytes: usize) -> bool {
        let size = write.size(pid);
        let replaced = self.writes.get(pid).map_or(0, |old| old.size(pid));
        let bytes = self.bytes - replaced + size;
        if bytes > max_bytes && size > replaced {
            return false;
        }
        self.bytes = bytes;
        self.writes.insert(pid.to_owned(), write);
        true
    }

    /// Takes every write waiting.
    pub(crate) fn take_all(&mut self) -> Vec<(String, SessionWrite)> {
        self.bytes = 0;
        self.writes.drain().collect()
    }

    /// Puts back writes that failed, unless a later one replaced them meanwhile.
    pub(crate) fn put_back(&mut self, failed: Vec<(String, SessionWrite)>) {
        for (pid, write) in failed {
            if !self.writes.contains_key(&pid) {
                self.bytes += write.size(&pid);
                self.writes.insert(pid, write);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_write_of_a_session_wins_within_a_byte_budget() {
        let mut writes = SessionWrites::default();
        let hold = |n: usize| {
            let session = SavedSession::new(
                sio_core::Namespace::root(),
                "p",
                sio_server::SocketId::from("s"),
                Vec::new(),
                sio_core::RawJson::from_value(&"v".repeat(n - 2)).unwrap(),
            );
            SessionWrite::Hold(session, Duration::ZERO)
        };
        assert!(writes.put("a", hold(10), 30));
        assert!(writes.put("a", SessionWrite::Drop, 30));
        assert!(writes.put("b", hold(20), 30));
        assert!(!writes.put("c", hold(20), 30), "over the budget");
        let mut taken = writes.take_all();
        taken.sort_by(|x, y| x.0.cmp(&y.0));
        assert_eq!(taken[0], ("a".to_owned(), SessionWrite::Drop));
        assert_eq!(taken.len(), 2);
        assert!(writes.put("b", SessionWrite::Drop, 30));
        writes.put_back(taken);
        let taken = writes.take_all();
        assert!(
            taken.contains(&("b".to_owned(), SessionWrite::Drop)),
            "the later write stays"
        );
        assert!(taken.contains(&("a".to_owned(), SessionWrite::Drop)));
    }
}
