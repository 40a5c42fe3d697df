//! What other processes send: broadcasts to deliver here, requests to answer, and responses to
//! this process's requests.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use rmpv::Value;
use serde_json::json;
use sio_core::Namespace;
use sio_server::SocketId;
use sio_server::broadcast::{Broadcast, LocalSockets, Operation, Room, Target};
use tracing::{debug, warn};

use crate::channels::Channels;
use crate::shared::{Outgoing, Shared, request_type};
use crate::wire::{self, field, room_names};

/// The longest another process may make this one wait for its sockets' acks.
const MAX_ACK_TIMEOUT: Duration = Duration::from_secs(60);

pub(crate) fn handle(shared: &Arc<Shared>, message: &redis::Msg) {
    let Some(local) = shared.local.get() else {
        return;
    };
    let payload = message.get_payload_bytes();
    let value = match wire::decode_message(payload) {
        Ok(value) => value,
        Err(err) => {
            warn!(channel = message.get_channel_name(), error = %err, "redis layer: ignoring a malformed message");
            return;
        }
    };
    let channel = message.get_channel_name();
    let name = Channels::namespace_of(&shared.key, channel);
    let Some(channels) = name.and_then(|name| shared.channels(name)) else {
        // A namespace that went a moment ago, not yet unsubscribed: a response still reaches
        // the request waiting for it, and a request counted on this process gets its answer.
        if channel.starts_with(&format!("{}-response#", shared.key)) {
            answer(shared, value);
        } else if let Some(gone) = name.and_then(|name| Namespace::new(name.to_owned()).ok())
            && channel.starts_with(&format!("{}-request#", shared.key))
        {
            let channels = Channels::new(&shared.key, &gone, &shared.uid);
            if field(&value, "uid").and_then(Value::as_str) != Some(shared.uid.as_str()) {
                answer_empty(shared, &channels, &value);
            }
        }
        return;
    };
    if message.from_pattern() {
        if channel.starts_with(&channels.broadcast) {
            on_broadcast(shared, local, &channels.namespace, &value);
        }
    } else if channel == channels.request {
        on_request(shared, local, &channels, &value);
    } else if channel == channels.response || channel == channels.specific_response {
        answer(shared, value);
    }
}

/// The answer of a process with no socket to the request: the requester counts on one from
/// every process that hears the channel. Requests that expect none get none.
fn answer_empty(shared: &Shared, channels: &Channels, request: &Value) {
    let Some(request_id) = field(request, "requestId").and_then(Value::as_str) else {
        return;
    };
    let empty = match field(request, "type").and_then(Value::as_u64) {
        Some(request_type::ALL_ROOMS) => json!({ "requestId": request_id, "rooms": [] }),
        Some(request_type::BROADCAST) => json!({
            "type": request_type::BROADCAST_CLIENT_COUNT, "requestId": request_id, "clientCount": 0,
        }),
        Some(request_type::SOCKETS | request_type::REMOTE_FETCH) => {
            json!({ "requestId": request_id, "sockets": [] })
        }
        // The older join, leave and disconnect (no `opts`) expect an acknowledgement.
        Some(
            request_type::REMOTE_JOIN
            | request_type::REMOTE_LEAVE
            | request_type::REMOTE_DISCONNECT,
        ) if field(request, "opts").is_none() => json!({ "requestId": request_id }),
        _ => return,
    };
    shared.publish_json(&channels.response, &empty);
}

/// Hands a response to the request of its id, if this process is waiting for it.
fn answer(shared: &Shared, response: Value) {
    let Some(id) = field(&response, "requestId").and_then(Value::as_str) else {
        return;
    };
    let id = id.to_owned();
    shared.pending.answer(&id, response);
}

/// The selection a request's `opts` (`{rooms, except}`) makes.
fn target_of(opts: Option<&Value>) -> Target {
    let names = |key| room_names(opts.and_then(|opts| field(opts, key)));
    Target {
        rooms: names("rooms").into_iter().map(Room::from).collect(),
        except: names("except").into_iter().map(Room::from).collect(),
    }
}

