#![allow(unused)]
use sio::{consumer, OutgoingEvent, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[on_any_outgoing]
    fn sent(socket: &Socket, event: &OutgoingEvent) -> sio::Result<()> {
        Ok(())
    }
}

fn main() {}
