#![allow(unused)]
use sio::{consumer, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    async fn connect(&mut self, socket: &Socket, #[param("room")] room: String) {}
}

fn main() {}
