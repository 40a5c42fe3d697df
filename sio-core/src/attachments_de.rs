//! Decoding one argument of a binary packet into a handler's type, with each placeholder read
//! as the attachment it stands for.
//!
//! A placeholder becomes bytes for the types that ask for bytes (`bytes::Bytes`, `serde_bytes`):
//! one copy of the attachment at most, and none for an argument that is itself a `Bytes`. A type
//! that reads it as a sequence (`Vec<u8>`, `[u8; N]`, a `serde_json::Value`, which gets an
//! array of numbers) is bounded: what attachments expand into sequences counts against a budget
//! of bytes, and a packet that goes beyond is refused. A field the type ignores costs nothing.

use std::any::{Any, TypeId};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use bytes::Bytes;
use serde::de::value::{BorrowedStrDeserializer, U8Deserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};
use serde_json::{Map, Value};

use crate::RawArg;
use crate::msgpack::de::decode_value;

type Error = serde_json::Error;

/// Why an argument did not decode into the type asked for.
#[derive(Debug)]
pub enum ArgDecodeError {
    /// The JSON does not fit the type, or a placeholder names no attachment.
    Json(serde_json::Error),
    /// The MessagePack value does not fit the type.
    MsgPack(crate::MsgPackError),
    /// The placeholders the type reads as sequences expand beyond the budget: the client sent a
    /// packet built to make the server allocate, a protocol error.
    Expansion {
        /// The budget, in bytes of attachments.
        limit: usize,
    },
}

impl fmt::Display for ArgDecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgDecodeError::Json(error) => fmt::Display::fmt(error, f),
            ArgDecodeError::MsgPack(error) => fmt::Display::fmt(error, f),
            ArgDecodeError::Expansion { limit } => write!(
                f,
                "binary attachments read as sequences exceed {limit} bytes"
            ),
        }
    }
}

impl std::error::Error for ArgDecodeError {}

/// What attachments may still expand into sequences, shared by every argument of one packet.
///
/// ```
/// let budget = sio_core::ExpansionBudget::new(1_000_000);
/// assert_eq!(budget.remaining(), 1_000_000);
/// ```
#[derive(Debug)]
pub struct ExpansionBudget {
    limit: usize,
    remaining: AtomicUsize,
    exceeded: AtomicBool,
}

impl ExpansionBudget {
    /// A budget of `limit` bytes of attachments (a server uses its `max_payload`).
    pub fn new(limit: usize) -> Self {
        ExpansionBudget {
            limit,
            remaining: AtomicUsize::new(limit),
            exceeded: AtomicBool::new(false),
        }
    }

    /// Bytes left.
    pub fn remaining(&self) -> usize {
        self.remaining.load(Ordering::Relaxed)
    }

    /// Whether a decoding asked for more than was left.
    pub fn is_exceeded(&self) -> bool {
        self.exceeded.load(Ordering::Relaxed)
    }

    fn spend(&self, bytes: usize) -> Result<(), Error> {
        if !self.try_spend(bytes) {
            return Err(de::Error::custom(
                "binary attachments expand beyond the budget",
            ));
        }
        Ok(())
    }

    /// Takes `bytes` from what is left; `false`, and the budget marked exceeded, if there are
    /// not that many.
    pub(crate) fn try_spend(&self, bytes: usize) -> bool {
        let spent = self
            .remaining
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                left.checked_sub(bytes)
            });
        if spent.is_err() {
            self.exceeded.store(true, Ordering::Relaxed);
        }
        spent.is_ok()
    }

    /// The budget, in bytes.
    ///
    /// ```
    /// assert_eq!(sio_core::ExpansionBudget::new(10).limit(), 10);
    /// ```
    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// Deserializes `raw`, one argument of a packet whose binary attachments are `attachments`, into
