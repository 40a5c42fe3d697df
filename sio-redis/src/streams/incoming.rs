//! What the stream and the channels bring: broadcasts and operations to apply here, requests
//! to answer, and responses to this process's requests, as Node's `ClusterAdapter.onMessage`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use rmpv::Value;
use sio_core::Namespace;
use sio_server::SocketId;
use sio_server::broadcast::{Broadcast, LocalSockets, Operation, Room};
use tracing::{debug, warn};

use super::message::{self, Message, flag, kind, target_of};
use super::shared::Shared;
use crate::wire::{self, object, room_names};

/// The longest another process may make this one wait for its sockets' acks.
const MAX_ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// An entry of the stream, at `id`. Broadcasts and operations are applied whoever appended
/// them, this process included (it applies its own when it reads them back).
pub(crate) fn on_entry(shared: &Arc<Shared>, local: &LocalSockets, message: Message, id: &str) {
    match message.kind {
        kind::BROADCAST if message.request_id().is_none() => {
            let Some(broadcast) = broadcast_of(&message, local.parser()) else {
                return;
            };
            match message::position(id) {
                Some(position) => {
                    local.deliver_logged(&broadcast, id, position);
                }
                None => {
                    local.deliver(&broadcast);
                }
            }
        }
        kind::SOCKETS_JOIN | kind::SOCKETS_LEAVE | kind::DISCONNECT_SOCKETS => {
            apply(local, &message);
        }
        _ if message.uid == shared.uid => {}
        // Requests and responses came on the stream before version 0.3.0 of Node's adapter.
        _ => on_message(shared, local, message),
    }
}

/// A message on the channels, from another process.
pub(crate) fn on_pubsub(shared: &Arc<Shared>, local: &LocalSockets, message: Message) {
    if message.uid != shared.uid {
        on_message(shared, local, message);
    }
}

fn on_message(shared: &Arc<Shared>, local: &LocalSockets, message: Message) {
    match message.kind {
        kind::BROADCAST if message.request_id().is_some() => {
            on_broadcast_with_ack(shared, local, &message);
        }
        kind::BROADCAST => {
            if let Some(broadcast) = broadcast_of(&message, local.parser()) {
                local.deliver(&broadcast);
            }
        }
        kind::SOCKETS_JOIN | kind::SOCKETS_LEAVE | kind::DISCONNECT_SOCKETS => {
            apply(local, &message);
        }
        kind::FETCH_SOCKETS => on_fetch_sockets(shared, local, &message),
        kind::SERVER_SIDE_EMIT => on_server_side_emit(shared, local, &message),
        kind::FETCH_SOCKETS_RESPONSE
        | kind::SERVER_SIDE_EMIT_RESPONSE
        | kind::BROADCAST_CLIENT_COUNT
        | kind::BROADCAST_ACK => shared.answer(message),
        other => debug!(kind = other, "redis streams layer: ignoring a message type"),
    }
}

fn namespace_of(message: &Message) -> Option<Namespace> {
    match Namespace::new(message.nsp.clone()) {
        Ok(namespace) => Some(namespace),
        Err(err) => {
            warn!(error = %err, "redis streams layer: ignoring a message for an invalid namespace");
            None
        }
    }
}

/// The broadcast a BROADCAST message carries.
fn broadcast_of(message: &Message, parser: sio_core::Parser) -> Option<Broadcast> {
    let namespace = namespace_of(message)?;
    let packet = message.get("packet")?;
    let opts = message.get("opts");
    match wire::encode_event_in(packet, &namespace, None, parser) {
        Ok(packet) => Some(Broadcast {
            namespace,
            target: target_of(opts),
            packet,
            volatile: flag(opts, "volatile") == Some(&Value::Boolean(true)),
        }),
        Err(err) => {
            warn!(error = %err, "redis streams layer: ignoring a broadcast");
            None
        }
    }
}

fn apply(local: &LocalSockets, message: &Message) {
    let Some(namespace) = namespace_of(message) else {
        return;
    };
    let rooms = || -> Vec<Room> {
        room_names(message.get("rooms"))
            .into_iter()
            .map(Room::from)
            .collect()
    };
    let operation = match message.kind {
        kind::SOCKETS_JOIN => Operation::Join(rooms()),
        kind::SOCKETS_LEAVE => Operation::Leave(rooms()),
        _ => Operation::Disconnect {
            close: message.get("close").and_then(Value::as_bool) == Some(true),
        },
    };
    local.apply(&namespace, &target_of(message.get("opts")), &operation);
}

