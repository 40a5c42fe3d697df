//! What a Redis layer counts for the server's metrics (`ChannelLayer::stats`).

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sio_server::broadcast::LayerStats;

/// Messages given up and connections made again since the start, and how far behind the
/// reading of a stream is.
#[derive(Debug, Default)]
pub(crate) struct LayerCounts {
    dropped_total: AtomicU64,
    reconnects_total: AtomicU64,
    /// Milliseconds behind the stream at the last read (streams only).
    lag_millis: AtomicU64,
    /// Whether a lag was ever measured: a pub/sub layer has none to tell.
    reads: AtomicBool,
}

impl LayerCounts {
    pub(crate) fn dropped(&self) {
        self.dropped_total.fetch_add(1, Relaxed);
    }

    pub(crate) fn reconnected(&self) {
        self.reconnects_total.fetch_add(1, Relaxed);
    }

    /// A read of the stream returned entries up to `newest` (milliseconds since the epoch, from
    /// its id), or none: the reader is that far behind, or caught up.
    pub(crate) fn read_entries_from(&self, newest: Option<u64>) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |now| u64::try_from(now.as_millis()).unwrap_or(u64::MAX));
        let lag = newest.map_or(0, |newest| now.saturating_sub(newest));
        self.lag_millis.store(lag, Relaxed);
        self.reads.store(true, Relaxed);
    }

    /// The stats of a layer whose queue holds `queued_bytes`.
    pub(crate) fn stats(&self, queued_bytes: usize) -> LayerStats {
        LayerStats {
            queued_bytes,
            dropped_total: self.dropped_total.load(Relaxed),
            reconnects_total: self.reconnects_total.load(Relaxed),
            lag: self
                .reads
                .load(Relaxed)
                .then(|| Duration::from_millis(self.lag_millis.load(Relaxed))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_read_with_nothing_new_is_caught_up() {
        let counts = LayerCounts::default();
        assert_eq!(counts.stats(0).lag, None, "a pub/sub layer tells no lag");
        counts.read_entries_from(Some(0));
        assert!(counts.stats(0).lag.unwrap() > Duration::from_secs(1_000_000));
        counts.read_entries_from(None);
        assert_eq!(counts.stats(7).lag, Some(Duration::ZERO));
        counts.dropped();
        counts.reconnected();
        let stats = counts.stats(7);
        assert_eq!(
            (
                stats.queued_bytes,
                stats.dropped_total,
                stats.reconnects_total
            ),
            (7, 1, 1)
        );
    }
}
