//! Engine.IO v3's wire forms, where they differ from v4 (`EIO=3`, the protocol of Socket.IO v2
//! clients): polling payloads whose packets are prefixed by their length (in UTF-16 code units
//! for text, as JavaScript counts), or, when the client takes binary, a binary form with a
//! length in decimal digits per packet; binary messages that carry their packet type, as a
//! leading byte `4` on the WebSocket or as `b4` before base64 in text.
//!
//! The session queues frames in their v4 form; these functions turn them into v3 on the way
//! out and read v3 into packets on the way in.

use std::ops::ControlFlow;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use crate::{EngineError, EnginePacket, Frame};

/// The type byte of a binary message in v3.
const MESSAGE_TYPE: u8 = 4;

/// The separator after a packet's length in the binary payload form.
const LENGTH_END: u8 = 0xff;

/// Digits a packet length may have: more than any body the server reads.
const MAX_LENGTH_DIGITS: usize = 12;

/// A v3 polling response body, and whether it is the binary form (sent as
/// `application/octet-stream`) or text (`text/plain; charset=UTF-8`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayloadV3 {
    /// The body.
    pub body: Bytes,
    /// Whether it is the binary form.
    pub binary: bool,
}

/// Encodes `frames` (in their v4 form) as a v3 polling payload: the binary form when the
/// client takes binary and one of them is binary, as the reference server decides, else text
/// with binary messages in base64.
///
/// ```
/// use sio_core::{Frame, encode_payload_v3};
/// let frames = [Frame::Text("4€".into()), Frame::Binary(vec![1, 2, 3, 4].into())];
/// let text = encode_payload_v3(&frames, false);
/// assert_eq!(&text.body[..], "2:4€10:b4AQIDBA==".as_bytes());
/// let binary = encode_payload_v3(&frames, true);
/// assert!(binary.binary);
/// assert_eq!(&binary.body[..], b"\x00\x04\xff4\xe2\x82\xac\x01\x05\xff\x04\x01\x02\x03\x04");
/// ```
pub fn encode_payload_v3(frames: &[Frame], supports_binary: bool) -> PayloadV3 {
    let binary = supports_binary && frames.iter().any(|f| matches!(f, Frame::Binary(_)));
    let mut body = BytesMut::new();
    for frame in frames {
        if binary {
            let (marker, type_byte, data) = match frame {
                Frame::Text(text) => (0, None, &text.as_bytes()[..]),
                Frame::Binary(bytes) => (1, Some(MESSAGE_TYPE), &bytes[..]),
            };
            body.put_u8(marker);
            let len = data.len() + usize::from(type_byte.is_some());
            body.extend(len.to_string().bytes().map(|digit| digit - b'0'));
            body.put_u8(LENGTH_END);
            if let Some(type_byte) = type_byte {
                body.put_u8(type_byte);
            }
            body.put_slice(data);
        } else {
            match frame {
                Frame::Text(text) => {
                    let units: usize = text.chars().map(char::len_utf16).sum();
                    body.put_slice(format!("{units}:").as_bytes());
                    body.put_slice(text.as_bytes());
                }
                Frame::Binary(bytes) => {
                    let encoded = BASE64.encode(bytes);
                    body.put_slice(format!("{}:b4", encoded.len() + 2).as_bytes());
                    body.put_slice(encoded.as_bytes());
                }
            }
        }
    }
    if frames.is_empty() {
        body.put_slice(b"0:");
    }
    PayloadV3 {
        body: body.freeze(),
        binary,
    }
}

/// Decodes a v3 polling body: the binary form if it came as `application/octet-stream`, else
/// text. An empty body, a length that does not match, or a packet that does not decode is an
/// error.
///
/// ```
/// use sio_core::{EnginePacket, decode_payload_v3};
/// let packets = decode_payload_v3("2:4€10:b4AQIDBA==".into(), false).unwrap();
/// assert_eq!(packets, [EnginePacket::Message("€".into()), EnginePacket::Binary(vec![1, 2, 3, 4].into())]);
/// assert!(decode_payload_v3("3:4€".into(), false).is_err());
/// ```
pub fn decode_payload_v3(body: Bytes, binary: bool) -> Result<Vec<EnginePacket>, EngineError> {
    let mut packets = Vec::new();
    for_each_packet_v3(body, binary, |packet| {
        packets.push(packet);
        ControlFlow::Continue(())
    })?;
    Ok(packets)
}

