//! What this process appended to the stream and has not read back yet. The reader delivers a
//! process's own entries when it reads them back; if Redis goes away first (and with it, when it
//! keeps nothing, the entries), they are delivered here at once, without offsets, so that this
//! process's sockets never miss one, and skipped if they are read back later.

use std::collections::VecDeque;

use super::shared::Outgoing;

/// Entries waiting to be read back at most; beyond, the oldest is delivered here at once.
const MAX_IN_FLIGHT: usize = 8192;

/// The broadcasts and operations appended, numbered in the order appended (the number travels
/// in the entry as the field `sio`, which Node's adapter ignores).
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    next: u64,
    entries: VecDeque<(u64, Outgoing)>,
    /// Every entry numbered up to this one was delivered here already.
    delivered_through: u64,
}

/// What to do with an entry of this process read back.
#[derive(Debug)]
pub(crate) enum ReadBack {
    /// Delivered here already: skipped.
    Skip,
    /// To deliver, after those appended before it that never reached the stream.
    Deliver(Vec<Outgoing>),
}

impl InFlight {
    /// Numbers `outgoing`, appended now; returns its number, and what had to be delivered here
    /// at once to keep within bounds.
    pub(crate) fn push(&mut self, outgoing: Outgoing) -> (u64, Vec<Outgoing>) {
        self.next += 1;
        let mut overflow = Vec::new();
        while self.entries.len() >= MAX_IN_FLIGHT {
            if let Some((number, oldest)) = self.entries.pop_front() {
                self.delivered_through = number;
                overflow.push(oldest);
            }
        }
        self.entries.push_back((self.next, outgoing));
        (self.next, overflow)
    }

    /// Entry `number` was read back.
    pub(crate) fn read_back(&mut self, number: u64) -> ReadBack {
        if number <= self.delivered_through {
            return ReadBack::Skip;
        }
        let mut lost = Vec::new();
        while let Some((front, _)) = self.entries.front() {
            if *front > number {
                break;
            }
            if let Some((front, outgoing)) = self.entries.pop_front()
                && front < number
            {
                // Appended before it, yet not in the stream: the append failed.
                lost.push(outgoing);
            }
        }
        ReadBack::Deliver(lost)
    }

    /// Everything not read back yet, to deliver here now: Redis went away.
    pub(crate) fn flush(&mut self) -> Vec<Outgoing> {
        if let Some((last, _)) = self.entries.back() {
            self.delivered_through = *last;
        }
        self.entries
            .drain(..)
            .map(|(_, outgoing)| outgoing)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use sio_core::Namespace;
    use sio_server::broadcast::{Operation, Target};

    use super::*;

    fn operation() -> Outgoing {
        Outgoing::Operation(
            Namespace::root(),
            Target::default(),
            Operation::Disconnect { close: false },
        )
    }

    #[test]
    fn entries_are_delivered_once_whether_read_back_or_flushed() {
        let mut in_flight = InFlight::default();
        let numbers: Vec<u64> = (0..4).map(|_| in_flight.push(operation()).0).collect();
        assert_eq!(numbers, [1, 2, 3, 4]);
        // 1 read back; 2 never reached the stream; 3 read back.
        assert!(matches!(in_flight.read_back(1), ReadBack::Deliver(lost) if lost.is_empty()));
        assert!(matches!(in_flight.read_back(3), ReadBack::Deliver(lost) if lost.len() == 1));
        // Redis goes away: 4 is delivered here, and skipped if read back after all.
        assert_eq!(in_flight.flush().len(), 1);
        assert!(matches!(in_flight.read_back(4), ReadBack::Skip));
        let (five, _) = in_flight.push(operation());
        assert!(matches!(in_flight.read_back(five), ReadBack::Deliver(lost) if lost.is_empty()));
    }
}
