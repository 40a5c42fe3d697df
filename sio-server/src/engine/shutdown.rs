//! Where an engine stands in a graceful shutdown: begun (with the deadline it must keep), then
//! finished. `serve` stops accepting once it begins and returns once it finished.

use std::time::Instant;

use tokio::sync::watch;

/// `duration` from now, or far in the future if that does not fit an `Instant`.
pub(crate) fn deadline_after(duration: std::time::Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(duration)
        .unwrap_or_else(|| now + std::time::Duration::from_secs(100 * 365 * 24 * 3600))
}

/// The shutdown of one engine, shared by its clones and the loops that serve it.
pub(crate) struct Shutdown {
    /// `Some(deadline)` once a shutdown began.
    begun: watch::Sender<Option<Instant>>,
    finished: watch::Sender<bool>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown {
            begun: watch::Sender::new(None),
            finished: watch::Sender::new(false),
        }
    }
}

impl Shutdown {
    /// Begins the shutdown, to be over by `deadline`; `false` if it had begun already.
    pub(crate) fn begin(&self, deadline: Instant) -> bool {
        self.begun.send_if_modified(|begun| {
            if begun.is_some() {
                return false;
            }
            *begun = Some(deadline);
            true
        })
    }

    /// Whether a shutdown began: new sessions are refused from then on.
    pub(crate) fn has_begun(&self) -> bool {
        self.begun.borrow().is_some()
    }

    /// The shutdown is over: what `serve` waits for before it returns.
    pub(crate) fn finish(&self) {
        self.finished.send_replace(true);
    }

    /// Resolves with the deadline once a shutdown begins.
    pub(crate) fn begun(&self) -> impl Future<Output = Instant> + Send + 'static {
        let mut begun = self.begun.subscribe();
        async move {
            match begun.wait_for(Option::is_some).await {
                Ok(deadline) => deadline.unwrap_or_else(Instant::now),
                // The engine is gone: nothing is left to serve.
                Err(_) => Instant::now(),
            }
        }
    }

    /// Resolves once the shutdown is over (or the engine is gone).
    pub(crate) fn finished(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut finished = self.finished.subscribe();
        async move {
            let _ = finished.wait_for(|done| *done).await;
        }
    }
}
