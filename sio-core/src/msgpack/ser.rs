//! Serializing typed values straight into MessagePack, shaped as the JavaScript parser reads
//! them: structs as maps, enums as serde_json writes them, byte buffers as `bin`.
//!
//! JSON kept raw ([`RawJson`](crate::RawJson), or serde_json's `RawValue`) is re-encoded as
//! MessagePack where it stands, so a value written for the JSON parser reads the same here.

use serde::ser::{
    self, Impossible, Serialize, SerializeMap, SerializeSeq, SerializeStruct,
    SerializeStructVariant, SerializeTuple, SerializeTupleStruct, SerializeTupleVariant,
};

use super::read::{MsgPackError, error};

/// The struct name serde_json gives a `RawValue` when it serializes one.
const RAW_JSON_TOKEN: &str = "$serde_json::private::RawValue";

impl ser::Error for MsgPackError {
    fn custom<T: std::fmt::Display>(message: T) -> Self {
        MsgPackError(message.to_string())
    }
}

/// Appends `value` to `out` as MessagePack.
pub(crate) fn write_value<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), MsgPackError> {
    value.serialize(Writer { out })
}

pub(crate) fn write_nil(out: &mut Vec<u8>) {
    out.push(0xc0);
}

pub(crate) fn write_uint(out: &mut Vec<u8>, value: u64) {
    match value {
        0..=0x7f => out.push(value as u8),
        0x80..=0xff => out.extend_from_slice(&[0xcc, value as u8]),
        0x100..=0xffff => {
            out.push(0xcd);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        0x1_0000..=0xffff_ffff => {
            out.push(0xce);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
        _ => {
            out.push(0xcf);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

pub(crate) fn write_int(out: &mut Vec<u8>, value: i64) {
    if let Ok(unsigned) = u64::try_from(value) {
        return write_uint(out, unsigned);
    }
    match value {
        -32..=-1 => out.push(value as u8),
        -0x80..=-33 => out.extend_from_slice(&[0xd0, value as u8]),
        -0x8000..=-0x81 => {
            out.push(0xd1);
            out.extend_from_slice(&(value as i16).to_be_bytes());
        }
        -0x8000_0000..=-0x8001 => {
            out.push(0xd2);
            out.extend_from_slice(&(value as i32).to_be_bytes());
        }
        _ => {
            out.push(0xd3);
            out.extend_from_slice(&value.to_be_bytes());
        }
    }
}

pub(crate) fn write_str(out: &mut Vec<u8>, value: &str) {
    let len = value.len();
    match len {
        0..=31 => out.push(0xa0 | len as u8),
        32..=0xff => out.extend_from_slice(&[0xd9, len as u8]),
        0x100..=0xffff => {
            out.push(0xda);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0xdb);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(value.as_bytes());
}

pub(crate) fn write_bin(out: &mut Vec<u8>, value: &[u8]) {
    let len = value.len();
    match len {
        0..=0xff => out.extend_from_slice(&[0xc4, len as u8]),
        0x100..=0xffff => {
            out.push(0xc5);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(0xc6);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
    out.extend_from_slice(value);
}

/// The header of an array of `len` elements.
pub(crate) fn write_array_len(out: &mut Vec<u8>, len: usize) {
    write_len(out, len, [0x90, 0xdc, 0xdd]);
}

pub(crate) fn write_map_len(out: &mut Vec<u8>, len: usize) {
    write_len(out, len, [0x80, 0xde, 0xdf]);
}

fn write_len(out: &mut Vec<u8>, len: usize, [fix, len16, len32]: [u8; 3]) {
    match len {
        0..=15 => out.push(fix | len as u8),
        16..=0xffff => {
            out.push(len16);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(len32);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

/// Writes into `out`.
struct Writer<'o> {
    out: &'o mut Vec<u8>,
}

/// An array or map being written. Its length is checked against what the header said; a
/// header written before the length was known is the 32-bit form, patched at the end.
struct Compound<'o> {
    out: &'o mut Vec<u8>,
    /// Where the 32-bit count to patch starts, or the count the header promised.
    header: Header,
    written: usize,
}

enum Header {
    Promised(usize),
    Patch(usize),
    /// serde_json's `RawValue`: its one field is JSON text, re-encoded here.
    RawJson,
}

impl<'o> Compound<'o> {
    fn start(out: &'o mut Vec<u8>, len: Option<usize>, map: bool) -> Self {
        let header = match len {
            Some(len) => {
                if map {
                    write_map_len(out, len);
                } else {
                    write_array_len(out, len);
                }
                Header::Promised(len)
            }
            None => {
                out.push(if map { 0xdf } else { 0xdd });
                let at = out.len();
                out.extend_from_slice(&[0; 4]);
                Header::Patch(at)
            }
        };
        Compound {
            out,
            header,
            written: 0,
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), MsgPackError> {
        self.written += 1;
        write_value(self.out, value)
    }

    fn entry<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), MsgPackError> {
        self.written += 1;
        write_str(self.out, key);
        write_value(self.out, value)
    }

    fn end(self) -> Result<(), MsgPackError> {
        match self.header {
            Header::Promised(len) if len == self.written => Ok(()),
            Header::Promised(len) => Err(error(format!(
                "a value promised {len} elements and wrote {}",
                self.written
            ))),
            Header::Patch(at) => {
                let count =
                    u32::try_from(self.written).map_err(|_| error("more than 2^32 elements"))?;
                self.out[at..at + 4].copy_from_slice(&count.to_be_bytes());
                Ok(())
            }
            Header::RawJson => Ok(()),
        }
    }
}

impl<'o> ser::Serializer for Writer<'o> {
    type Ok = ();
    type Error = MsgPackError;
    type SerializeSeq = Compound<'o>;
    type SerializeTuple = Compound<'o>;
    type SerializeTupleStruct = Compound<'o>;
    type SerializeTupleVariant = Compound<'o>;
    type SerializeMap = Compound<'o>;
    type SerializeStruct = Compound<'o>;
    type SerializeStructVariant = Compound<'o>;

    fn serialize_bool(self, value: bool) -> Result<(), MsgPackError> {
        self.out.push(if value { 0xc3 } else { 0xc2 });
        Ok(())
    }

    fn serialize_i8(self, value: i8) -> Result<(), MsgPackError> {
        self.serialize_i64(value.into())
    }

    fn serialize_i16(self, value: i16) -> Result<(), MsgPackError> {
        self.serialize_i64(value.into())
    }

    fn serialize_i32(self, value: i32) -> Result<(), MsgPackError> {
        self.serialize_i64(value.into())
    }

    fn serialize_i64(self, value: i64) -> Result<(), MsgPackError> {
        write_int(self.out, value);
        Ok(())
    }

    fn serialize_i128(self, value: i128) -> Result<(), MsgPackError> {
        match i64::try_from(value) {
            Ok(value) => self.serialize_i64(value),
            Err(_) => match u64::try_from(value) {
                Ok(value) => self.serialize_u64(value),
                Err(_) => Err(error("an integer beyond 64 bits")),
            },
        }
    }

    fn serialize_u8(self, value: u8) -> Result<(), MsgPackError> {
        self.serialize_u64(value.into())
    }

    fn serialize_u16(self, value: u16) -> Result<(), MsgPackError> {
        self.serialize_u64(value.into())
    }

    fn serialize_u32(self, value: u32) -> Result<(), MsgPackError> {
        self.serialize_u64(value.into())
    }

    fn serialize_u64(self, value: u64) -> Result<(), MsgPackError> {
        write_uint(self.out, value);
        Ok(())
    }

    fn serialize_u128(self, value: u128) -> Result<(), MsgPackError> {
        u64::try_from(value)
            .map_err(|_| error("an integer beyond 64 bits"))
            .and_then(|value| self.serialize_u64(value))
    }

    fn serialize_f32(self, value: f32) -> Result<(), MsgPackError> {
        // As a double of its shortest decimal form, as serde_json writes it: JavaScript reads
        // `0.1_f32` as 0.1, not 0.10000000149011612.
        let wide = value.to_string().parse().unwrap_or(f64::from(value));
        self.serialize_f64(wide)
    }

    fn serialize_f64(self, value: f64) -> Result<(), MsgPackError> {
        self.out.push(0xcb);
        self.out.extend_from_slice(&value.to_be_bytes());
        Ok(())
    }

    fn serialize_char(self, value: char) -> Result<(), MsgPackError> {
        self.serialize_str(value.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, value: &str) -> Result<(), MsgPackError> {
        write_str(self.out, value);
        Ok(())
    }

    fn serialize_bytes(self, value: &[u8]) -> Result<(), MsgPackError> {
        write_bin(self.out, value);
        Ok(())
    }

    fn serialize_none(self) -> Result<(), MsgPackError> {
        write_nil(self.out);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), MsgPackError> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<(), MsgPackError> {
        self.serialize_none()
    }

    fn serialize_unit_struct(self, _name: &'static str) -> Result<(), MsgPackError> {
        self.serialize_none()
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), MsgPackError> {
        self.serialize_str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), MsgPackError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), MsgPackError> {
        write_map_len(self.out, 1);
        write_str(self.out, variant);
        value.serialize(self)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Compound<'o>, MsgPackError> {
        Ok(Compound::start(self.out, len, false))
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'o>, MsgPackError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(
        self,
        _name: &'static str,
        len: usize,
    ) -> Result<Compound<'o>, MsgPackError> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'o>, MsgPackError> {
        write_map_len(self.out, 1);
        write_str(self.out, variant);
        self.serialize_seq(Some(len))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Compound<'o>, MsgPackError> {
        Ok(Compound::start(self.out, len, true))
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Compound<'o>, MsgPackError> {
        if name == RAW_JSON_TOKEN {
            return Ok(Compound {
                out: self.out,
                header: Header::RawJson,
                written: 0,
            });
        }
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'o>, MsgPackError> {
        write_map_len(self.out, 1);
        write_str(self.out, variant);
        self.serialize_map(Some(len))
    }

    fn is_human_readable(&self) -> bool {
        // As the deserializer: dates, UUIDs and addresses go as text, which JavaScript reads.
        true
    }
}

impl SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = MsgPackError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), MsgPackError> {
        self.element(value)
    }

    fn end(self) -> Result<(), MsgPackError> {
        Compound::end(self)
    }
}

impl SerializeTuple for Compound<'_> {
    type Ok = ();
    type Error = MsgPackError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), MsgPackError> {
        self.element(value)
    }

    fn end(self) -> Result<(), MsgPackError> {
        Compound::end(self)
    }
}

impl SerializeTupleStruct for Compound<'_> {
    type Ok = ();
    type Error = MsgPackError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), MsgPackError> {
        self.element(value)
    }

    fn end(self) -> Result<(), MsgPackError> {
        Compound::end(self)
    }
}

impl SerializeTupleVariant for Compound<'_> {
    type Ok = ();
    type Error = MsgPackError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), MsgPackError> {
        self.element(value)
    }

    fn end(self) -> Result<(), MsgPackError> {
        Compound::end(self)
    }
}

impl SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = MsgPackError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), MsgPackError> {
        // An entry counts once, for its key.
        self.written += 1;
        key.serialize(KeyWriter { out: self.out })
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), MsgPackError> {
        write_value(self.out, value)
    }

    fn end(self) -> Result<(), MsgPackError> {
        Compound::end(self)
    }
}

