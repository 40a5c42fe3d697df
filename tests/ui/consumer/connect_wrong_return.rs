#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    async fn connect(&mut self, socket: &Socket) -> bool {
        true
    }
}

fn main() {}
