//! The open sessions by id, and the counts the stats call reports.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sio_core::{Sid, Transport};

use crate::engine::session::SessionShared;
use crate::engine::sync::{Mutex, MutexGuard};

/// Counts of an engine's sessions, from [`Engine::stats`](crate::engine::Engine::stats).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct EngineStats {
    /// Sessions open now.
    pub open: usize,
    /// Of those, sessions on HTTP long-polling (including those probing an upgrade).
    pub polling: usize,
    /// Of those, sessions on WebSocket.
    pub websocket: usize,
    /// Sessions opened since the engine started.
    pub opened_total: u64,
    /// Sessions closed since the engine started.
    pub closed_total: u64,
    /// Bytes of frames waiting in the sessions' queues now (not yet taken by a transport), over
    /// all sessions; each session's share is bounded by `max_queued_bytes`.
    pub queued_bytes: usize,
}

pub(crate) struct Registry<D> {
    sessions: Mutex<HashMap<Sid, Arc<SessionShared<D>>>>,
    polling: AtomicUsize,
    websocket: AtomicUsize,
    opened_total: AtomicU64,
    closed_total: AtomicU64,
}

impl<D> Default for Registry<D> {
    fn default() -> Self {
        Registry {
            sessions: Mutex::new(HashMap::new()),
            polling: AtomicUsize::new(0),
            websocket: AtomicUsize::new(0),
            opened_total: AtomicU64::new(0),
            closed_total: AtomicU64::new(0),
        }
    }
}

impl<D: Send + Sync + 'static> fmt::Debug for Registry<D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// A fresh session id: 144 random bits from `rand`'s thread generator (ChaCha, seeded and
/// reseeded from the operating system), URL-safe.
fn random_sid() -> Sid {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    Sid::new(URL_SAFE_NO_PAD.encode(bytes))
}

impl<D: Send + Sync + 'static> Registry<D> {
    fn sessions(&self) -> MutexGuard<'_, HashMap<Sid, Arc<SessionShared<D>>>> {
        self.sessions.lock()
    }

    /// A fresh random session id, never one in use.
    pub(crate) fn new_sid(&self) -> Sid {
        loop {
            let sid = random_sid();
            if !self.sessions().contains_key(&sid) {
                return sid;
            }
        }
    }

    pub(crate) fn get(&self, sid: &str) -> Option<Arc<SessionShared<D>>> {
        self.sessions().get(sid).cloned()
    }

    pub(crate) fn insert(&self, session: Arc<SessionShared<D>>, transport: Transport) {
        self.sessions().insert(session.sid.clone(), session);
        self.counter(transport).fetch_add(1, Ordering::Relaxed);
        self.opened_total.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn upgraded(&self) {
        self.polling.fetch_sub(1, Ordering::Relaxed);
        self.websocket.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn remove(&self, sid: &Sid, transport: Transport) {
        if self.sessions().remove(sid).is_some() {
            self.counter(transport).fetch_sub(1, Ordering::Relaxed);
            self.closed_total.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn counter(&self, transport: Transport) -> &AtomicUsize {
        match transport {
            Transport::Polling => &self.polling,
            Transport::WebSocket => &self.websocket,
        }
    }

    /// Every open session (for closing them all at shutdown).
    pub(crate) fn all(&self) -> Vec<Arc<SessionShared<D>>> {
        self.sessions().values().cloned().collect()
    }

    pub(crate) fn stats(&self) -> EngineStats {
        let sessions = self.all();
        let queued_bytes = sessions
            .iter()
            .map(|session| session.lock().session.queued_bytes())
            .sum();
        EngineStats {
            open: sessions.len(),
            queued_bytes,
            polling: self.polling.load(Ordering::Relaxed),
            websocket: self.websocket.load(Ordering::Relaxed),
            opened_total: self.opened_total.load(Ordering::Relaxed),
            closed_total: self.closed_total.load(Ordering::Relaxed),
        }
    }
}
