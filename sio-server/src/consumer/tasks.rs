//! The tasks of hooks that did not finish where they started, kept so that a graceful shutdown
//! can wait for them, and abort them once its deadline has passed.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::task::{AbortHandle, Id};

use crate::engine::sync::Mutex;

/// How often a shutdown looks whether the hooks it waits for are done: it happens once in a
/// server's life, and a look costs one lock.
const LOOK_EVERY: Duration = Duration::from_millis(10);

/// How long a shutdown waits for the tasks it aborted to end.
const ABORT_GRACE: Duration = Duration::from_secs(1);

/// The hook tasks of one server.
#[derive(Debug, Default)]
pub(crate) struct HookTasks {
    running: Mutex<Running>,
    /// Set once what is left must stop now (a second shutdown); later hooks are aborted too.
    aborting: AtomicBool,
    /// The tasks that await the shutdown themselves (a handler that called it): neither
    /// waited for, which would wait for ever, nor aborted.
    callers: Mutex<Vec<Id>>,
}

#[derive(Debug, Default)]
struct Running {
    tasks: HashMap<Id, AbortHandle>,
    /// How many tasks to keep before the next sweep of those that ended.
    sweep_at: usize,
}

impl HookTasks {
    /// Runs `hook` on a task of `runtime`, kept with the others.
    pub(crate) fn spawn(
        &self,
        runtime: &tokio::runtime::Handle,
        hook: impl Future<Output = ()> + Send + 'static,
    ) {
        // Spawned outside the lock: a runtime that is shutting down drops the future at once.
        let task = runtime.spawn(hook).abort_handle();
        {
            let mut running = self.running.lock();
            running.tasks.insert(task.id(), task.clone());
            // Those that ended are let go of now and then: the map holds at most about twice
            // as many as run.
            if running.tasks.len() >= running.sweep_at {
                running.tasks.retain(|_, task| !task.is_finished());
                running.sweep_at = (running.tasks.len() * 2).max(64);
            }
        }
        // After the insert: either an abort's look finds this task, or this sees its flag.
        if self.aborting.load(Ordering::SeqCst) {
            task.abort();
        }
    }

    /// The task that calls this awaits the shutdown: it is neither waited for nor aborted.
    pub(crate) fn exclude_current(&self) {
        if let Some(id) = tokio::task::try_id() {
            let mut callers = self.callers.lock();
            if !callers.contains(&id) {
                callers.push(id);
            }
        }
    }

    /// Waits until no hook task is left (those started meanwhile included, the callers of the
    /// shutdown left out), `deadline` passes or [`abort`](Self::abort) is called; then aborts
    /// what is left. `true` if none was left to abort.
    pub(crate) async fn finish_by(&self, deadline: Instant) -> bool {
        loop {
            let left = self.left();
            if left.is_empty() {
                return true;
            }
            if self.aborting.load(Ordering::SeqCst) || Instant::now() >= deadline {
                self.abort();
                // An aborted task ends at its next await, when the runtime drops it: the
                // shutdown ends after that (the handlers' state is freed), unless one computes
                // without awaiting for longer than `ABORT_GRACE`.
                let grace = Instant::now() + ABORT_GRACE;
                while !left.iter().all(AbortHandle::is_finished) && Instant::now() < grace {
                    tokio::time::sleep(LOOK_EVERY).await;
                }
                return false;
            }
            let next_look = (Instant::now() + LOOK_EVERY).min(deadline);
            tokio::time::sleep_until(next_look.into()).await;
        }
    }

    /// Aborts every hook task now but the callers of the shutdown, and every one started later.
    pub(crate) fn abort(&self) {
        self.aborting.store(true, Ordering::SeqCst);
        for task in self.left() {
            task.abort();
        }
    }

    /// The tasks still running, callers of the shutdown left out.
    fn left(&self) -> Vec<AbortHandle> {
        let callers = self.callers.lock().clone();
        let mut running = self.running.lock();
        running.tasks.retain(|_, task| !task.is_finished());
        running
            .tasks
            .iter()
            .filter(|(id, _)| !callers.contains(id))
            .map(|(_, task)| task.clone())
            .collect()
    }
}
