//! Volatile events: sent only to a client that takes them at once, dropped for one that lags
//! (Node's `volatile` flag), for data whose next value replaces it, such as a position.

use super::{Phase, Socket, outgoing};
use crate::args::EmitArgs;
use crate::socket::EmitError;
use sio_core::EncodedPacket;

/// A socket's events that may be dropped, from [`Socket::volatile`].
#[derive(Debug, Clone, Copy)]
#[must_use]
pub struct Volatile<'a> {
    socket: &'a Socket,
}

impl Volatile<'_> {
    /// Sends an event if the client's transport takes it now (see [`Socket::is_writable`]);
    /// otherwise drops it, which is no error. Errors as for [`Socket::emit`]
    /// ([`EmitError::Disconnected`] once the socket is gone).
    pub fn emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        let socket = self.socket;
        let packet =
            socket
                .inner
                .server
                .inner()
                .encode_event(socket.namespace(), None, event, &data)?;
        outgoing::notify(socket, &packet);
        if socket.send_volatile(&packet)? {
            socket.count_event_sent();
        }
        Ok(())
    }
}

impl Socket {
    /// Events that are dropped rather than queued when the client lags (Node's
    /// `socket.volatile`): what goes out is only what its transport takes at once.
    ///
    /// ```no_run
    /// # fn run(socket: &sio_server::Socket) -> Result<(), sio_server::EmitError> {
    /// // A position every 50 ms: a client that falls behind gets the next one, not a backlog.
    /// socket.volatile().emit("position", (12.5, 4.0))?;
    /// # Ok(()) }
    /// ```
    pub fn volatile(&self) -> Volatile<'_> {
        Volatile { socket: self }
    }

    /// Whether the client's transport takes a packet now with nothing waiting before it
    /// (Node's `socket.conn.transport.writable`): a WebSocket with nothing in flight, or a
    /// polling GET waiting with nothing queued. Volatile events go out only then; a client that
    /// does not read keeps it `false`.
    pub fn is_writable(&self) -> bool {
        matches!(*self.inner.phase.lock(), Phase::Connected) && self.connection().is_writable()
    }

    /// Sends `packet` if the transport takes it now; `Ok(false)` if it was dropped (also while
    /// `connect` runs: nothing is held for later).
    pub(crate) fn send_volatile(&self, packet: &EncodedPacket) -> Result<bool, EmitError> {
        match *self.inner.phase.lock() {
            Phase::Connected => {}
            Phase::Connecting(_) => return Ok(self.volatile_dropped()),
            Phase::Disconnected(_) => return Err(EmitError::Disconnected),
        }
        if !self.connection().is_writable() {
            return Ok(self.volatile_dropped());
        }
        self.send_packet(packet).map(|()| true)
    }

    /// A volatile event was not sent: counted, and `false`, "not sent".
    fn volatile_dropped(&self) -> bool {
        self.inner.server.inner().count(|counters| {
            crate::metrics::counters::add(&counters.volatile_dropped, 1);
        });
        false
    }
}
