//! Deserializing a checked MessagePack value straight into a handler's type.
//!
//! Binaries read as the JSON parser's attachments read: as bytes for the types that ask for
//! bytes (one copy at most, none for an argument that is itself a `bytes::Bytes`), and as a
//! sequence of numbers, paid for from the packet's [`ExpansionBudget`], for the types that read
//! them as one (`Vec<u8>`, a `serde_json::Value`). A `Date` reads as the ISO 8601 text
//! JavaScript's `toISOString` gives, which is what the JSON parser would have carried.

use std::any::{Any, TypeId};

use bytes::Bytes;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess,
    SeqAccess, VariantAccess, Visitor,
};

use super::read::{Cursor, Item, MsgPackError, error};
use crate::ExpansionBudget;
use crate::js_date::iso_date;

impl de::Error for MsgPackError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        MsgPackError(message.to_string())
    }
}

/// Deserializes `value`, one checked MessagePack value, into a `T`: an argument that is a
/// binary and a `T` that is `Bytes` (or `Option<Bytes>`) share `value`'s memory.
pub(crate) fn decode_value<T: DeserializeOwned + 'static>(
    value: &Bytes,
    budget: &ExpansionBudget,
) -> Result<T, MsgPackError> {
    if let Ok(Item::Bin(bytes)) = Cursor::new(value).next() {
        let shared = value.slice_ref(bytes);
        if TypeId::of::<T>() == TypeId::of::<Bytes>() {
            return Ok(downcast(shared));
        }
        if TypeId::of::<T>() == TypeId::of::<Option<Bytes>>() {
            return Ok(downcast(Some(shared)));
        }
    }
    let mut cursor = Cursor::new(value);
    T::deserialize(ValueDeserializer {
        cursor: &mut cursor,
        budget,
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

/// The next value at `cursor`.
struct ValueDeserializer<'c, 'a> {
    cursor: &'c mut Cursor<'a>,
    budget: &'c ExpansionBudget,
}

impl<'a> ValueDeserializer<'_, 'a> {
    fn reborrow(&mut self) -> ValueDeserializer<'_, 'a> {
        ValueDeserializer {
            cursor: self.cursor,
            budget: self.budget,
        }
    }

    fn visit<V: Visitor<'a>>(
        mut self,
        item: Item<'a>,
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        match item {
            Item::Nil | Item::Undefined => visitor.visit_unit(),
            Item::Bool(value) => visitor.visit_bool(value),
            Item::Uint(value) => visitor.visit_u64(value),
            Item::Int(value) => visitor.visit_i64(value),
            Item::F32(value) => visitor.visit_f32(value),
            Item::F64(value) => visitor.visit_f64(value),
            Item::Str(value) => visitor.visit_borrowed_str(value),
            Item::Bin(bytes) => self.visit_byte_seq(bytes, visitor),
            Item::Date(millis) => visitor.visit_string(iso_date(millis)),
            Item::Ext(kind, _) => Err(error(format!(
                "a MessagePack extension of type {kind}, which no Rust type reads"
            ))),
            Item::Array(len) => {
                let mut seq = Elements {
                    de: self.reborrow(),
                    left: len,
                };
                let value = visitor.visit_seq(&mut seq)?;
                match seq.left {
                    0 => Ok(value),
                    left => Err(de::Error::invalid_length(len - left, &"fewer elements")),
                }
            }
            Item::Map(len) => {
                let mut map = Entries {
                    de: self.reborrow(),
                    left: len,
                };
                let value = visitor.visit_map(&mut map)?;
                match map.left {
                    0 => Ok(value),
                    left => Err(de::Error::invalid_length(len - left, &"fewer entries")),
                }
            }
        }
    }

    /// A binary read as a sequence of bytes: what it expands into is paid for first.
    fn visit_byte_seq<V: Visitor<'a>>(
        &self,
        bytes: &'a [u8],
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        if !self.budget.try_spend(bytes.len()) {
            return Err(error("binaries expand beyond the budget"));
        }
        visitor.visit_seq(de::value::SeqDeserializer::new(bytes.iter().copied()))
    }
}

