//! An argument of a binary packet decoded into a handler's types, placeholders and all: the
//! packet's check, then decoding into `serde_json::Value`, a struct with byte buffers, a struct
//! that ignores them, and `Bytes`. Nothing panics, what attachments expand into sequences never
//! exceeds the budget, and a `Bytes` argument is the attachment itself.
#![no_main]

use bytes::Bytes;
use libfuzzer_sys::fuzz_target;
use serde::Deserialize;
use sio_core::{ExpansionBudget, PacketDecoder, RawArg, RawJson, decode_with_attachments};

/// The budget of what attachments may expand into sequences, per packet.
const BUDGET: usize = 4096;

#[derive(Deserialize)]
#[allow(dead_code)]
struct Upload {
    name: Option<String>,
    data: Option<Bytes>,
    copy: Option<Vec<u8>>,
    list: Option<Vec<Bytes>>,
    nested: Option<Box<Upload>>,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct OnlyName {
    name: Option<String>,
}

fuzz_target!(|data: &[u8]| {
    // The first byte: how many attachments (0-7); then one length byte each; then the JSON.
    let [count, rest @ ..] = data else {
        return;
    };
    let count = usize::from(count % 8);
    if rest.len() < count {
        return;
    }
    let (lengths, json) = rest.split_at(count);
    let attachments: Vec<Bytes> = lengths
        .iter()
        .map(|&len| Bytes::from(vec![0xAB; usize::from(len) * 64]))
        .collect();
    let Ok(json) = std::str::from_utf8(json) else {
        return;
    };

    // As a packet: the decoder checks its placeholders once the attachments are in.
    let mut decoder = PacketDecoder::default();
    let text = format!("5{count}-[\"upload\",{json}]");
    let mut complete = match decoder.decode_text(text.into()) {
        Ok(complete) => complete,
        Err(_) => return,
    };
    for attachment in &attachments {
        match decoder.decode_binary(attachment.clone()) {
            Ok(Some(packet)) => complete = Some(packet),
            Ok(None) => {}
            Err(_) => return,
        }
    }
    if complete.is_none() {
        return;
    }

    let Ok(raw) = RawJson::new(json.to_owned()).map(RawArg::from) else {
        return;
    };
    let budget = ExpansionBudget::new(BUDGET);
    let value = decode_with_attachments::<serde_json::Value>(&raw, &attachments, &budget);
    if let Ok(value) = &value {
        // Each expanded byte is one number in the tree; the rest of the tree came from the text.
        assert!(numbers(value) <= BUDGET + json.len(), "a tree larger than its budget");
    }
    let _ = decode_with_attachments::<Upload>(&raw, &attachments, &budget);
    let _ = decode_with_attachments::<OnlyName>(&raw, &attachments, &budget);
    let _ = decode_with_attachments::<Vec<Bytes>>(&raw, &attachments, &budget);
    let _ = decode_with_attachments::<Vec<Vec<u8>>>(&raw, &attachments, &budget);
    assert!(budget.remaining() <= BUDGET);
    let bytes = decode_with_attachments::<Bytes>(&raw, &attachments, &budget);
    // An argument that is one placeholder is its attachment itself, not a copy.
    if let (Ok(bytes), Ok(placeholder)) = (&bytes, serde_json::from_str::<serde_json::Value>(json))
        && placeholder.get("_placeholder") == Some(&serde_json::Value::Bool(true))
        && let Some(num) = placeholder.get("num").and_then(serde_json::Value::as_u64)
    {
        assert_eq!(attachments[num as usize].as_ptr(), bytes.as_ptr());
    }
});

/// How many numbers a tree holds.
fn numbers(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Number(_) => 1,
        serde_json::Value::Array(items) => items.iter().map(numbers).sum(),
        serde_json::Value::Object(map) => map.values().map(numbers).sum(),
        _ => 0,
    }
}
