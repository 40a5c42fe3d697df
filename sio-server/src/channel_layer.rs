//! How broadcasts reach sockets: every broadcast goes through a channel layer, which delivers
//! it to this process's sockets and, for a layer that spans processes, to the others.

use sio_core::{EncodedPacket, Namespace};
use tracing::warn;

use crate::namespace::Target;
use crate::server::ServerInner;
use crate::{EmitError, SocketId};

/// One broadcast: which sockets, and the packet encoded once for all of them.
#[derive(Debug, Clone)]
pub struct Broadcast {
    /// The namespace.
    pub namespace: Namespace,
    /// The rooms it goes to and the rooms it skips.
    pub target: Target,
    /// A socket left out (the sender, for `socket.broadcast()`).
    pub except_socket: Option<SocketId>,
    /// The packet as the wire carries it; every recipient gets these same bytes.
    pub packet: EncodedPacket,
}

/// A channel layer: the path of every broadcast.
///
/// The default, [`InMemoryLayer`], serves one process. A layer that spans processes delivers
/// locally with [`LocalSockets::deliver`] and publishes the broadcast for the others; its
/// `packet` carries the event's JSON, which such a layer can turn into the form its peers
/// expect.
pub trait ChannelLayer: Send + Sync + 'static {
    /// Delivers `broadcast` to every matching socket.
    fn broadcast(&self, broadcast: &Broadcast, local: &LocalSockets<'_>);
}

/// The sockets of this process, for a channel layer to deliver to.
#[derive(Debug)]
pub struct LocalSockets<'a> {
    pub(crate) server: &'a ServerInner,
}

impl LocalSockets<'_> {
    /// Delivers `broadcast` to the matching sockets of this process; returns how many it reached.
    ///
    /// Nothing waits on a recipient: each one's queue takes the shared bytes. A recipient whose
    /// queue is full is not reading, and its connection is closed.
    pub fn deliver(&self, broadcast: &Broadcast) -> usize {
        let Some(namespace) = self.server.namespace(broadcast.namespace.as_str()) else {
            return 0;
        };
        let recipients = namespace.matching(&broadcast.target, broadcast.except_socket.as_ref());
        for socket in &recipients {
            if let Err(EmitError::QueueFull) = socket.send_packet(&broadcast.packet) {
                warn!(socket = %socket.id(), "client not reading; its queue is full; closing it");
                socket.connection().close();
            }
        }
        recipients.len()
    }
}

/// The channel layer of a single process: broadcasts reach this process's sockets.
#[derive(Debug, Default, Clone, Copy)]
pub struct InMemoryLayer;

impl ChannelLayer for InMemoryLayer {
    fn broadcast(&self, broadcast: &Broadcast, local: &LocalSockets<'_>) {
        local.deliver(broadcast);
    }
}
