//! The deadlines of every session of an engine (ping due, pong overdue, upgrade overdue) in
//! one heap, served by one task, instead of a sleeping task per session.
//!
//! A session schedules its next deadline whenever it comes before the entries it has, and the
//! earliest of them, when it fires, schedules the deadline as it stands then; an entry that is
//! no longer its session's deadline fires anyway, finds nothing due and is gone, which costs
//! less than finding and removing it. Entries name their session by a key, and the session is held weakly beside
//! the key until it closes: a timer keeps nothing alive, and a closed session's memory does
//! not wait for its old deadlines.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use tokio::sync::Notify;

use crate::engine::sync::Mutex;

/// What a deadline wakes.
pub(crate) trait Timed: Send + Sync {
    /// The deadline (or a later one) has come.
    fn fire(self: Arc<Self>, now: Instant);
}

/// Names one target of an engine's timers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct TimerKey(u64);

/// A deadline in the heap, ordered by instant (then key, which only breaks ties).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    at: Instant,
    key: TimerKey,
}

/// A target with deadlines in the heap.
struct Target {
    timed: Weak<dyn Timed>,
    /// Its entries still in the heap; the target is dropped with the last.
    entries: u32,
}

#[derive(Default)]
struct Heap {
    entries: BinaryHeap<Reverse<Entry>>,
    targets: HashMap<TimerKey, Target>,
}

/// The deadlines of one engine's sessions.
#[derive(Default)]
pub(crate) struct Timers {
    heap: Mutex<Heap>,
    next_key: AtomicU64,
    /// Woken when a deadline earlier than the one the task sleeps until arrives, and when the
    /// timers go; shared with the task, which holds the timers only while it fires.
    earlier: Arc<Notify>,
    running: AtomicBool,
}

impl Timers {
    /// A key for a new target.
    pub(crate) fn key(&self) -> TimerKey {
        TimerKey(self.next_key.fetch_add(1, Ordering::Relaxed))
    }

    /// Wakes `target`, named by `key`, at `at` (or soon after). The first call starts the task,
    /// inside the runtime of the session that makes it; outside any runtime, the deadline waits
    /// for the next call made inside one.
    pub(crate) fn schedule(self: &Arc<Self>, key: TimerKey, at: Instant, target: Weak<dyn Timed>) {
        let earliest = {
            let mut heap = self.heap.lock();
            let earliest = heap
                .entries
                .peek()
                .is_none_or(|Reverse(first)| at < first.at);
            heap.entries.push(Reverse(Entry { at, key }));
            heap.targets
                .entry(key)
                .or_insert(Target {
                    timed: target,
                    entries: 0,
                })
                .entries += 1;
            earliest
        };
        // Outside a runtime, `running` is left alone: a task started meanwhile from inside one
        // must not be taken for stopped.
        let runtime = tokio::runtime::Handle::try_current().ok();
        if let Some(runtime) = runtime
            && !self.running.swap(true, Ordering::AcqRel)
        {
            let earlier = Arc::clone(&self.earlier);
            runtime.spawn(run(Arc::downgrade(self), earlier));
        } else if earliest {
            self.earlier.notify_one();
        }
    }

    /// The target named by `key` is done: its deadlines still in the heap find nothing.
    pub(crate) fn forget(&self, key: TimerKey) {
        let removed = self.heap.lock().targets.remove(&key);
        // Outside the lock: the last `Weak` may free the target's memory.
        drop(removed);
    }

    /// Takes the targets due at `now`, and the next deadline after them.
    fn due(&self, now: Instant) -> (Vec<Weak<dyn Timed>>, Option<Instant>) {
        let mut heap = self.heap.lock();
        let mut due = Vec::new();
        while let Some(Reverse(first)) = heap.entries.peek() {
            if first.at > now {
                return (due, Some(first.at));
            }
            let Some(Reverse(Entry { key, .. })) = heap.entries.pop() else {
                break;
            };
            let Some(target) = heap.targets.get_mut(&key) else {
                continue;
            };
            target.entries -= 1;
            if target.entries == 0 {
                if let Some(target) = heap.targets.remove(&key) {
                    due.push(target.timed);
                }
            } else {
                due.push(Weak::clone(&target.timed));
            }
        }
        (due, None)
    }

    /// Marks the task stopped if no deadline waits; under the heap's lock, so that a `schedule`
    /// either finds it stopped (and starts another) or its deadline is seen here.
    fn stop_if_empty(&self) -> bool {
        let heap = self.heap.lock();
        let empty = heap.entries.is_empty();
        if empty {
            self.running.store(false, Ordering::Release);
        }
        empty
    }

    /// How many deadlines wait (those of closed sessions included, until they come).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.lock().entries.len()
    }

    /// How many targets are held.
    #[cfg(test)]
    pub(crate) fn targets(&self) -> usize {
        self.heap.lock().targets.len()
    }
}

impl Drop for Timers {
    fn drop(&mut self) {
        // The task ends now rather than at its next deadline.
        self.earlier.notify_one();
    }
}

/// Marks the task stopped if it ends other than by finding no deadline (its runtime shut
/// down): the next `schedule` then starts another.
struct Running {
    timers: Weak<Timers>,
    /// Cleared when the task stopped itself, under the heap's lock.
    armed: bool,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let (true, Some(timers)) = (self.armed, self.timers.upgrade()) {
            timers.running.store(false, Ordering::Release);
        }
    }
}

