//! A server-side event on its way to the other processes.

use bytes::Bytes;
use sio_core::{AckId, Args as RawArgs, Namespace, PacketEncoder};

use crate::args::EmitArgs;
use crate::socket::EmitError;

/// A server-side event for the [`ServerEvents`](crate::ServerEvents) handlers of its namespace
/// in the other processes, as a [`ChannelLayer`](crate::broadcast::ChannelLayer) carries it.
#[derive(Debug, Clone)]
pub struct ServerSideEmit {
    /// The namespace whose handlers take it.
    pub namespace: Namespace,
    /// The event name.
    pub name: String,
    /// The arguments, after the name.
    pub args: RawArgs,
    /// The binary attachments the arguments' placeholders stand for.
    pub attachments: Vec<Bytes>,
}

impl ServerSideEmit {
    /// Encodes `data` as the arguments of event `name`; a name a namespace keeps for itself
    /// ([`RESERVED_SERVER_EVENTS`](sio_core::RESERVED_SERVER_EVENTS)) is refused, as Node's
    /// `serverSideEmit` refuses it.
    pub(crate) fn new(
        namespace: Namespace,
        name: &str,
        data: &impl EmitArgs,
    ) -> Result<Self, EmitError> {
        if sio_core::RESERVED_SERVER_EVENTS.contains(&name) {
            return Err(EmitError::ReservedName(name.to_owned()));
        }
        // An ack's encoder writes the arguments alone, with no name before them.
        let mut encoder = PacketEncoder::ack(&namespace, AckId(0));
        data.write_args(&mut encoder)?;
        let (args, attachments) = encoder.finish_args();
        Ok(ServerSideEmit {
            namespace,
            name: name.to_owned(),
            args,
            attachments,
        })
    }
}