/// a `T`; sequences read from attachments (or, for MessagePack, from binaries) spend `budget`.
///
/// ```
/// use bytes::Bytes;
/// use sio_core::{ExpansionBudget, RawArg, RawJson, decode_with_attachments};
///
/// let attachments = [Bytes::from_static(b"\x01\x02\x03")];
/// let budget = ExpansionBudget::new(1000);
/// let raw = RawArg::from(RawJson::new(r#"{"_placeholder":true,"num":0}"#).unwrap());
/// let bytes: Bytes = decode_with_attachments(&raw, &attachments, &budget).unwrap();
/// assert_eq!(bytes, attachments[0]); // the same buffer, not a copy
///
/// let raw = RawArg::from(RawJson::new(r#"{"name":"a.bin","data":{"_placeholder":true,"num":0}}"#).unwrap());
/// let value: serde_json::Value = decode_with_attachments(&raw, &attachments, &budget).unwrap();
/// assert_eq!(value["data"], serde_json::json!([1, 2, 3]));
/// assert_eq!(budget.remaining(), 997);
/// ```
pub fn decode_with_attachments<T: DeserializeOwned + 'static>(
    raw: &RawArg,
    attachments: &[Bytes],
    budget: &ExpansionBudget,
) -> Result<T, ArgDecodeError> {
    let raw = match (raw.as_json(), raw.as_msgpack()) {
        (Some(json), _) => json,
        (None, Some(value)) => {
            return decode_value(value, budget).map_err(|error| {
                if budget.is_exceeded() {
                    ArgDecodeError::Expansion {
                        limit: budget.limit,
                    }
                } else {
                    ArgDecodeError::MsgPack(error)
                }
            });
        }
        (None, None) => unreachable!("an argument is JSON or MessagePack"),
    };
    if attachments.is_empty() {
        return raw.deserialize().map_err(ArgDecodeError::Json);
    }
    let value: Value = raw.deserialize().map_err(ArgDecodeError::Json)?;
    let arg = Arg {
        value: &value,
        attachments,
        budget,
    };
    let fast = match arg.placeholder() {
        // The argument is one buffer: hand over the attachment itself when that is the type.
        Ok(Some(bytes)) if TypeId::of::<T>() == TypeId::of::<Bytes>() => {
            Some(downcast(bytes.clone()))
        }
        Ok(Some(bytes)) if TypeId::of::<T>() == TypeId::of::<Option<Bytes>>() => {
            Some(downcast(Some(bytes.clone())))
        }
        _ => None,
    };
    if let Some(value) = fast {
        return Ok(value);
    }
    T::deserialize(arg).map_err(|error| {
        if budget.is_exceeded() {
            ArgDecodeError::Expansion {
                limit: budget.limit,
            }
        } else {
            ArgDecodeError::Json(error)
        }
    })
}

/// `value` as a `T`, known by its `TypeId` to be one.
fn downcast<T: 'static, V: 'static>(value: V) -> T {
    let boxed: Box<dyn Any> = Box::new(value);
    match boxed.downcast::<T>() {
        Ok(value) => *value,
        Err(_) => unreachable!("the caller compared the type ids"),
    }
}

/// The index a placeholder's `num` names, as JavaScript reads a number: a non-negative integral
/// one (`1.0` names attachment 1).
pub(crate) fn attachment_index(num: &Value) -> Option<usize> {
    if let Some(index) = num.as_u64() {
        return usize::try_from(index).ok();
    }
    let float = num.as_f64()?;
    (float >= 0.0 && float.fract() == 0.0 && float < usize::MAX as f64).then_some(float as usize)
}

/// One JSON value of the argument, with the attachments its placeholders name.
#[derive(Clone, Copy)]
struct Arg<'a> {
    value: &'a Value,
    attachments: &'a [Bytes],
    budget: &'a ExpansionBudget,
}

