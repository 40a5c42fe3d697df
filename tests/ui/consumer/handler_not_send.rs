#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[derive(Default)]
struct Chat;

async fn later() {}

#[consumer(namespace = "/chat")]
impl Chat {
    #[event("chat_message")]
    async fn chat_message(&mut self, socket: &Socket) {
        let counter = std::rc::Rc::new(1);
        later().await;
        let _ = counter;
    }
}

fn main() {}
