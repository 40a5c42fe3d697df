//! The messages of Node's cluster adapter (`ClusterAdapter` in `socket.io-adapter`), in the two
//! forms `@socket.io/redis-streams-adapter` writes them: a stream entry's fields (`uid`, `nsp`,
//! `type` as text, `data` as JSON, or base64 MessagePack when it holds binaries), and a
//! MessagePack object on the pub/sub channels.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rmpv::Value;
use sio_core::Namespace;
use sio_server::broadcast::{Broadcast, Target};

use crate::wire::{self, WireError, field, object};

/// The message types of the cluster adapter (`MessageType`).
pub(crate) mod kind {
    pub(crate) const BROADCAST: u64 = 3;
    pub(crate) const SOCKETS_JOIN: u64 = 4;
    pub(crate) const SOCKETS_LEAVE: u64 = 5;
    pub(crate) const DISCONNECT_SOCKETS: u64 = 6;
    pub(crate) const FETCH_SOCKETS: u64 = 7;
    pub(crate) const FETCH_SOCKETS_RESPONSE: u64 = 8;
    pub(crate) const SERVER_SIDE_EMIT: u64 = 9;
    pub(crate) const SERVER_SIDE_EMIT_RESPONSE: u64 = 10;
    pub(crate) const BROADCAST_CLIENT_COUNT: u64 = 11;
    pub(crate) const BROADCAST_ACK: u64 = 12;
}

/// A message between processes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Message {
    /// The sending process.
    pub(crate) uid: String,
    pub(crate) nsp: String,
    pub(crate) kind: u64,
    /// `Nil` when absent.
    pub(crate) data: Value,
}

fn error(message: impl Into<String>) -> WireError {
    WireError(message.into())
}

impl Message {
    pub(crate) fn new(uid: &str, namespace: &Namespace, kind: u64, data: Value) -> Self {
        Message {
            uid: uid.to_owned(),
            nsp: namespace.as_str().to_owned(),
            kind,
            data,
        }
    }

    /// The fields of its stream entry, in the adapter's order.
    pub(crate) fn entry_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = vec![
            ("uid", self.uid.clone()),
            ("nsp", self.nsp.clone()),
            ("type", self.kind.to_string()),
        ];
        if !self.data.is_nil() {
            let data = if has_binary(&self.data) {
                BASE64.encode(wire::encode_message(&self.data))
            } else {
                let mut json = String::new();
                wire::write_json(&self.data, &mut json, &mut Vec::new());
                json
            };
            fields.push(("data", data));
        }
        fields
    }

    /// A stream entry's fields read back; the data is JSON when it starts with `{`.
    pub(crate) fn from_entry(fields: &[(String, Vec<u8>)]) -> Result<Self, WireError> {
        let text = |name: &str| {
            fields
                .iter()
                .find(|(key, _)| key == name)
                .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
        };
        let uid = text("uid").unwrap_or_default();
        let nsp = text("nsp").ok_or_else(|| error("an entry without `nsp`"))?;
        let kind = text("type")
            .and_then(|kind| kind.parse().ok())
            .ok_or_else(|| error("an entry without a numeric `type`"))?;
        let data = match fields.iter().find(|(key, _)| key == "data") {
            None => Value::Nil,
            Some((_, bytes)) if bytes.first() == Some(&b'{') => wire::decode_message(bytes)?,
            Some((_, bytes)) => {
                let bytes = BASE64
                    .decode(bytes)
                    .map_err(|err| error(format!("invalid base64: {err}")))?;
                wire::decode_message(&bytes)?
            }
        };
        Ok(Message {
            uid,
            nsp,
            kind,
            data,
        })
    }

    /// Its MessagePack form on the pub/sub channels.
    pub(crate) fn to_pubsub(&self) -> Vec<u8> {
        let mut fields = vec![
            ("uid", Value::from(self.uid.as_str())),
            ("nsp", Value::from(self.nsp.as_str())),
            ("type", Value::from(self.kind)),
        ];
        if !self.data.is_nil() {
            fields.push(("data", self.data.clone()));
        }
        wire::encode_message(&object(fields))
    }

    /// A pub/sub payload read back.
    pub(crate) fn from_pubsub(bytes: &[u8]) -> Result<Self, WireError> {
        let value = wire::decode_message(bytes)?;
        let text = |name| {
            field(&value, name)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(Message {
            uid: text("uid").unwrap_or_default(),
            nsp: text("nsp").unwrap_or_default(),
            kind: field(&value, "type")
                .and_then(Value::as_u64)
                .ok_or_else(|| error("a message without a numeric `type`"))?,
            data: field(&value, "data").cloned().unwrap_or(Value::Nil),
        })
    }

    /// A field of its data.
    pub(crate) fn get(&self, name: &str) -> Option<&Value> {
        field(&self.data, name)
    }

    pub(crate) fn request_id(&self) -> Option<&str> {
        self.get("requestId").and_then(Value::as_str)
    }
}

