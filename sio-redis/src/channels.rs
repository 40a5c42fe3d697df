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

    /// The pattern that matches every broadcast of the namespace: its channel, with the glob
    /// characters Redis knows escaped (a namespace `/a*` hears `/a*` alone, and the pattern
    /// `/files/{*path}` its own channel), then `*`.
    pub(crate) fn broadcast_pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.broadcast.len() + 4);
        for c in self.broadcast.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('*');
        pattern
    }

    /// The namespace a channel of the adapter under `key` belongs to, as written in its name:
    /// a namespace holds no `#`.
    pub(crate) fn namespace_of<'a>(key: &str, channel: &'a str) -> Option<&'a str> {
        let rest = channel.strip_prefix(key)?;
        let rest = ["#", "-request#", "-response#"]
            .iter()
            .find_map(|kind| rest.strip_prefix(kind))?;
        rest.split_once('#').map(|(namespace, _)| namespace)
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

    #[test]
    fn glob_characters_are_heard_as_themselves() {
        let files = Namespace::new("/files/{*path}").unwrap();
        let channels = Channels::new("socket.io", &files, "abc123");
        assert_eq!(channels.broadcast_pattern(), "socket.io#/files/{\\*path}#*");
        let odd = Namespace::new("/a[1]\\").unwrap();
        assert_eq!(
            Channels::new("k", &odd, "u").broadcast_pattern(),
            "k#/a\\[1\\]\\\\#*"
        );
    }

    #[test]
    fn a_channel_names_its_namespace() {
        let of = |channel| Channels::namespace_of("socket.io", channel);
        assert_eq!(of("socket.io#/chat#"), Some("/chat"));
        assert_eq!(of("socket.io#/chat#lobby#"), Some("/chat"));
        assert_eq!(
            of("socket.io-request#/workspace/{id}#"),
            Some("/workspace/{id}")
        );
        assert_eq!(of("socket.io-response#/#abc123#"), Some("/"));
        assert_eq!(of("socket.io-other#/chat#"), None);
        assert_eq!(of("socket.io#/chat"), None);
    }
}
