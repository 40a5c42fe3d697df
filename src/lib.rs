#![doc = include_str!("../README.md")]

/// The protocol core, sans-IO: Engine.IO v4 and Socket.IO v5 codecs and the session state machine.
pub use sio_core as protocol;
