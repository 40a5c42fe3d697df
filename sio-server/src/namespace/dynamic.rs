//! Namespaces made on demand: a consumer declared for a pattern (`/workspace/{id}`) serves a
//! child namespace per name that matches, made at the first CONNECT to it, bounded in number,
//! and removed once its last socket leaves if the server is told to.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use sio_core::{AckId, Namespace, NamespacePattern};
use tracing::{debug, warn};

use super::approval::NamespaceFilter;
use super::{Factory, NamespaceInner};
use crate::broadcast::ChannelLayer;
use crate::engine::sync::Mutex;
use crate::socket::OutgoingHook;

/// A consumer declared for a pattern.
pub(crate) struct Family {
    pub(crate) pattern: NamespacePattern,
    /// The pattern as written, the name that selects every child (`server.of("/workspace/{id}")`).
    pub(crate) name: Namespace,
    pub(crate) factory: Factory,
    pub(crate) outgoing: Option<OutgoingHook>,
    /// The ack ids of every child, so a broadcast to them all asks each socket for one id.
    pub(crate) next_ack: Arc<AtomicU64>,
    /// Decides whether a name the pattern matches gets a namespace, if the application said.
    pub(crate) filter: Option<NamespaceFilter>,
    /// Whether the limit was reached once: warned then, at debug after.
    full_once: AtomicBool,
}

impl Family {
    pub(crate) fn new(
        pattern: NamespacePattern,
        factory: Factory,
        outgoing: Option<OutgoingHook>,
    ) -> Self {
        // A pattern is checked as a namespace name when it is parsed.
        let name = Namespace::new(pattern.as_str().to_owned()).unwrap_or_default();
        Family {
            pattern,
            name,
            factory,
            outgoing,
            next_ack: Arc::default(),
            filter: None,
            full_once: AtomicBool::new(false),
        }
    }

    /// A fresh ack id, unique in each of its children.
    pub(crate) fn next_ack_id(&self) -> AckId {
        AckId(self.next_ack.fetch_add(1, Ordering::Relaxed))
    }
}

/// The settings of the children.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChildLimits {
    /// The most children one pattern may have at once.
    pub(crate) max_per_pattern: usize,
    /// Whether a child is removed when its last socket leaves.
    pub(crate) cleanup_empty: bool,
}

/// The families of a server and their children now.
pub(crate) struct Dynamic {
    families: Vec<Family>,
    limits: ChildLimits,
    children: Mutex<Children>,
}

#[derive(Default)]
struct Children {
    by_name: HashMap<String, Arc<NamespaceInner>>,
    /// How many children each family has, by its index.
    per_family: Vec<usize>,
}

impl Dynamic {
    /// The families, in the order they were declared: a name goes to the first that matches.
    pub(crate) fn new(families: Vec<Family>, limits: ChildLimits) -> Self {
        let per_family = vec![0; families.len()];
        Dynamic {
            families,
            limits,
            children: Mutex::new(Children {
                by_name: HashMap::new(),
                per_family,
            }),
        }
    }

    /// The child of that name, if it exists.
    pub(crate) fn child(&self, name: &str) -> Option<Arc<NamespaceInner>> {
        self.children.lock().by_name.get(name).cloned()
    }

