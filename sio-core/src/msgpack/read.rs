//! Reading MessagePack: one marker at a time, and whole values checked before anything trusts
//! them.
//!
//! Every length is checked against the bytes that arrived, never used to allocate, and nesting
//! is bounded, so a hostile value costs time linear in its size and no memory at all.

use std::fmt;

/// How deep arrays and maps may nest in one value (serde_json's limit for the JSON parser).
pub(crate) const MAX_DEPTH: usize = 128;

/// The extension type `notepack.io` (the JavaScript parser's MessagePack library) gives
/// `undefined` (as a 1-byte fixext), an `ArrayBuffer` (as ext 8/16/32) and a `Date` (as an
/// 8-byte fixext holding milliseconds since the epoch).
const NOTEPACK_EXT: i8 = 0;

/// The furthest a JavaScript `Date` reaches from the epoch, in milliseconds (100 million days).
const MAX_DATE_MILLIS: u64 = 8_640_000_000_000_000;

/// Why bytes are not one well-formed MessagePack value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsgPackError(pub(crate) String);

impl fmt::Display for MsgPackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MsgPackError {}

pub(crate) fn error(message: impl Into<String>) -> MsgPackError {
    MsgPackError(message.into())
}

/// One MessagePack item: a scalar with its data, or the header of an array or map whose
/// elements follow.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Item<'a> {
    Nil,
    /// JavaScript's `undefined`, as notepack writes it.
    Undefined,
    Bool(bool),
    Uint(u64),
    Int(i64),
    F32(f32),
    F64(f64),
    Str(&'a str),
    /// A `bin`, or an `ArrayBuffer` as notepack writes it (an extension of type 0).
    Bin(&'a [u8]),
    /// A JavaScript `Date` as notepack writes it: milliseconds since the epoch.
    Date(i64),
    /// Any other extension.
    Ext(i8, &'a [u8]),
    Array(usize),
    Map(usize),
}

/// A position in a buffer of MessagePack.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Cursor { buf, pos: 0 }
    }

    /// A cursor at `pos` of `buf` (clamped to its end).
    pub(crate) fn at(buf: &'a [u8], pos: usize) -> Self {
        Cursor {
            buf,
            pos: pos.min(buf.len()),
        }
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn take(&mut self, len: usize) -> Result<&'a [u8], MsgPackError> {
        if len > self.remaining() {
            return Err(error(format!(
                "a length of {len} runs past the end ({} bytes left)",
                self.remaining()
            )));
        }
        let bytes = &self.buf[self.pos..self.pos + len];
        self.pos += len;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], MsgPackError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, MsgPackError> {
        Ok(self.array::<1>()?[0])
    }

    /// A length of `N` bytes, big-endian.
    fn len<const N: usize>(&mut self) -> Result<usize, MsgPackError> {
        let bytes = self.array::<N>()?;
        let len = bytes.iter().fold(0u64, |len, &b| len << 8 | u64::from(b));
        usize::try_from(len).map_err(|_| error("a length beyond this machine's address space"))
    }

    /// The next item; for a string, a binary or an extension, with its data.
    pub(crate) fn next(&mut self) -> Result<Item<'a>, MsgPackError> {
        let marker = self.u8()?;
        Ok(match marker {
            0x00..=0x7f => Item::Uint(u64::from(marker)),
            0x80..=0x8f => self.map(usize::from(marker & 0x0f))?,
            0x90..=0x9f => self.seq(usize::from(marker & 0x0f))?,
            0xa0..=0xbf => self.str(usize::from(marker & 0x1f))?,
            0xc0 => Item::Nil,
            0xc1 => return Err(error("the reserved marker 0xc1")),
            0xc2 => Item::Bool(false),
            0xc3 => Item::Bool(true),
            0xc4 => Item::Bin(self.take_len::<1>()?),
            0xc5 => Item::Bin(self.take_len::<2>()?),
            0xc6 => Item::Bin(self.take_len::<4>()?),
            0xc7 => self.ext::<1>()?,
            0xc8 => self.ext::<2>()?,
            0xc9 => self.ext::<4>()?,
            0xca => Item::F32(f32::from_be_bytes(self.array()?)),
            0xcb => Item::F64(f64::from_be_bytes(self.array()?)),
            0xcc => Item::Uint(u64::from(self.u8()?)),
            0xcd => Item::Uint(u64::from(u16::from_be_bytes(self.array()?))),
            0xce => Item::Uint(u64::from(u32::from_be_bytes(self.array()?))),
            0xcf => Item::Uint(u64::from_be_bytes(self.array()?)),
            0xd0 => Item::Int(i64::from(i8::from_be_bytes(self.array()?))),
            0xd1 => Item::Int(i64::from(i16::from_be_bytes(self.array()?))),
            0xd2 => Item::Int(i64::from(i32::from_be_bytes(self.array()?))),
            0xd3 => Item::Int(i64::from_be_bytes(self.array()?)),
            0xd4 => self.fixext(1)?,
            0xd5 => self.fixext(2)?,
            0xd6 => self.fixext(4)?,
            0xd7 => self.fixext(8)?,
            0xd8 => self.fixext(16)?,
            0xd9 => {
                let len = self.len::<1>()?;
                self.str(len)?
            }
            0xda => {
                let len = self.len::<2>()?;
                self.str(len)?
            }
            0xdb => {
                let len = self.len::<4>()?;
                self.str(len)?
            }
            0xdc => {
                let len = self.len::<2>()?;
                self.seq(len)?
            }
            0xdd => {
                let len = self.len::<4>()?;
                self.seq(len)?
            }
            0xde => {
                let len = self.len::<2>()?;
                self.map(len)?
            }
            0xdf => {
                let len = self.len::<4>()?;
                self.map(len)?
            }
            0xe0..=0xff => Item::Int(i64::from(marker as i8)),
        })
    }

    fn take_len<const N: usize>(&mut self) -> Result<&'a [u8], MsgPackError> {
        let len = self.len::<N>()?;
        self.take(len)
    }

    fn str(&mut self, len: usize) -> Result<Item<'a>, MsgPackError> {
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(Item::Str)
            .map_err(|_| error("a string that is not UTF-8"))
    }

    /// An array header: each element takes a byte at least, so a count beyond what is left is
    /// refused here, before anyone loops over it.
    fn seq(&mut self, len: usize) -> Result<Item<'a>, MsgPackError> {
        if len > self.remaining() {
            return Err(error(format!(
                "an array of {len} elements in {} bytes",
                self.remaining()
            )));
        }
        Ok(Item::Array(len))
    }

    fn map(&mut self, len: usize) -> Result<Item<'a>, MsgPackError> {
        if len.saturating_mul(2) > self.remaining() {
            return Err(error(format!(
                "a map of {len} entries in {} bytes",
                self.remaining()
            )));
        }
        Ok(Item::Map(len))
    }

    fn ext<const N: usize>(&mut self) -> Result<Item<'a>, MsgPackError> {
        let len = self.len::<N>()?;
        let kind = i8::from_be_bytes(self.array()?);
        let data = self.take(len)?;
        Ok(match kind {
            NOTEPACK_EXT => Item::Bin(data),
            _ => Item::Ext(kind, data),
        })
    }

    fn fixext(&mut self, len: usize) -> Result<Item<'a>, MsgPackError> {
        let kind = i8::from_be_bytes(self.array()?);
        let data = self.take(len)?;
        Ok(match (kind, len) {
            (NOTEPACK_EXT, 1) => Item::Undefined,
            (NOTEPACK_EXT, 8) => {
                // notepack writes the high 32 bits signed and the low 32 bits unsigned.
                let high = i64::from(i32::from_be_bytes([data[0], data[1], data[2], data[3]]));
                let low = i64::from(u32::from_be_bytes([data[4], data[5], data[6], data[7]]));
                let millis = high * (1 << 32) + low;
                // Beyond JavaScript's range a Date is invalid, and its JSON is `null`.
                if millis.unsigned_abs() > MAX_DATE_MILLIS {
                    Item::Nil
                } else {
                    Item::Date(millis)
                }
            }
            _ => Item::Ext(kind, data),
        })
    }

    /// Checks the next value whole (arrays and maps to [`MAX_DEPTH`]) and moves past it.
    pub(crate) fn skip_value(&mut self) -> Result<(), MsgPackError> {
        self.skip_within(MAX_DEPTH)
    }

    /// Moves past the next value, its arrays and maps nested at most `max_depth` deep: a loop
    /// over a stack of what each open level has left, so no depth recurses.
    pub(crate) fn skip_within(&mut self, max_depth: usize) -> Result<(), MsgPackError> {
        let items = |item| match item {
            Item::Array(len) => len,
            Item::Map(len) => len * 2,
            _ => 0,
        };
        let first = items(self.next()?);
        if first == 0 {
            return Ok(());
        }
        let mut open = vec![first];
        while let Some(left) = open.last_mut() {
            if *left == 0 {
                open.pop();
                continue;
            }
            *left -= 1;
            let nested = items(self.next()?);
            if nested > 0 {
                if open.len() >= max_depth {
                    return Err(error(format!("values nested deeper than {max_depth}")));
                }
                open.push(nested);
            }
        }
        Ok(())
    }

    /// Checks the next value whole and returns its bytes.
    pub(crate) fn value_bytes(&mut self) -> Result<&'a [u8], MsgPackError> {
        let start = self.pos;
        self.skip_value()?;
        Ok(&self.buf[start..self.pos])
    }

    /// The bytes of the next value, however deep, for values this crate wrote.
    pub(crate) fn trusted_value_bytes(&mut self) -> Result<&'a [u8], MsgPackError> {
        let start = self.pos;
        self.skip_within(usize::MAX)?;
        Ok(&self.buf[start..self.pos])
    }
}

