#![allow(unused)]
use sio::{consumer, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    async fn recover(&mut self, socket: &Socket) {}
}

fn main() {}