    /// The child of that name, made if a pattern matches it and its family has room, with one
    /// more socket attached (see [`NamespaceInner::attach`]) under the same lock, so that a
    /// cleanup cannot remove it in between. The layer hears of a new child under that lock
    /// too, so it hears of creations and removals of one name in their order.
    pub(crate) fn attach(
        &self,
        name: &str,
        layer: &dyn ChannelLayer,
    ) -> Option<Arc<NamespaceInner>> {
        let mut children = self.children.lock();
        if let Some(child) = children.by_name.get(name) {
            child.attach();
            return Some(Arc::clone(child));
        }
        // A pattern's own name selects all its children: no child may take it.
        if self
            .families
            .iter()
            .any(|family| family.name.as_str() == name)
        {
            return None;
        }
        let (index, family, params) =
            self.families
                .iter()
                .enumerate()
                .find_map(|(index, family)| {
                    let params = family.pattern.matches(name)?;
                    Some((index, family, params))
                })?;
        if children.per_family[index] >= self.limits.max_per_pattern {
            if !family.full_once.swap(true, Ordering::Relaxed) {
                warn!(
                    pattern = family.pattern.as_str(),
                    max = self.limits.max_per_pattern,
                    "a pattern has as many namespaces as it may; CONNECTs to new names get \
                     `Invalid namespace` (logged once; see `max_child_namespaces`)"
                );
            }
            // At debug: a client flooding names must not flood the log too.
            debug!(
                namespace = name,
                pattern = family.pattern.as_str(),
                max = self.limits.max_per_pattern,
                "a pattern has as many namespaces as it may; the CONNECT gets `Invalid namespace`"
            );
            return None;
        }
        let namespace = Namespace::new(name.to_owned()).ok()?;
        let params = params
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        let child = Arc::new(NamespaceInner::child(namespace, family, params, index));
        child.attach();
        children.per_family[index] += 1;
        children.by_name.insert(name.to_owned(), Arc::clone(&child));
        // With a predicate, the layer hears of it once the predicate said yes (`approved`).
        if child.approval.is_none() {
            child.announced.store(true, Ordering::Relaxed);
            layer.namespace_created(&child.name);
        }
        debug!(
            namespace = name,
            pattern = family.pattern.as_str(),
            "namespace made"
        );
        Some(child)
    }

    /// A socket of `child` went away: once none is left, the child goes too if cleanup is on,
    /// or if no socket was ever admitted to it (every CONNECT refused: a client must not make
    /// the server keep namespaces it never served).
    pub(crate) fn detached(&self, child: &NamespaceInner, layer: &dyn ChannelLayer) {
        let Some(index) = child.family else {
            return;
        };
        if child.attached() > 0 || (!self.limits.cleanup_empty && child.ever_admitted()) {
            return;
        }
        let mut children = self.children.lock();
        // Under the lock `attach` takes: no socket can attach between this look and the removal.
        let current = children.by_name.get(child.name.as_str());
        if current.is_some_and(|current| std::ptr::eq(&**current, child)) && child.attached() == 0 {
            children.by_name.remove(child.name.as_str());
            children.per_family[index] -= 1;
            if child.announced.load(Ordering::Relaxed) {
                layer.namespace_removed(&child.name);
            }
            debug!(namespace = %child.name, "empty namespace removed");
        }
    }

    /// The predicate of `child`'s pattern said yes: the layer hears of it now, unless it heard
    /// already or the child is gone.
    pub(crate) fn approved(&self, child: &NamespaceInner, layer: &dyn ChannelLayer) {
        if child.announced.load(Ordering::Relaxed) {
            return;
        }
        let children = self.children.lock();
        let current = children.by_name.get(child.name.as_str());
        if current.is_some_and(|current| std::ptr::eq(&**current, child))
            && !child.announced.swap(true, Ordering::Relaxed)
        {
            layer.namespace_created(&child.name);
        }
    }

    /// The pattern written `name`, if a consumer was declared for it.
    pub(crate) fn family(&self, name: &str) -> Option<&Family> {
        self.families
            .iter()
            .find(|family| family.name.as_str() == name)
    }

    /// The children of the pattern written `name` now; `None` if no consumer was declared for
    /// that pattern.
    pub(crate) fn children_of(&self, name: &str) -> Option<Vec<Arc<NamespaceInner>>> {
        let index = self
            .families
            .iter()
            .position(|family| family.name.as_str() == name)?;
        let children = self.children.lock();
        Some(
            children
                .by_name
                .values()
                .filter(|child| child.family == Some(index))
                .cloned()
                .collect(),
        )
    }

    /// The pattern a namespace of that name is (or would be) made from: the first that matches.
    pub(crate) fn pattern_of(&self, name: &str) -> Option<&Namespace> {
        if self
            .families
            .iter()
            .any(|family| family.name.as_str() == name)
        {
            return None;
        }
        self.families
            .iter()
            .find(|family| family.pattern.matches(name).is_some())
            .map(|family| &family.name)
    }

    /// The patterns, as names.
    pub(crate) fn patterns(&self) -> impl Iterator<Item = &Namespace> {
        self.families.iter().map(|family| &family.name)
    }

    /// Every child now.
    pub(crate) fn children(&self) -> Vec<Arc<NamespaceInner>> {
        self.children.lock().by_name.values().cloned().collect()
    }
}
