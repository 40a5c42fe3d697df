//! The open sessions by id, and the counts the stats call reports.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sio_core::{Sid, Transport};

use crate::session_shared::SessionShared;

/// Counts of an engine's sessions, from [`Engine::stats`](crate::Engine::stats).
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
}

/// 144 random bits, URL-safe: session ids and socket ids.
pub(crate) fn random_id() -> String {
    let mut bytes = [0u8; 18];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[derive(Debug, Default)]
pub(crate) struct Registry {
    sessions: Mutex<HashMap<Sid, Arc<SessionShared>>>,
    polling: AtomicUsize,
    websocket: AtomicUsize,
    opened_total: AtomicU64,
    closed_total: AtomicU64,
}

impl Registry {
    fn sessions(&self) -> MutexGuard<'_, HashMap<Sid, Arc<SessionShared>>> {
        self.sessions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// A fresh session id: 144 random bits from `rand`'s thread generator (ChaCha, seeded and
    /// reseeded from the operating system), never one in use.
    pub(crate) fn new_sid(&self) -> Sid {
        loop {
            let sid = Sid::new(random_id());
            if !self.sessions().contains_key(&sid) {
                return sid;
            }
        }
    }

    pub(crate) fn get(&self, sid: &str) -> Option<Arc<SessionShared>> {
        self.sessions().get(sid).cloned()
    }

    pub(crate) fn insert(&self, session: Arc<SessionShared>, transport: Transport) {
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
    pub(crate) fn all(&self) -> Vec<Arc<SessionShared>> {
        self.sessions().values().cloned().collect()
    }

    pub(crate) fn stats(&self) -> EngineStats {
        let open = self.sessions().len();
        EngineStats {
            open,
            polling: self.polling.load(Ordering::Relaxed),
            websocket: self.websocket.load(Ordering::Relaxed),
            opened_total: self.opened_total.load(Ordering::Relaxed),
            closed_total: self.closed_total.load(Ordering::Relaxed),
        }
    }
}
