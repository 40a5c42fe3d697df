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
struct Tally {
    /// Each placeholder met, in order: the index its `num` names, if it is one.
    references: Vec<Result<usize, Scalar>>,
}

/// Checks the placeholders of `json` (a packet's arguments) against its `attachments`.
///
/// Fails with [`PacketError::InvalidPlaceholder`] for a placeholder whose `num` is not the index
/// of an attachment, and with [`PacketError::RepeatedAttachments`] when the bytes of the
/// references after each attachment's first exceed `max_repeated_bytes` (what decoding could
/// copy beyond the attachments themselves). As in the reference parser, what a placeholder
/// object holds besides `_placeholder` and `num` is not looked into.
pub(crate) fn check_placeholders(
    json: &str,
    attachments: &[Bytes],
    max_repeated_bytes: usize,
) -> Result<(), PacketError> {
    let tally = RefCell::new(Tally {
        references: Vec::new(),
    });
    let mut deserializer = serde_json::Deserializer::from_str(json);
    Walk { tally: &tally }
        .deserialize(&mut deserializer)
        .map_err(|error| PacketError::InvalidJson(error.to_string()))?;
    let mut referenced = vec![false; attachments.len()];
    let mut repeated = 0usize;
    for reference in tally.into_inner().references {
        let index = match reference {
            Ok(index) if index < attachments.len() => index,
            Ok(index) => {
                return Err(PacketError::InvalidPlaceholder(format!(
                    "`num` {index} with {} attachments",
                    attachments.len()
                )));
            }
            Err(_) => {
                return Err(PacketError::InvalidPlaceholder(
                    "`num` is not a non-negative integer".to_owned(),
                ));
            }
        };
        if std::mem::replace(&mut referenced[index], true) {
            repeated = repeated.saturating_add(attachments[index].len());
        }
    }
    if repeated > max_repeated_bytes {
        return Err(PacketError::RepeatedAttachments {
            bytes: repeated,
            limit: max_repeated_bytes,
        });
    }
    Ok(())
}

/// Walks any JSON value, noting the placeholders it holds.
#[derive(Clone, Copy)]
struct Walk<'t> {
    tally: &'t RefCell<Tally>,
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = Scalar;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_any(self)
    }
}

/// What a value was, as far as a placeholder's fields care.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Scalar {
    True,
    /// A number JavaScript would take as an array index (`1.0` included).
    Index(usize),
    Other,
}

impl Scalar {
    fn of_f64(value: f64) -> Scalar {
        if value >= 0.0 && value.fract() == 0.0 && value < usize::MAX as f64 {
            Scalar::Index(value as usize)
        } else {
            Scalar::Other
        }
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Scalar, E> {
        Ok(if value { Scalar::True } else { Scalar::Other })
    }

    fn visit_u64<E>(self, value: u64) -> Result<Scalar, E> {
        Ok(usize::try_from(value).map_or(Scalar::Other, Scalar::Index))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Scalar, E> {
        // Only 0 is both negative-typed and an index (`-0`).
        Ok(if value == 0 {
            Scalar::Index(0)
        } else {
            Scalar::Other
        })
    }

    fn visit_f64<E>(self, value: f64) -> Result<Scalar, E> {
        Ok(Scalar::of_f64(value))
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
        let mark = self.tally.borrow().references.len();
        let mut placeholder = false;
        let mut num = Scalar::Other;
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if key == Key::Number {
                // serde_json's `arbitrary_precision` writes a number as a map of one entry.
                return map.next_value_seed(NumberText);
            }
            // Values are walked whatever the key: placeholders may nest anywhere.
            let value = map.next_value_seed(self)?;
            // A repeated key counts as its last occurrence, as in JavaScript.
            match key {
                Key::Placeholder => placeholder = value == Scalar::True,
                Key::Num => num = value,
                Key::Other | Key::Number => {}
            }
        }
        if placeholder {
            let mut tally = self.tally.borrow_mut();
            // The reference parser stops at a placeholder: what it holds is not looked into.
            tally.references.truncate(mark);
            tally.references.push(match num {
                Scalar::Index(index) => Ok(index),
                other => Err(other),
            });
        }
        Ok(Scalar::Other)
    }
}

/// The keys a placeholder is made of; any other key is just walked past.
#[derive(PartialEq)]
enum Key {
    Placeholder,
    Num,
    /// The one key of a number under serde_json's `arbitrary_precision`.
    Number,
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
            "$serde_json::private::Number" => Key::Number,
            _ => Key::Other,
        })
    }
}

/// A number written as text (`arbitrary_precision`).
struct NumberText;

impl<'de> DeserializeSeed<'de> for NumberText {
    type Value = Scalar;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Scalar, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NumberText {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number as text")
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Scalar, E> {
        Ok(text.parse::<f64>().map_or(Scalar::Other, Scalar::of_f64))
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
            r#"[{"_placeholder":true,"num":1e300}]"#,
            r#"[{"_placeholder":true,"num":"0"}]"#,
            r#"[{"_placeholder":true}]"#,
            r#"[{"nested":{"_placeholder":{"_placeholder":true,"num":9}}}]"#,
            r#"[{"_placeholder":true,"num":0,"num":7}]"#,
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
    fn as_in_javascript_an_integral_float_is_an_index_and_a_placeholder_is_not_looked_into() {
        for json in [
            r#"[{"_placeholder":true,"num":1.0}]"#,
            r#"[{"_placeholder":true,"num":-0}]"#,
            r#"[{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":99}}]"#,
        ] {
            assert_eq!(
                check_placeholders(json, &attachments(&[1, 1]), 0),
                Ok(()),
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
