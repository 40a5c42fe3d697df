#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

struct NotSerialize;

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[event("chat_message")]
    async fn chat_message(&mut self, socket: &Socket, ack: Ack<NotSerialize>) {}
}

fn main() {}