impl<'a> Arg<'a> {
    fn nested(&self, value: &'a Value) -> Arg<'a> {
        Arg { value, ..*self }
    }

    /// The attachment this value stands for, if it is a placeholder.
    fn placeholder(&self) -> Result<Option<&'a Bytes>, Error> {
        let Value::Object(map) = self.value else {
            return Ok(None);
        };
        if map.get("_placeholder") != Some(&Value::Bool(true)) {
            return Ok(None);
        }
        map.get("num")
            .and_then(attachment_index)
            .and_then(|num| self.attachments.get(num))
            .map(Some)
            .ok_or_else(|| de::Error::custom("a placeholder names no attachment"))
    }

    fn visit_map<V: Visitor<'a>>(
        self,
        map: &'a Map<String, Value>,
        visitor: V,
    ) -> Result<V::Value, Error> {
        let mut entries = Entries {
            arg: self,
            entries: map.iter(),
            value: None,
        };
        let value = visitor.visit_map(&mut entries)?;
        match entries.entries.len() {
            0 => Ok(value),
            left => Err(de::Error::invalid_length(
                map.len() - left,
                &"fewer entries",
            )),
        }
    }

    fn visit_seq<V: Visitor<'a>>(self, items: &'a [Value], visitor: V) -> Result<V::Value, Error> {
        let mut seq = Items {
            arg: self,
            items: items.iter(),
        };
        let value = visitor.visit_seq(&mut seq)?;
        match seq.items.len() {
            0 => Ok(value),
            left => Err(de::Error::invalid_length(
                items.len() - left,
                &"fewer elements",
            )),
        }
    }

    /// A placeholder read as a sequence of bytes (a `Vec<u8>`, a `[u8; N]`, a JSON array):
    /// what it may expand into is paid for first.
    fn visit_byte_seq<V: Visitor<'a>>(
        &self,
        bytes: &'a Bytes,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.budget.spend(bytes.len())?;
        let mut seq = ByteSeq {
            bytes: bytes.iter(),
        };
        let value = visitor.visit_seq(&mut seq)?;
        match seq.bytes.len() {
            0 => Ok(value),
            left => Err(de::Error::invalid_length(
                bytes.len() - left,
                &"fewer bytes",
            )),
        }
    }
}

macro_rules! delegate {
    ($($method:ident)*) => {
        $(fn $method<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
            self.value.$method(visitor)
        })*
    };
}

impl<'a> Deserializer<'a> for Arg<'a> {
    type Error = Error;

    /// A self-describing read: a placeholder reads as its bytes, one number each (within the
    /// budget), as serde writes a byte sequence.
    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Some(bytes) = self.placeholder()? {
            return self.visit_byte_seq(bytes, visitor);
        }
        match self.value {
            Value::Array(items) => self.visit_seq(items, visitor),
            Value::Object(map) => self.visit_map(map, visitor),
            scalar => scalar.deserialize_any(visitor),
        }
    }

    fn deserialize_bytes<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.placeholder()? {
            Some(bytes) => visitor.visit_bytes(bytes),
            None => self.value.deserialize_bytes(visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_seq<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Some(bytes) = self.placeholder()? {
            return self.visit_byte_seq(bytes, visitor);
        }
        match self.value {
            Value::Array(items) => self.visit_seq(items, visitor),
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'a>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Object(map) => self.visit_map(map, visitor),
            other => other.deserialize_map(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::Object(map) => self.visit_map(map, visitor),
            Value::Array(items) => self.visit_seq(items, visitor),
            other => other.deserialize_struct(name, fields, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        // serde_json's own newtypes (`RawValue`) need its deserializer: the JSON as it is.
        if name.starts_with("$serde_json::") {
            return self.value.deserialize_newtype_struct(name, visitor);
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'a>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.value {
            Value::Object(map) if map.len() == 1 => {
                let Some((variant, content)) = map.iter().next() else {
                    unreachable!("the map has one entry")
                };
                visitor.visit_enum(Variant {
                    name: variant,
                    content: self.nested(content),
                })
            }
            other => other.deserialize_enum(name, variants, visitor),
        }
    }

    /// A field the type ignores: skipped, placeholders and all.
    fn deserialize_ignored_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    delegate! {
        deserialize_bool deserialize_i8 deserialize_i16 deserialize_i32 deserialize_i64
        deserialize_i128 deserialize_u8 deserialize_u16 deserialize_u32 deserialize_u64
        deserialize_u128 deserialize_f32 deserialize_f64 deserialize_char deserialize_str
        deserialize_string deserialize_unit deserialize_identifier
    }

    fn deserialize_unit_struct<V: Visitor<'a>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.value.deserialize_unit_struct(name, visitor)
    }
}

/// The elements of an array.
struct Items<'a> {
    arg: Arg<'a>,
    items: std::slice::Iter<'a, Value>,
}

impl<'a> SeqAccess<'a> for Items<'a> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        self.items
            .next()
            .map(|item| seed.deserialize(self.arg.nested(item)))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

/// The entries of an object.
struct Entries<'a> {
    arg: Arg<'a>,
    entries: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
}

