//! The namespaces of a server: those declared as they are and those made from patterns, as
//! CONNECTs, broadcasts and the channel layer find them.

use std::sync::Arc;

use sio_core::{AckId, Namespace};

use super::ServerInner;
use crate::namespace::NamespaceInner;

impl ServerInner {
    /// Reads namespace `name`: one declared as it is, or one made from a pattern.
    pub(crate) fn with_namespace<T>(
        &self,
        name: &str,
        read: impl FnOnce(&NamespaceInner) -> T,
    ) -> Option<T> {
        if let Some(namespace) = self.namespaces.get(name) {
            return Some(read(namespace));
        }
        let child = self.dynamic.as_ref()?.child(name)?;
        Some(read(&child))
    }

    /// The namespace a CONNECT to `name` joins, with one more socket attached: one declared as
    /// it is, or one made from the first pattern that matches (made now if it is new).
    pub(crate) fn attach_namespace(&self, name: &str) -> Option<Arc<NamespaceInner>> {
        if let Some(namespace) = self.namespaces.get(name) {
            namespace.attach();
            return Some(Arc::clone(namespace));
        }
        self.dynamic.as_ref()?.attach(name, &*self.layer)
    }

    /// The predicate of `namespace`'s pattern admitted it.
    pub(crate) fn namespace_approved(&self, namespace: &NamespaceInner) {
        if let Some(dynamic) = &self.dynamic {
            dynamic.approved(namespace, &*self.layer);
        }
    }

    /// A socket made for `namespace` is gone.
    pub(crate) fn detach_namespace(&self, namespace: &NamespaceInner) {
        namespace.detach();
        if let Some(dynamic) = &self.dynamic {
            dynamic.detached(namespace, &*self.layer);
        }
    }

    /// Runs `each` on the namespaces `name` selects: the one of that name, or, for a pattern a
    /// consumer was declared for (`/workspace/{id}`), every namespace made from it now. No lock
    /// is held while `each` runs.
    pub(crate) fn for_each_namespace(&self, name: &str, mut each: impl FnMut(&NamespaceInner)) {
        if let Some(namespace) = self.namespaces.get(name) {
            return each(namespace);
        }
        let Some(dynamic) = &self.dynamic else {
            return;
        };
        if let Some(child) = dynamic.child(name) {
            return each(&child);
        }
        for child in dynamic.children_of(name).unwrap_or_default() {
            each(&child);
        }
    }

    /// A fresh ack id in the namespaces `name` selects (see
    /// [`for_each_namespace`](Self::for_each_namespace)); `None` if it selects none.
    pub(crate) fn next_ack_id(&self, name: &str) -> Option<AckId> {
        if let Some(id) = self.with_namespace(name, NamespaceInner::next_ack_id) {
            return Some(id);
        }
        // A pattern, or a name one makes that this process does not have now: its family's
        // counter, which the child (here or made later) shares.
        let dynamic = self.dynamic.as_ref()?;
        let family = match dynamic.family(name) {
            Some(family) => family,
            None => dynamic.family(self.pattern_of(name)?.as_str())?,
        };
        Some(family.next_ack_id())
    }

    /// The pattern a namespace named `name` is (or would be) made from; `None` for a name
    /// declared as it is, or that no pattern matches.
    pub(crate) fn pattern_of(&self, name: &str) -> Option<Namespace> {
        if self.namespaces.contains_key(name) {
            return None;
        }
        self.dynamic.as_ref()?.pattern_of(name).cloned()
    }

    /// The patterns consumers were declared for, as names.
    pub(crate) fn patterns(&self) -> Vec<Namespace> {
        self.dynamic
            .iter()
            .flat_map(|dynamic| dynamic.patterns().cloned())
            .collect()
    }

    /// Every namespace now: those declared, then those made from patterns.
    pub(crate) fn all_namespaces(&self) -> Vec<Arc<NamespaceInner>> {
        let mut all: Vec<_> = self.namespaces.values().cloned().collect();
        if let Some(dynamic) = &self.dynamic {
            all.extend(dynamic.children());
        }
        all
    }
}
