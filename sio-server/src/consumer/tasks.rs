//! The tasks of hooks that did not finish where they started, kept so that a graceful shutdown
//! can wait for them, and abort them once its deadline has passed.

use std::cell::Cell;
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

thread_local! {
    /// Set when a shutdown is awaited by the hook being polled on this thread (a handler that
    /// calls it), so that the task the hook then moves to is known for the shutdown's caller
    /// before it is ever polled there.
    static AWAITS_SHUTDOWN: Cell<bool> = const { Cell::new(false) };
}

/// A hook is about to be polled where its event arrived.
pub(crate) fn begin_inline_poll() {
    AWAITS_SHUTDOWN.set(false);
}

/// Whether the hook just polled here awaits a shutdown.
pub(crate) fn inline_poll_awaits_shutdown() -> bool {
    AWAITS_SHUTDOWN.replace(false)
}

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
    /// Runs `hook` on a task of `runtime`, kept with the others; `caller` if the hook awaits
    /// the shutdown (see [`exclude_current`](Self::exclude_current)).
    pub(crate) fn spawn(
        &self,
        runtime: &tokio::runtime::Handle,
        hook: impl Future<Output = ()> + Send + 'static,
        caller: bool,
    ) {
        // Spawned outside the lock: a runtime that is shutting down drops the future at once.
        let task = runtime.spawn(hook).abort_handle();
        if caller {
            self.callers.lock().push(task.id());
        }
        {
            let mut running = self.running.lock();
            running.tasks.insert(task.id(), task.clone());
            // Those that ended without saying so (aborted) are let go of now and then.
            if running.tasks.len() >= running.sweep_at {
                running.tasks.retain(|_, task| !task.is_finished());
                running.sweep_at = (running.tasks.len() * 2).max(64);
            }
        }
        // After the insert: either an abort's look finds this task, or this sees its flag.
        if self.aborting.load(Ordering::SeqCst) && !caller {
            task.abort();
        }
    }

    /// The task that calls this at its end is no longer kept.
    pub(crate) fn forget_current(&self) {
        if let Some(id) = tokio::task::try_id() {
            self.running.lock().tasks.remove(&id);
        }
    }

    /// The task that calls this awaits the shutdown: it is neither waited for nor aborted.
    /// Returns its id when it was not excluded yet, for [`include`](Self::include) to undo.
    /// Called from a hook polled where its event arrived, it marks the task the hook moves to.
    pub(crate) fn exclude_current(&self) -> Option<Id> {
        AWAITS_SHUTDOWN.set(true);
        let id = tokio::task::try_id()?;
        let mut callers = self.callers.lock();
        if callers.contains(&id) {
            return None;
        }
        callers.push(id);
        Some(id)
    }

    /// The tasks `ids` no longer await the shutdown.
    pub(crate) fn include(&self, ids: &[Id]) {
        self.callers.lock().retain(|id| !ids.contains(id));
    }

    /// Waits until no hook task is left (those started meanwhile included, the callers of the
    /// shutdown left out) and `done` says so too, until `deadline` passes or
    /// [`abort`](Self::abort) is called; then aborts what is left. `true` if none was left to
    /// abort.
    pub(crate) async fn finish_by(&self, deadline: Instant, done: impl Fn() -> bool) -> bool {
        loop {
            // `done` first: what it counts as settled is kept before it says so.
            let settled = done();
            let left = self.left();
            if settled && left.is_empty() {
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
