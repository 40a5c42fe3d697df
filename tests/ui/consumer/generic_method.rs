#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[event("chat_message")]
    async fn chat_message<T: serde::de::DeserializeOwned>(&mut self, socket: &Socket, value: T) {}
}

fn main() {}
