//! Who is in a namespace, and in which rooms: the selection every broadcast makes.

use std::collections::{HashMap, HashSet};

use crate::broadcast::{Room, Target};
use crate::socket::SocketId;

/// The sockets of one namespace by id, and their rooms both ways. `S` is the socket handle (a
/// `Socket` in the server; anything cheap to clone in tests).
#[derive(Debug)]
pub(crate) struct Members<S> {
    sockets: HashMap<SocketId, S>,
    rooms: HashMap<Room, HashSet<SocketId>>,
    socket_rooms: HashMap<SocketId, HashSet<Room>>,
}

impl<S> Default for Members<S> {
    fn default() -> Self {
        Members {
            sockets: HashMap::new(),
            rooms: HashMap::new(),
            socket_rooms: HashMap::new(),
        }
    }
}

impl<S: Clone> Members<S> {
    /// Admits a socket, in the room of its own id.
    pub(crate) fn add(&mut self, id: &SocketId, socket: S) {
        self.sockets.insert(id.clone(), socket);
        self.join(id, Room::from(id));
    }

    /// Puts an admitted socket in `room`; a socket not admitted joins nothing.
    pub(crate) fn join(&mut self, id: &SocketId, room: Room) {
        if !self.sockets.contains_key(id) {
            return;
        }
        self.rooms
            .entry(room.clone())
            .or_default()
            .insert(id.clone());
        self.socket_rooms
            .entry(id.clone())
            .or_default()
            .insert(room);
    }

    pub(crate) fn leave(&mut self, id: &SocketId, room: &Room) {
        if let Some(ids) = self.rooms.get_mut(room) {
            ids.remove(id);
            if ids.is_empty() {
                self.rooms.remove(room);
            }
        }
        if let Some(rooms) = self.socket_rooms.get_mut(id) {
            rooms.remove(room);
        }
    }

    /// Takes a socket out, with all its rooms; a room left empty is gone.
    pub(crate) fn remove(&mut self, id: &SocketId) {
        self.sockets.remove(id);
        for room in self.socket_rooms.remove(id).unwrap_or_default() {
            if let Some(ids) = self.rooms.get_mut(&room) {
                ids.remove(id);
                if ids.is_empty() {
                    self.rooms.remove(&room);
                }
            }
        }
    }

    /// The rooms of a socket, sorted.
    pub(crate) fn rooms_of(&self, id: &SocketId) -> Vec<Room> {
        let mut rooms: Vec<Room> = self
            .socket_rooms
            .get(id)
            .map(|rooms| rooms.iter().cloned().collect())
            .unwrap_or_default();
        rooms.sort();
        rooms
    }

    /// Every room with at least one socket, sorted.
    pub(crate) fn all_rooms(&self) -> Vec<Room> {
        let mut rooms: Vec<Room> = self.rooms.keys().cloned().collect();
        rooms.sort();
        rooms
    }

    /// The sockets `target` reaches, `except_socket` left out, each once.
    pub(crate) fn matching(&self, target: &Target, except_socket: Option<&SocketId>) -> Vec<S> {
        let excluded: HashSet<&SocketId> = target
            .except
            .iter()
            .filter_map(|room| self.rooms.get(room))
            .flatten()
            .chain(except_socket)
            .collect();
        let keep = |id: &SocketId| !excluded.contains(id);
        if target.rooms.is_empty() {
            return self
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
            .filter_map(|room| self.rooms.get(room))
            .flatten()
            .filter(|id| keep(id) && seen.insert(*id))
            .filter_map(|id| self.sockets.get(id).cloned())
            .collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.sockets.len()
    }
}

#[cfg(test)]
mod tests {
    use super::Members;
    use crate::broadcast::{Room, Target};
    use crate::socket::SocketId;

    /// Sockets `a`, `b`, `c`: `a` and `b` in `lobby`, `b` and `c` in `muted`.
    fn members() -> Members<&'static str> {
        let mut members = Members::default();
        for name in ["a", "b", "c"] {
            members.add(&SocketId::from(name), name);
        }
        members.join(&SocketId::from("a"), Room::from("lobby"));
        members.join(&SocketId::from("b"), Room::from("lobby"));
        members.join(&SocketId::from("b"), Room::from("muted"));
        members.join(&SocketId::from("c"), Room::from("muted"));
        members
    }

    fn select(
        members: &Members<&'static str>,
        rooms: &[&str],
        except: &[&str],
    ) -> Vec<&'static str> {
        let target = Target {
            rooms: rooms.iter().map(|&r| Room::from(r)).collect(),
            except: except.iter().map(|&r| Room::from(r)).collect(),
        };
        let mut selected = members.matching(&target, None);
        selected.sort_unstable();
        selected
    }

    #[test]
    fn no_rooms_selects_everyone() {
        assert_eq!(select(&members(), &[], &[]), ["a", "b", "c"]);
    }

    #[test]
    fn rooms_make_a_union_with_each_socket_once() {
        assert_eq!(select(&members(), &["lobby"], &[]), ["a", "b"]);
        assert_eq!(
            select(&members(), &["lobby", "muted"], &[]),
            ["a", "b", "c"]
        );
        assert_eq!(select(&members(), &["nowhere"], &[]), Vec::<&str>::new());
    }

    #[test]
    fn except_wins_over_rooms() {
        assert_eq!(select(&members(), &["lobby"], &["muted"]), ["a"]);
        assert_eq!(select(&members(), &[], &["lobby"]), ["c"]);
        // A socket's own id is a room: that is how a sender is left out.
        assert_eq!(select(&members(), &["lobby"], &["a"]), ["b"]);
    }

    #[test]
    fn the_sender_can_be_left_out_directly() {
        let members = members();
        let mut selected = members.matching(&Target::default(), Some(&SocketId::from("b")));
        selected.sort_unstable();
        assert_eq!(selected, ["a", "c"]);
    }

    #[test]
    fn rooms_are_kept_both_ways_and_emptied_rooms_vanish() {
        let mut members = members();
        let b = SocketId::from("b");
        assert_eq!(
            members.rooms_of(&b),
            [Room::from("b"), Room::from("lobby"), Room::from("muted")]
        );
        members.leave(&b, &Room::from("lobby"));
        assert_eq!(select(&members, &["lobby"], &[]), ["a"]);
        members.remove(&SocketId::from("c"));
        members.remove(&b);
        assert_eq!(members.all_rooms(), [Room::from("a"), Room::from("lobby")]);
        assert_eq!(members.len(), 1);
    }

    #[test]
    fn a_socket_not_admitted_joins_nothing() {
        let mut members = members();
        members.join(&SocketId::from("stranger"), Room::from("lobby"));
        assert_eq!(select(&members, &["lobby"], &[]), ["a", "b"]);
    }
}
