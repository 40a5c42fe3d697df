//! An event as a handler receives it: its name, its arguments still as raw JSON, and the ack the
//! client may wait for.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use sio_core::{AckId, Args as RawArgs, EncodeError, PacketEncoder, RawJson};
use thiserror::Error;

use crate::Socket;
use crate::ack::Ack;

/// The arguments of a received event or ack, as they came: re-emitting them sends the same JSON
/// and the same binary attachments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    args: Vec<RawJson>,
    attachments: Vec<Bytes>,
}

impl crate::EmitArgs for Received {
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
    /// `Option` parameter accepts it. Binary attachments deserialize into `bytes::Bytes` or
    /// `Vec<u8>` where their placeholder stands.
    pub fn arg<T: DeserializeOwned>(&self, index: usize) -> Result<T, ArgError> {
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
        Received {
            args: self.args.iter().collect(),
            attachments: self.attachments.clone(),
        }
    }

    /// Whether the client asked for an ack.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }
}

/// Argument `index` of `args` as a `T`: missing reads as `null`, and each binary placeholder
/// becomes its attachment.
pub(crate) fn decode_arg<T: DeserializeOwned>(
    args: &RawArgs,
    attachments: &[Bytes],
    index: usize,
) -> Result<T, String> {
    let raw = args.get(index).unwrap_or_else(RawJson::null);
    if attachments.is_empty() {
        return raw.deserialize().map_err(|e| e.to_string());
    }
    let mut value: serde_json::Value = raw.deserialize().map_err(|e| e.to_string())?;
    replace_placeholders(&mut value, attachments);
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Puts each attachment where its `{"_placeholder":true,"num":N}` stands, as an array of bytes
/// (which `bytes::Bytes`, `Vec<u8>` and `serde_bytes` types all deserialize from).
fn replace_placeholders(value: &mut serde_json::Value, attachments: &[Bytes]) {
    match value {
        serde_json::Value::Object(map) => {
            let is_placeholder =
                map.len() == 2 && map.get("_placeholder") == Some(&serde_json::Value::Bool(true));
            let num = map.get("num").and_then(serde_json::Value::as_u64);
            if let (true, Some(num)) = (is_placeholder, num)
                && let Some(bytes) = usize::try_from(num).ok().and_then(|n| attachments.get(n))
            {
                *value = serde_json::Value::Array(bytes.iter().map(|&b| b.into()).collect());
                return;
            }
            for item in map.values_mut() {
                replace_placeholders(item, attachments);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                replace_placeholders(item, attachments);
            }
        }
        _ => {}
    }
}

impl Drop for IncomingEvent {
    fn drop(&mut self) {
        if let Some(id) = self.ack.take() {
            let _ = self.socket.send_ack(id, &crate::Args(()));
        }
    }
}
