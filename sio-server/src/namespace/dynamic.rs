//! Namespaces made on demand: a consumer declared for a pattern (`/workspace/{id}`) serves a
//! child namespace per name that matches, made at the first CONNECT to it, bounded in number,
//! and removed once its last socket leaves if the server is told to.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sio_core::{Namespace, NamespacePattern};
use tracing::{debug, warn};

use super::{Factory, NamespaceInner};
use crate::engine::sync::Mutex;
use crate::socket::OutgoingHook;

/// A consumer declared for a pattern.
pub(crate) struct Family {
    pub(crate) pattern: NamespacePattern,
    pub(crate) factory: Factory,
    pub(crate) outgoing: Option<OutgoingHook>,
    /// Whether the limit was reached once: warned then, at debug after.
    pub(crate) full_once: AtomicBool,
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
    /// cleanup cannot remove it in between.
    pub(crate) fn attach(&self, name: &str) -> Option<Arc<NamespaceInner>> {
        let mut children = self.children.lock();
        if let Some(child) = children.by_name.get(name) {
            child.attach();
            return Some(Arc::clone(child));
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
        let child = Arc::new(NamespaceInner::child(
            namespace,
            Arc::clone(&family.factory),
            family.outgoing,
            params,
            index,
        ));
        child.attach();
        children.per_family[index] += 1;
        children.by_name.insert(name.to_owned(), Arc::clone(&child));
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
    pub(crate) fn detached(&self, child: &NamespaceInner) {
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
            debug!(namespace = %child.name, "empty namespace removed");
        }
    }

    /// The names of the children of the pattern written `pattern` now; `None` if no consumer
    /// was declared for that pattern.
    pub(crate) fn children_of(&self, pattern: &str) -> Option<Vec<Namespace>> {
        let index = self
            .families
            .iter()
            .position(|family| family.pattern.as_str() == pattern)?;
        let children = self.children.lock();
        Some(
            children
                .by_name
                .values()
                .filter(|child| child.family == Some(index))
                .map(|child| child.name.clone())
                .collect(),
        )
    }

    /// Every child now.
    pub(crate) fn children(&self) -> Vec<Arc<NamespaceInner>> {
        self.children.lock().by_name.values().cloned().collect()
    }
}
