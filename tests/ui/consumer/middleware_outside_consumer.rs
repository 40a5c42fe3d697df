#![allow(unused)]
use sio::Socket;

struct Chat;

impl Chat {
    #[sio::middleware]
    async fn check(&mut self, socket: &Socket) {}
}

fn main() {}
