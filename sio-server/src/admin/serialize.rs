//! Sockets as the Admin UI lists them.

use serde_json::{Map, Value, json};

use crate::broadcast::RemoteSocket;
use crate::socket::Socket;

/// What development mode adds to a local socket's data, as Node's instrument does:
/// `_admin: {clientId, transport}` (the first 12 characters of the connection's id).
pub(crate) fn admin_data(socket: &Socket) -> Value {
    let sid = socket.connection().sid().to_string();
    json!({
        "clientId": sid.chars().take(12).collect::<String>(),
        "transport": socket.transport().as_str(),
    })
}

/// `data` with `_admin` set, when `data` is an object (or nothing yet).
pub(crate) fn with_admin(data: Value, admin: Value) -> Value {
    match data {
        Value::Object(mut map) => {
            map.insert("_admin".to_owned(), admin);
            Value::Object(map)
        }
        Value::Null => json!({ "_admin": admin }),
        other => other,
    }
}

/// A socket's data as the UI shows it: without what development mode adds (`_admin`).
pub(crate) fn without_admin(data: Value) -> Value {
    match data {
        Value::Object(mut map) => {
            map.remove("_admin");
            Value::Object(map)
        }
        other => other,
    }
}

/// A socket of any process as the UI lists it: `{id, clientId, transport, nsp, data,
/// handshake, rooms}`, its data without `_admin`, its handshake without its auth.
pub(crate) fn socket_entry(socket: &RemoteSocket) -> Value {
    let data: Value = socket.data().deserialize().unwrap_or(Value::Null);
    let admin = data.get("_admin").cloned().unwrap_or(Value::Null);
    let data = without_admin(data);
    let handshake: Value = socket.handshake().deserialize().unwrap_or(Value::Null);
    let mut shown = Map::new();
    for key in [
        "headers", "query", "issued", "secure", "time", "url", "xdomain",
    ] {
        if let Some(value) = handshake.get(key) {
            shown.insert(key.to_owned(), value.clone());
        }
    }
    let headers = handshake.get("headers");
    let address = ["cf-connecting-ip", "x-forwarded-for"]
        .iter()
        .find_map(|name| headers.and_then(|h| h.get(name)).cloned())
        .or_else(|| handshake.get("address").cloned())
        .unwrap_or(Value::Null);
    shown.insert("address".to_owned(), address);
    json!({
        "id": socket.id().as_str(),
        "clientId": admin.get("clientId"),
        "transport": admin.get("transport"),
        "nsp": socket.namespace().as_str(),
        "data": data,
        "handshake": shown,
        "rooms": socket.rooms().iter().map(|room| room.as_str()).collect::<Vec<_>>(),
    })
}
