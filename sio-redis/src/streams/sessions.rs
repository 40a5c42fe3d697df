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
    LayerError, MissedEvents, ReadLimits, Room, SavedSession, SessionStore, Target,
};
use tokio::sync::oneshot;
use tracing::debug;

use super::message::{self, Message, flag, kind, target_of};
use super::reader::entries;
use super::session_writes::SessionWrite;
use super::shared::{Outgoing, Shared};
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
    // Node's fields, and the namespace (sio's own; Node's adapter ignores it).
    let value = object(vec![
        ("nsp", Value::from(session.namespace.as_str())),
        ("sid", Value::from(session.sid.as_str())),
        ("pid", Value::from(session.pid.as_str())),
        ("rooms", wire::room_array(&session.rooms)),
        ("data", data),
    ]);
    BASE64.encode(wire::encode_message(&value))
}

/// A session's value read back, for `namespace`: `None` if it does not decode, or names
/// another namespace (one Node saved names none).
pub(crate) fn decode(namespace: &Namespace, pid: &str, text: &[u8]) -> Option<SavedSession> {
    let bytes = BASE64.decode(text).ok()?;
    let value = wire::decode_message(&bytes).ok()?;
    if let Some(named) = field(&value, "nsp").and_then(Value::as_str)
        && named != namespace.as_str()
    {
        return None;
    }
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

/// Takes a session (`KEYS[1]`) if the process holding it (`KEYS[2]`) is still `ARGV[1]` (empty
/// for none); returns its value, or nil.
const TAKE: &str = r"
local owner = redis.call('GET', KEYS[2]) or ''
if owner ~= ARGV[1] then return false end
local session = redis.call('GET', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
return session
";

/// Whether session `session`, held by process `owner`, is still held: its socket is connected
/// to a process that lives. This one knows its sockets; another lives while it hears its own
/// channel (Redis drops a dead process's subscriptions when its connection closes).
async fn held(
    shared: &Shared,
    connection: &mut redis::aio::MultiplexedConnection,
    owner: &str,
    namespace: &Namespace,
    session: &SavedSession,
) -> Result<bool, LayerError> {
    if owner == shared.uid {
        let own = Target {
            rooms: vec![Room::from(session.sid.as_str())],
            except: Vec::new(),
        };
        let local = shared.local.get();
        return Ok(local.is_some_and(|local| !local.fetch_sockets(namespace, &own).is_empty()));
    }
    Ok(subscribers(connection, &shared.process_channel(owner)).await? > 0)
}

/// Whether a broadcast's `opts` reach a socket in `rooms` (Node's `shouldIncludePacket`).
fn reaches(rooms: &[Room], opts: Option<&Value>) -> bool {
    let target = target_of(opts);
    let included = target.rooms.is_empty() || target.rooms.iter().any(|room| rooms.contains(room));
    included && !target.except.iter().any(|room| rooms.contains(room))
}

impl super::RedisStreamsLayer {
    fn save(&self, session: &SavedSession, write: impl FnOnce(SavedSession) -> SessionWrite) {
        self.shared
            .write_session(&session.pid, write(session.clone()));
    }
}

impl SessionStore for super::RedisStreamsLayer {
    fn hold_session(&self, session: &SavedSession, ttl: Duration) {
        self.save(session, |session| SessionWrite::Hold(session, ttl));
    }

    fn release_session(&self, session: &SavedSession, ttl: Duration) {
        self.save(session, |session| SessionWrite::Release(session, ttl));
    }

    fn drop_session(&self, pid: &str) {
        self.shared.write_session(pid, SessionWrite::Drop);
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
            let (owner, session): (Option<String>, Option<Vec<u8>>) = redis::cmd("MGET")
                .arg(&owner_key)
                .arg(&key)
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            let Some(session) = session else {
                return Ok(None);
            };
            let Some(session) = decode(&namespace, &pid, &session) else {
                debug!(%namespace, "redis streams layer: a session of another namespace, or that does not decode; a fresh socket");
                return Ok(None);
            };
            if let Some(owner) = &owner
                && held(&shared, &mut connection, owner, &namespace, &session).await?
            {
                return Ok(None);
            }
            // Taken only if its holder is still the one seen: a process that held it meanwhile
            // keeps it.
            let taken: Option<Vec<u8>> = redis::cmd("EVAL")
                .arg(TAKE)
                .arg(2)
                .arg(&key)
                .arg(&owner_key)
                .arg(owner.unwrap_or_default())
                .query_async(&mut connection)
                .await
                .map_err(unavailable)?;
            let Some(taken) = taken else {
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
            Ok(decode(&namespace, &pid, &taken))
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
        let parser = shared.local.get().map_or_else(
            Default::default,
            sio_server::broadcast::LocalSockets::parser,
        );
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
                        && of_namespace(&message, &namespace, pattern.as_ref())
                        && let Some(event) = missed(&namespace, &rooms, &message, &id, parser)
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

/// Whether `message` is for `namespace`, or for the pattern it was made from.
fn of_namespace(message: &Message, namespace: &Namespace, pattern: Option<&Namespace>) -> bool {
    message.nsp == namespace.as_str()
        || pattern.is_some_and(|pattern| message.nsp == pattern.as_str())
}

/// Entry `id`, of `namespace` (or of its pattern), as an event a socket of `namespace` in
/// `rooms` missed, if it is one.
fn missed(
    namespace: &Namespace,
    rooms: &[Room],
    message: &Message,
    id: &str,
    parser: sio_core::Parser,
) -> Option<sio_core::EncodedPacket> {
    if message.kind != kind::BROADCAST || message.request_id().is_some() {
        return None;
    }
    let opts = message.get("opts");
    // Volatile events are not kept for recovery (nor given an offset when delivered).
    if flag(opts, "volatile") == Some(&Value::Boolean(true)) || !reaches(rooms, opts) {
        return None;
    }
    let packet = wire::encode_event_in(message.get("packet")?, namespace, None, parser).ok()?;
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
        let event = missed(&chat, &rooms, &message, "5-1", sio_core::Parser::Json).unwrap();
        assert_eq!(event.text.as_text(), Some(r#"42/chat,["hi",1,"5-1"]"#));
        let pattern = Namespace::new("/workspace/{id}").unwrap();
        let child = Namespace::new("/workspace/7").unwrap();
        let of_pattern = Message::new("u", &pattern, kind::BROADCAST, Value::Nil);
        assert!(of_namespace(&of_pattern, &child, Some(&pattern)));
        assert!(!of_namespace(&of_pattern, &child, None));
        assert!(!of_namespace(&message, &child, Some(&pattern)));
        let with_ack = object(vec![("requestId", Value::from("r1"))]);
        let with_ack = Message::new("u", &chat, kind::BROADCAST, with_ack);
        assert!(missed(&chat, &rooms, &with_ack, "5-2", sio_core::Parser::Json).is_none());
    }
}
