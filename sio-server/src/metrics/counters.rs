//! What a server counts while metrics are on: plain atomics bumped where things happen, read
//! when a scrape asks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::DisconnectReason;

/// Every [`DisconnectReason`], in the order of the counters that count them.
pub(crate) const REASONS: [DisconnectReason; 10] = [
    DisconnectReason::ClientNamespaceDisconnect,
    DisconnectReason::ServerNamespaceDisconnect,
    DisconnectReason::ServerError,
    DisconnectReason::MailboxFull,
    DisconnectReason::ServerShuttingDown,
    DisconnectReason::PingTimeout,
    DisconnectReason::TransportClose,
    DisconnectReason::TransportError,
    DisconnectReason::ParseError,
    DisconnectReason::ForcedClose,
];

/// The upper bounds of the ack round-trip histogram, in seconds (then +Inf).
pub(crate) const ACK_BUCKETS: [f64; 10] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0];

/// The counters of one server.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) events_received: AtomicU64,
    pub(crate) events_sent: AtomicU64,
    /// Socket.IO messages received (a binary attachment is one of its own).
    pub(crate) packets_received: AtomicU64,
    /// Socket.IO packets sockets queued.
    pub(crate) packets_sent: AtomicU64,
    pub(crate) bytes_received: AtomicU64,
    pub(crate) bytes_sent: AtomicU64,
    pub(crate) broadcasts: AtomicU64,
    pub(crate) broadcast_recipients: AtomicU64,
    pub(crate) upgrades: AtomicU64,
    pub(crate) disconnects: [AtomicU64; REASONS.len()],
    pub(crate) closed_not_reading: AtomicU64,
    pub(crate) volatile_dropped: AtomicU64,
    /// Acks the server waited for, by the bucket of their round trip (the last is +Inf).
    pub(crate) ack_buckets: [AtomicU64; ACK_BUCKETS.len() + 1],
    pub(crate) ack_micros: AtomicU64,
}

/// Adds `n` to `counter`.
pub(crate) fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn disconnected(&self, reason: DisconnectReason) {
        if let Some(index) = REASONS.iter().position(|known| *known == reason) {
            add(&self.disconnects[index], 1);
        }
    }

    /// An ack the server waited for came back after `elapsed`.
    pub(crate) fn ack_returned(&self, elapsed: Duration) {
        let seconds = elapsed.as_secs_f64();
        let bucket = ACK_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(ACK_BUCKETS.len());
        add(&self.ack_buckets[bucket], 1);
        add(
            &self.ack_micros,
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
        );
    }

    /// Read by the export (feature `metrics`).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn load(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_fall_in_the_first_bucket_that_holds_them() {
        let counters = Counters::default();
        counters.ack_returned(Duration::from_micros(500));
        counters.ack_returned(Duration::from_millis(1));
        counters.ack_returned(Duration::from_secs(9));
        assert_eq!(Counters::load(&counters.ack_buckets[0]), 2);
        assert_eq!(Counters::load(&counters.ack_buckets[ACK_BUCKETS.len()]), 1);
        assert_eq!(Counters::load(&counters.ack_micros), 9_001_500);
        counters.disconnected(DisconnectReason::PingTimeout);
        assert_eq!(Counters::load(&counters.disconnects[5]), 1);
    }
}
