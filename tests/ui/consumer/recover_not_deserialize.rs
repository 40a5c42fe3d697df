#![allow(unused)]
use sio::{consumer, Socket};

struct NotDeserialize;

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    async fn recover(&mut self, socket: &Socket, kept: NotDeserialize) {}
}

fn main() {}
