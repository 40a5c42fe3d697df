//! Which channels this process hears, and how a namespace is reached: through its own channels,
//! as Node's adapter does, or, for a namespace made from a pattern that this process does not
//! hear, through the channels of the pattern, which every sio process declaring it hears.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, MutexGuard};

use sio_core::Namespace;
use sio_server::broadcast::LocalSockets;

use crate::channels::Channels;
use crate::shared::Shared;

/// The channels of the namespaces this process serves (those declared and the patterns from
/// the start, those made from patterns while they exist) and what the subscriber hears now.
#[derive(Debug, Default)]
pub(crate) struct Subscriptions {
    /// The channels of each namespace served, by name.
    pub(crate) wanted: HashMap<String, Arc<Channels>>,
    /// The names added or removed since the subscriber last caught up: at most one entry per
    /// name, however often it comes and goes.
    pub(crate) changed: HashSet<String>,
    /// What the subscriber's connection is subscribed to now, by name: a request goes out on
    /// channels whose responses this process hears.
    pub(crate) heard: HashMap<String, Arc<Channels>>,
}

/// Where a request about a namespace goes.
#[derive(Debug, Clone)]
pub(crate) struct Route {
    /// The channels it goes out on and comes back on.
    pub(crate) channels: Arc<Channels>,
    /// For a request sent through a pattern's channels, the namespace it is about; the others
    /// read it from the request's `nsp`.
    pub(crate) namespace: Option<Namespace>,
}

impl Shared {
    pub(crate) fn subscriptions(&self) -> MutexGuard<'_, Subscriptions> {
        self.subscriptions
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// The channels of the namespace named `namespace`, if this process serves it.
    pub(crate) fn channels(&self, namespace: &str) -> Option<Arc<Channels>> {
        self.subscriptions().wanted.get(namespace).cloned()
    }

    /// Starts or stops hearing `namespace` on Redis (the subscriber catches up in the
    /// background).
    pub(crate) fn serve(&self, namespace: &Namespace, served: bool) {
        let name = namespace.as_str();
        let mut subscriptions = self.subscriptions();
        if served {
            let channels = Channels::new(&self.key, namespace, &self.uid);
            subscriptions
                .wanted
                .insert(name.to_owned(), Arc::new(channels));
        } else {
            subscriptions.wanted.remove(name);
        }
        subscriptions.changed.insert(name.to_owned());
        drop(subscriptions);
        self.subscriptions_changed.notify_one();
    }

    /// The channels to publish to about `namespace`: those of a namespace served here, or of
    /// one a pattern makes, which other processes may have even when this one has not (or no
    /// longer, as in its last socket's `disconnect`). `None` for a name nothing here serves.
    pub(crate) fn publish_channels(
        &self,
        namespace: &Namespace,
        local: &LocalSockets,
    ) -> Option<Arc<Channels>> {
        if let Some(channels) = self.channels(namespace.as_str()) {
            return Some(channels);
        }
        local.pattern_of(namespace)?;
        Some(Arc::new(Channels::new(&self.key, namespace, &self.uid)))
    }

    /// Where a request about `namespace` goes: for a namespace made from a pattern, the
    /// pattern's channels, which every sio process declaring it hears as long as it runs (a
    /// child's own come and go with it, and a response on them could be lost when it goes);
    /// for any other, its own channels, once heard. `None` when they are not heard: the request
    /// stays in this process.
    pub(crate) fn route(&self, namespace: &Namespace, local: &LocalSockets) -> Option<Route> {
        let Some(pattern) = local.pattern_of(namespace) else {
            let channels = self
                .subscriptions()
                .heard
                .get(namespace.as_str())
                .cloned()?;
            return Some(Route {
                channels,
                namespace: None,
            });
        };
        let channels = self.subscriptions().heard.get(pattern.as_str()).cloned()?;
        Some(Route {
            channels,
            namespace: Some(namespace.clone()),
        })
    }
}