/// Decodes a v3 polling body as [`decode_payload_v3`] does, handing each packet to `each` as it
/// is decoded (nothing is collected: a body of many small packets costs no list of them), until
/// `each` breaks or a packet does not decode; the packets before an error were handed on.
pub(crate) fn for_each_packet_v3(
    body: Bytes,
    binary: bool,
    each: impl FnMut(EnginePacket) -> ControlFlow<()>,
) -> Result<(), EngineError> {
    if body.is_empty() {
        return Err(EngineError::EmptyPacket);
    }
    if binary {
        each_binary_packet(body, each)
    } else {
        let text = ByteString::try_from(body).map_err(|_| EngineError::InvalidUtf8)?;
        each_text_packet(&text, each)
    }
}

fn each_text_packet(
    body: &ByteString,
    mut each: impl FnMut(EnginePacket) -> ControlFlow<()>,
) -> Result<(), EngineError> {
    let mut rest = &body[..];
    while !rest.is_empty() {
        let (digits, after) = rest.split_once(':').ok_or(EngineError::InvalidLength)?;
        let units = parse_length(digits.bytes().map(|b| b.wrapping_sub(b'0')))?;
        // The packet is `units` UTF-16 code units long; a character of two units may not be cut.
        let mut counted = 0;
        let mut end = 0;
        for c in after.chars() {
            if counted == units {
                break;
            }
            counted += c.len_utf16();
            end += c.len_utf8();
        }
        if counted != units {
            return Err(EngineError::InvalidLength);
        }
        // An empty entry is skipped, as the reference parser skips it.
        if end > 0 {
            let packet = body.slice_ref(&after[..end]);
            if each(decode_text_v3(&packet)?).is_break() {
                return Ok(());
            }
        }
        rest = &after[end..];
    }
    Ok(())
}

fn each_binary_packet(
    body: Bytes,
    mut each: impl FnMut(EnginePacket) -> ControlFlow<()>,
) -> Result<(), EngineError> {
    let mut at = 0;
    while at < body.len() {
        let marker = body[at];
        let digits_end = body[at + 1..]
            .iter()
            .position(|&b| b == LENGTH_END)
            .map(|offset| at + 1 + offset)
            .ok_or(EngineError::InvalidLength)?;
        let len = parse_length(body[at + 1..digits_end].iter().copied())?;
        let start = digits_end + 1;
        let end = start
            .checked_add(len)
            .filter(|end| *end <= body.len())
            .ok_or(EngineError::InvalidLength)?;
        let data = body.slice(start..end);
        let packet = match marker {
            0 => {
                let text = ByteString::try_from(data).map_err(|_| EngineError::InvalidUtf8)?;
                decode_text_v3(&text)?
            }
            1 => decode_binary_v3(data)?,
            _ => return Err(EngineError::InvalidLength),
        };
        if each(packet).is_break() {
            return Ok(());
        }
        at = end;
    }
    Ok(())
}

/// A length from its decimal digits (each a value 0-9), within [`MAX_LENGTH_DIGITS`].
fn parse_length(digits: impl ExactSizeIterator<Item = u8>) -> Result<usize, EngineError> {
    if digits.len() == 0 || digits.len() > MAX_LENGTH_DIGITS {
        return Err(EngineError::InvalidLength);
    }
    digits.into_iter().try_fold(0usize, |len, digit| {
        if digit > 9 {
            return Err(EngineError::InvalidLength);
        }
        len.checked_mul(10)
            .and_then(|len| len.checked_add(usize::from(digit)))
            .ok_or(EngineError::InvalidLength)
    })
}

/// Decodes a v3 text packet: as in v4, and `b4<base64>` is a binary message.
///
/// ```
/// use sio_core::{EnginePacket, decode_text_v3};
/// assert_eq!(decode_text_v3(&"b4AQI=".into()), Ok(EnginePacket::Binary(vec![1, 2].into())));
/// assert_eq!(decode_text_v3(&"4hi".into()), Ok(EnginePacket::Message("hi".into())));
/// ```
pub fn decode_text_v3(text: &ByteString) -> Result<EnginePacket, EngineError> {
    match text.strip_prefix('b') {
        Some(rest) => {
            let Some(base64) = rest.strip_prefix('4') else {
                let shown = rest.chars().next().unwrap_or_default();
                return Err(EngineError::UnknownPacketType(shown));
            };
            BASE64
                .decode(base64)
                .map(|bytes| EnginePacket::Binary(bytes.into()))
                .map_err(|_| EngineError::InvalidBase64)
        }
        None => EnginePacket::decode_text(text),
    }
}

