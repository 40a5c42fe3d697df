//! Newtypes for the strings and numbers that mean something in Socket.IO, and the validation
//! rules shared by the decoder, the runtime and the `#[consumer]` macro.

use std::fmt;

use bytestring::ByteString;

use crate::NameError;

/// Event names the protocol keeps for itself; an application may neither emit nor handle them.
///
/// ```
/// assert!(sio_core::RESERVED_EVENTS.contains(&"disconnect"));
/// ```
pub const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Event names a namespace keeps for itself, which no server-side event between processes may
/// take (Node's `Namespace` refuses them in `serverSideEmit`, and its listeners of these names
/// expect a socket).
///
/// ```
/// assert!(sio_core::RESERVED_SERVER_EVENTS.contains(&"connection"));
/// ```
pub const RESERVED_SERVER_EVENTS: [&str; 3] = ["connect", "connection", "new_namespace"];

/// Checks that `name` is usable as the name of a server-side event: not empty and not one of
/// [`RESERVED_SERVER_EVENTS`].
///
/// ```
/// use sio_core::{validate_server_event_name, NameError};
/// assert!(validate_server_event_name("user_banned").is_ok());
/// assert!(validate_server_event_name("disconnect").is_ok());
/// assert_eq!(
///     validate_server_event_name("connection"),
///     Err(NameError::ReservedEvent("connection".into()))
/// );
/// ```
pub fn validate_server_event_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::EmptyEvent);
    }
    if RESERVED_SERVER_EVENTS.contains(&name) {
        return Err(NameError::ReservedEvent(name.to_owned()));
    }
    Ok(())
}

/// Checks that `name` is usable as an event name: not empty and not one of [`RESERVED_EVENTS`].
///
/// ```
/// use sio_core::{validate_event_name, NameError};
/// assert!(validate_event_name("chat_message").is_ok());
/// assert_eq!(validate_event_name("connect"), Err(NameError::ReservedEvent("connect".into())));
/// ```
pub fn validate_event_name(name: &str) -> Result<(), NameError> {
    if name.is_empty() {
        return Err(NameError::EmptyEvent);
    }
    if RESERVED_EVENTS.contains(&name) {
        return Err(NameError::ReservedEvent(name.to_owned()));
    }
    Ok(())
}

/// Checks that `name` is a namespace an application can declare: it starts with `/` and holds no
/// `,` (the wire format ends a namespace at the first comma), no `?` or `#` (URL syntax that
/// older clients mixed into the namespace) and no whitespace or control character.
///
/// The decoder is more lenient: it accepts any namespace a peer sends and lets the runtime answer
/// an unknown one with `Invalid namespace`, as the reference server does.
///
/// ```
/// use sio_core::{validate_namespace, NameError};
/// assert!(validate_namespace("/chat").is_ok());
/// assert_eq!(validate_namespace("chat"), Err(NameError::NamespaceWithoutSlash("chat".into())));
/// ```
pub fn validate_namespace(name: &str) -> Result<(), NameError> {
    if !name.starts_with('/') {
        return Err(NameError::NamespaceWithoutSlash(name.to_owned()));
    }
    if let Some(c) = name
        .chars()
        .find(|c| matches!(c, ',' | '?' | '#') || c.is_whitespace() || c.is_control())
    {
        return Err(NameError::NamespaceCharacter {
            namespace: name.to_owned(),
            character: c,
        });
    }
    Ok(())
}

/// A Socket.IO namespace such as `/` or `/chat`.
///
/// Cheap to clone: it shares the bytes of the packet it was decoded from.
///
/// ```
/// use sio_core::Namespace;
/// let chat = Namespace::new("/chat").unwrap();
/// assert_eq!(chat.as_str(), "/chat");
/// assert!(Namespace::root().is_root());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Namespace(ByteString);

impl Namespace {
    /// The main namespace, `/`.
    pub const fn root() -> Self {
        Namespace(ByteString::from_static("/"))
    }

    /// A namespace an application declares, checked with [`validate_namespace`].
    pub fn new(name: impl Into<ByteString>) -> Result<Self, NameError> {
        let name = name.into();
        validate_namespace(&name)?;
        Ok(Namespace(name))
    }

    /// A namespace exactly as a peer sent it; the decoder only guarantees the leading `/`.
    pub(crate) fn from_wire(name: ByteString) -> Self {
        Namespace(name)
    }

    /// Whether this is the main namespace, `/`, which the wire format leaves out.
    pub fn is_root(&self) -> bool {
        &*self.0 == "/"
    }

    /// The namespace as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Namespace {
    fn default() -> Self {
        Namespace::root()
    }
}

impl fmt::Debug for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Namespace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl AsRef<str> for Namespace {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Namespace {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Namespace {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The id that pairs an EVENT with its ACK.
///
/// ```
/// use sio_core::AckId;
/// assert_eq!(AckId(17).to_string(), "17");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AckId(pub u64);

impl fmt::Display for AckId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_rules() {
        assert!(validate_namespace("/").is_ok());
        assert!(validate_namespace("/a/b-c_d.e~").is_ok());
        assert!(validate_namespace("/é").is_ok());
        for bad in ["", "chat", "/a,b", "/a?b", "/a#b", "/a b", "/a\nb"] {
            assert!(
                validate_namespace(bad).is_err(),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn event_rules() {
        for reserved in RESERVED_EVENTS {
            assert!(validate_event_name(reserved).is_err());
        }
        assert_eq!(validate_event_name(""), Err(NameError::EmptyEvent));
        assert!(validate_event_name("Connect").is_ok());
    }
}
