//! Connection state recovery (Node's `connectionStateRecovery`): a client that lost its
//! connection for a while comes back as the same socket, in the same rooms, with the events it
//! missed.
//!
//! With it on, every event without ack and not volatile gets an offset, appended as its last
//! argument (the client keeps the last string argument of each event as its offset), and is kept
//! in a log before it is sent; a socket that leaves for a reason the client recovers from
//! (its transport closed or failed, a ping timed out, the server shut down) is kept as a
//! session. A CONNECT whose auth carries the session's `pid` and the client's last `offset`
//! restores it: same id, same rooms, same data, and the events after that offset that its rooms
//! received, in order.

mod layered;
mod log;

use std::time::Duration;

pub(crate) use layered::restore_from_layer;
pub(crate) use log::{Recovery, Restored, Session};

use crate::server::WeakServer;

/// Forgets what expired in the log every minute (or every `every`, the maximum duration, if
/// shorter), as Node's adapter does, so that an idle server lets it go too; with a layer that
/// keeps the sessions, holds those of the connected sockets again every `every`, the ping
/// interval. Ends with the server.
pub(crate) async fn sweep(server: WeakServer, every: Duration) {
    let every = every.clamp(Duration::from_millis(10), Duration::from_secs(60));
    loop {
        tokio::time::sleep(every).await;
        let Some(server) = server.upgrade() else {
            return;
        };
        let inner = server.inner();
        let Some(recovery) = &inner.recovery else {
            return;
        };
        if recovery.in_layer {
            for socket in inner.all_sockets() {
                socket.hold_session();
            }
        } else {
            recovery.sweep();
        }
    }
}

/// The settings of connection state recovery, given to
/// [`ServerBuilder::connection_state_recovery`](crate::ServerBuilder::connection_state_recovery).
/// Defaults: Node's (sessions kept for two minutes, middleware skipped for a recovered client),
/// and bounds of sio's own: 10,000 events and 64 MiB kept, 100,000 sessions.
///
/// ```
/// use std::time::Duration;
/// use sio_server::{ConnectionStateRecovery, Server};
///
/// let server = Server::builder()
///     .connection_state_recovery(
///         ConnectionStateRecovery::default()
///             .max_disconnection_duration(Duration::from_secs(30))
///             .skip_middlewares(false),
///     )
///     .build();
/// # drop(server);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct ConnectionStateRecovery {
    pub(crate) max_disconnection_duration: Duration,
    pub(crate) skip_middlewares: bool,
    pub(crate) max_packets: usize,
    pub(crate) max_bytes: usize,
    pub(crate) max_sessions: usize,
}

impl Default for ConnectionStateRecovery {
    fn default() -> Self {
        ConnectionStateRecovery {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_packets: 10_000,
            max_bytes: 64 << 20,
            max_sessions: 100_000,
        }
    }
}

impl ConnectionStateRecovery {
    /// How long a client may stay away and still recover (default 2 minutes); its session and
    /// the events it missed are kept that long.
    pub fn max_disconnection_duration(mut self, duration: Duration) -> Self {
        self.max_disconnection_duration = duration;
        self
    }

    /// Whether a recovered client skips the connect middleware (default `true`, as Node):
    /// `connect` still runs, with [`Socket::recovered`](crate::Socket::recovered) true.
    pub fn skip_middlewares(mut self, skip: bool) -> Self {
        self.skip_middlewares = skip;
        self
    }

    /// How many events the log keeps at most, in all namespaces (default 10,000); the oldest go
    /// first, and a client whose offset went with them gets a fresh socket.
    pub fn max_packets(mut self, packets: usize) -> Self {
        self.max_packets = packets.max(1);
        self
    }

    /// How many bytes of events the log keeps at most (default 64 MiB); what the sessions hold
    /// (their rooms' names and data) is bounded by the same number, apart.
    pub fn max_bytes(mut self, bytes: usize) -> Self {
        self.max_bytes = bytes;
        self
    }

    /// How many sessions are kept at most (default 100,000, at least 1); the oldest go first.
    pub fn max_sessions(mut self, sessions: usize) -> Self {
        self.max_sessions = sessions.max(1);
        self
    }
}
