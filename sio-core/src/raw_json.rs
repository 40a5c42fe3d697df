//! JSON kept as the text a peer sent, sharing the packet's bytes.

use std::fmt;
use std::ops::Range;

use bytestring::ByteString;
use serde::de::{DeserializeOwned, Deserializer as _, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::PacketError;

/// One JSON value kept as text: checked to be valid JSON, never parsed into a tree.
///
/// The runtime deserializes it straight into the user's type, and can echo it back byte for byte.
///
/// ```
/// use sio_core::RawJson;
/// let json = RawJson::new(r#"{"text":"hello"}"#).unwrap();
/// let value: serde_json::Value = json.deserialize().unwrap();
/// assert_eq!(value["text"], "hello");
/// assert!(RawJson::new("{oops").is_err());
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct RawJson(ByteString);

impl RawJson {
    /// Checks `text` is one JSON value and keeps it.
    pub fn new(text: impl Into<ByteString>) -> Result<Self, PacketError> {
        let text = text.into();
        check_json(&text)?;
        Ok(RawJson(text))
    }

    /// Serializes `value` to JSON.
    ///
    /// ```
    /// use sio_core::RawJson;
    /// assert_eq!(RawJson::from_value(&("a", 1)).unwrap().as_str(), r#"["a",1]"#);
    /// ```
    pub fn from_value<T: serde::Serialize + ?Sized>(value: &T) -> Result<Self, crate::EncodeError> {
        serde_json::to_string(value)
            .map(|json| RawJson(ByteString::from(json)))
            .map_err(|err| crate::EncodeError(err.to_string()))
    }

    /// JSON `null`.
    pub fn null() -> Self {
        RawJson(ByteString::from_static("null"))
    }

    /// The empty JSON object, `{}`.
    ///
    /// ```
    /// assert_eq!(sio_core::RawJson::empty_object().as_str(), "{}");
    /// ```
    pub fn empty_object() -> Self {
        RawJson(ByteString::from_static("{}"))
    }

    /// Keeps text known to be valid JSON (already checked by the decoder or written by serde).
    pub(crate) fn trusted(text: ByteString) -> Self {
        RawJson(text)
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The JSON text, sharing its bytes.
    pub fn as_byte_string(&self) -> &ByteString {
        &self.0
    }

    /// Deserializes the value into `T`.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.0)
    }

    /// The first byte that is not JSON whitespace, which tells the value's kind.
    pub(crate) fn first_byte(&self) -> Option<u8> {
        self.0
            .bytes()
            .find(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r'))
    }
}

/// Serializes as the JSON it holds, verbatim (with serde_json, and through the packet encoder).
impl serde::Serialize for RawJson {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let raw: &RawValue = serde_json::from_str(&self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(serializer)
    }
}

impl fmt::Debug for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for RawJson {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_json(text: &str) -> Result<(), PacketError> {
    serde_json::from_str::<&RawValue>(text)
        .map(drop)
        .map_err(|err| PacketError::InvalidJson(err.to_string()))
}

/// Splits a JSON array into the byte ranges of its elements, checking the whole array on the way.
///
/// Returns `Ok(None)` when `text` is valid JSON but not an array.
pub(crate) fn array_elements(text: &str) -> Result<Option<Vec<Range<usize>>>, PacketError> {
    let trimmed = text.trim_start_matches([' ', '\t', '\n', '\r']);
    if !trimmed.starts_with('[') {
        check_json(text)?;
        return Ok(None);
    }
    let mut json = serde_json::Deserializer::from_str(text);
    let elements = json
        .deserialize_seq(ElementRanges {
            base: text.as_ptr() as usize,
        })
        .and_then(|elements| json.end().map(|()| elements))
        .map_err(|err| PacketError::InvalidJson(err.to_string()))?;
    Ok(Some(elements))
}

/// Reads a JSON array into the byte ranges of its elements within the text at `base`, each
/// checked as it is borrowed, with no list of borrowed values in between.
struct ElementRanges {
    base: usize,
}

impl<'de> Visitor<'de> for ElementRanges {
    type Value = Vec<Range<usize>>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        // An event has its name and, mostly, an argument or two.
        let mut ranges = Vec::with_capacity(4);
        while let Some(element) = seq.next_element::<&'de RawValue>()? {
            // Each borrowed element is a sub-slice of the text.
            let start = element.get().as_ptr() as usize - self.base;
            ranges.push(start..start + element.get().len());
        }
        Ok(ranges)
    }
}
