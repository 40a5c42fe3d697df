#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

struct NotDeserialize;

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[event("chat_message")]
    async fn chat_message(&mut self, socket: &Socket, message: NotDeserialize) {}
}

fn main() {}
