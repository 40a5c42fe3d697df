//! The settings of an Engine.IO session, with the reference server's defaults.

use std::time::Duration;

/// Settings of an Engine.IO session.
///
/// The defaults are the reference server's: ping every 25 s, 20 s for the pong, 1 MB payloads,
/// 10 s for an upgrade to complete.
///
/// ```
/// use std::time::Duration;
/// use sio_core::SessionConfig;
/// let config = SessionConfig {
///     ping_interval: Duration::from_millis(300),
///     ping_timeout: Duration::from_millis(200),
///     ..SessionConfig::default()
/// };
/// assert_eq!(config.max_payload, 1_000_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionConfig {
    /// How often the server pings.
    pub ping_interval: Duration,
    /// How long after queueing a ping the server waits for the pong before closing the session.
    pub ping_timeout: Duration,
    /// The largest polling payload in bytes: outgoing batches are cut to it, and the runtime
    /// refuses larger incoming bodies and WebSocket messages.
    pub max_payload: usize,
    /// How long a WebSocket may take from opening to the `upgrade` packet.
    pub upgrade_timeout: Duration,
    /// Whether a polling session may upgrade to WebSocket (its handshake then lists `websocket`).
    pub allow_upgrade: bool,
    /// The most bytes of messages queued for a client; beyond it [`send`] refuses, so a client
    /// that stops reading costs bounded memory. Heartbeat and control packets are always queued.
    ///
    /// [`send`]: crate::EngineSession::send
    pub max_queued_bytes: usize,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            max_payload: 1_000_000,
            upgrade_timeout: Duration::from_millis(10_000),
            allow_upgrade: true,
            max_queued_bytes: 10_000_000,
        }
    }
}
