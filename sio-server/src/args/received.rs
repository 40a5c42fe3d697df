//! Arguments passed on exactly as they came.

use bytes::Bytes;
use sio_core::{EncodeError, PacketEncoder, RawArg};

use super::EmitArgs;

/// The arguments of a received event or ack, as they came: re-emitting them sends the same
/// arguments (the same JSON and binary attachments, or the same MessagePack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    args: Vec<RawArg>,
    attachments: Vec<Bytes>,
}

impl Received {
    pub(crate) fn new(args: Vec<RawArg>, attachments: Vec<Bytes>) -> Self {
        Received { args, attachments }
    }
}

impl EmitArgs for Received {
    fn write_args(&self, packet: &mut PacketEncoder) -> Result<(), EncodeError> {
        packet.raw_args(&self.args, &self.attachments).map(drop)
    }
}