impl<'a> MapAccess<'a> for Entries<'a> {
    type Error = Error;

    fn next_key_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.value = Some(value);
        seed.deserialize(Key(key)).map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(&mut self, seed: S) -> Result<S::Value, Error> {
        match self.value.take() {
            Some(value) => seed.deserialize(self.arg.nested(value)),
            None => Err(de::Error::custom(
                "a map value was asked for before its key",
            )),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An object key: a string, which reads as a number or a boolean where the type wants one, as
/// serde_json reads keys.
struct Key<'a>(&'a str);

macro_rules! parsed_key {
    ($($method:ident => $visit:ident: $ty:ty,)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            match self.0.parse::<$ty>() {
                Ok(value) => visitor.$visit(value),
                Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(self.0), &visitor)),
            }
        })*
    };
}

impl<'de> Deserializer<'de> for Key<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_borrowed_str(self.0)
    }

    parsed_key! {
        deserialize_bool => visit_bool: bool,
        deserialize_i8 => visit_i8: i8,
        deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32,
        deserialize_i64 => visit_i64: i64,
        deserialize_i128 => visit_i128: i128,
        deserialize_u8 => visit_u8: u8,
        deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32,
        deserialize_u64 => visit_u64: u64,
        deserialize_u128 => visit_u128: u128,
        deserialize_f32 => visit_f32: f32,
        deserialize_f64 => visit_f64: f64,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        BorrowedStrDeserializer::<Error>::new(self.0).deserialize_enum(name, variants, visitor)
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier ignored_any
    }
}

/// An attachment read as a sequence of bytes.
struct ByteSeq<'a> {
    bytes: std::slice::Iter<'a, u8>,
}

impl<'a> SeqAccess<'a> for ByteSeq<'a> {
    type Error = Error;

    fn next_element_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, Error> {
        self.bytes
            .next()
            .map(|&byte| seed.deserialize::<U8Deserializer<Error>>(byte.into_deserializer()))
            .transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.bytes.len())
    }
}

/// An externally tagged enum variant: `{"variant": content}`.
struct Variant<'a> {
    name: &'a str,
    content: Arg<'a>,
}

impl<'a> EnumAccess<'a> for Variant<'a> {
    type Error = Error;
    type Variant = Arg<'a>;

    fn variant_seed<S: DeserializeSeed<'a>>(self, seed: S) -> Result<(S::Value, Arg<'a>), Error> {
        let variant = seed.deserialize(BorrowedStrDeserializer::<Error>::new(self.name))?;
        Ok((variant, self.content))
    }
}