/// Whether a value holds binary data, which makes the adapter write MessagePack.
fn has_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(has_binary),
        Value::Map(entries) => entries.iter().any(|(_, item)| has_binary(item)),
        _ => false,
    }
}

/// A broadcast's `data`: `{packet, opts}`, and `requestId` for one that asks for acks.
pub(crate) fn broadcast_data(
    broadcast: &Broadcast,
    flags: Vec<(&str, Value)>,
    request_id: Option<&str>,
) -> Result<Value, WireError> {
    let data = wire::event_data(&broadcast.packet)?;
    let mut fields = vec![
        ("packet", wire::packet_object(&broadcast.namespace, data)),
        ("opts", wire::broadcast_opts(&broadcast.target, flags)),
    ];
    if let Some(id) = request_id {
        fields.push(("requestId", Value::from(id)));
    }
    Ok(object(fields))
}

/// The selection an `opts` (`{rooms, except}`) makes.
pub(crate) fn target_of(opts: Option<&Value>) -> Target {
    let names = |key| wire::room_names(opts.and_then(|opts| field(opts, key)));
    Target {
        rooms: names("rooms").into_iter().map(Into::into).collect(),
        except: names("except").into_iter().map(Into::into).collect(),
    }
}

/// A flag of an `opts`.
pub(crate) fn flag<'a>(opts: Option<&'a Value>, name: &str) -> Option<&'a Value> {
    field(opts?, "flags").and_then(|flags| field(flags, name))
}

/// The two numbers of a stream entry id, `<ms>-<seq>`, digits only (as Node's adapter checks
/// an offset with `/^[0-9]+-[0-9]+$/`).
fn id_parts(id: &str) -> Option<(u64, u64)> {
    let (ms, seq) = id.split_once('-')?;
    let number = |text: &str| {
        let digits = !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit());
        digits.then(|| text.parse().ok()).flatten()
    };
    Some((number(ms)?, number(seq)?))
}

/// A stream entry id as a position in the stream's order.
pub(crate) fn position(id: &str) -> Option<u128> {
    let (ms, seq) = id_parts(id)?;
    Some((u128::from(ms) << 64) | u128::from(seq))
}

/// The entry id right after `id`, for Redis versions without exclusive ranges.
pub(crate) fn next_id(id: &str) -> Option<String> {
    let (ms, seq) = id_parts(id)?;
    Some(match seq.checked_add(1) {
        Some(seq) => format!("{ms}-{seq}"),
        None => format!("{}-0", ms.checked_add(1)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_hold_json_unless_binary_then_base64_msgpack() {
        let chat = Namespace::new("/chat").unwrap();
        let plain = Message::new("u1", &chat, 3, object(vec![("n", Value::from(1))]));
        let fields = plain.entry_fields();
        assert_eq!(fields[2], ("type", "3".to_owned()));
        assert_eq!(fields[3], ("data", r#"{"n":1}"#.to_owned()));
        let binary = Message::new("u1", &chat, 3, object(vec![("b", Value::Binary(vec![1]))]));
        let fields = binary.entry_fields();
        assert!(!fields[3].1.starts_with('{'));
        let read: Vec<(String, Vec<u8>)> = fields
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.into_bytes()))
            .collect();
        assert_eq!(Message::from_entry(&read).unwrap(), binary);
        let again = Message::from_pubsub(&binary.to_pubsub()).unwrap();
        assert_eq!(again, binary);
    }

    #[test]
    fn entry_ids_order_and_follow() {
        assert!(position("1-2").unwrap() < position("1-10").unwrap());
        assert!(position("1-99").unwrap() < position("2-0").unwrap());
        assert_eq!(next_id("5-9").as_deref(), Some("5-10"));
        assert_eq!(next_id(&format!("5-{}", u64::MAX)).as_deref(), Some("6-0"));
        assert_eq!(position("x-1"), None);
        assert_eq!(position("+1-2"), None);
        assert_eq!(position("1-"), None);
        assert_eq!(next_id("12"), None);
    }
}
