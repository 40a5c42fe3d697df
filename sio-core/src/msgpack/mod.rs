//! The MessagePack parser, compatible with `socket.io-msgpack-parser` 3.x: each Socket.IO
//! packet is one MessagePack map (`{type, nsp, data, id}`) in one binary Engine.IO message,
//! binary data inside it as `bin` rather than attachments.
//!
//! Arguments stay slices of the message until a handler's type reads them
//! ([`de`]), and typed values are written straight into MessagePack ([`ser`]), so nothing goes
//! through JSON on the way in or out.

mod buffers;
pub(crate) mod de;
pub(crate) mod packet;
pub(crate) mod read;
pub(crate) mod replay;
pub(crate) mod ser;

pub use buffers::notepack_buffers_as_bin;
pub use read::MsgPackError;
