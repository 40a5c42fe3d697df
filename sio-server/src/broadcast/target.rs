//! Which sockets a broadcast reaches: rooms, and rooms to skip.

use std::fmt;
use std::sync::Arc;

use crate::socket::SocketId;

/// A room name. Every socket is in the room named by its own id.
///
/// ```
/// use sio_server::{Room, SocketId};
/// assert_eq!(Room::from("lobby").as_str(), "lobby");
/// let id = SocketId::from("Nb3x");
/// assert_eq!(Room::from(&id).as_str(), "Nb3x"); // the room of one socket
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Room(Arc<str>);

impl Room {
    /// The room name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for Room {
    fn from(name: &str) -> Self {
        Room(name.into())
    }
}

impl From<String> for Room {
    fn from(name: String) -> Self {
        Room(name.into())
    }
}

impl From<&String> for Room {
    fn from(name: &String) -> Self {
        Room(name.as_str().into())
    }
}

impl From<&SocketId> for Room {
    fn from(id: &SocketId) -> Self {
        Room(id.shared_str())
    }
}

impl From<&Room> for Room {
    fn from(room: &Room) -> Self {
        room.clone()
    }
}

impl fmt::Display for Room {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Which sockets a broadcast reaches.
///
/// ```
/// use sio_server::broadcast::Target;
/// let target = Target { rooms: vec!["lobby".into()], except: vec!["muted".into()] };
/// assert_ne!(target, Target::default()); // the default reaches every socket
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Only sockets in any of these rooms; every socket when empty.
    pub rooms: Vec<Room>,
    /// Not the sockets in any of these rooms.
    pub except: Vec<Room>,
}
