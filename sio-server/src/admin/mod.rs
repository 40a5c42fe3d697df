//! The server side of the Socket.IO Admin UI (`@socket.io/admin-ui` 0.5), feature `admin`: its
//! namespace, its authentication, the statistics it charts and, in development mode, what
//! happens to every socket as it happens.
//!
//! The UI itself is a web application that connects to the admin namespace as a Socket.IO
//! client: the hosted one (<https://admin.socket.io>), or the `ui/dist` folder of the npm
//! package served by [`UiFiles`].

mod auth;
mod consumer;
mod notify;
mod serialize;
mod stats;
mod ui_files;

use std::sync::Arc;

pub use auth::{AdminAuth, InvalidHash};
pub(crate) use consumer::AdminConsumer;
pub(crate) use notify::Notifier;
pub(crate) use serialize::{admin_data, with_admin};
pub(crate) use stats::{hostname, report as report_stats};
pub use ui_files::UiFiles;

/// The Admin UI's server side (Node's `instrument(io, options)`), given to
/// [`ServerBuilder::admin_ui`](crate::ServerBuilder::admin_ui).
///
/// ```
/// use sio_server::Server;
/// use sio_server::admin::{AdminAuth, AdminUi};
///
/// // A bcrypt hash of the password, made once (`AdminAuth::hash_password`), kept in the
/// // configuration: the password itself is never stored.
/// let hash = AdminAuth::hash_password("changeit").unwrap();
/// let server = Server::builder()
///     .admin_ui(AdminUi::new(AdminAuth::basic("admin", &hash).unwrap()).read_only(true))
///     .build();
/// # drop(server);
/// ```
#[derive(Debug, Clone)]
#[must_use]
pub struct AdminUi {
    pub(crate) namespace: String,
    pub(crate) auth: AdminAuth,
    pub(crate) read_only: bool,
    pub(crate) development: bool,
    pub(crate) server_id: Option<String>,
}

impl AdminUi {
    /// The Admin UI on `/admin`, in development mode (every socket's events shown as they
    /// happen, as Node's default when `NODE_ENV` is unset), with its actions (emit, join,
    /// leave, disconnect) on.
    pub fn new(auth: AdminAuth) -> Self {
        AdminUi {
            namespace: "/admin".to_owned(),
            auth,
            read_only: false,
            development: true,
            server_id: None,
        }
    }

    /// The namespace the UI connects to (default `/admin`).
    ///
    /// # Panics
    ///
    /// When building the server, if `namespace` is not a valid namespace.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Without the actions that change anything (emit, join, leave, disconnect): the UI can
    /// only look.
    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    /// Production mode: only the statistics and the list of sockets when the UI connects, none
    /// of the notifications of development mode (each socket's connection, rooms and events as
    /// they happen), which cost a message to the UI for each.
    pub fn production(mut self) -> Self {
        self.development = false;
        self
    }

    /// How this process is named in the UI (default: the host name).
    pub fn server_id(mut self, id: impl Into<String>) -> Self {
        self.server_id = Some(id.into());
        self
    }

    /// The features the UI is told this server has (`config`).
    pub(crate) fn features(&self) -> Vec<&'static str> {
        let mut features = Vec::new();
        if !self.read_only {
            features.extend([
                "EMIT",
                "JOIN",
                "LEAVE",
                "DISCONNECT",
                "MJOIN",
                "MLEAVE",
                "MDISCONNECT",
            ]);
        }
        features.push("AGGREGATED_EVENTS");
        if self.development {
            features.push("ALL_EVENTS");
        }
        features
    }
}

/// What a running server keeps of its Admin UI.
#[derive(Debug)]
pub(crate) struct Admin {
    pub(crate) config: AdminUi,
    pub(crate) sessions: Arc<auth::Sessions>,
    /// Password checks running now: at most two (bcrypt costs tens of milliseconds of CPU).
    pub(crate) verifications: tokio::sync::Semaphore,
}