fn on_broadcast(
    shared: &Shared,
    local: &LocalSockets,
    channel_namespace: &Namespace,
    message: &Value,
) {
    let Some([uid, packet, opts]) = message.as_array().map(Vec::as_slice) else {
        warn!("redis layer: ignoring a broadcast that is not [uid, packet, opts]");
        return;
    };
    if uid.as_str() == Some(shared.uid.as_str()) {
        return;
    }
    match wire::encode_event(packet, None, local.parser()) {
        // As Node's adapter: a packet must name the namespace of the channel it came on.
        Ok((namespace, _)) if namespace != *channel_namespace => {
            debug!(%namespace, "redis layer: ignoring a broadcast for another namespace");
        }
        Ok((namespace, packet)) => {
            let flag = |name| {
                field(opts, "flags").and_then(|flags| field(flags, name))
                    == Some(&Value::Boolean(true))
            };
            local.deliver(&Broadcast {
                namespace,
                target: target_of(Some(opts)),
                packet,
                volatile: flag("volatile"),
            });
        }
        Err(err) => warn!(error = %err, "redis layer: ignoring a broadcast"),
    }
}

/// The namespace a request is about: the one of its channels, or, for a request that came
/// through a pattern's channels naming one (`nsp`, sio's own), that namespace if the pattern
/// makes it.
fn request_namespace(
    local: &LocalSockets,
    channels: &Channels,
    request: &Value,
) -> Option<Namespace> {
    let Some(name) = field(request, "nsp").and_then(Value::as_str) else {
        return Some(channels.namespace.clone());
    };
    let namespace = Namespace::new(name.to_owned()).ok()?;
    (local.pattern_of(&namespace).as_ref() == Some(&channels.namespace)).then_some(namespace)
}

fn on_request(shared: &Arc<Shared>, local: &LocalSockets, channels: &Channels, request: &Value) {
    if field(request, "uid").and_then(Value::as_str) == Some(shared.uid.as_str()) {
        return;
    }
    let request_id = field(request, "requestId").and_then(Value::as_str);
    let respond = |body: serde_json::Value| {
        if request_id.is_some() {
            shared.publish_json(&channels.response, &body);
        }
    };
    let Some(namespace) = &request_namespace(local, channels, request) else {
        debug!(
            "redis layer: a request for a namespace its pattern does not make here; answered empty"
        );
        answer_empty(shared, channels, request);
        return;
    };
    let opts = field(request, "opts");
    let kind = field(request, "type").and_then(Value::as_u64);
    match kind {
        Some(request_type::SOCKETS) => {
            let target = Target {
                rooms: room_names(field(request, "rooms"))
                    .into_iter()
                    .map(Room::from)
                    .collect(),
                except: Vec::new(),
            };
            let ids: Vec<String> = local
                .fetch_sockets(namespace, &target)
                .iter()
                .map(|socket| socket.id().to_string())
                .collect();
            respond(json!({ "requestId": request_id, "sockets": ids }));
        }
        Some(request_type::ALL_ROOMS) => {
            let rooms: Vec<String> = local.rooms(namespace).iter().map(Room::to_string).collect();
            respond(json!({ "requestId": request_id, "rooms": rooms }));
        }
        Some(
            kind @ (request_type::REMOTE_JOIN
            | request_type::REMOTE_LEAVE
            | request_type::REMOTE_DISCONNECT),
        ) => {
            // The current form selects with `opts`; the older one names one socket (`sid`).
            let (target, rooms) = match opts {
                Some(opts) => (target_of(Some(opts)), room_names(field(request, "rooms"))),
                None => {
                    let Some(sid) = field(request, "sid").and_then(Value::as_str) else {
                        return;
                    };
                    let room = field(request, "room")
                        .and_then(Value::as_str)
                        .map(str::to_owned);
                    let target = Target {
                        rooms: vec![Room::from(sid)],
                        except: Vec::new(),
                    };
                    (target, room.into_iter().collect())
                }
            };
            let rooms = rooms.into_iter().map(Room::from).collect();
            let operation = match kind {
                request_type::REMOTE_JOIN => Operation::Join(rooms),
                request_type::REMOTE_LEAVE => Operation::Leave(rooms),
                _ => Operation::Disconnect {
                    close: field(request, "close").and_then(Value::as_bool) == Some(true),
                },
            };
            local.apply(namespace, &target, &operation);
            if opts.is_none() {
                respond(json!({ "requestId": request_id }));
            }
        }
        Some(request_type::REMOTE_FETCH) => {
            let sockets: Vec<serde_json::Value> = local
                .fetch_sockets(namespace, &target_of(opts))
                .iter()
                .map(|socket| {
                    let mut described = json!({
                        "id": socket.id().as_str(),
                        "handshake": socket.handshake(),
                        "rooms": socket.rooms().iter().map(Room::as_str).collect::<Vec<_>>(),
                        "data": socket.data(),
                    });
                    // Asked through a pattern: say which namespace made from it holds the socket.
                    if socket.namespace() != namespace {
                        described["nsp"] = json!(socket.namespace().as_str());
                    }
                    described
                })
                .collect();
            respond(json!({ "requestId": request_id, "sockets": sockets }));
        }
        Some(request_type::BROADCAST) => {
            on_broadcast_with_ack(shared, local, channels, namespace, request);
        }
        Some(request_type::SERVER_SIDE_EMIT) => {
            crate::server_events::on_request(shared, local, channels, namespace, request);
        }
        other => debug!(kind = ?other, "redis layer: ignoring an unknown request type"),
    }
}

