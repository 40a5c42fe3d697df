//! An event as a handler receives it: its name, its arguments still as raw JSON, and the ack the
//! client may wait for.

use bytes::Bytes;
use bytestring::ByteString;
use serde::de::DeserializeOwned;
use sio_core::{AckId, ArgDecodeError, Args as RawArgs, ExpansionBudget, RawArg};
use thiserror::Error;
use tracing::warn;

use crate::ack::Ack;
use crate::args::{Received, decode_arg};
use crate::socket::Socket;

/// An argument that does not deserialize into the type a handler declares.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("argument {index} of `{event}`: {message}")]
pub struct ArgError {
    /// The event.
    pub event: String,
    /// Which argument (0 is the first after the name).
    pub index: usize,
    /// What serde said.
    pub message: String,
}

/// One event from a client.
#[derive(Debug)]
pub struct IncomingEvent {
    /// A slice of the packet's text: shared, not copied.
    name: ByteString,
    args: RawArgs,
    attachments: Vec<Bytes>,
    ack: Option<AckId>,
    socket: Socket,
    /// What its attachments may still expand into sequences (`max_payload` bytes in all).
    budget: ExpansionBudget,
}

impl IncomingEvent {
    pub(crate) fn new(
        name: ByteString,
        args: RawArgs,
        attachments: Vec<Bytes>,
        ack: Option<AckId>,
        socket: Socket,
        max_expansion: usize,
    ) -> Self {
        IncomingEvent {
            name,
            args,
            attachments,
            ack,
            socket,
            budget: ExpansionBudget::new(max_expansion),
        }
    }

    /// The bytes it holds while it waits in a mailbox: its text and its attachments.
    pub(crate) fn cost(&self) -> usize {
        self.args.held_bytes()
            + self
                .attachments
                .iter()
                .map(Bytes::len)
                .fold(0usize, usize::saturating_add)
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The event name, shared with the packet (for logs that outlive the event).
    pub(crate) fn shared_name(&self) -> ByteString {
        self.name.clone()
    }

    /// How many arguments came.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether no argument came.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Argument `index` exactly as received (JSON or MessagePack, as the server's parser), for
    /// passing it on untouched.
    pub fn raw(&self, index: usize) -> Option<RawArg> {
        self.args.get(index)
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Argument `index`, deserialized into `T`. A missing argument reads as JSON `null`, so an
    /// `Option` parameter accepts it.
    ///
    /// A binary attachment is read where its placeholder stands: an argument that is a
    /// `bytes::Bytes` is the attachment itself (no copy); a nested `Bytes` or `serde_bytes`
    /// buffer gets one copy; a type that reads it as a sequence (`Vec<u8>`, `[u8; N]`, a
    /// `serde_json::Value`, which gets an array of numbers) is bounded: all the arguments of one
    /// event may expand at most `max_payload` bytes of attachments that way, and a client that
    /// sends more is closed, as for any protocol error. A field the type ignores costs nothing.
    pub fn arg<T: DeserializeOwned + 'static>(&self, index: usize) -> Result<T, ArgError> {
        decode_arg(&self.args, &self.attachments, &self.budget, index).map_err(|error| {
            if let ArgDecodeError::Expansion { limit } = error {
                warn!(
                    socket = %self.socket.id(),
                    event = %self.name,
                    limit,
                    "binary attachments expand beyond max_payload; closing the connection"
                );
                self.socket.connection().close_for_violation();
            }
            ArgError {
                event: self.name.to_string(),
                index,
                message: error.to_string(),
            }
        })
    }

    /// Takes the ack the client waits for; sending to it when the client asked for none does
    /// nothing, and so does a second `Ack` taken from the same event. An event whose ack is
    /// never sent gets no answer, as with the reference server: the client's `timeout()` reports
    /// it, and its `retries` send the event again.
    pub fn ack<T>(&mut self) -> Ack<T> {
        Ack::new(self.socket.clone(), self.ack.take())
    }

    /// The arguments as received, binary attachments included, to emit or ack them on
    /// unchanged.
    pub fn received(&self) -> Received {
        Received::new(self.args.iter().collect(), self.attachments.clone())
    }

    /// Whether the client asked for an ack.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }
}
