//! The Redis channel names of one namespace, as `@socket.io/redis-adapter` names them.

use sio_core::Namespace;
use sio_server::Room;

/// The channels of one namespace under the key prefix (`socket.io` by default).
#[derive(Debug, Clone)]
pub(crate) struct Channels {
    pub(crate) namespace: Namespace,
    /// Broadcasts: `{key}#{nsp}#`, followed by `{room}#` when a broadcast names one room.
    pub(crate) broadcast: String,
    /// Requests to every process: `{key}-request#{nsp}#`.
    pub(crate) request: String,
    /// Responses: `{key}-response#{nsp}#`.
    pub(crate) response: String,
    /// Responses meant for this process only: `{key}-response#{nsp}#{uid}#`.
    pub(crate) specific_response: String,
}

impl Channels {
    pub(crate) fn new(key: &str, namespace: &Namespace, uid: &str) -> Self {
        let name = namespace.as_str();
        let response = format!("{key}-response#{name}#");
        Channels {
            namespace: namespace.clone(),
            broadcast: format!("{key}#{name}#"),
            request: format!("{key}-request#{name}#"),
            specific_response: format!("{response}{uid}#"),
            response,
        }
    }

    /// The pattern that matches every broadcast of the namespace.
    pub(crate) fn broadcast_pattern(&self) -> String {
        format!("{}*", self.broadcast)
    }

    /// Where a broadcast to `rooms` goes: the room's own channel when there is exactly one.
    pub(crate) fn broadcast_to(&self, rooms: &[Room]) -> String {
        match rooms {
            [room] => format!("{}{room}#", self.broadcast),
            _ => self.broadcast.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_the_node_adapter() {
        let channels = Channels::new("socket.io", &Namespace::new("/chat").unwrap(), "abc123");
        assert_eq!(channels.broadcast_to(&[]), "socket.io#/chat#");
        assert_eq!(
            channels.broadcast_to(&[Room::from("lobby")]),
            "socket.io#/chat#lobby#"
        );
        assert_eq!(channels.broadcast_pattern(), "socket.io#/chat#*");
        assert_eq!(channels.request, "socket.io-request#/chat#");
        assert_eq!(channels.response, "socket.io-response#/chat#");
        assert_eq!(
            channels.specific_response,
            "socket.io-response#/chat#abc123#"
        );
    }
}
