//! Which parser a server speaks: how Socket.IO packets are written inside Engine.IO messages.

/// How Socket.IO packets are encoded, for every client of a server (Node's `parser` option).
///
/// Clients must use the same: `socket.io-client` with `parser: require("socket.io-msgpack-parser")`
/// for [`Parser::MsgPack`], or python-socketio's `serializer="msgpack"`.
///
/// ```
/// use sio_core::Parser;
/// assert_eq!(Parser::default(), Parser::Json);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Parser {
    /// The default `socket.io-parser`: JSON text, each byte buffer as a binary attachment that
    /// follows the packet.
    #[default]
    Json,
    /// `socket.io-msgpack-parser`: each packet one MessagePack message, byte buffers inside it.
    MsgPack,
}
