//! Who is in a namespace, and in which rooms: the selection every broadcast makes.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use super::shared_list::SharedList;
use crate::broadcast::{Room, Target};
use crate::socket::SocketId;

/// The sockets of one namespace by id, and their rooms both ways. `S` is the socket handle (a
/// `Socket` in the server; anything cheap to clone in tests).
///
/// Every socket is in the room of its own id, as in the reference server, but that room is not
/// stored: it is the socket's own entry, which saves each connection two sets. The namespace and
/// each room keep their sockets' handles in a [`SharedList`], so a broadcast to one of them takes
/// its recipients in one step and looks nothing up per recipient.
#[derive(Debug)]
pub(crate) struct Members<S> {
    sockets: HashMap<SocketId, Member>,
    /// Every socket's handle.
    all: SharedList<S>,
    /// The rooms sockets joined by name (a socket's own room is not here).
    rooms: HashMap<Room, SharedList<S>>,
}

#[derive(Debug)]
struct Member {
    /// Whether it is in the room of its own id: from the start, until it leaves it.
    in_own_room: bool,
    /// The other rooms it is in.
    rooms: HashSet<Room>,
}

/// The sockets a broadcast reaches: a list as it stood when the broadcast began (one reference
/// count, whatever its length), or a selection made for it.
#[derive(Debug)]
pub(crate) enum Recipients<S> {
    Snapshot(Arc<Vec<(SocketId, S)>>),
    Selected(Vec<S>),
}

impl<S> Default for Recipients<S> {
    fn default() -> Self {
        Recipients::Selected(Vec::new())
    }
}

impl<S> Recipients<S> {
    pub(crate) fn iter(&self) -> impl Iterator<Item = &S> {
        let (snapshot, selected) = match self {
            Recipients::Snapshot(list) => (&list[..], &[][..]),
            Recipients::Selected(list) => (&[][..], &list[..]),
        };
        snapshot.iter().map(|(_, socket)| socket).chain(selected)
    }
}

impl<S> Default for Members<S> {
    fn default() -> Self {
        Members {
            sockets: HashMap::new(),
            all: SharedList::default(),
            rooms: HashMap::new(),
        }
    }
}

/// Whether `room` is the room of socket `id`.
fn is_own(id: &SocketId, room: &Room) -> bool {
    id.as_str() == room.as_str()
}

impl<S: Clone> Members<S> {
    /// Admits a socket, in the room of its own id.
    pub(crate) fn add(&mut self, id: &SocketId, socket: S) {
        let member = Member {
            in_own_room: true,
            rooms: HashSet::new(),
        };
        if let Some(old) = self.sockets.insert(id.clone(), member) {
            // Admitted twice (never, with random ids): the first one's rooms go.
            for room in &old.rooms {
                self.leave_named(id, room);
            }
            self.all.remove(id);
        }
        self.all.insert(id, socket);
    }

    /// Puts an admitted socket in `room`; a socket not admitted joins nothing. Whether the
    /// socket was not in it before (Node's adapter tells of a join only then).
    pub(crate) fn join(&mut self, id: &SocketId, room: Room) -> bool {
        let Some(member) = self.sockets.get_mut(id) else {
            return false;
        };
        if is_own(id, &room) {
            return !std::mem::replace(&mut member.in_own_room, true);
        }
        if !member.rooms.insert(room.clone()) {
            return false;
        }
        if let Some(socket) = self.all.get(id) {
            self.rooms
                .entry(room)
                .or_default()
                .insert(id, socket.clone());
        }
        true
    }

    /// Takes a socket out of `room`; whether it was in it.
    pub(crate) fn leave(&mut self, id: &SocketId, room: &Room) -> bool {
        let Some(member) = self.sockets.get_mut(id) else {
            return false;
        };
        if is_own(id, room) {
            return std::mem::replace(&mut member.in_own_room, false);
        }
        if !member.rooms.remove(room) {
            return false;
        }
        self.leave_named(id, room);
        true
    }

    /// Takes `id` out of the stored room `room`; a room left empty is gone.
    fn leave_named(&mut self, id: &SocketId, room: &Room) {
        if let Some(sockets) = self.rooms.get_mut(room) {
            sockets.remove(id);
            if sockets.is_empty() {
                self.rooms.remove(room);
            }
        }
    }

    /// The handle of socket `id`, if it is in.
    pub(crate) fn get(&self, id: &SocketId) -> Option<&S> {
        self.all.get(id)
    }

    /// Takes a socket out, with all its rooms; a room left empty is gone.
    pub(crate) fn remove(&mut self, id: &SocketId) {
        let Some(member) = self.sockets.remove(id) else {
            return;
        };
        for room in &member.rooms {
            self.leave_named(id, room);
        }
        self.all.remove(id);
    }

    /// The rooms of a socket, sorted.
    pub(crate) fn rooms_of(&self, id: &SocketId) -> Vec<Room> {
        let Some(member) = self.sockets.get(id) else {
            return Vec::new();
        };
        let own = member.in_own_room.then(|| Room::from(id));
        let mut rooms: Vec<Room> = member.rooms.iter().cloned().chain(own).collect();
        rooms.sort();
        rooms
    }

