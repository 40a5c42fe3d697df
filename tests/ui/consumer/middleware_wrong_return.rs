#![allow(unused)]
use sio::{consumer, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat")]
impl Chat {
    #[middleware]
    async fn check(&mut self, socket: &Socket) -> bool {
        true
    }
}

fn main() {}
