//! The Engine.IO `open` packet and the session id it carries.

use std::fmt;
use std::time::Duration;

use bytestring::ByteString;
use serde::{Deserialize, Serialize};

use crate::{EnginePacket, Frame, Transport};

/// An Engine.IO session id.
///
/// It is the credential of every polling request, so the runtime draws it from a cryptographic
/// RNG; sio-core only carries it.
///
/// ```
/// use sio_core::Sid;
/// let sid = Sid::new("lv_VI97HAXpY6yYWAAAC");
/// assert_eq!(sid.as_str(), "lv_VI97HAXpY6yYWAAAC");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Sid(String);

impl Sid {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Sid(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::borrow::Borrow<str> for Sid {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The handshake data of an `open` packet, with exactly the keys of the v4 specification.
///
/// ```
/// use std::time::Duration;
/// use sio_core::{Frame, Handshake, Sid, Transport};
/// let handshake = Handshake {
///     sid: Sid::new("lv_VI97HAXpY6yYWAAAC"),
///     upgrades: vec![Transport::WebSocket],
///     ping_interval: Duration::from_millis(25000),
///     ping_timeout: Duration::from_millis(20000),
///     max_payload: 1000000,
/// };
/// assert_eq!(
///     handshake.encode(),
///     Frame::Text(r#"0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#.into())
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Handshake {
    /// The session id.
    pub sid: Sid,
    /// Transports the client may upgrade to: `websocket` on polling, none on a WebSocket.
    pub upgrades: Vec<Transport>,
    /// How often the server pings.
    #[serde(with = "millis")]
    pub ping_interval: Duration,
    /// How long the server waits for the pong.
    #[serde(with = "millis")]
    pub ping_timeout: Duration,
    /// The largest polling payload, in bytes.
    pub max_payload: u64,
}

impl Handshake {
    /// The `open` packet as a frame.
    pub fn encode(&self) -> Frame {
        // Serializing plain strings and integers cannot fail.
        let json = serde_json::to_string(self).unwrap_or_default();
        EnginePacket::Open(ByteString::from(json)).encode()
    }

    /// Reads the handshake from an `open` packet's data (for clients and tests).
    pub fn decode(data: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(data)
    }
}

impl Serialize for Transport {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Transport {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Transport::from_query(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown transport `{name}`")))
    }
}

mod millis {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(value: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(value.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