impl<'de> Deserializer<'de> for ValueDeserializer<'_, 'de> {
    type Error = MsgPackError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MsgPackError> {
        let item = self.cursor.next()?;
        self.visit(item, visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MsgPackError> {
        match self.cursor.next()? {
            Item::Bin(bytes) => visitor.visit_borrowed_bytes(bytes),
            item => self.visit(item, visitor),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MsgPackError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MsgPackError> {
        let before = self.cursor.clone();
        match self.cursor.next()? {
            Item::Nil | Item::Undefined => visitor.visit_none(),
            _ => {
                *self.cursor = before;
                visitor.visit_some(self)
            }
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        visitor.visit_newtype_struct(self)
    }

    /// An enum as serde_json writes one: a unit variant as its name, any other as a map of one
    /// entry from its name to its content.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        match self.cursor.next()? {
            Item::Str(name) => visitor.visit_enum(name.into_deserializer()),
            Item::Map(1) => visitor.visit_enum(self),
            _ => Err(error(
                "an enum is a variant's name, or a map of one entry from the name to its content",
            )),
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        self.cursor.skip_value()?;
        visitor.visit_unit()
    }

    fn is_human_readable(&self) -> bool {
        // Types with a text form (dates, UUIDs, addresses) read it, as from JSON: a JavaScript
        // client sends them as text either way.
        true
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 u8 u16 u32 u64 f32 f64 char str string unit unit_struct seq tuple
        tuple_struct map struct identifier
    }
}

struct Elements<'c, 'a> {
    de: ValueDeserializer<'c, 'a>,
    left: usize,
}

impl<'a> SeqAccess<'a> for Elements<'_, 'a> {
    type Error = MsgPackError;

    fn next_element_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, MsgPackError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(self.de.reborrow()).map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

struct Entries<'c, 'a> {
    de: ValueDeserializer<'c, 'a>,
    left: usize,
}

impl<'a> MapAccess<'a> for Entries<'_, 'a> {
    type Error = MsgPackError;

    fn next_key_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<Option<S::Value>, MsgPackError> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        seed.deserialize(KeyDeserializer {
            de: self.de.reborrow(),
        })
        .map(Some)
    }

    fn next_value_seed<S: DeserializeSeed<'a>>(
        &mut self,
        seed: S,
    ) -> Result<S::Value, MsgPackError> {
        seed.deserialize(self.de.reborrow())
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left)
    }
}

/// A map key. JavaScript's object keys are text, so a key read as a number or a bool is parsed
/// from its text, as serde_json parses its keys; any other read is the value's.
struct KeyDeserializer<'c, 'a> {
    de: ValueDeserializer<'c, 'a>,
}

macro_rules! key_from_text {
    ($($method:ident $visit:ident $ty:ty;)*) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MsgPackError> {
            let before = self.de.cursor.clone();
            if let Item::Str(text) = self.de.cursor.next()? {
                return match text.parse::<$ty>() {
                    Ok(value) => visitor.$visit(value),
                    Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(text), &visitor)),
                };
            }
            *self.de.cursor = before;
            self.de.deserialize_any(visitor)
        })*
    };
}

impl<'de> Deserializer<'de> for KeyDeserializer<'_, 'de> {
    type Error = MsgPackError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MsgPackError> {
        self.de.deserialize_any(visitor)
    }

    key_from_text! {
        deserialize_bool visit_bool bool;
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
        deserialize_f32 visit_f32 f32;
        deserialize_f64 visit_f64 f64;
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, MsgPackError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        self.de.deserialize_enum(name, variants, visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        self.de.deserialize_ignored_any(visitor)
    }

    fn is_human_readable(&self) -> bool {
        true
    }

    serde::forward_to_deserialize_any! {
        char str string bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
        identifier
    }
}

/// A map of one entry read as an enum: the key names the variant, the value is its content.
impl<'a> EnumAccess<'a> for ValueDeserializer<'_, 'a> {
    type Error = MsgPackError;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'a>>(
        mut self,
        seed: S,
    ) -> Result<(S::Value, Self), MsgPackError> {
        let variant = seed.deserialize(self.reborrow())?;
        Ok((variant, self))
    }
}

impl<'a> VariantAccess<'a> for ValueDeserializer<'_, 'a> {
    type Error = MsgPackError;