impl SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = MsgPackError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), MsgPackError> {
        if let Header::RawJson = self.header {
            let json = value.serialize(JsonText)?;
            let tree: serde_json::Value =
                serde_json::from_str(&json).map_err(|err| error(err.to_string()))?;
            return write_value(self.out, &tree);
        }
        self.entry(key, value)
    }

    fn skip_field(&mut self, _key: &'static str) -> Result<(), MsgPackError> {
        Ok(())
    }

    fn end(self) -> Result<(), MsgPackError> {
        Compound::end(self)
    }
}

impl SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = MsgPackError;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), MsgPackError> {
        self.entry(key, value)
    }

    fn end(self) -> Result<(), MsgPackError> {
        Compound::end(self)
    }
}

/// Writes a map key as a string, as serde_json does and JavaScript sees every object key: a
/// number or a bool as its text, a unit variant as its name; any other key is refused.
struct KeyWriter<'o> {
    out: &'o mut Vec<u8>,
}

macro_rules! key_as_text {
    ($($method:ident($ty:ty);)*) => {
        $(fn $method(self, value: $ty) -> Result<(), MsgPackError> {
            write_str(self.out, &value.to_string());
            Ok(())
        })*
    };
}

macro_rules! refuse_key {
    ($($method:ident($($ty:ty),*);)*) => {
        $(fn $method(self, $(_: $ty),*) -> Result<(), MsgPackError> {
            Err(error("a map key must be a string, a number or a bool"))
        })*
    };
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = MsgPackError;
    type SerializeSeq = Impossible<(), MsgPackError>;
    type SerializeTuple = Impossible<(), MsgPackError>;
    type SerializeTupleStruct = Impossible<(), MsgPackError>;
    type SerializeTupleVariant = Impossible<(), MsgPackError>;
    type SerializeMap = Impossible<(), MsgPackError>;
    type SerializeStruct = Impossible<(), MsgPackError>;
    type SerializeStructVariant = Impossible<(), MsgPackError>;

    fn serialize_str(self, value: &str) -> Result<(), MsgPackError> {
        write_str(self.out, value);
        Ok(())
    }

    key_as_text! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_i128(i128); serialize_u8(u8); serialize_u16(u16);
        serialize_u32(u32); serialize_u64(u64); serialize_u128(u128); serialize_f32(f32);
        serialize_f64(f64); serialize_char(char);
    }

    refuse_key! {
        serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
    }

    fn serialize_unit_variant(
        self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), MsgPackError> {
        self.serialize_str(variant)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), MsgPackError> {
        Err(error("a map key must be a string, a number or a bool"))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _name: &'static str,
        value: &T,
    ) -> Result<(), MsgPackError> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), MsgPackError> {
        Err(error("a map key must be a string, a number or a bool"))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, MsgPackError> {
        Err(error("a map key must be a string, a number or a bool"))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, MsgPackError> {
        Err(error("a map key must be a string, a number or a bool"))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, MsgPackError> {
        Err(error("a map key must be a string, a number or a bool"))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, MsgPackError> {
        Err(error("a map key must be a string, a number or a bool"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, MsgPackError> {
        Err(error("a map key must be a string, a number or a bool"))
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, MsgPackError> {
        Err(error("a map key must be a string, a number or a bool"))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, MsgPackError> {
        Err(error("a map key must be a string, a number or a bool"))
    }
}

/// Takes the text of a `RawValue`'s field, the only thing it serializes.
struct JsonText;

macro_rules! refuse {
    ($($method:ident($($ty:ty),*);)*) => {
        $(fn $method(self, $(_: $ty),*) -> Result<String, MsgPackError> {
            Err(error("a RawValue holds text"))
        })*
    };
}

impl ser::Serializer for JsonText {
    type Ok = String;
    type Error = MsgPackError;
    type SerializeSeq = Impossible<String, MsgPackError>;
    type SerializeTuple = Impossible<String, MsgPackError>;
    type SerializeTupleStruct = Impossible<String, MsgPackError>;
    type SerializeTupleVariant = Impossible<String, MsgPackError>;
    type SerializeMap = Impossible<String, MsgPackError>;
    type SerializeStruct = Impossible<String, MsgPackError>;
    type SerializeStructVariant = Impossible<String, MsgPackError>;

    fn serialize_str(self, value: &str) -> Result<String, MsgPackError> {
        Ok(value.to_owned())
    }

    refuse! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_u8(u8); serialize_u16(u16); serialize_u32(u32);
        serialize_u64(u64); serialize_f32(f32); serialize_f64(f64); serialize_char(char);
        serialize_bytes(&[u8]); serialize_none(); serialize_unit();
        serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<String, MsgPackError> {
        Err(error("a RawValue holds text"))
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<String, MsgPackError> {
        Err(error("a RawValue holds text"))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<String, MsgPackError> {
        Err(error("a RawValue holds text"))
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, MsgPackError> {
        Err(error("a RawValue holds text"))
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, MsgPackError> {
        Err(error("a RawValue holds text"))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, MsgPackError> {
        Err(error("a RawValue holds text"))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, MsgPackError> {
        Err(error("a RawValue holds text"))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, MsgPackError> {
        Err(error("a RawValue holds text"))
    }

    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, MsgPackError> {
        Err(error("a RawValue holds text"))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, MsgPackError> {
        Err(error("a RawValue holds text"))
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;
    use serde::Serialize;

    use super::*;

    fn bytes<T: Serialize>(value: &T) -> Vec<u8> {
        let mut out = Vec::new();
        write_value(&mut out, value).unwrap();
        out
    }

    #[test]
    fn integers_take_their_smallest_form() {
        assert_eq!(bytes(&5u8), [0x05]);
        assert_eq!(bytes(&-1i32), [0xff]);
        assert_eq!(bytes(&-33i64), [0xd0, 0xdf]);
        assert_eq!(bytes(&200u16), [0xcc, 200]);
        assert_eq!(bytes(&-200i16), [0xd1, 0xff, 0x38]);
        assert_eq!(bytes(&70_000u32), [0xce, 0, 1, 0x11, 0x70]);
        assert_eq!(bytes(&u64::MAX)[0], 0xcf);
        assert_eq!(bytes(&i64::MIN)[0], 0xd3);
    }

    #[test]
    fn structs_are_maps_and_buffers_bins() {
        #[derive(Serialize)]
        struct File {
            name: &'static str,
            data: Bytes,
            #[serde(skip_serializing_if = "Option::is_none")]
            note: Option<u8>,
        }
        let file = File {
            name: "a",
            data: Bytes::from_static(&[1, 2]),
            note: None,
        };
        let mut expected = vec![0x82, 0xa4];
        expected.extend_from_slice(b"name");
        expected.extend_from_slice(&[0xa1, b'a', 0xa4]);
        expected.extend_from_slice(b"data");
        expected.extend_from_slice(&[0xc4, 0x02, 1, 2]);
        assert_eq!(bytes(&file), expected);
    }

    #[test]
    fn raw_json_is_re_encoded_and_unknown_lengths_patched() {
        let raw = crate::RawJson::new(r#"{"a":[1,"x"]}"#).unwrap();
        assert_eq!(bytes(&raw), [0x81, 0xa1, b'a', 0x92, 0x01, 0xa1, b'x']);
        let unknown: std::collections::HashMap<&str, u8> = [("k", 1)].into();
        // A map serialized from an iterator of unknown length.
        struct Lazy<'a>(&'a std::collections::HashMap<&'a str, u8>);
        impl Serialize for Lazy<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_map(self.0.iter().filter(|_| true))
            }
        }
        assert_eq!(bytes(&Lazy(&unknown)), [0xdf, 0, 0, 0, 1, 0xa1, b'k', 0x01]);
    }

    #[test]
    fn map_keys_are_text_and_f32_reads_as_written() {
        let numbered: std::collections::BTreeMap<u32, bool> = [(7, true)].into();
        assert_eq!(bytes(&numbered), [0x81, 0xa1, b'7', 0xc3]);
        let nested: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(write_value(&mut Vec::new(), &nested).is_err());
        assert_eq!(bytes(&0.1_f32), bytes(&0.1_f64));
    }
}
