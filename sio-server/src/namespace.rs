//! A namespace in this process: its consumer, its sockets, and their rooms.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use sio_core::{AckId, Namespace, RawJson};
use tokio::sync::{mpsc, watch};

use crate::{DisconnectReason, IncomingEvent, Socket, SocketId};

/// A room name. Every socket is in the room named by its own id.
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
        Room(Arc::clone(&id.0))
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

/// Starts the consumer task of a new socket.
pub(crate) type Spawner = Box<
    dyn Fn(
            Socket,
            Option<RawJson>,
            mpsc::Receiver<Box<IncomingEvent>>,
            watch::Receiver<Option<DisconnectReason>>,
        ) + Send
        + Sync,
>;

#[derive(Default)]
struct Members {
    sockets: HashMap<SocketId, Socket>,
    rooms: HashMap<Room, HashSet<SocketId>>,
    socket_rooms: HashMap<SocketId, HashSet<Room>>,
}

pub(crate) struct NamespaceInner {
    pub(crate) name: Namespace,
    pub(crate) spawner: Spawner,
    members: Mutex<Members>,
    /// Ack ids of this namespace's server-to-client emits, shared by direct and broadcast emits
    /// so they never collide on a socket.
    next_ack: AtomicU64,
}

/// Which sockets a broadcast reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Target {
    /// Only sockets in any of these rooms; every socket when empty.
    pub rooms: Vec<Room>,
    /// Not the sockets in any of these rooms.
    pub except: Vec<Room>,
}

impl NamespaceInner {
    pub(crate) fn new(name: Namespace, spawner: Spawner) -> Self {
        NamespaceInner {
            name,
            spawner,
            members: Mutex::new(Members::default()),
            next_ack: AtomicU64::new(0),
        }
    }

    fn members(&self) -> MutexGuard<'_, Members> {
        self.members
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    pub(crate) fn next_ack_id(&self) -> AckId {
        AckId(self.next_ack.fetch_add(1, Ordering::Relaxed))
    }

    /// Registers an admitted socket, in the room of its own id.
    pub(crate) fn add(&self, socket: &Socket) {
        let id = socket.id().clone();
        self.members().sockets.insert(id.clone(), socket.clone());
        self.join(socket, Room::from(&id));
    }

    pub(crate) fn join(&self, socket: &Socket, room: Room) {
        let mut members = self.members();
        let id = socket.id().clone();
        if !members.sockets.contains_key(&id) {
            return;
        }
        members
            .rooms
            .entry(room.clone())
            .or_default()
            .insert(id.clone());
        members.socket_rooms.entry(id).or_default().insert(room);
    }

    pub(crate) fn leave(&self, id: &SocketId, room: &Room) {
        let mut members = self.members();
        if let Some(ids) = members.rooms.get_mut(room) {
            ids.remove(id);
            if ids.is_empty() {
                members.rooms.remove(room);
            }
        }
        if let Some(rooms) = members.socket_rooms.get_mut(id) {
            rooms.remove(room);
        }
    }

    pub(crate) fn remove(&self, id: &SocketId) {
        let mut members = self.members();
        members.sockets.remove(id);
        for room in members.socket_rooms.remove(id).unwrap_or_default() {
            if let Some(ids) = members.rooms.get_mut(&room) {
                ids.remove(id);
                if ids.is_empty() {
                    members.rooms.remove(&room);
                }
            }
        }
    }

    pub(crate) fn rooms_of(&self, id: &SocketId) -> Vec<Room> {
        let mut rooms: Vec<Room> = self
            .members()
            .socket_rooms
            .get(id)
            .map(|rooms| rooms.iter().cloned().collect())
            .unwrap_or_default();
        rooms.sort();
        rooms
    }

    /// Every room with at least one socket.
    pub(crate) fn all_rooms(&self) -> Vec<Room> {
        let mut rooms: Vec<Room> = self.members().rooms.keys().cloned().collect();
        rooms.sort();
        rooms
    }

    /// The local sockets `target` reaches, `except_socket` left out.
    pub(crate) fn matching(
        &self,
        target: &Target,
        except_socket: Option<&SocketId>,
    ) -> Vec<Socket> {
        let members = self.members();
        let excluded: HashSet<&SocketId> = target
            .except
            .iter()
            .filter_map(|room| members.rooms.get(room))
            .flatten()
            .chain(except_socket)
            .collect();
        let keep = |id: &SocketId| !excluded.contains(id);
        if target.rooms.is_empty() {
            return members
                .sockets
                .iter()
                .filter(|(id, _)| keep(id))
                .map(|(_, socket)| socket.clone())
                .collect();
        }
        let mut seen = HashSet::new();
        target
            .rooms
            .iter()
            .filter_map(|room| members.rooms.get(room))
            .flatten()
            .filter(|id| keep(id) && seen.insert(*id))
            .filter_map(|id| members.sockets.get(id).cloned())
            .collect()
    }

    pub(crate) fn socket_count(&self) -> usize {
        self.members().sockets.len()
    }
}
