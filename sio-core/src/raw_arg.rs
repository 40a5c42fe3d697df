//! One argument exactly as it came, in whichever format the server's parser speaks.

use std::fmt;

use bytes::Bytes;
use serde::de::DeserializeOwned;

use crate::msgpack::de::decode_value;
use crate::msgpack::packet::to_json;
use crate::msgpack::replay::Replay;
use crate::{ExpansionBudget, Parser, RawJson};

/// One argument of an event or ack as received: JSON text for the default parser, one
/// MessagePack value for [`Parser::MsgPack`], sharing the packet's bytes either way.
///
/// It can be deserialized into a type, looked at as JSON, or passed on: the arguments of a
/// received event passed on whole (`Received` in the runtime) are copied byte for byte; one
/// argument on its own serializes as the value it holds, into either format (a MessagePack
/// `Date` as its ISO 8601 text, `undefined` as nil, an unknown extension refused).
///
/// ```
/// use sio_core::{RawArg, RawJson};
///
/// let arg = RawArg::from(RawJson::new(r#"{"text":"hi"}"#).unwrap());
/// let value: serde_json::Value = arg.deserialize().unwrap();
/// assert_eq!(value["text"], "hi");
/// assert_eq!(arg.to_json().as_str(), r#"{"text":"hi"}"#);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RawArg(Repr);

#[derive(Clone, PartialEq, Eq, Hash)]
enum Repr {
    Json(RawJson),
    /// One checked MessagePack value.
    MsgPack(Bytes),
}

impl RawArg {
    /// A MessagePack value the decoder checked.
    pub(crate) fn msgpack(value: Bytes) -> Self {
        RawArg(Repr::MsgPack(value))
    }

    /// The format it came in.
    ///
    /// ```
    /// use sio_core::{Args, Parser};
    /// // [{"n": 1}]
    /// let args = Args::from_msgpack(vec![0x91, 0x81, 0xa1, b'n', 0x01].into()).unwrap();
    /// let arg = args.get(0).unwrap();
    /// assert_eq!(arg.parser(), Parser::MsgPack);
    /// assert_eq!(arg.as_msgpack().map(|b| &b[..]), Some(&[0x81, 0xa1, b'n', 0x01][..]));
    /// assert!(arg.as_json().is_none());
    /// assert_eq!(arg.to_json().as_str(), r#"{"n":1}"#);
    /// let n: std::collections::HashMap<String, u8> = arg.deserialize().unwrap();
    /// assert_eq!(n["n"], 1);
    /// ```
    pub fn parser(&self) -> Parser {
        match self.0 {
            Repr::Json(_) => Parser::Json,
            Repr::MsgPack(_) => Parser::MsgPack,
        }
    }

    /// The JSON text, for an argument of the JSON parser.
    pub fn as_json(&self) -> Option<&RawJson> {
        match &self.0 {
            Repr::Json(json) => Some(json),
            Repr::MsgPack(_) => None,
        }
    }

    /// The MessagePack bytes, for an argument of the MessagePack parser.
    pub fn as_msgpack(&self) -> Option<&Bytes> {
        match &self.0 {
            Repr::Json(_) => None,
            Repr::MsgPack(bytes) => Some(bytes),
        }
    }

    /// The argument as JSON: itself for the JSON parser; for MessagePack, the same value with
    /// binaries as arrays of numbers and dates as ISO 8601 text.
    pub fn to_json(&self) -> RawJson {
        match &self.0 {
            Repr::Json(json) => json.clone(),
            Repr::MsgPack(bytes) => to_json(bytes).unwrap_or_else(|_| RawJson::null()),
        }
    }

    /// Deserializes the value into `T`. A JSON argument's binary placeholders stay objects
    /// here; the runtime's typed access reads them as their attachments.
    pub fn deserialize<T: DeserializeOwned + 'static>(&self) -> Result<T, crate::ArgDecodeError> {
        match &self.0 {
            Repr::Json(json) => json.deserialize().map_err(crate::ArgDecodeError::Json),
            Repr::MsgPack(bytes) => decode_value(bytes, &ExpansionBudget::new(bytes.len()))
                .map_err(crate::ArgDecodeError::MsgPack),
        }
    }
}

impl From<RawJson> for RawArg {
    fn from(json: RawJson) -> Self {
        RawArg(Repr::Json(json))
    }
}

/// Serializes as the value it holds: verbatim into JSON for a JSON argument, re-encoded for
/// any other pairing (see the type's documentation for what MessagePack extensions become).
impl serde::Serialize for RawArg {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Json(json) => json.serialize(serializer),
            Repr::MsgPack(bytes) => Replay::serialize_value(bytes, serializer),
        }
    }
}

/// As JSON.
impl fmt::Debug for RawArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_json(), f)
    }
}

/// As JSON.
impl fmt::Display for RawArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.to_json(), f)
    }
}