impl<'a> VariantAccess<'a> for Arg<'a> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<S: DeserializeSeed<'a>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'a>>(self, _len: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_struct("", fields, visitor)
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde::Deserialize;

    use super::{ArgDecodeError, ExpansionBudget};
    use crate::RawJson;

    fn decode_with_attachments<T: serde::de::DeserializeOwned + 'static>(
        raw: &crate::RawArg,
        attachments: &[Bytes],
    ) -> Result<T, ArgDecodeError> {
        super::decode_with_attachments(raw, attachments, &ExpansionBudget::new(1000))
    }

    fn raw(json: &str) -> crate::RawArg {
        RawJson::new(json.to_owned()).unwrap().into()
    }

    fn files() -> Vec<Bytes> {
        vec![Bytes::from_static(b"abc"), Bytes::from_static(b"de")]
    }

    #[test]
    fn a_bytes_argument_is_the_attachment_itself() {
        let files = files();
        let bytes: Bytes =
            decode_with_attachments(&raw(r#"{"_placeholder":true,"num":1}"#), &files).unwrap();
        assert_eq!(bytes.as_ptr(), files[1].as_ptr());
        let some: Option<Bytes> =
            decode_with_attachments(&raw(r#"{"_placeholder":true,"num":0}"#), &files).unwrap();
        assert_eq!(some.unwrap().as_ptr(), files[0].as_ptr());
    }

    #[test]
    fn nested_buffers_decode_into_byte_types() {
        #[derive(Deserialize)]
        struct Upload {
            name: String,
            data: Bytes,
            copy: Vec<u8>,
            tail: [u8; 2],
            maybe: Option<Bytes>,
            list: Vec<Bytes>,
        }
        let json = r#"{"name":"a","data":{"_placeholder":true,"num":0},"copy":{"_placeholder":true,"num":0},
            "tail":{"_placeholder":true,"num":1},"maybe":null,"list":[{"_placeholder":true,"num":1}]}"#;
        let upload: Upload = decode_with_attachments(&raw(json), &files()).unwrap();
        assert_eq!(upload.name, "a");
        assert_eq!(&upload.data[..], b"abc");
        assert_eq!(upload.copy, b"abc");
        assert_eq!(&upload.tail, b"de");
        assert_eq!(upload.maybe, None);
        assert_eq!(upload.list, [Bytes::from_static(b"de")]);
    }

    #[test]
    fn a_tree_gets_numbers_and_ignored_fields_are_skipped() {
        let json = r#"{"keep":1,"data":{"_placeholder":true,"num":0}}"#;
        let value: serde_json::Value = decode_with_attachments(&raw(json), &files()).unwrap();
        assert_eq!(value, serde_json::json!({"keep":1,"data":[97,98,99]}));

        #[derive(Deserialize)]
        struct OnlyKeep {
            keep: u8,
        }
        let only: OnlyKeep = decode_with_attachments(&raw(json), &files()).unwrap();
        assert_eq!(only.keep, 1);
    }

    #[test]
    fn enums_and_plain_values_decode_as_usual() {
        #[derive(Deserialize, Debug, PartialEq)]
        enum Message {
            Text(String),
            File { data: Bytes },
            Ping,
        }
        let files = files();
        let file: Message = decode_with_attachments(
            &raw(r#"{"File":{"data":{"_placeholder":true,"num":1}}}"#),
            &files,
        )
        .unwrap();
        assert_eq!(
            file,
            Message::File {
                data: Bytes::from_static(b"de")
            }
        );
        let text: Message = decode_with_attachments(&raw(r#"{"Text":"hi"}"#), &files).unwrap();
        assert_eq!(text, Message::Text("hi".into()));
        let ping: Message = decode_with_attachments(&raw(r#""Ping""#), &files).unwrap();
        assert_eq!(ping, Message::Ping);
        let number: (u32, String) = decode_with_attachments(&raw(r#"[7,"x"]"#), &files).unwrap();
        assert_eq!(number, (7, "x".into()));
    }

    #[test]
    fn a_placeholder_that_names_no_attachment_is_an_error() {
        let missing =
            decode_with_attachments::<Bytes>(&raw(r#"{"_placeholder":true,"num":5}"#), &files());
        assert!(missing.is_err());
        let wrong_type =
            decode_with_attachments::<String>(&raw(r#"{"_placeholder":true,"num":0}"#), &files());
        assert!(wrong_type.is_err());
    }
}

#[cfg(test)]
mod bounds {
    use std::collections::HashMap;

    use bytes::Bytes;
    use serde::Deserialize;

    use super::{ArgDecodeError, ExpansionBudget, decode_with_attachments};
    use crate::RawJson;

    fn raw(json: &str) -> crate::RawArg {
        RawJson::new(json.to_owned()).unwrap().into()
    }

    #[test]
    fn sequences_spend_the_budget_and_a_bytes_argument_does_not() {
        let files = [Bytes::from(vec![1u8; 600])];
        let one = raw(r#"{"_placeholder":true,"num":0}"#);
        let budget = ExpansionBudget::new(1000);
        let _: Bytes = decode_with_attachments(&one, &files, &budget).unwrap();
        assert_eq!(
            budget.remaining(),
            1000,
            "the attachment itself costs nothing"
        );
        let _: Vec<u8> = decode_with_attachments(&one, &files, &budget).unwrap();
        assert_eq!(budget.remaining(), 400);
        let twice: Result<serde_json::Value, _> = decode_with_attachments(&one, &files, &budget);
        assert!(matches!(
            twice,
            Err(ArgDecodeError::Expansion { limit: 1000 })
        ));
        assert!(budget.is_exceeded());
    }

    #[test]
    fn leftover_elements_are_an_error_as_in_a_text_packet() {
        let files = [Bytes::from_static(b"abc")];
        let budget = ExpansionBudget::new(1000);
        let tuple = decode_with_attachments::<(u32, String)>(&raw(r#"[1,"x",3]"#), &files, &budget);
        assert!(tuple.is_err());
        let short = decode_with_attachments::<[u8; 2]>(
            &raw(r#"{"_placeholder":true,"num":0}"#),
            &files,
            &budget,
        );
        assert!(short.is_err(), "a 3-byte attachment is not a [u8; 2]");
    }

    #[test]
    fn keys_read_as_numbers_and_raw_values_stay_raw() {
        let files = [Bytes::from_static(b"z")];
        let budget = ExpansionBudget::new(1000);
        let map: HashMap<u32, bool> =
            decode_with_attachments(&raw(r#"{"1":true,"22":false}"#), &files, &budget).unwrap();
        assert!(!map[&22] && map[&1]);

        #[derive(Deserialize)]
        struct Wrapped {
            raw: Box<serde_json::value::RawValue>,
        }
        let wrapped: Wrapped =
            decode_with_attachments(&raw(r#"{"raw":{"a":[1,2]}}"#), &files, &budget).unwrap();
        assert_eq!(wrapped.raw.get(), r#"{"a":[1,2]}"#);
    }

    #[test]
    fn buffering_types_read_placeholders_too() {
        #[derive(Deserialize, Debug, PartialEq)]
        #[serde(untagged)]
        enum Payload {
            File { data: Bytes },
            Text { text: String },
        }
        let files = [Bytes::from_static(b"xy")];
        let budget = ExpansionBudget::new(1000);
        let file: Payload = decode_with_attachments(
            &raw(r#"{"data":{"_placeholder":true,"num":0}}"#),
            &files,
            &budget,
        )
        .unwrap();
        assert_eq!(
            file,
            Payload::File {
                data: Bytes::from_static(b"xy")
            }
        );
    }

    #[test]
    fn an_integral_float_names_an_attachment_as_in_javascript() {
        let files = [Bytes::from_static(b"a"), Bytes::from_static(b"b")];
        let budget = ExpansionBudget::new(1000);
        let second: Bytes =
            decode_with_attachments(&raw(r#"{"_placeholder":true,"num":1.0}"#), &files, &budget)
                .unwrap();
        assert_eq!(second, files[1]);
    }
}