/// The task: sleeps until the earliest deadline and fires what is due; it ends when no
/// deadline is left (the next `schedule` starts another) or the engine is gone.
async fn run(timers: Weak<Timers>, earlier: Arc<Notify>) {
    let mut running = Running {
        timers: Weak::clone(&timers),
        armed: true,
    };
    loop {
        let at = {
            let Some(timers) = timers.upgrade() else {
                return;
            };
            let (due, next) = timers.due(Instant::now());
            let now = Instant::now();
            for target in due {
                if let Some(target) = target.upgrade() {
                    // One target that panics must not cost the others their deadlines.
                    let fired = std::panic::catch_unwind(AssertUnwindSafe(|| target.fire(now)));
                    if fired.is_err() {
                        tracing::error!("a session's deadline panicked; the others go on");
                    }
                }
            }
            match next {
                Some(at) => at,
                None if timers.stop_if_empty() => {
                    // Stopped under the lock; a `schedule` since may have started another.
                    running.armed = false;
                    return;
                }
                None => continue,
            }
        };
        // `notify_one` keeps a permit when nobody waits, so an earlier deadline scheduled
        // since `due` is not missed.
        tokio::select! {
            () = tokio::time::sleep_until(at.into()) => {}
            () = earlier.notified() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Weak};
    use std::time::{Duration, Instant};

    use super::{Timed, Timers};

    #[derive(Default)]
    struct Counter(AtomicUsize);

    impl Timed for Counter {
        fn fire(self: Arc<Self>, _now: Instant) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Waits up to `limit` for `counter` to have fired once.
    async fn fired(counter: &Counter, limit: Duration) -> bool {
        let start = Instant::now();
        while counter.0.load(Ordering::SeqCst) == 0 {
            if start.elapsed() > limit {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    fn target(counter: &Arc<Counter>) -> Weak<dyn Timed> {
        Arc::downgrade(counter) as Weak<dyn Timed>
    }

    #[tokio::test]
    async fn deadlines_fire_in_order_and_an_earlier_one_wakes_the_task() {
        let timers = Arc::new(Timers::default());
        let (late, soon) = (Arc::new(Counter::default()), Arc::new(Counter::default()));
        let start = Instant::now();
        timers.schedule(timers.key(), start + Duration::from_secs(3), target(&late));
        tokio::time::sleep(Duration::from_millis(10)).await;
        // Earlier than what the task sleeps until: it wakes for it.
        let at = Instant::now() + Duration::from_millis(20);
        timers.schedule(timers.key(), at, target(&soon));
        assert!(
            fired(&soon, Duration::from_secs(2)).await,
            "the earlier deadline was missed"
        );
        assert_eq!(
            late.0.load(Ordering::SeqCst),
            0,
            "the later one fired early"
        );
        assert!(fired(&late, Duration::from_secs(10)).await);
        assert!(start.elapsed() >= Duration::from_secs(3));
        assert_eq!((timers.len(), timers.targets()), (0, 0));
    }

    #[tokio::test]
    async fn a_dropped_target_is_skipped_and_the_task_ends_with_its_deadlines() {
        let timers = Arc::new(Timers::default());
        let gone = Arc::new(Counter::default());
        let at = Instant::now() + Duration::from_millis(20);
        timers.schedule(timers.key(), at, target(&gone));
        drop(gone);
        let start = Instant::now();
        while timers.len() > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the deadline never came"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // No deadline left: the task ends.
        let start = Instant::now();
        while timers.running.load(Ordering::Acquire) {
            assert!(start.elapsed() < Duration::from_secs(5), "the task went on");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        assert_eq!(timers.targets(), 0);
        // A later deadline starts a task again.
        let again = Arc::new(Counter::default());
        timers.schedule(timers.key(), Instant::now(), target(&again));
        assert!(fired(&again, Duration::from_secs(2)).await);
    }

    #[tokio::test]
    async fn a_forgotten_target_is_let_go_at_once_and_not_fired() {
        let timers = Arc::new(Timers::default());
        let (kept, forgotten) = (Arc::new(Counter::default()), Arc::new(Counter::default()));
        let at = Instant::now() + Duration::from_millis(50);
        let key = timers.key();
        timers.schedule(key, at, target(&forgotten));
        timers.schedule(key, at + Duration::from_secs(30), target(&forgotten));
        timers.schedule(timers.key(), at, target(&kept));
        assert_eq!(
            Arc::weak_count(&forgotten),
            1,
            "one hold for both deadlines"
        );
        timers.forget(key);
        // Its memory need not wait for its deadlines.
        assert_eq!(Arc::weak_count(&forgotten), 0);
        assert!(fired(&kept, Duration::from_secs(2)).await);
        assert_eq!(forgotten.0.load(Ordering::SeqCst), 0);
        // The entries of a forgotten key find nothing, and leave nothing behind.
        assert_eq!((timers.len(), timers.targets()), (1, 0));
    }

    #[test]
    fn timers_outlive_the_runtime_their_task_ran_in() {
        let timers = Arc::new(Timers::default());
        let first = Arc::new(Counter::default());
        // Outside any runtime, a deadline waits for one.
        timers.schedule(timers.key(), Instant::now(), target(&first));
        let runtime = || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime")
        };
        // A runtime that ends while the task sleeps takes the task along.
        runtime().block_on(async {
            let later = Instant::now() + Duration::from_secs(60);
            timers.schedule(timers.key(), later, target(&first));
            assert!(fired(&first, Duration::from_secs(2)).await);
        });
        assert!(
            !timers.running.load(Ordering::Acquire),
            "the task's end went unnoticed"
        );
        // The next runtime gets a task of its own.
        let second = Arc::new(Counter::default());
        runtime().block_on(async {
            timers.schedule(timers.key(), Instant::now(), target(&second));
            assert!(fired(&second, Duration::from_secs(2)).await);
        });
    }
}
