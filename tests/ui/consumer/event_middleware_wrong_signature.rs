#![allow(unused)]
use sio::{consumer, IncomingEvent, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[event_middleware]
    async fn gate(&mut self, event: &IncomingEvent) -> sio::Result<()> {
        Ok(())
    }
}

fn main() {}
