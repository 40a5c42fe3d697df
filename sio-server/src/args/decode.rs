//! Decoding one received argument into a handler's type: the one rule for events and acks.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use sio_core::{Args as RawArgs, RawJson};

/// Argument `index` of `args` as a `T`: missing reads as `null`, and each binary placeholder
/// becomes its attachment.
pub(crate) fn decode_arg<T: DeserializeOwned>(
    args: &RawArgs,
    attachments: &[Bytes],
    index: usize,
) -> Result<T, String> {
    let raw = args.get(index).unwrap_or_else(RawJson::null);
    if attachments.is_empty() {
        return raw.deserialize().map_err(|e| e.to_string());
    }
    let mut value: serde_json::Value = raw.deserialize().map_err(|e| e.to_string())?;
    replace_placeholders(&mut value, attachments);
    serde_json::from_value(value).map_err(|e| e.to_string())
}

/// Puts each attachment where its `{"_placeholder":true,"num":N}` stands, as an array of bytes
/// (which `bytes::Bytes`, `Vec<u8>` and `serde_bytes` types all deserialize from).
fn replace_placeholders(value: &mut serde_json::Value, attachments: &[Bytes]) {
    match value {
        serde_json::Value::Object(map) => {
            let is_placeholder =
                map.len() == 2 && map.get("_placeholder") == Some(&serde_json::Value::Bool(true));
            let num = map.get("num").and_then(serde_json::Value::as_u64);
            if let (true, Some(num)) = (is_placeholder, num)
                && let Some(bytes) = usize::try_from(num).ok().and_then(|n| attachments.get(n))
            {
                *value = serde_json::Value::Array(bytes.iter().map(|&b| b.into()).collect());
                return;
            }
            for item in map.values_mut() {
                replace_placeholders(item, attachments);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                replace_placeholders(item, attachments);
            }
        }
        _ => {}
    }
}
