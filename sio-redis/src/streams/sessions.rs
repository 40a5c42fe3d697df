//! Sessions of connection state recovery in Redis, as Node's adapter keeps them: under
//! `sio:session:<pid>`, the base64 of the MessagePack of `{sid, pid, rooms, data}`; and the
//! events a client missed, read back from the stream.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::FutureExt;
use futures_util::future::BoxFuture;
use rmpv::Value;
use sio_core::{Namespace, RawJson};
use sio_server::SocketId;
use sio_server::broadcast::{
    LayerError, MissedEvents, ReadLimits, Room, SavedSession, SessionStore,
};
use tokio::sync::oneshot;
use tracing::warn;

use super::message::{self, Message, flag, kind, target_of};
use super::reader::entries;
use super::shared::Outgoing;
use crate::responses::{subscribers, unavailable};
use crate::wire::{self, field, object, room_names};

/// Entries read per `XRANGE`.
const READ_COUNT: u64 = 100;
/// `XRANGE` calls at most for one read of missed events (the stream keeps about 10,000
/// entries by default); the restore reads on if the stream grew meanwhile.
const MAX_READS: usize = 200;

/// A session's value in Redis.
pub(crate) fn encode(session: &SavedSession) -> String {
    let data = wire::json_to_value(session.data.as_str(), &[]).unwrap_or(Value::Nil);
    let value = object(vec![
        ("sid", Value::from(session.sid.as_str())),
        ("pid", Value::from(session.pid.as_str())),
        ("rooms", wire::room_array(&session.rooms)),
        ("data", data),
    ]);
    BASE64.encode(wire::encode_message(&value))
}

/// A session's value read back, for `namespace`.
pub(crate) fn decode(namespace: &Namespace, pid: &str, text: &[u8]) -> Option<SavedSession> {
    let bytes = BASE64.decode(text).ok()?;
    let value = wire::decode_message(&bytes).ok()?;
    let sid = field(&value, "sid")?.as_str()?;
    let rooms = room_names(field(&value, "rooms"))
        .into_iter()
        .map(Room::from)
        .collect();
    let data = match field(&value, "data") {
        None | Some(Value::Nil) => RawJson::empty_object(),
        Some(data) => {
            let mut json = String::new();
            wire::write_json(data, &mut json, &mut Vec::new());
            RawJson::new(json).unwrap_or_else(|_| RawJson::empty_object())
        }
    };
    Some(SavedSession::new(
        namespace.clone(),
        pid,
        SocketId::from(sid),
        rooms,
        data,
    ))
}

/// Whether a broadcast's `opts` reach a socket in `rooms` (Node's `shouldIncludePacket`).
fn reaches(rooms: &[Room], opts: Option<&Value>) -> bool {
    let target = target_of(opts);
    let included = target.rooms.is_empty() || target.rooms.iter().any(|room| rooms.contains(room));
    included && !target.except.iter().any(|room| rooms.contains(room))
}

impl super::RedisStreamsLayer {
    fn save(&self, session: &SavedSession, ttl: Duration, held: bool) {
        self.shared.send(Outgoing::SaveSession {
            key: self.shared.session_key(&session.pid),
            value: encode(session),
            ttl,
            owner: self.shared.owner_key(&session.pid),
            held,
        });
    }
}

impl SessionStore for super::RedisStreamsLayer {
    fn hold_session(&self, session: &SavedSession, ttl: Duration) {
        self.save(session, ttl, true);
    }

    fn release_session(&self, session: &SavedSession, ttl: Duration) {
        self.save(session, ttl, false);
    }

    fn drop_session(&self, pid: &str) {
        self.shared.send(Outgoing::DropSession {
            key: self.shared.session_key(pid),
            owner: self.shared.owner_key(pid),
        });
    }

