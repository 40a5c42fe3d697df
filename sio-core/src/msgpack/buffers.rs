//! notepack's `ArrayBuffer`s rewritten as `bin`, for MessagePack libraries that cannot tell its
//! forms apart.

use std::borrow::Cow;

use super::read::{Cursor, Item, MsgPackError};
use super::ser::write_bin;

/// `bytes` (MessagePack values, one or several) with every `ArrayBuffer` that notepack wrote (an
/// extension of type 0 in its ext 8/16/32 form, what a browser's `Uint8Array` becomes) written as
/// `bin` instead; everything else byte for byte, and nothing copied when there is no such buffer.
///
/// A library that decodes extensions without their form (rmpv does) and writes them again in the
/// shortest one would turn such a buffer of 1 or 8 bytes into notepack's `undefined` or a `Date`:
/// give it these bytes instead, and the buffer crosses as a `bin`, which every reader takes as
/// bytes.
///
/// ```
/// // [ArrayBuffer of 8 bytes] as notepack writes it, and the same as bin.
/// let mut from_browser = vec![0x91, 0xc7, 0x08, 0x00];
/// from_browser.extend([7; 8]);
/// let mut as_bin = vec![0x91, 0xc4, 0x08];
/// as_bin.extend([7; 8]);
/// assert_eq!(sio_core::notepack_buffers_as_bin(&from_browser).unwrap(), &as_bin[..]);
/// // A Date (a fixext 8 of type 0) stays what it is.
/// let date = [0xd7, 0x00, 0, 0, 0, 0, 0, 0, 0, 1];
/// assert_eq!(sio_core::notepack_buffers_as_bin(&date).unwrap(), &date[..]);
/// ```
pub fn notepack_buffers_as_bin(bytes: &[u8]) -> Result<Cow<'_, [u8]>, MsgPackError> {
    let mut cursor = Cursor::new(bytes);
    let mut rewritten: Option<Vec<u8>> = None;
    // One item after another: an array's or map's header is followed by its elements, so a flat
    // walk visits every value, however deep, without recursing.
    while cursor.remaining() > 0 {
        let start = cursor.position();
        let item = cursor.next()?;
        let end = cursor.position();
        match (item, bytes[start]) {
            (Item::Bin(data), 0xc7..=0xc9) => {
                let out = rewritten.get_or_insert_with(|| bytes[..start].to_vec());
                write_bin(out, data);
            }
            _ => {
                if let Some(out) = rewritten.as_mut() {
                    out.extend_from_slice(&bytes[start..end]);
                }
            }
        }
    }
    Ok(rewritten.map_or(Cow::Borrowed(bytes), Cow::Owned))
}
