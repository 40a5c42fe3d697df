//! Procedural macros of the `sio` framework.
//!
//! `#[consumer(namespace = "/chat")]` and `#[event("chat_message")]` land here with the macro
//! work; until then this crate only reserves its place in the workspace. Users depend on the `sio`
//! facade, which will re-export the attributes.