    fn take_session(
        &self,
        namespace: &Namespace,
        pid: &str,
        offset: &str,
    ) -> BoxFuture<'static, Result<Option<SavedSession>, LayerError>> {
        let shared = Arc::clone(&self.shared);
        let (namespace, pid, offset) = (namespace.clone(), pid.to_owned(), offset.to_owned());
        async move {
            if message::position(&offset).is_none() {
                return Ok(None);
            }
            // Until the reader knows where it starts, what it delivers cannot be matched
            // against what a restore reads.
            if !*shared.reading.borrow() {
                return Err(unavailable("the stream is not read yet"));
            }
            // What this process queued before (a save, a release) is in Redis first.
            let (barrier, written) = oneshot::channel();
            shared.send(Outgoing::Barrier(barrier));
            written
                .await
                .map_err(|_| unavailable("Redis is unreachable"))?;
            let mut connection = shared
                .connection
                .borrow()
                .clone()
                .ok_or_else(|| unavailable("Redis is unreachable"))?;
            let (key, owner_key) = (shared.session_key(&pid), shared.owner_key(&pid));
            let owner: Option<String> = redis::cmd("GET")
                .arg(&owner_key)
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            if let Some(owner) = owner {
                // Held: its socket is still connected to a process that lives (this one, or
                // one that hears its channel), maybe unaware yet that its client left.
                let channel = shared.private_channel(namespace.as_str(), &owner);
                let alive =
                    owner == shared.uid || subscribers(&mut connection, &channel).await? > 0;
                if alive {
                    return Ok(None);
                }
            }
            let (session, _, _): (Option<Vec<u8>>, u64, u64) = redis::pipe()
                .atomic()
                .get(&key)
                .del(&key)
                .del(&owner_key)
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            let Some(session) = session else {
                return Ok(None);
            };
            let found: redis::Value = redis::cmd("XRANGE")
                .arg(&shared.options.stream_name)
                .arg(&offset)
                .arg(&offset)
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            if entries(&found).is_empty() {
                return Ok(None);
            }
            let decoded = decode(&namespace, &pid, &session);
            if decoded.is_none() {
                warn!(%namespace, "redis streams layer: a session in Redis does not decode; a fresh socket");
            }
            Ok(decoded)
        }
        .boxed()
    }

    fn missed_events(
        &self,
        namespace: &Namespace,
        rooms: &[Room],
        offset: &str,
        limits: ReadLimits,
    ) -> BoxFuture<'static, Result<MissedEvents, LayerError>> {
        let shared = Arc::clone(&self.shared);
        // Entries logged for the pattern a namespace was made from reach it too.
        let pattern = shared
            .local
            .get()
            .and_then(|local| local.pattern_of(namespace));
        let (namespace, rooms, offset) = (namespace.clone(), rooms.to_vec(), offset.to_owned());
        async move {
            let mut connection = shared
                .connection
                .borrow()
                .clone()
                .ok_or_else(|| unavailable("Redis is unreachable"))?;
            let mut last = offset;
            let (mut events, mut bytes) = (Vec::new(), 0_usize);
            for _ in 0..MAX_READS {
                let Some(from) = message::next_id(&last) else {
                    return Err(unavailable(format!("`{last}` is not a stream entry id")));
                };
                let read: redis::Value = redis::cmd("XRANGE")
                    .arg(&shared.options.stream_name)
                    .arg(from)
                    .arg("+")
                    .arg("COUNT")
                    .arg(READ_COUNT)
                    .query_async(&mut connection)
                    .await
                    .map_err(unavailable)?;
                let read = entries(&read);
                if read.is_empty() {
                    break;
                }
                for (id, fields) in read {
                    if let Ok(message) = Message::from_entry(&fields)
                        && (message.nsp == namespace.as_str()
                            || pattern.as_ref().is_some_and(|p| message.nsp == p.as_str()))
                        && let Some(event) = missed(&namespace, &rooms, &message, &id)
                    {
                        bytes = bytes.saturating_add(event.byte_len());
                        events.push(event);
                    }
                    last = id;
                }
                if events.len() > limits.events || bytes > limits.bytes {
                    // More than the restore may take: it gives up.
                    break;
                }
            }
            let position = message::position(&last).unwrap_or_default();
            Ok(MissedEvents::new(events, last, position))
        }
        .boxed()
    }
}

