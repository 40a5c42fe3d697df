#![allow(unused)]
use sio::{consumer, OutgoingEvent, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[on_any_outgoing]
    fn sent(self, socket: &Socket, event: &OutgoingEvent) {}
}

fn main() {}