    /// How many rooms the application named hold a socket (each socket's own room aside).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn named_rooms(&self) -> usize {
        self.rooms.len()
    }

    /// Every room with at least one socket, sorted.
    pub(crate) fn all_rooms(&self) -> Vec<Room> {
        let own = self
            .sockets
            .iter()
            .filter(|(_, member)| member.in_own_room)
            .map(|(id, _)| Room::from(id));
        let mut rooms: Vec<Room> = self.rooms.keys().cloned().chain(own).collect();
        rooms.sort();
        // A room named after a socket's id may also hold others.
        rooms.dedup();
        rooms
    }

    /// The socket whose own room `room` is, if it is in it.
    fn owner<'a>(&'a self, room: &Room) -> Option<(&'a SocketId, &'a S)> {
        let (id, member) = self.sockets.get_key_value(room.as_str())?;
        if !member.in_own_room {
            return None;
        }
        Some((id, self.all.get(id)?))
    }

    /// The sockets in `room`, each once.
    fn in_room<'a>(&'a self, room: &Room) -> impl Iterator<Item = (&'a SocketId, &'a S)> {
        let named = self.rooms.get(room).into_iter().flat_map(SharedList::iter);
        named.chain(self.owner(room))
    }

    /// The sockets `target` reaches, `except_socket` left out, each once.
    pub(crate) fn matching(
        &self,
        target: &Target,
        except_socket: Option<&SocketId>,
    ) -> Recipients<S> {
        let leaves_none_out = target.except.is_empty() && except_socket.is_none();
        match target.rooms.as_slice() {
            // The namespace, or one room no socket owns: a list as it stands.
            [] if leaves_none_out => return Recipients::Snapshot(self.all.snapshot()),
            [room] if leaves_none_out && self.owner(room).is_none() => {
                return match self.rooms.get(room) {
                    Some(list) => Recipients::Snapshot(list.snapshot()),
                    None => Recipients::Selected(Vec::new()),
                };
            }
            _ => {}
        }
        let excluded: HashSet<&SocketId> = target
            .except
            .iter()
            .flat_map(|room| self.in_room(room).map(|(id, _)| id))
            .collect();
        let keep = |id: &SocketId| {
            except_socket != Some(id) && (excluded.is_empty() || !excluded.contains(id))
        };
        let selected = match target.rooms.as_slice() {
            [] => self
                .all
                .iter()
                .filter(|(id, _)| keep(id))
                .map(|(_, socket)| socket.clone())
                .collect(),
            // One room holds each socket once: nothing to remember.
            [room] => self
                .in_room(room)
                .filter(|(id, _)| keep(id))
                .map(|(_, socket)| socket.clone())
                .collect(),
            rooms => {
                let mut seen = HashSet::new();
                rooms
                    .iter()
                    .flat_map(|room| self.in_room(room))
                    .filter(|(id, _)| keep(id) && seen.insert(*id))
                    .map(|(_, socket)| socket.clone())
                    .collect()
            }
        };
        Recipients::Selected(selected)
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
        let mut selected: Vec<_> = members.matching(&target, None).iter().copied().collect();
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
        let mut selected: Vec<_> = members
            .matching(&Target::default(), Some(&SocketId::from("b")))
            .iter()
            .copied()
            .collect();
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

    #[test]
    fn a_socket_that_leaves_its_own_room_is_not_reached_by_it() {
        let mut members = members();
        let a = SocketId::from("a");
        members.leave(&a, &Room::from("a"));
        assert_eq!(select(&members, &["a"], &[]), Vec::<&str>::new());
        assert_eq!(members.rooms_of(&a), [Room::from("lobby")]);
        members.join(&a, Room::from("a"));
        assert_eq!(select(&members, &["a"], &[]), ["a"]);
    }

    #[test]
    fn a_room_named_after_a_socket_holds_it_and_whoever_joins() {
        let mut members = members();
        members.join(&SocketId::from("c"), Room::from("a"));
        assert_eq!(select(&members, &["a"], &[]), ["a", "c"]);
        assert_eq!(select(&members, &["a", "lobby"], &[]), ["a", "b", "c"]);
        assert_eq!(select(&members, &[], &["a"]), ["b"]);
        assert_eq!(
            members.all_rooms(),
            ["a", "b", "c", "lobby", "muted"].map(Room::from)
        );
        members.remove(&SocketId::from("a"));
        assert_eq!(select(&members, &["a"], &[]), ["c"]);
        members.remove(&SocketId::from("c"));
        assert_eq!(members.all_rooms(), ["b", "lobby", "muted"].map(Room::from));
    }

    #[test]
    fn a_socket_admitted_again_starts_with_no_rooms() {
        let mut members = members();
        members.add(&SocketId::from("b"), "b2");
        assert_eq!(select(&members, &["lobby"], &[]), ["a"]);
        assert_eq!(select(&members, &["muted"], &[]), ["c"]);
        assert_eq!(select(&members, &[], &[]), ["a", "b2", "c"]);
        assert_eq!(members.len(), 3);
    }

    #[test]
    fn joining_twice_and_leaving_a_room_never_joined_change_nothing() {
        let mut members = members();
        assert!(!members.join(&SocketId::from("a"), Room::from("lobby")));
        assert!(!members.leave(&SocketId::from("c"), &Room::from("lobby")));
        assert_eq!(select(&members, &["lobby"], &[]), ["a", "b"]);
        assert!(members.leave(&SocketId::from("a"), &Room::from("lobby")));
        assert_eq!(select(&members, &["lobby"], &[]), ["b"]);
        assert!(!members.leave(&SocketId::from("a"), &Room::from("lobby")));
        assert!(members.join(&SocketId::from("a"), Room::from("lobby")));
        // Its own room: in it from the start.
        assert!(!members.join(&SocketId::from("a"), Room::from("a")));
        assert!(members.leave(&SocketId::from("a"), &Room::from("a")));
        assert!(members.join(&SocketId::from("a"), Room::from("a")));
    }
}