/// Entry `id`, of `namespace` (or of its pattern), as an event a socket of `namespace` in
/// `rooms` missed, if it is one.
fn missed(
    namespace: &Namespace,
    rooms: &[Room],
    message: &Message,
    id: &str,
) -> Option<sio_core::EncodedPacket> {
    if message.kind != kind::BROADCAST || message.request_id().is_some() {
        return None;
    }
    let opts = message.get("opts");
    // Volatile events are not kept for recovery (nor given an offset when delivered).
    if flag(opts, "volatile") == Some(&Value::Boolean(true)) || !reaches(rooms, opts) {
        return None;
    }
    let packet = wire::encode_event_in(message.get("packet")?, namespace, None).ok()?;
    let offset = RawJson::from_value(&id).ok()?;
    Some(packet.with_last_arg(&offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_round_trips_and_reads_nodes_form() {
        let chat = Namespace::new("/chat").unwrap();
        let session = SavedSession::new(
            chat.clone(),
            "p1",
            SocketId::from("s1"),
            vec![Room::from("s1"), Room::from("lobby")],
            RawJson::new(r#"{"n":[1,2],"user":"ada"}"#.to_owned()).unwrap(),
        );
        let text = encode(&session);
        assert_eq!(decode(&chat, "p1", text.as_bytes()), Some(session));
        // Node's: rooms may hold numbers, data may be absent.
        let node = object(vec![
            ("sid", Value::from("s2")),
            ("pid", Value::from("p2")),
            (
                "rooms",
                Value::Array(vec![Value::from("s2"), Value::from(7)]),
            ),
        ]);
        let node = BASE64.encode(wire::encode_message(&node));
        let read = decode(&chat, "p2", node.as_bytes()).unwrap();
        assert_eq!(read.rooms, vec![Room::from("s2"), Room::from("7")]);
        assert_eq!(read.data.as_str(), "{}");
        assert_eq!(decode(&chat, "p3", b"not base64!"), None);
    }

    #[test]
    fn missed_events_follow_nodes_room_rule() {
        let chat = Namespace::new("/chat").unwrap();
        let opts = |rooms: Vec<&str>, except: Vec<&str>| {
            let names = |list: Vec<&str>| Value::Array(list.into_iter().map(Value::from).collect());
            object(vec![("rooms", names(rooms)), ("except", names(except))])
        };
        let rooms = [Room::from("s1"), Room::from("lobby")];
        assert!(reaches(&rooms, Some(&opts(vec![], vec![]))));
        assert!(reaches(&rooms, Some(&opts(vec!["lobby", "x"], vec![]))));
        assert!(!reaches(&rooms, Some(&opts(vec!["x"], vec![]))));
        assert!(!reaches(&rooms, Some(&opts(vec![], vec!["s1"]))));
        let packet = object(vec![
            ("type", Value::from(2)),
            (
                "data",
                Value::Array(vec![Value::from("hi"), Value::from(1)]),
            ),
        ]);
        let data = object(vec![
            ("packet", packet),
            ("opts", opts(vec!["lobby"], vec![])),
        ]);
        let message = Message::new("u", &chat, kind::BROADCAST, data);
        let event = missed(&chat, &rooms, &message, "5-1").unwrap();
        assert_eq!(event.text.as_text(), Some(r#"42/chat,["hi",1,"5-1"]"#));
        let with_ack = object(vec![("requestId", Value::from("r1"))]);
        let with_ack = Message::new("u", &chat, kind::BROADCAST, with_ack);
        assert!(missed(&chat, &rooms, &with_ack, "5-2").is_none());
    }
}