fn on_fetch_sockets(shared: &Shared, local: &LocalSockets, message: &Message) {
    let (Some(namespace), Some(request_id)) = (namespace_of(message), message.request_id()) else {
        return;
    };
    let json =
        |raw: &sio_core::RawJson| wire::json_to_value(raw.as_str(), &[]).unwrap_or(Value::Nil);
    let sockets = local
        .fetch_sockets(&namespace, &target_of(message.get("opts")))
        .iter()
        .map(|socket| {
            let mut fields = vec![
                ("id", Value::from(socket.id().as_str())),
                ("handshake", json(socket.handshake())),
                ("rooms", wire::room_array(socket.rooms())),
                ("data", json(socket.data())),
            ];
            // Asked through a pattern: which namespace made from it holds the socket.
            if *socket.namespace() != namespace {
                fields.push(("nsp", Value::from(socket.namespace().as_str())));
            }
            object(fields)
        })
        .collect();
    let data = object(vec![
        ("requestId", Value::from(request_id)),
        ("sockets", Value::Array(sockets)),
    ]);
    shared.respond(
        &message.nsp,
        &message.uid,
        kind::FETCH_SOCKETS_RESPONSE,
        data,
    );
}

fn on_server_side_emit(shared: &Arc<Shared>, local: &LocalSockets, message: &Message) {
    let Some(namespace) = namespace_of(message) else {
        return;
    };
    let Some(event) = message.get("packet").and_then(crate::server_events::decode) else {
        warn!(%namespace, "redis streams layer: ignoring a server-side event without a [name, ...args] array");
        return;
    };
    let event = match message.request_id() {
        Some(request_id) => {
            let shared = Arc::clone(shared);
            let (nsp, uid, request_id) = (
                message.nsp.clone(),
                message.uid.clone(),
                request_id.to_owned(),
            );
            event.with_reply(move |reply| {
                let data = object(vec![
                    ("requestId", Value::from(request_id)),
                    ("packet", wire::first_argument(&reply)),
                ]);
                shared.respond(&nsp, &uid, kind::SERVER_SIDE_EMIT_RESPONSE, data);
            })
        }
        None => event,
    };
    if !local.server_side_event(&namespace, event) {
        debug!(%namespace, "redis streams layer: a server-side event no handler here took");
    }
}

/// Another process's `emit_with_ack` to many: delivered here, then how many sockets got it,
/// then each socket's answer, go back to it.
fn on_broadcast_with_ack(shared: &Arc<Shared>, local: &LocalSockets, message: &Message) {
    let (Some(namespace), Some(request_id)) = (namespace_of(message), message.request_id()) else {
        return;
    };
    let opts = message.get("opts");
    let timeout = flag(opts, "timeout")
        .and_then(Value::as_u64)
        .map_or(shared.options.requests_timeout, Duration::from_millis)
        .min(MAX_ACK_TIMEOUT);
    // Which sockets, for a sio requester that asks, to tell who did not answer.
    let named = message.get("sids").and_then(Value::as_bool) == Some(true);
    let count = |count: usize, sids: Option<Vec<Value>>| {
        let mut fields = vec![
            ("requestId", Value::from(request_id)),
            ("clientCount", Value::from(count as u64)),
        ];
        if let Some(sids) = sids.filter(|_| named) {
            fields.push(("sids", Value::Array(sids)));
        }
        shared.respond(
            &message.nsp,
            &message.uid,
            kind::BROADCAST_CLIENT_COUNT,
            object(fields),
        );
    };
    let Some(ack_id) = local.next_ack_id(&namespace) else {
        count(0, Some(Vec::new()));
        return;
    };
    let packet = match message
        .get("packet")
        .map(|packet| wire::encode_event_in(packet, &namespace, Some(ack_id), local.parser()))
    {
        Some(Ok(packet)) => packet,
        other => {
            if let Some(Err(err)) = other {
                warn!(error = %err, "redis streams layer: ignoring a broadcast with ack");
            }
            // The requester still counts on an answer from every process.
            count(0, Some(Vec::new()));
            return;
        }
    };
    let broadcast = Broadcast {
        namespace,
        target: target_of(opts),
        packet,
        volatile: false,
    };
    let delivered = local.deliver_with_ack(&broadcast, ack_id, timeout);
    let sids = delivered
        .sent
        .iter()
        .map(|id| Value::from(id.as_str()))
        .collect();
    count(delivered.sent.len(), Some(sids));
    if delivered.sent.is_empty() {
        return;
    }
    let shared = Arc::clone(shared);
    let (nsp, uid, request_id) = (
        message.nsp.clone(),
        message.uid.clone(),
        request_id.to_owned(),
    );
    let mut answers = delivered.answers;
    tokio::spawn(async move {
        while let Some((socket, reply)) = answers.next().await {
            let socket: SocketId = socket;
            let mut fields = vec![
                ("requestId", Value::from(request_id.as_str())),
                ("packet", wire::first_argument(&reply)),
            ];
            if named {
                fields.push(("sid", Value::from(socket.as_str())));
            }
            shared.respond(&nsp, &uid, kind::BROADCAST_ACK, object(fields));
        }
    });
}
