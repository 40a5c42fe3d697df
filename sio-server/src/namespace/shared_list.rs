//! The sockets of a room (or of a whole namespace) as a list a broadcast takes in one step: a
//! snapshot is one reference count, however many sockets the list holds, and the broadcast
//! reads it after the lock is released. A change while a snapshot is out copies the list once
//! (the changes after it find the copy unshared): at most one copy per broadcast, which is what
//! every broadcast cost when it cloned its recipients one by one.

use std::collections::HashMap;
use std::sync::Arc;

use crate::socket::SocketId;

/// Sockets by id, in a shared list with an index of positions.
#[derive(Debug)]
pub(crate) struct SharedList<S> {
    entries: Arc<Vec<(SocketId, S)>>,
    positions: HashMap<SocketId, usize>,
}

impl<S> Default for SharedList<S> {
    fn default() -> Self {
        SharedList {
            entries: Arc::default(),
            positions: HashMap::new(),
        }
    }
}

impl<S: Clone> SharedList<S> {
    /// Adds `socket` under `id`; whether it was not there yet.
    pub(crate) fn insert(&mut self, id: &SocketId, socket: S) -> bool {
        if self.positions.contains_key(id) {
            return false;
        }
        let entries = Arc::make_mut(&mut self.entries);
        entries.push((id.clone(), socket));
        self.positions.insert(id.clone(), entries.len() - 1);
        true
    }

    /// Takes out the socket under `id`; whether it was there.
    pub(crate) fn remove(&mut self, id: &SocketId) -> bool {
        let Some(position) = self.positions.remove(id) else {
            return false;
        };
        let entries = Arc::make_mut(&mut self.entries);
        entries.swap_remove(position);
        // The last entry took the freed place.
        if let Some((moved, _)) = entries.get(position) {
            self.positions.insert(moved.clone(), position);
        }
        true
    }

    pub(crate) fn get(&self, id: &SocketId) -> Option<&S> {
        let position = *self.positions.get(id)?;
        self.entries.get(position).map(|(_, socket)| socket)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The sockets and their ids, in no particular order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&SocketId, &S)> {
        self.entries.iter().map(|(id, socket)| (id, socket))
    }

    /// The list as it is now, for reading without the lock.
    pub(crate) fn snapshot(&self) -> Arc<Vec<(SocketId, S)>> {
        Arc::clone(&self.entries)
    }
}

#[cfg(test)]
mod tests {
    use super::SharedList;
    use crate::socket::SocketId;

    fn ids(list: &SharedList<&'static str>) -> Vec<&'static str> {
        let mut ids: Vec<_> = list.iter().map(|(_, socket)| *socket).collect();
        ids.sort_unstable();
        ids
    }

    #[test]
    fn removal_keeps_every_other_socket_findable() {
        let mut list = SharedList::default();
        for name in ["a", "b", "c", "d"] {
            assert!(list.insert(&SocketId::from(name), name));
        }
        assert!(!list.insert(&SocketId::from("b"), "b"), "once");
        assert!(
            list.remove(&SocketId::from("a")),
            "the first: the last moves in"
        );
        assert!(list.remove(&SocketId::from("d")), "the one that moved");
        assert!(!list.remove(&SocketId::from("d")));
        assert_eq!(ids(&list), ["b", "c"]);
        assert_eq!(list.get(&SocketId::from("c")), Some(&"c"));
        assert_eq!(list.get(&SocketId::from("a")), None);
        assert!(list.remove(&SocketId::from("c")) && list.remove(&SocketId::from("b")));
        assert!(list.is_empty());
    }

    #[test]
    fn a_snapshot_is_not_changed_by_later_changes() {
        let mut list = SharedList::default();
        list.insert(&SocketId::from("a"), "a");
        list.insert(&SocketId::from("b"), "b");
        let snapshot = list.snapshot();
        list.remove(&SocketId::from("a"));
        list.insert(&SocketId::from("c"), "c");
        let mut taken: Vec<_> = snapshot.iter().map(|(_, socket)| *socket).collect();
        taken.sort_unstable();
        assert_eq!(taken, ["a", "b"]);
        assert_eq!(ids(&list), ["b", "c"]);
    }
}
