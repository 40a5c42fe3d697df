//! Socket ids: random, and unrelated to the Engine.IO session id (but for Socket.IO v2
//! clients, whose ids are their connection's).

use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// The id of a socket: random, and unrelated to the Engine.IO session id (which is the
/// credential of polling requests and must not leak). The one exception is a Socket.IO v2
/// client's socket (see `ServerBuilder::allow_eio3`): its id is its connection's, as the client
/// computes it, so it is that credential too.
///
/// ```
/// use sio_server::SocketId;
/// let id = SocketId::from("Nb3x"); // as another process reports it
/// assert_eq!(id.as_str(), "Nb3x");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketId(Arc<str>);

impl SocketId {
    /// A fresh id: 144 random bits from `rand`'s thread generator (ChaCha, seeded and reseeded
    /// from the operating system), URL-safe.
    pub(crate) fn random() -> Self {
        let mut bytes = [0u8; 18];
        rand::rng().fill_bytes(&mut bytes);
        SocketId(Arc::from(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// An id of given text (a Socket.IO v2 client's, made from its connection's).
    pub(crate) fn from_text(text: &str) -> Self {
        SocketId(Arc::from(text))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id's text, shared rather than copied (the room of the socket's id).
    pub(crate) fn shared_str(&self) -> Arc<str> {
        Arc::clone(&self.0)
    }
}

impl From<&str> for SocketId {
    /// An id as another process reports it.
    fn from(id: &str) -> Self {
        SocketId(Arc::from(id))
    }
}

impl From<String> for SocketId {
    fn from(id: String) -> Self {
        SocketId(Arc::from(id))
    }
}

/// Looks a socket up by the name of its room.
impl Borrow<str> for SocketId {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::SocketId;

    #[test]
    fn random_ids_are_url_safe_and_distinct() {
        let a = SocketId::random();
        let b = SocketId::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), 24);
        assert!(
            a.as_str()
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
