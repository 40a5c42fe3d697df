//! Who may use the Admin UI: a user name and a bcrypt hash of the password, or anyone; and the
//! sessions a login opens, so the UI reconnects without the password.

use std::collections::VecDeque;

use rand::RngCore;
use thiserror::Error;

use crate::engine::sync::Mutex;

/// How the Admin UI authenticates (Node's `auth` option).
///
/// ```
/// use sio_server::admin::AdminAuth;
///
/// // A bcrypt hash made beforehand (`AdminAuth::hash_password`, `htpasswd -nbBC 10`, or bcryptjs).
/// let auth = AdminAuth::basic("admin", "$2a$04$eCgAT7VoDQpCTOgNklqmYuUjnbJRhrXmKW4e3uOhH8Y9XPwpaXuhu");
/// assert!(auth.is_ok());
/// assert!(AdminAuth::basic("admin", "changeit").is_err(), "a password, not a hash");
/// ```
#[derive(Clone)]
pub enum AdminAuth {
    /// Anyone who reaches the namespace (Node's `auth: false`): only behind a network boundary
    /// of your own.
    None,
    /// A user name and the bcrypt hash of the password (Node's `{ type: "basic" }`).
    Basic {
        /// The user name.
        username: String,
        /// The bcrypt hash of the password.
        hash: String,
    },
}

/// A password hash that bcrypt cannot read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("the password must be given as a bcrypt hash ($2a$, $2b$ or $2y$): {0}")]
pub struct InvalidHash(String);

impl AdminAuth {
    /// A user name and the bcrypt hash of its password.
    pub fn basic(
        username: impl Into<String>,
        hash: impl Into<String>,
    ) -> Result<Self, InvalidHash> {
        let hash = hash.into();
        hash.parse::<bcrypt::HashParts>()
            .map_err(|error| InvalidHash(error.to_string()))?;
        Ok(AdminAuth::Basic {
            username: username.into(),
            hash,
        })
    }

    /// The bcrypt hash of `password` (cost 10, as the UI's documentation makes them), to keep in
    /// a configuration instead of the password.
    pub fn hash_password(password: &str) -> Result<String, InvalidHash> {
        bcrypt::hash(password, 10).map_err(|error| InvalidHash(error.to_string()))
    }
}

impl std::fmt::Debug for AdminAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AdminAuth::None => f.write_str("None"),
            AdminAuth::Basic { username, .. } => f
                .debug_struct("Basic")
                .field("username", username)
                .finish_non_exhaustive(),
        }
    }
}

/// The sessions logins opened, newest last; the oldest is forgotten beyond `MAX_SESSIONS`.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    ids: Mutex<VecDeque<String>>,
}

/// How many sessions are remembered at once.
const MAX_SESSIONS: usize = 1000;

impl Sessions {
    /// A new session's id: 16 random hex digits, as Node's.
    pub(crate) fn open(&self) -> String {
        let mut bytes = [0u8; 8];
        rand::rng().fill_bytes(&mut bytes);
        let id: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let mut ids = self.ids.lock();
        if ids.len() >= MAX_SESSIONS {
            ids.pop_front();
        }
        ids.push_back(id.clone());
        id
    }

    pub(crate) fn contains(&self, id: &str) -> bool {
        self.ids.lock().iter().any(|known| known == id)
    }
}

/// Whether `password` is the one `hash` was made from; bcrypt's work runs off the runtime's
/// threads.
pub(crate) async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .unwrap_or(false)
}
