//! Development mode: the UI is told of each socket's arrival, rooms, events and departure as
//! they happen (Node's verbose listeners).

use serde_json::{Value, json};

use super::serialize::{socket_entry, without_admin};
use crate::args::Args;
use crate::broadcast::Room;
use crate::socket::{Socket, now_millis};
use crate::{DisconnectReason, WeakServer};

/// What tells the admin namespace of the server's sockets. Called with no lock of the socket
/// held: what it emits may go to that very socket (an admin socket joining a room).
#[derive(Debug)]
pub(crate) struct Notifier {
    pub(crate) namespace: String,
    pub(crate) server: WeakServer,
}

/// An event's name and arguments, as the UI shows them: JSON values, each in its place (one
/// that does not read as JSON shown as `null`).
fn as_json(name: &str, args: impl Iterator<Item = sio_core::RawArg>) -> Vec<Value> {
    std::iter::once(Value::from(name))
        .chain(args.map(|raw| raw.to_json().deserialize().unwrap_or(Value::Null)))
        .collect()
}

/// Now, as JavaScript's JSON writes a `Date`.
fn now() -> String {
    sio_core::iso_date(i64::try_from(now_millis()).unwrap_or(i64::MAX))
}

impl Notifier {
    fn emit<T: serde::Serialize>(&self, event: &str, args: T)
    where
        Args<T>: crate::EmitArgs,
    {
        if let Some(server) = self.server.upgrade() {
            let _ = server.of(&self.namespace).emit(event, Args(args));
        }
    }

    fn is_admin(&self, socket: &Socket) -> bool {
        socket.namespace().as_str() == self.namespace
    }

    pub(crate) fn socket_connected(&self, socket: &Socket) {
        let entry = socket_entry(&crate::broadcast::describe(socket, true));
        self.emit("socket_connected", (entry, now()));
    }

    pub(crate) fn socket_disconnected(&self, socket: &Socket, reason: DisconnectReason) {
        let nsp = socket.namespace().as_str();
        self.emit(
            "socket_disconnected",
            (nsp, socket.id().as_str(), reason.as_str(), now()),
        );
    }

    pub(crate) fn room_joined(&self, socket: &Socket, room: &Room) {
        let nsp = socket.namespace().as_str();
        self.emit(
            "room_joined",
            (nsp, room.as_str(), socket.id().as_str(), now()),
        );
    }

    pub(crate) fn room_left(&self, socket: &Socket, room: &Room) {
        let nsp = socket.namespace().as_str();
        self.emit(
            "room_left",
            (nsp, room.as_str(), socket.id().as_str(), now()),
        );
    }

    /// An event from a client of another namespace: its name and arguments (as JSON).
    pub(crate) fn event_received(&self, socket: &Socket, event: &crate::IncomingEvent) {
        if self.is_admin(socket) {
            return;
        }
        let args = as_json(event.name(), (0..event.len()).filter_map(|i| event.raw(i)));
        let nsp = socket.namespace().as_str();
        self.emit("event_received", (nsp, socket.id().as_str(), args, now()));
    }

    /// An event went to a client of another namespace: its name and arguments (as JSON).
    pub(crate) fn event_sent(&self, socket: &Socket, packet: &sio_core::EncodedPacket) {
        if self.is_admin(socket) {
            return;
        }
        let Some(event) = crate::socket::OutgoingEvent::from_packet(packet) else {
            return;
        };
        let args = as_json(event.name(), (0..event.len()).filter_map(|i| event.raw(i)));
        let nsp = socket.namespace().as_str();
        self.emit("event_sent", (nsp, socket.id().as_str(), args, now()));
    }

    /// The socket's data was set (Node's instrument proxies `socket.data` for this): the UI
    /// shows it as it is now, without `_admin`.
    pub(crate) fn data_updated(&self, socket: &Socket) {
        let Ok(data) = socket.data().deserialize::<Value>() else {
            return;
        };
        let data = without_admin(data);
        self.emit(
            "socket_updated",
            (json!({
                "id": socket.id().as_str(),
                "nsp": socket.namespace().as_str(),
                "data": data,
            }),),
        );
    }

    /// The socket's connection went over to WebSocket.
    pub(crate) fn upgraded(&self, socket: &Socket) {
        self.emit(
            "socket_updated",
            (json!({
                "id": socket.id().as_str(),
                "nsp": socket.namespace().as_str(),
                "transport": "websocket",
            }),),
        );
    }
}
