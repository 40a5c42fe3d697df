//! A namespace in this process: its consumer, its sockets, and their rooms.

pub(crate) mod approval;
pub(crate) mod dynamic;
mod members;
mod shared_list;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use sio_core::{AckId, Namespace};

use crate::broadcast::{Room, Target};
use crate::consumer::ErasedConsumer;
use crate::engine::sync::{Mutex, MutexGuard};
use crate::socket::{OutgoingHook, Socket, SocketId};
use approval::Approval;
use dynamic::Family;
use members::Members;
pub(crate) use members::Recipients;

/// Makes the consumer of a new socket; shared by the children of a pattern.
pub(crate) type Factory = Arc<dyn Fn() -> Box<dyn ErasedConsumer> + Send + Sync>;

pub(crate) struct NamespaceInner {
    pub(crate) name: Namespace,
    pub(crate) factory: Factory,
    /// What sees every event sent to its sockets, if the consumer has it.
    pub(crate) outgoing: Option<OutgoingHook>,
    members: Mutex<Members<Socket>>,
    /// Ack ids of this namespace's server-to-client emits, shared by direct and broadcast emits
    /// so they never collide on a socket; shared by the namespaces of a pattern too, so one
    /// broadcast to them all asks every socket for the same id.
    next_ack: Arc<AtomicU64>,
    /// The values of its pattern's parameters, for a namespace made from a pattern.
    pub(crate) params: Box<[(String, String)]>,
    /// The index of its pattern among the server's, for a namespace made from a pattern.
    pub(crate) family: Option<usize>,
    /// Sockets made for it and not gone yet, connecting ones included: a child is removed only
    /// when none is left.
    attached: AtomicUsize,
    /// Whether a socket was ever admitted: a child none was admitted to (every CONNECT refused)
    /// is not kept, cleanup or not.
    admitted: AtomicBool,
    /// For a namespace made from a pattern with a predicate: whether it may exist.
    pub(crate) approval: Option<Approval>,
    /// Whether the channel layer was told it exists (a namespace with a predicate, once the
    /// predicate said yes); changed under the lock of the children.
    pub(crate) announced: AtomicBool,
}

impl NamespaceInner {
    pub(crate) fn new(name: Namespace, factory: Factory, outgoing: Option<OutgoingHook>) -> Self {
        NamespaceInner {
            name,
            factory,
            outgoing,
            members: Mutex::new(Members::default()),
            next_ack: Arc::default(),
            params: Box::default(),
            family: None,
            attached: AtomicUsize::new(0),
            admitted: AtomicBool::new(false),
            approval: None,
            announced: AtomicBool::new(false),
        }
    }

    /// A namespace made from pattern number `index`, with the values of its parameters.
    pub(crate) fn child(
        name: Namespace,
        family: &Family,
        params: Box<[(String, String)]>,
        index: usize,
    ) -> Self {
        NamespaceInner {
            params,
            family: Some(index),
            next_ack: Arc::clone(&family.next_ack),
            approval: family.filter.clone().map(Approval::new),
            ..NamespaceInner::new(name, Arc::clone(&family.factory), family.outgoing)
        }
    }

    /// A socket is made for it.
    pub(crate) fn attach(&self) {
        self.attached.fetch_add(1, Ordering::AcqRel);
    }

    /// A socket made for it is gone (refused, or disconnected).
    pub(crate) fn detach(&self) {
        self.attached.fetch_sub(1, Ordering::AcqRel);
    }

    /// How many sockets made for it are not gone.
    pub(crate) fn attached(&self) -> usize {
        self.attached.load(Ordering::Acquire)
    }

    fn members(&self) -> MutexGuard<'_, Members<Socket>> {
        self.members.lock()
    }

    pub(crate) fn next_ack_id(&self) -> AckId {
        AckId(self.next_ack.fetch_add(1, Ordering::Relaxed))
    }

    /// Registers an admitted socket, in the room of its own id.
    pub(crate) fn add(&self, socket: &Socket) {
        self.admitted.store(true, Ordering::Release);
        self.members().add(socket.id(), socket.clone());
    }

    /// Whether a socket was ever admitted.
    pub(crate) fn ever_admitted(&self) -> bool {
        self.admitted.load(Ordering::Acquire)
    }

    /// Puts socket `id` in `room`; whether it was not in it before.
    pub(crate) fn join(&self, id: &SocketId, room: Room) -> bool {
        self.members().join(id, room)
    }

    /// Takes socket `id` out of `room`; whether it was in it.
    pub(crate) fn leave(&self, id: &SocketId, room: &Room) -> bool {
        self.members().leave(id, room)
    }

    /// Takes `socket` out, unless a socket restored with its id took its place meanwhile.
    pub(crate) fn remove(&self, socket: &Socket) {
        let mut members = self.members();
        if members
            .get(socket.id())
            .is_none_or(|member| Arc::ptr_eq(&member.inner, &socket.inner))
        {
            members.remove(socket.id());
        }
    }

    pub(crate) fn rooms_of(&self, id: &SocketId) -> Vec<Room> {
        self.members().rooms_of(id)
    }

    /// Every room with at least one socket.
    pub(crate) fn all_rooms(&self) -> Vec<Room> {
        self.members().all_rooms()
    }

    /// The local sockets `target` reaches, `except_socket` left out.
    pub(crate) fn matching(
        &self,
        target: &Target,
        except_socket: Option<&SocketId>,
    ) -> Recipients<Socket> {
        self.members().matching(target, except_socket)
    }

    pub(crate) fn socket_count(&self) -> usize {
        self.members().len()
    }

    /// How many sockets it has, and how many rooms named by the application hold one (read by
    /// the metrics' export).
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let members = self.members();
        (members.len(), members.named_rooms())
    }
}

#[cfg(test)]
mod tests {
    use super::NamespaceInner;
    use sio_core::{AckId, Namespace};

    #[test]
    fn ack_ids_are_unique_within_a_namespace() {
        let namespace = NamespaceInner::new(
            Namespace::new("/chat".to_owned()).unwrap(),
            std::sync::Arc::new(|| unreachable!("no socket is made here")),
            None,
        );
        let ids: Vec<AckId> = (0..3).map(|_| namespace.next_ack_id()).collect();
        assert_eq!(ids, [AckId(0), AckId(1), AckId(2)]);
    }
}