/// Another process's `emit_with_ack` to many: deliver here, tell it how many sockets got it,
/// then forward each socket's answer.
fn on_broadcast_with_ack(
    shared: &Arc<Shared>,
    local: &LocalSockets,
    channels: &Channels,
    namespace: &Namespace,
    request: &Value,
) {
    let Some(request_id) = field(request, "requestId").and_then(Value::as_str) else {
        return;
    };
    let Some(packet) = field(request, "packet") else {
        return;
    };
    let opts = field(request, "opts");
    let timeout = opts
        .and_then(|opts| field(opts, "flags"))
        .and_then(|flags| field(flags, "timeout"))
        .and_then(Value::as_u64)
        .map_or(shared.requests_timeout, Duration::from_millis)
        .min(MAX_ACK_TIMEOUT);
    let count_reply = |count: usize| json!({ "type": request_type::BROADCAST_CLIENT_COUNT, "requestId": request_id, "clientCount": count });
    let Some(ack_id) = local.next_ack_id(namespace) else {
        shared.publish_json(&channels.response, &count_reply(0));
        return;
    };
    let packet = match wire::encode_event(packet, Some(ack_id), local.parser()) {
        Ok((named, packet)) if named == *namespace => packet,
        Ok((named, _)) => {
            debug!(%named, %namespace, "redis layer: ignoring a broadcast with ack for another namespace");
            shared.publish_json(&channels.response, &count_reply(0));
            return;
        }
        Err(err) => {
            // The requester still counts on an answer from every process.
            warn!(error = %err, "redis layer: ignoring a broadcast with ack");
            shared.publish_json(&channels.response, &count_reply(0));
            return;
        }
    };
    let broadcast = Broadcast {
        namespace: namespace.clone(),
        target: target_of(opts),
        packet,
        volatile: false,
    };
    let delivered = local.deliver_with_ack(&broadcast, ack_id, timeout);
    let count = delivered.sent.len();
    // Which sockets, for a sio requester that asks, to tell who did not answer.
    let named = field(request, "sids").and_then(Value::as_bool) == Some(true);
    let mut reply = count_reply(count);
    if named {
        reply["sids"] = json!(
            delivered
                .sent
                .iter()
                .map(|id| id.as_str())
                .collect::<Vec<_>>()
        );
    }
    shared.publish_json(&channels.response, &reply);
    if count == 0 {
        return;
    }
    let channel = channels.response.clone();
    let request_id = request_id.to_owned();
    let forward = move |socket: &SocketId, value: Value| {
        let mut fields = vec![
            ("type", Value::from(request_type::BROADCAST_ACK)),
            ("requestId", Value::from(request_id.as_str())),
            ("packet", value),
        ];
        if named {
            fields.push(("sid", Value::from(socket.as_str())));
        }
        Outgoing::Message {
            channel: channel.clone(),
            payload: wire::encode_message(&wire::object(fields)),
        }
    };
    let shared = Arc::clone(shared);
    let mut replies = delivered.answers;
    tokio::spawn(async move {
        while let Some((socket, reply)) = replies.next().await {
            // Node's adapter relays an ack's first argument.
            let value = wire::first_argument(&reply);
            shared.publish(forward(&socket, value));
        }
    });
}
