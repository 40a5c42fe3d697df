//! HTTP long-polling payloads: packets joined by the record separator `\x1e`, binary messages as
//! `b` followed by base64.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::{BufMut, Bytes, BytesMut};
use bytestring::ByteString;

use crate::{EngineError, EnginePacket, Frame};

/// The record separator between packets of a polling payload.
pub const RECORD_SEPARATOR: u8 = 0x1e;

/// Decodes a polling body into its packets, lazily and without copying text.
///
/// The whole body is checked as UTF-8 once; each packet's data then shares the body's bytes.
///
/// ```
/// use sio_core::{decode_payload, EnginePacket};
/// let packets: Vec<_> = decode_payload("4hello\x1ebAQIDBA==".into())
///     .unwrap()
///     .collect::<Result<_, _>>()
///     .unwrap();
/// assert_eq!(packets, [EnginePacket::Message("hello".into()), EnginePacket::Binary(vec![1, 2, 3, 4].into())]);
/// ```
pub fn decode_payload(body: Bytes) -> Result<PayloadPackets, EngineError> {
    let body = ByteString::try_from(body).map_err(|_| EngineError::InvalidUtf8)?;
    Ok(PayloadPackets {
        body,
        position: Some(0),
    })
}

/// The packets of a polling payload, from [`decode_payload`].
#[derive(Debug, Clone)]
pub struct PayloadPackets {
    body: ByteString,
    /// Start of the next packet; `None` once the last one was read.
    position: Option<usize>,
}

impl Iterator for PayloadPackets {
    type Item = Result<EnginePacket, EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.position?;
        let rest = &self.body.as_bytes()[start..];
        let end = match rest.iter().position(|&b| b == RECORD_SEPARATOR) {
            Some(offset) => {
                self.position = Some(start + offset + 1);
                start + offset
            }
            None => {
                self.position = None;
                self.body.len()
            }
        };
        // The separator is ASCII, so both ends are character boundaries.
        let text = self.body.slice_ref(&self.body[start..end]);
        Some(decode_payload_packet(&text))
    }
}

fn decode_payload_packet(text: &ByteString) -> Result<EnginePacket, EngineError> {
    match text.strip_prefix('b') {
        Some(base64) => BASE64
            .decode(base64)
            .map(|bytes| EnginePacket::Binary(bytes.into()))
            .map_err(|_| EngineError::InvalidBase64),
        None => EnginePacket::decode_text(text),
    }
}

/// How many bytes `frame` takes in a polling payload, separator not included.
///
/// ```
/// use sio_core::{payload_len, Frame};
/// assert_eq!(payload_len(&Frame::Text("4hello".into())), 6);
/// assert_eq!(payload_len(&Frame::Binary(vec![1, 2, 3, 4].into())), 9); // "bAQIDBA=="
/// ```
pub fn payload_len(frame: &Frame) -> usize {
    match frame {
        Frame::Text(text) => text.len(),
        Frame::Binary(bytes) => 1 + bytes.len().div_ceil(3) * 4,
    }
}

/// Appends `frames` to `out` as one polling payload.
///
/// ```
/// use bytes::BytesMut;
/// use sio_core::{encode_payload, Frame};
/// let mut out = BytesMut::new();
/// encode_payload(&[Frame::Text("4hello".into()), Frame::Binary(vec![1, 2, 3, 4].into())], &mut out);
/// assert_eq!(&out[..], b"4hello\x1ebAQIDBA==");
/// ```
pub fn encode_payload<'a>(frames: impl IntoIterator<Item = &'a Frame>, out: &mut BytesMut) {
    for (index, frame) in frames.into_iter().enumerate() {
        if index > 0 {
            out.put_u8(RECORD_SEPARATOR);
        }
        match frame {
            Frame::Text(text) => out.put_slice(text.as_bytes()),
            Frame::Binary(bytes) => {
                out.put_u8(b'b');
                let start = out.len();
                out.resize(start + bytes.len().div_ceil(3) * 4, 0);
                // The buffer was sized for exactly this output, so encoding cannot fall short.
                let written = BASE64
                    .encode_slice(bytes, &mut out[start..])
                    .unwrap_or_default();
                out.truncate(start + written);
            }
        }
    }
}
