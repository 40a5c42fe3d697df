#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[event("chat_message")]
    async fn first(&mut self, socket: &Socket) {}

    #[event("chat_message")]
    async fn second(&mut self, socket: &Socket) {}
}

fn main() {}
