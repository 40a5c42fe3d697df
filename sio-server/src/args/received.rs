//! Arguments passed on exactly as they came.

use bytes::Bytes;
use sio_core::{EncodeError, PacketEncoder, RawJson};

use super::EmitArgs;

/// The arguments of a received event or ack, as they came: re-emitting them sends the same JSON
/// and the same binary attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    args: Vec<RawJson>,
    attachments: Vec<Bytes>,
}

impl Received {
    pub(crate) fn new(args: Vec<RawJson>, attachments: Vec<Bytes>) -> Self {
        Received { args, attachments }
    }
}

impl EmitArgs for Received {
    fn write_args(&self, packet: &mut PacketEncoder) -> Result<(), EncodeError> {
        for arg in &self.args {
            packet.raw_arg(arg);
        }
        for buffer in &self.attachments {
            packet.attach(buffer.clone());
        }
        Ok(())
    }
}
