//! A checked MessagePack value written again through any serde serializer: how an argument
//! received as MessagePack is passed on as JSON, or read as JSON text.

use std::cell::Cell;

use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};

use super::read::{Cursor, Item};
use crate::js_date::iso_date;

/// The value starting at `start` in `buf`, as `serialize` writes it: binaries as byte buffers
/// (with the JSON parser, attachments), dates as ISO 8601 text, `undefined` as unit.
pub(crate) struct Replay<'a> {
    buf: &'a [u8],
    /// Where the value starts; after serializing, where it ended.
    at: &'a Cell<usize>,
}

impl<'a> Replay<'a> {
    /// Replays the value `buf` holds.
    pub(crate) fn serialize_value<S: Serializer>(
        buf: &[u8],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        let at = Cell::new(0);
        Replay { buf, at: &at }.serialize(serializer)
    }
}

impl Serialize for Replay<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut cursor = Cursor::at(self.buf, self.at.get());
        let item = cursor.next().map_err(S::Error::custom)?;
        self.at.set(cursor.position());
        let next = Replay {
            buf: self.buf,
            at: self.at,
        };
        match item {
            Item::Nil | Item::Undefined => serializer.serialize_unit(),
            Item::Bool(value) => serializer.serialize_bool(value),
            Item::Uint(value) => serializer.serialize_u64(value),
            Item::Int(value) => serializer.serialize_i64(value),
            Item::F32(value) => serializer.serialize_f32(value),
            Item::F64(value) => serializer.serialize_f64(value),
            Item::Str(value) => serializer.serialize_str(value),
            Item::Bin(value) => serializer.serialize_bytes(value),
            Item::Date(millis) => serializer.serialize_str(&iso_date(millis)),
            Item::Ext(kind, _) => Err(S::Error::custom(format!(
                "a MessagePack extension of type {kind} has no other form"
            ))),
            Item::Array(len) => {
                let mut seq = serializer.serialize_seq(Some(len))?;
                for _ in 0..len {
                    // Each element moves `at` past itself.
                    seq.serialize_element(&next)?;
                }
                seq.end()
            }
            Item::Map(len) => {
                let mut map = serializer.serialize_map(Some(len))?;
                for _ in 0..len {
                    map.serialize_key(&next)?;
                    map.serialize_value(&next)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        Replay::serialize_value(bytes, &mut serde_json::Serializer::new(&mut out)).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn values_replay_as_json() {
        // {"a":[1,-1,nil,"x"],"b":bin[7]}
        let bytes = [
            0x82, 0xa1, b'a', 0x94, 0x01, 0xff, 0xc0, 0xa1, b'x', 0xa1, b'b', 0xc4, 0x01, 0x07,
        ];
        assert_eq!(json(&bytes), r#"{"a":[1,-1,null,"x"],"b":[7]}"#);
        assert_eq!(json(&[0xd4, 0, 0]), "null");
    }
}