/// Checks that `bytes` hold exactly one well-formed MessagePack value.
pub(crate) fn check_value(bytes: &[u8]) -> Result<(), MsgPackError> {
    let mut cursor = Cursor::new(bytes);
    cursor.skip_value()?;
    match cursor.remaining() {
        0 => Ok(()),
        extra => Err(error(format!("{extra} bytes after the value"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(bytes: &[u8]) -> Item<'_> {
        Cursor::new(bytes).next().unwrap()
    }

    #[test]
    fn markers_read_as_their_items() {
        assert_eq!(one(&[0x05]), Item::Uint(5));
        assert_eq!(one(&[0xff]), Item::Int(-1));
        assert_eq!(one(&[0xd0, 0x80]), Item::Int(-128));
        assert_eq!(one(&[0xcd, 0x01, 0x00]), Item::Uint(256));
        assert_eq!(one(&[0xa2, b'h', b'i']), Item::Str("hi"));
        assert_eq!(one(&[0xc4, 0x02, 1, 2]), Item::Bin(&[1, 2]));
        assert_eq!(one(&[0x92, 0x01, 0x02]), Item::Array(2));
        assert_eq!(one(&[0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0]), Item::F64(1.5));
    }

    #[test]
    fn notepack_extensions_are_undefined_buffers_and_dates() {
        assert_eq!(one(&[0xd4, 0x00, 0x00]), Item::Undefined);
        assert_eq!(one(&[0xc7, 0x02, 0x00, 7, 8]), Item::Bin(&[7, 8]));
        // new Date(1700000000000): 0x18B_CFE5_6800 milliseconds.
        let date = [0xd7, 0x00, 0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00];
        assert_eq!(one(&date), Item::Date(1_700_000_000_000));
        // Before 1970 the high word is negative: new Date(-1).
        let before = [0xd7, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
        assert_eq!(one(&before), Item::Date(-1));
        // An invalid Date (JSON `null`): 2^53 milliseconds.
        let invalid = [0xd7, 0x00, 0, 0x20, 0, 0, 0, 0, 0, 0];
        assert_eq!(one(&invalid), Item::Nil);
        assert_eq!(one(&[0xd5, 0x05, 1, 2]), Item::Ext(5, &[1, 2]));
    }

    #[test]
    fn declared_lengths_beyond_the_input_are_refused_before_any_work() {
        // A str32, bin32 and array32 of 4 GiB in a few bytes.
        for bytes in [
            &[0xdb, 0xff, 0xff, 0xff, 0xff, b'a'][..],
            &[0xc6, 0xff, 0xff, 0xff, 0xff, 1],
            &[0xdd, 0xff, 0xff, 0xff, 0xff, 1],
            &[0xdf, 0x00, 0x00, 0x00, 0x02, 1, 1, 1],
        ] {
            assert!(check_value(bytes).is_err(), "{bytes:?}");
        }
    }

    #[test]
    fn nesting_is_bounded_and_truncation_refused() {
        let mut deep = vec![0x91; MAX_DEPTH];
        deep.push(0xc0);
        assert!(check_value(&deep).is_ok());
        let mut deeper = vec![0x91; MAX_DEPTH + 1];
        deeper.push(0xc0);
        assert!(check_value(&deeper).is_err());
        // Depth counts open levels, not elements: a wide value is fine, and a deep one ends
        // where its levels close.
        assert!(check_value(&[0x93, 0x91, 0x90, 0x91, 0x01, 0x92, 0x90, 0x90]).is_ok());
        assert!(Cursor::new(&deeper).skip_within(usize::MAX).is_ok());
        assert!(check_value(&[0x92, 0x01]).is_err());
        assert!(check_value(&[0x01, 0x02]).is_err());
        assert!(check_value(&[0xa1, 0xff]).is_err(), "not UTF-8");
        assert!(check_value(&[0xc1]).is_err());
    }
}
