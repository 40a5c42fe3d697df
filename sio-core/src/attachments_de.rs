//! Decoding one argument of a binary packet into a handler's type, with each placeholder read
//! as the attachment it stands for, and nothing expanded.
//!
//! A placeholder becomes bytes for the types that ask for bytes (`bytes::Bytes`, `serde_bytes`,
//! `Vec<u8>`, `[u8; N]`): one copy of the attachment at most, and none for an argument that is
//! itself a `Bytes`. A self-describing type (`serde_json::Value`) keeps the placeholder object as
//! it came, and a field the type ignores is skipped: an attachment is never turned into a tree
//! of numbers.

use std::any::{Any, TypeId};

use bytes::Bytes;
use serde::de::value::{BorrowedStrDeserializer, U8Deserializer};
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};
use serde_json::{Map, Value};

use crate::RawJson;

type Error = serde_json::Error;

/// Deserializes `raw`, one argument of a packet whose binary attachments are `attachments`, into
/// a `T`.
///
/// ```
/// use bytes::Bytes;
/// use sio_core::{RawJson, decode_with_attachments};
///
/// let attachments = [Bytes::from_static(b"\x01\x02\x03")];
/// let raw = RawJson::new(r#"{"_placeholder":true,"num":0}"#).unwrap();
/// let bytes: Bytes = decode_with_attachments(&raw, &attachments).unwrap();
/// assert_eq!(bytes, attachments[0]); // the same buffer, not a copy
///
/// let raw = RawJson::new(r#"{"name":"a.bin","data":{"_placeholder":true,"num":0}}"#).unwrap();
/// let value: serde_json::Value = decode_with_attachments(&raw, &attachments).unwrap();
/// assert_eq!(value["data"]["num"], 0); // a tree keeps the placeholder
/// ```
pub fn decode_with_attachments<T: DeserializeOwned + 'static>(
    raw: &RawJson,
    attachments: &[Bytes],
) -> Result<T, Error> {
    if attachments.is_empty() {
        return raw.deserialize();
    }
    let value: Value = raw.deserialize()?;
    let arg = Arg {
        value: &value,
        attachments,
    };
    if let Some(bytes) = arg.placeholder()? {
        // The argument is one buffer: hand over the attachment itself when that is the type.
        if TypeId::of::<T>() == TypeId::of::<Bytes>() {
            return Ok(downcast(bytes.clone()));
        }
        if TypeId::of::<T>() == TypeId::of::<Option<Bytes>>() {
            return Ok(downcast(Some(bytes.clone())));
        }
    }
    T::deserialize(arg)
}

/// `value` as a `T`, known by its `TypeId` to be one.
fn downcast<T: 'static, V: 'static>(value: V) -> T {
    let boxed: Box<dyn Any> = Box::new(value);
    match boxed.downcast::<T>() {
        Ok(value) => *value,
        Err(_) => unreachable!("the caller compared the type ids"),
    }
}

/// One JSON value of the argument, with the attachments its placeholders name.
#[derive(Clone, Copy)]
struct Arg<'a> {
    value: &'a Value,
    attachments: &'a [Bytes],
}

impl<'a> Arg<'a> {
    fn nested(&self, value: &'a Value) -> Arg<'a> {
        Arg {
            value,
            attachments: self.attachments,
        }
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
            .and_then(Value::as_u64)
            .and_then(|num| usize::try_from(num).ok())
            .and_then(|num| self.attachments.get(num))
            .map(Some)
            .ok_or_else(|| de::Error::custom("a placeholder names no attachment"))
    }

    fn visit_map<V: Visitor<'a>>(
        self,
        map: &'a Map<String, Value>,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_map(Entries {
            arg: self,
            entries: map.iter(),
            value: None,
        })
    }

    fn visit_seq<V: Visitor<'a>>(self, items: &'a [Value], visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(Items {
            arg: self,
            items: items.iter(),
        })
    }

    /// A placeholder read as a sequence of bytes (a `Vec<u8>`, a `[u8; N]`).
    fn visit_byte_seq<V: Visitor<'a>>(bytes: &'a Bytes, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(ByteSeq {
            bytes: bytes.iter(),
        })
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

    /// A self-describing read: a placeholder stays the object it is.
    fn deserialize_any<V: Visitor<'a>>(self, visitor: V) -> Result<V::Value, Error> {
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
            return Self::visit_byte_seq(bytes, visitor);
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
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
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
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
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

    use super::decode_with_attachments;
    use crate::RawJson;

    fn raw(json: &str) -> RawJson {
        RawJson::new(json.to_owned()).unwrap()
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
    fn a_tree_keeps_placeholders_and_ignored_fields_are_skipped() {
        let json = r#"{"keep":1,"data":{"_placeholder":true,"num":0}}"#;
        let value: serde_json::Value = decode_with_attachments(&raw(json), &files()).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"keep":1,"data":{"_placeholder":true,"num":0}})
        );

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