/// Decodes a v3 binary packet (a WebSocket binary frame, or a binary entry of a payload): its
/// first byte is the packet type, and only a message carries binary data.
///
/// ```
/// use sio_core::{EnginePacket, decode_binary_v3};
/// assert_eq!(decode_binary_v3(vec![4, 1, 2].into()), Ok(EnginePacket::Binary(vec![1, 2].into())));
/// assert!(decode_binary_v3(vec![2, 1].into()).is_err());
/// ```
pub fn decode_binary_v3(data: Bytes) -> Result<EnginePacket, EngineError> {
    match data.first() {
        Some(&MESSAGE_TYPE) => Ok(EnginePacket::Binary(data.slice(1..))),
        Some(&other) => Err(EngineError::UnknownPacketType(char::from(
            b'0' + other.min(9),
        ))),
        None => Err(EngineError::EmptyPacket),
    }
}

/// The WebSocket frame a v3 client reads for `frame` (in its v4 form): binary messages get
/// their type byte, or go as `b4<base64>` text to a client that asked for base64.
///
/// ```
/// use sio_core::{Frame, frame_v3};
/// assert_eq!(frame_v3(Frame::Binary(vec![1].into()), false), Frame::Binary(vec![4, 1].into()));
/// assert_eq!(frame_v3(Frame::Binary(vec![1].into()), true), Frame::Text("b4AQ==".into()));
/// assert_eq!(frame_v3(Frame::Text("4hi".into()), false), Frame::Text("4hi".into()));
/// ```
pub fn frame_v3(frame: Frame, base64: bool) -> Frame {
    match frame {
        Frame::Binary(bytes) if base64 => {
            Frame::Text(ByteString::from(format!("b4{}", BASE64.encode(&bytes))))
        }
        Frame::Binary(bytes) => {
            let mut prefixed = BytesMut::with_capacity(bytes.len() + 1);
            prefixed.put_u8(MESSAGE_TYPE);
            prefixed.put_slice(&bytes);
            Frame::Binary(prefixed.freeze())
        }
        text => text,
    }
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::{decode_payload_v3, encode_payload_v3};
    use crate::{EngineError, EnginePacket, Frame};

    #[test]
    fn lengths_count_utf16_code_units() {
        let frames = [Frame::Text("4😀".into()), Frame::Text("4a".into())];
        let payload = encode_payload_v3(&frames, false);
        assert_eq!(&payload.body[..], "3:4😀2:4a".as_bytes());
        assert!(!payload.binary);
        assert_eq!(
            decode_payload_v3(payload.body, false),
            Ok(vec![
                EnginePacket::Message("😀".into()),
                EnginePacket::Message("a".into())
            ])
        );
        // Two units would cut the emoji in half.
        assert_eq!(
            decode_payload_v3("2:4😀".into(), false),
            Err(EngineError::InvalidLength)
        );
    }

    #[test]
    fn text_only_batches_stay_text_even_for_binary_clients() {
        let payload = encode_payload_v3(&[Frame::Text("6".into())], true);
        assert_eq!(
            payload,
            super::PayloadV3 {
                body: Bytes::from_static(b"1:6"),
                binary: false
            }
        );
        assert_eq!(&encode_payload_v3(&[], false).body[..], b"0:");
    }

    #[test]
    fn binary_payloads_round_trip() {
        let frames = [
            Frame::Text("4héllo".into()),
            Frame::Binary(Bytes::from(vec![9; 300])),
        ];
        let payload = encode_payload_v3(&frames, true);
        assert!(payload.binary);
        assert_eq!(
            decode_payload_v3(payload.body, true),
            Ok(vec![
                EnginePacket::Message("héllo".into()),
                EnginePacket::Binary(Bytes::from(vec![9; 300]))
            ])
        );
    }

    #[test]
    fn malformed_payloads_are_refused() {
        for (body, binary) in [
            (&b""[..], false),
            (b"4hello", false),
            (b"x:4a", false),
            (b"2:4", false),
            (b"10:b4AQ", false),
            (b"1:9", false),
            (b"2:b5", false),
            (b"\x00\x09\xff4a", true),
            (b"\x00\x01", true),
            (b"\x02\x01\xff4", true),
            (b"\x01\x02\xff\x02\x01", true),
            (b"\x00\x0a\xff4", true),
            (
                b"\x00\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\x01\xff4",
                true,
            ),
        ] {
            assert!(
                decode_payload_v3(Bytes::copy_from_slice(body), binary).is_err(),
                "{body:?}"
            );
        }
    }
}
