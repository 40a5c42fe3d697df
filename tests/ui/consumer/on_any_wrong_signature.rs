#![allow(unused)]
use sio::{consumer, IncomingEvent, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[on_any]
    async fn seen(&mut self, event: &IncomingEvent, socket: &Socket) {}
}

fn main() {}
