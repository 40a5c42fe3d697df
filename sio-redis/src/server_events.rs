//! Server-side events between processes (`serverSideEmit`), both ways, in the adapter's form:
//! a request `{uid, type: 6, data: [name, ...args]}` on the namespace's request channel, with a
//! `requestId` when the sender waits for answers, and one response `{type: 6, requestId, data}`
//! per process that answers, `data` being the first argument of its answer.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};
use rmpv::Value;
use sio_core::{Args, Namespace};
use sio_server::ServerEvent;
use sio_server::broadcast::{LayerError, LocalSockets, ServerAckEvent, ServerSideEmit};
use tokio::sync::mpsc;
use tracing::{debug, warn};

use crate::channels::Channels;
use crate::responses::{gather_answers, stream_of};
use crate::shared::{Outgoing, Shared, request_type};
use crate::wire::{self, field};

/// The request's `data`: the event name, then its arguments with their binaries in place.
pub(crate) fn data(event: &ServerSideEmit) -> Option<Value> {
    let args = wire::json_to_value(event.args.json().unwrap_or("[]"), &event.attachments).ok()?;
    let Value::Array(args) = args else {
        return None;
    };
    let mut data = Vec::with_capacity(args.len() + 1);
    data.push(Value::from(event.name.as_str()));
    data.extend(args);
    Some(Value::Array(data))
}

/// Publishes `event` to the other processes, expecting no answer.
pub(crate) fn emit(shared: &Shared, event: &ServerSideEmit) {
    let Some(data) = data(event) else {
        warn!(event = %event.name, "redis layer: a server-side event that does not convert; not sent");
        return;
    };
    // Nothing comes back, so the namespace need not be heard here.
    let channels = Channels::new(&shared.key, &event.namespace, &shared.uid);
    let request = wire::object(vec![
        ("uid", Value::from(shared.uid.as_str())),
        ("type", Value::from(request_type::SERVER_SIDE_EMIT)),
        ("data", data),
    ]);
    shared.publish(Outgoing::Message {
        channel: channels.request,
        payload: wire::encode_message(&request),
    });
}

/// Publishes `event` to the other processes and yields how many were asked, then their
/// answers, until each answered or `timeout` passed.
pub(crate) fn emit_with_ack(
    shared: &Arc<Shared>,
    event: &ServerSideEmit,
    timeout: Duration,
    local: &LocalSockets,
) -> BoxStream<'static, ServerAckEvent> {
    let failed = |reason: String| {
        stream::iter([ServerAckEvent::Failed(LayerError::Unavailable(reason))]).boxed()
    };
    let Some(data) = data(event) else {
        return failed("the event does not convert to the adapter's form".to_owned());
    };
    // The answers come on the namespace's response channel, which this process must hear.
    let Some(route) = shared.route(&event.namespace, local) else {
        let reason = if shared.channels(event.namespace.as_str()).is_some() {
            "not subscribed to Redis".to_owned()
        } else {
            format!(
                "this process does not serve namespace `{}`, so it cannot hear the answers",
                event.namespace
            )
        };
        return failed(reason);
    };
    let shared = Arc::clone(shared);
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let request = crate::requests::send(&shared, &route, timeout, |id| {
            wire::encode_message(&wire::object(vec![
                ("uid", Value::from(shared.uid.as_str())),
                ("requestId", Value::from(id)),
                ("type", Value::from(request_type::SERVER_SIDE_EMIT)),
                ("data", data),
            ]))
        })
        .await;
        gather_answers(request, &sender, |response| {
            let kind = field(response, "type").and_then(Value::as_u64);
            (kind == Some(request_type::SERVER_SIDE_EMIT))
                .then(|| crate::layer::ack_response(field(response, "data").unwrap_or(&Value::Nil)))
        })
        .await;
    });
    stream_of(receiver)
}

/// Another process's server-side event: handed to this process's handler of the namespace,
/// whose answer, if the sender waits for one, goes back on the response channel.
pub(crate) fn on_request(
    shared: &Arc<Shared>,
    local: &LocalSockets,
    channels: &Channels,
    namespace: &Namespace,
    request: &Value,
) {
    let Some(event) = field(request, "data").and_then(decode) else {
        warn!(%namespace, "redis layer: ignoring a server-side event without a [name, ...args] array");
        return;
    };
    let event = match field(request, "requestId").and_then(Value::as_str) {
        Some(request_id) => {
            let shared = Arc::clone(shared);
            let channel = channels.response.clone();
            let request_id = request_id.to_owned();
            event.with_reply(move |reply| {
                // Node's adapter relays the answer's first argument.
                let answer = wire::first_argument(&reply);
                let response = wire::object(vec![
                    ("type", Value::from(request_type::SERVER_SIDE_EMIT)),
                    ("requestId", Value::from(request_id)),
                    ("data", answer),
                ]);
                shared.publish(Outgoing::Message {
                    channel,
                    payload: wire::encode_message(&response),
                });
            })
        }
        None => event,
    };
    if !local.server_side_event(namespace, event) {
        debug!(%namespace, "redis layer: a server-side event no handler here took");
    }
}

/// The event of a `[name, ...args]` array.
pub(crate) fn decode(data: &Value) -> Option<ServerEvent> {
    let data = data.as_array()?;
    let (name, args) = data.split_first()?;
    let name = name.as_str()?;
    let mut json = String::from("[");
    let mut attachments = Vec::new();
    for (index, arg) in args.iter().enumerate() {
        if index > 0 {
            json.push(',');
        }
        wire::write_json(arg, &mut json, &mut attachments);
    }
    json.push(']');
    let args = Args::from_array(json).ok()?;
    Some(ServerEvent::new(name, args, attachments))
}
