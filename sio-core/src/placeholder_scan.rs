//! The check of a complete binary packet: every placeholder names an attachment, and what the
//! placeholders reference more than once stays within a bound.
//!
//! It walks the packet's JSON once, without building a tree, as the reference parser walks it
//! when it puts each buffer back: an object whose `_placeholder` is `true` is a placeholder, and
//! its `num` must be an index of an attachment.

use std::cell::RefCell;
use std::fmt;

use bytes::Bytes;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::PacketError;

/// What the walk learns, shared by the visitors of every level.
struct Tally<'a> {
    attachments: &'a [Bytes],
    referenced: Vec<bool>,
    /// Bytes of the references after an attachment's first one.
    repeated: usize,
    invalid: Option<String>,
}

/// Checks the placeholders of `json` (a packet's arguments) against its `attachments`.
///
/// Fails with [`PacketError::InvalidPlaceholder`] for a placeholder whose `num` is not the index
/// of an attachment, and with [`PacketError::RepeatedAttachments`] when the bytes of the
/// references after each attachment's first exceed `max_repeated_bytes` (what decoding could
/// copy beyond the attachments themselves).
pub(crate) fn check_placeholders(
    json: &str,
    attachments: &[Bytes],
    max_repeated_bytes: usize,
) -> Result<(), PacketError> {
    let tally = RefCell::new(Tally {
        attachments,
        referenced: vec![false; attachments.len()],
        repeated: 0,
        invalid: None,
    });
    let mut deserializer = serde_json::Deserializer::from_str(json);
    Walk { tally: &tally }
        .deserialize(&mut deserializer)
        .map_err(|error| PacketError::InvalidJson(error.to_string()))?;
    let tally = tally.into_inner();
    if let Some(invalid) = tally.invalid {
        return Err(PacketError::InvalidPlaceholder(invalid));
    }
    if tally.repeated > max_repeated_bytes {
        return Err(PacketError::RepeatedAttachments {
            bytes: tally.repeated,
            limit: max_repeated_bytes,
        });
    }
    Ok(())
}

/// Walks any JSON value, noting the placeholders it holds.
#[derive(Clone, Copy)]
struct Walk<'t, 'a> {
    tally: &'t RefCell<Tally<'a>>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_, '_> {
    type Value = Scalar;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// What a value was, as far as a placeholder's fields care.
#[derive(Clone, Copy, PartialEq)]
enum Scalar {
    True,
    Index(u64),
    Other,
}

impl<'de> Visitor<'de> for Walk<'_, '_> {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Scalar, E> {
        Ok(if value { Scalar::True } else { Scalar::Other })
    }

    fn visit_u64<E>(self, value: u64) -> Result<Scalar, E> {
        Ok(Scalar::Index(value))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_str<E>(self, _: &str) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element_seed(self)?.is_some() {}
        Ok(Scalar::Other)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        let mut placeholder = false;
        let mut num = Scalar::Other;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            // Values of every key are walked, not skipped: placeholders may nest anywhere.
            let value = map.next_value_seed(self)?;
            // A repeated key counts as its last occurrence, as in JavaScript.
            match key {
                Key::Placeholder => placeholder = value == Scalar::True,
                Key::Num => num = value,
                Key::Other => {}
            }
        }
        if placeholder {
            self.tally.borrow_mut().reference(num);
        }
        Ok(Scalar::Other)
    }
}

impl Tally<'_> {
    fn reference(&mut self, num: Scalar) {
        let index = match num {
            Scalar::Index(n) => usize::try_from(n)
                .ok()
                .filter(|&n| n < self.attachments.len()),
            _ => None,
        };
        let Some(index) = index else {
            if self.invalid.is_none() {
                self.invalid = Some(match num {
                    Scalar::Index(n) => {
                        format!("`num` {n} with {} attachments", self.attachments.len())
                    }
                    _ => "`num` is not a non-negative integer".to_owned(),
                });
            }
            return;
        };
        if std::mem::replace(&mut self.referenced[index], true) {
            self.repeated = self.repeated.saturating_add(self.attachments[index].len());
        }
    }
}

/// The keys a placeholder is made of; any other key is just walked past.
enum Key {
    Placeholder,
    Num,
    Other,
}

struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
        Ok(match key {
            "_placeholder" => Key::Placeholder,
            "num" => Key::Num,
            _ => Key::Other,
        })
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::check_placeholders;
    use crate::PacketError;

    fn attachments(sizes: &[usize]) -> Vec<Bytes> {
        sizes.iter().map(|&n| Bytes::from(vec![0u8; n])).collect()
    }

    #[test]
    fn valid_placeholders_anywhere_pass() {
        let json =
            r#"["upload",{"file":{"_placeholder":true,"num":1}},[{"num":0,"_placeholder":true}]]"#;
        assert_eq!(check_placeholders(json, &attachments(&[3, 4]), 0), Ok(()));
    }

    #[test]
    fn a_num_out_of_range_or_not_an_index_is_refused() {
        for json in [
            r#"[{"_placeholder":true,"num":2}]"#,
            r#"[{"_placeholder":true,"num":-1}]"#,
            r#"[{"_placeholder":true,"num":0.5}]"#,
            r#"[{"_placeholder":true,"num":"0"}]"#,
            r#"[{"_placeholder":true}]"#,
            r#"[{"nested":{"_placeholder":{"_placeholder":true,"num":9}}}]"#,
        ] {
            assert!(
                matches!(
                    check_placeholders(json, &attachments(&[1, 1]), 0),
                    Err(PacketError::InvalidPlaceholder(_))
                ),
                "{json}"
            );
        }
    }

    #[test]
    fn objects_that_are_not_placeholders_are_left_alone() {
        for json in [
            r#"[{"_placeholder":false,"num":7}]"#,
            r#"[{"_placeholder":"true","num":7}]"#,
            r#"[{"num":7}]"#,
        ] {
            assert_eq!(
                check_placeholders(json, &attachments(&[1]), 0),
                Ok(()),
                "{json}"
            );
        }
    }

    #[test]
    fn repeats_are_bounded_and_first_references_are_free() {
        let twice = r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        let sizes = attachments(&[100, 1000]);
        assert_eq!(check_placeholders(twice, &sizes, 100), Ok(()));
        assert_eq!(
            check_placeholders(twice, &sizes, 99),
            Err(PacketError::RepeatedAttachments {
                bytes: 100,
                limit: 99
            })
        );
    }
}
