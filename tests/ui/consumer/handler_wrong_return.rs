#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[event("chat_message")]
    async fn chat_message(&mut self, socket: &Socket, text: String) -> usize {
        text.len()
    }
}

fn main() {}