    fn unit_variant(self) -> Result<(), MsgPackError> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<S: DeserializeSeed<'a>>(
        self,
        seed: S,
    ) -> Result<S::Value, MsgPackError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'a>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        self.deserialize_any(visitor)
    }

    fn struct_variant<V: Visitor<'a>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, MsgPackError> {
        self.deserialize_any(visitor)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    fn decode<T: DeserializeOwned + 'static>(bytes: &[u8]) -> Result<T, MsgPackError> {
        super::super::read::check_value(bytes)?;
        decode_value(&Bytes::copy_from_slice(bytes), &ExpansionBudget::new(1000))
    }

    #[test]
    fn a_bytes_argument_shares_the_packet() {
        let packet = Bytes::from_static(&[0xc4, 0x03, 1, 2, 3]);
        let bytes: Bytes = decode_value(&packet, &ExpansionBudget::new(0)).unwrap();
        assert_eq!(bytes, [1, 2, 3][..]);
        assert_eq!(bytes.as_ptr(), packet[2..].as_ptr(), "no copy");
        let some: Option<Bytes> = decode_value(&packet, &ExpansionBudget::new(0)).unwrap();
        assert_eq!(some.unwrap().as_ptr(), packet[2..].as_ptr());
    }

    #[test]
    fn structs_enums_and_options_read_as_from_json() {
        #[derive(Debug, Deserialize, PartialEq)]
        struct Message {
            text: String,
            #[serde(default)]
            room: Option<String>,
            kind: Kind,
        }
        #[derive(Debug, Deserialize, PartialEq)]
        enum Kind {
            Plain,
            Reply(u32),
        }
        // {"text":"hi","room":nil,"kind":"Plain"}
        let mut bytes = vec![0x83, 0xa4];
        bytes.extend_from_slice(b"text");
        bytes.extend_from_slice(&[0xa2, b'h', b'i', 0xa4]);
        bytes.extend_from_slice(b"room");
        bytes.extend_from_slice(&[0xc0, 0xa4]);
        bytes.extend_from_slice(b"kind");
        bytes.extend_from_slice(&[0xa5]);
        bytes.extend_from_slice(b"Plain");
        let message: Message = decode(&bytes).unwrap();
        assert_eq!(message.kind, Kind::Plain);
        assert_eq!(message.room, None);
        // {"Reply": 7}
        let reply: Kind = decode(&[0x81, 0xa5, b'R', b'e', b'p', b'l', b'y', 0x07]).unwrap();
        assert_eq!(reply, Kind::Reply(7));
        // notepack's undefined is a missing value.
        assert_eq!(decode::<Option<u8>>(&[0xd4, 0, 0]).unwrap(), None);
    }

    #[test]
    fn a_binary_read_as_a_sequence_spends_the_budget() {
        let bin = Bytes::from_static(&[0xc4, 0x03, 1, 2, 3]);
        let budget = ExpansionBudget::new(4);
        let vec: Vec<u8> = decode_value(&bin, &budget).unwrap();
        assert_eq!(vec, [1, 2, 3]);
        let value: serde_json::Value = decode_value(&bin, &ExpansionBudget::new(4)).unwrap();
        assert_eq!(value, serde_json::json!([1, 2, 3]));
        assert!(
            decode_value::<Vec<u8>>(&bin, &budget).is_err(),
            "1 byte left"
        );
        assert!(budget.is_exceeded());
    }

    #[test]
    fn a_date_reads_as_javascript_writes_it_to_json() {
        let date = [0xd7, 0x00, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00];
        let text: String = decode(&date).unwrap();
        assert_eq!(text, "2023-11-14T22:13:20.000Z");
    }

    #[test]
    fn keys_read_as_numbers_from_their_text() {
        use std::collections::HashMap;
        // {"7": true}, as JavaScript sends a map keyed by numbers.
        let map: HashMap<u32, bool> = decode(&[0x81, 0xa1, b'7', 0xc3]).unwrap();
        assert_eq!(map, HashMap::from([(7, true)]));
        // {7: true}, as python-socketio may.
        let map: HashMap<u32, bool> = decode(&[0x81, 0x07, 0xc3]).unwrap();
        assert_eq!(map, HashMap::from([(7, true)]));
        assert!(decode::<HashMap<u32, bool>>(&[0x81, 0xa1, b'x', 0xc3]).is_err());
    }

    #[test]
    fn too_many_or_too_few_elements_are_refused() {
        assert!(decode::<(u8, u8)>(&[0x93, 1, 2, 3]).is_err());
        assert!(decode::<(u8, u8, u8)>(&[0x92, 1, 2]).is_err());
        assert_eq!(decode::<(u8, u8)>(&[0x92, 1, 2]).unwrap(), (1, 2));
        assert!(
            decode::<u8>(&[0xd5, 0x05, 1, 2]).is_err(),
            "an unknown extension"
        );
    }
}
