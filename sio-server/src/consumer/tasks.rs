//! The tasks of hooks that did not finish where they started, kept so that a graceful shutdown
//! can wait for them, and abort them once its deadline has passed.

use std::future::Future;
use std::time::Instant;

use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::engine::sync::Mutex;

/// The hook tasks of one server.
#[derive(Debug, Default)]
pub(crate) struct HookTasks {
    running: Mutex<JoinSet<()>>,
    /// Told when what is left must stop now (a second shutdown).
    abort: Notify,
}

impl HookTasks {
    /// Runs `hook` on a task of `runtime`, kept with the others.
    pub(crate) fn spawn(
        &self,
        runtime: &tokio::runtime::Handle,
        hook: impl Future<Output = ()> + Send + 'static,
    ) {
        let mut running = self.running.lock();
        // Those that ended are let go of here, so the set holds about as many as run.
        while running.try_join_next().is_some() {}
        running.spawn_on(hook, runtime);
    }

    /// Waits until no hook task is left (those started meanwhile included), `deadline` passes
    /// or [`abort`](Self::abort) is called; then aborts what is left. `true` if none was left
    /// to abort.
    pub(crate) async fn finish_by(&self, deadline: Instant) -> bool {
        let all_done = async {
            loop {
                // Taken out of the lock to be awaited; dropping it aborts its tasks.
                let mut set = std::mem::take(&mut *self.running.lock());
                if set.is_empty() {
                    return;
                }
                while set.join_next().await.is_some() {}
            }
        };
        let finished = tokio::select! {
            () = all_done => true,
            () = tokio::time::sleep_until(deadline.into()) => false,
            () = self.abort.notified() => false,
        };
        // The set being awaited was dropped with the future above; now the ones started since,
        // outside the lock.
        let started_since = std::mem::take(&mut *self.running.lock());
        drop(started_since);
        finished
    }

    /// Aborts every hook task now, and tells a [`finish_by`](Self::finish_by) that waits.
    pub(crate) fn abort(&self) {
        self.abort.notify_waiters();
        let running = std::mem::take(&mut *self.running.lock());
        drop(running);
    }
}
