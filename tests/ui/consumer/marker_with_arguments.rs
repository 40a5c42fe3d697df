#![allow(unused)]
use sio::{consumer, IncomingEvent, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[on_any("everything")]
    async fn seen(&mut self, socket: &Socket, event: &IncomingEvent) {}
}

fn main() {}
