//! An event as a handler receives it: its name, its arguments still as raw JSON, and the ack the
//! client may wait for.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use sio_core::{AckId, Args as RawArgs, RawJson};
use thiserror::Error;

use crate::ack::Ack;
use crate::args::{Args, Received, decode_arg};
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
    name: String,
    args: RawArgs,
    attachments: Vec<Bytes>,
    ack: Option<AckId>,
    socket: Socket,
}

impl IncomingEvent {
    pub(crate) fn new(
        name: String,
        args: RawArgs,
        attachments: Vec<Bytes>,
        ack: Option<AckId>,
        socket: Socket,
    ) -> Self {
        IncomingEvent {
            name,
            args,
            attachments,
            ack,
            socket,
        }
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many arguments came.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether no argument came.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Argument `index` exactly as received, for passing it on untouched.
    pub fn raw(&self, index: usize) -> Option<RawJson> {
        self.args.get(index)
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Argument `index`, deserialized into `T`. A missing argument reads as JSON `null`, so an
    /// `Option` parameter accepts it.
    ///
    /// A binary attachment is read where its placeholder stands, never expanded: an argument
    /// that is a `bytes::Bytes` is the attachment itself (no copy); a nested `Bytes`, a
    /// `Vec<u8>` or a `serde_bytes` buffer gets one copy; a `serde_json::Value` keeps the
    /// `{"_placeholder":true,"num":N}` object (the buffer is [`attachments`](Self::attachments)`[N]`);
    /// a field the type ignores costs nothing.
    pub fn arg<T: DeserializeOwned + 'static>(&self, index: usize) -> Result<T, ArgError> {
        decode_arg(&self.args, &self.attachments, index).map_err(|message| ArgError {
            event: self.name.clone(),
            index,
            message,
        })
    }

    /// Takes the ack the client waits for; sending to it when the client asked for none does
    /// nothing, and so does a second `Ack` taken from the same event. An event whose ack is never
    /// taken is answered with no arguments once it is dropped.
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

impl Drop for IncomingEvent {
    fn drop(&mut self) {
        if let Some(id) = self.ack.take() {
            let _ = self.socket.send_ack(id, &Args(()));
        }
    }
}
