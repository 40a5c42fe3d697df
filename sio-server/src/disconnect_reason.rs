//! Why a socket left its namespace.

use sio_core::CloseReason;

/// Why a socket was disconnected from its namespace, named as the reference server names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client left the namespace (`socket.disconnect()` on the client).
    ClientNamespaceDisconnect,
    /// The server disconnected the socket (`socket.disconnect()` on the server).
    ServerNamespaceDisconnect,
    /// A handler of this socket panicked; its state can no longer be trusted.
    ServerError,
    /// The client sent events faster than its handlers ran and its mailbox overflowed.
    MailboxFull,
    /// The server is shutting down.
    ServerShuttingDown,
    /// The client stopped answering pings.
    PingTimeout,
    /// The client closed the connection.
    TransportClose,
    /// The client broke the transport rules.
    TransportError,
    /// The client sent something that does not decode.
    ParseError,
    /// The server closed the connection.
    ForcedClose,
}

impl DisconnectReason {
    /// The reason as the reference server and its clients name it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ServerError => "server error",
            DisconnectReason::MailboxFull => "mailbox full",
            DisconnectReason::ServerShuttingDown => "server shutting down",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ForcedClose => "forced close",
        }
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(reason: CloseReason) -> Self {
        match reason {
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ParseError => DisconnectReason::ParseError,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::ServerClose => DisconnectReason::ForcedClose,
        }
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
