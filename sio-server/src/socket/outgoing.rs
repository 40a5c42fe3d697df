//! Events as they leave: what an outgoing hook (Node's `onAnyOutgoing`) sees of each.

use std::panic::AssertUnwindSafe;

use bytes::Bytes;
use bytestring::ByteString;
use serde::de::DeserializeOwned;
use sio_core::{
    ArgDecodeError, Args as RawArgs, DecoderLimits, EncodedPacket, ExpansionBudget, Frame,
    PacketDecoder, Parser, RawArg, SocketPacket,
};

use tracing::error;

use crate::args::decode_arg;
use crate::socket::Socket;

/// A hook that sees every event sent to a socket of a namespace, direct emits and broadcasts
/// alike (not acks), before it is written: [`Consumer::outgoing_hook`](crate::Consumer).
pub type OutgoingHook = fn(&Socket, &OutgoingEvent);

/// An event on its way to a client, as an outgoing hook sees it: its name and arguments.
///
/// ```
/// use sio_server::{OutgoingEvent, Socket};
///
/// fn log_outgoing(socket: &Socket, event: &OutgoingEvent) {
///     tracing::info!(socket = %socket.id(), event = event.name(), args = event.len(), "sent");
/// }
/// ```
#[derive(Debug, Clone)]
pub struct OutgoingEvent {
    name: ByteString,
    args: RawArgs,
    attachments: Vec<Bytes>,
}

impl OutgoingEvent {
    /// The event an encoded packet carries; `None` for any other packet (an ack, a CONNECT).
    /// Our own encoding, read back only when a hook wants it: no limit applies.
    pub(crate) fn from_packet(packet: &EncodedPacket) -> Option<OutgoingEvent> {
        let limits = DecoderLimits {
            max_attachments: usize::MAX,
            max_packet_bytes: usize::MAX,
            max_repeated_bytes: usize::MAX,
        };
        let (mut decoder, mut decoded) = match &packet.text {
            // An Engine.IO message: the Socket.IO packet follows its type digit, `4`.
            Frame::Text(frame) => {
                let text = frame.slice_ref(frame.strip_prefix('4')?);
                let mut decoder = PacketDecoder::with_limits(limits);
                let decoded = decoder.decode_text(text).ok()?;
                (decoder, decoded)
            }
            // A MessagePack packet, whole.
            Frame::Binary(bytes) => {
                let mut decoder = PacketDecoder::for_parser(Parser::MsgPack, limits);
                let decoded = decoder.decode_binary(bytes.clone()).ok()?;
                (decoder, decoded)
            }
        };
        for attachment in &packet.attachments {
            decoded = decoder.decode_binary(attachment.clone()).ok()?;
        }
        let decoded = decoded?;
        match decoded.packet {
            SocketPacket::Event { event, .. } => Some(OutgoingEvent {
                name: event.shared_name(),
                args: event.args().clone(),
                attachments: decoded.attachments,
            }),
            _ => None,
        }
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many arguments it carries.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether it carries no argument.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Argument `index` as it is sent (with the JSON parser, binary data as placeholders).
    pub fn raw(&self, index: usize) -> Option<RawArg> {
        self.args.get(index)
    }

    /// Argument `index` deserialized into `T`, binary data read as
    /// [`IncomingEvent::arg`](crate::IncomingEvent::arg) reads it.
    pub fn arg<T: DeserializeOwned + 'static>(&self, index: usize) -> Result<T, ArgDecodeError> {
        let budget = ExpansionBudget::new(usize::MAX);
        decode_arg(&self.args, &self.attachments, &budget, index)
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }
}

/// Shows `packet` to the namespace's outgoing hook, if it has one and the packet is an event.
pub(crate) fn notify(socket: &Socket, packet: &EncodedPacket) {
    if let Some(hook) = socket.inner.namespace.outgoing
        && let Some(event) = OutgoingEvent::from_packet(packet)
    {
        call(hook, socket, &event);
    }
}

/// Runs `hook`; a hook that panics costs nothing but its own call.
pub(crate) fn call(hook: OutgoingHook, socket: &Socket, event: &OutgoingEvent) {
    if std::panic::catch_unwind(AssertUnwindSafe(|| hook(socket, event))).is_err() {
        error!(socket = %socket.id(), event = event.name(), "the outgoing hook panicked");
    }
}
