//! The deadlines of every session of an engine (ping due, pong overdue, upgrade overdue) in
//! one heap, served by one task, instead of a sleeping task per session.
//!
//! A session schedules its next deadline whenever it changes; an entry that is no longer its
//! session's deadline fires anyway and finds nothing due, which costs less than finding and
//! removing it. Entries hold their sessions weakly: a timer keeps nothing alive.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

use tokio::sync::Notify;

use crate::engine::sync::Mutex;

/// What a deadline wakes.
pub(crate) trait Timed: Send + Sync {
    /// The deadline (or a later one) has come.
    fn fire(self: Arc<Self>, now: Instant);
}

struct Entry {
    at: Instant,
    /// Breaks ties in the order of scheduling, so equal instants need no `Ord` on the target.
    seq: u64,
    target: Weak<dyn Timed>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Entry {}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Default)]
struct Heap {
    entries: BinaryHeap<Reverse<Entry>>,
    next_seq: u64,
}

/// The deadlines of one engine's sessions.
#[derive(Default)]
pub(crate) struct Timers {
    heap: Mutex<Heap>,
    /// Woken when a deadline earlier than the one the task sleeps until arrives.
    earlier: Notify,
    running: AtomicBool,
}

impl Timers {
    /// Wakes `target` at `at` (or soon after). The first call starts the task, inside the
    /// runtime of the session that makes it.
    pub(crate) fn schedule(self: &Arc<Self>, at: Instant, target: Weak<dyn Timed>) {
        let earliest = {
            let mut heap = self.heap.lock();
            let seq = heap.next_seq;
            heap.next_seq += 1;
            let earliest = heap
                .entries
                .peek()
                .is_none_or(|Reverse(first)| at < first.at);
            heap.entries.push(Reverse(Entry { at, seq, target }));
            earliest
        };
        if !self.running.swap(true, Ordering::AcqRel) {
            tokio::spawn(run(Arc::downgrade(self)));
        } else if earliest {
            self.earlier.notify_one();
        }
    }

    /// Takes the entries due at `now`, and the next deadline after them.
    fn due(&self, now: Instant) -> (Vec<Weak<dyn Timed>>, Option<Instant>) {
        let mut heap = self.heap.lock();
        let mut due = Vec::new();
        while let Some(Reverse(first)) = heap.entries.peek() {
            if first.at > now {
                return (due, Some(first.at));
            }
            if let Some(Reverse(entry)) = heap.entries.pop() {
                due.push(entry.target);
            }
        }
        (due, None)
    }

    /// How many deadlines wait (those of closed sessions included, until they come).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.lock().entries.len()
    }
}

/// The task: sleeps until the earliest deadline and fires what is due; it ends when no
/// deadline is left (the next `schedule` starts another) or the engine is gone.
async fn run(timers: Weak<Timers>) {
    loop {
        let Some(timers) = timers.upgrade() else {
            return;
        };
        let (due, next) = timers.due(Instant::now());
        let now = Instant::now();
        for target in due {
            if let Some(target) = target.upgrade() {
                target.fire(now);
            }
        }
        let Some(at) = next else {
            if timers.stop_if_empty() {
                return;
            }
            continue;
        };
        // `notify_one` keeps a permit when nobody waits, so an earlier deadline scheduled
        // since `due` is not missed.
        tokio::select! {
            () = tokio::time::sleep_until(at.into()) => {}
            () = timers.earlier.notified() => {}
        }
    }
}

impl Timers {
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
        timers.schedule(start + Duration::from_secs(3), target(&late));
        tokio::time::sleep(Duration::from_millis(10)).await;
        // Earlier than what the task sleeps until: it wakes for it.
        timers.schedule(Instant::now() + Duration::from_millis(20), target(&soon));
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
        assert_eq!(timers.len(), 0);
    }

    #[tokio::test]
    async fn a_dropped_target_is_skipped_and_the_task_ends_with_its_deadlines() {
        let timers = Arc::new(Timers::default());
        let gone = Arc::new(Counter::default());
        timers.schedule(Instant::now() + Duration::from_millis(20), target(&gone));
        drop(gone);
        let start = Instant::now();
        while timers.len() > 0 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the deadline never came"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // No deadline left: the task ends, and with it its hold on the timers.
        let start = Instant::now();
        while Arc::strong_count(&timers) > 1 {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "the task kept its timers"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // A later deadline starts a task again.
        let again = Arc::new(Counter::default());
        timers.schedule(Instant::now(), target(&again));
        assert!(fired(&again, Duration::from_secs(2)).await);
    }
}
