#![allow(unused)]
use sio::{consumer, DisconnectReason, Socket};

#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/workspace/{id}")]
impl Workspace {
    async fn disconnect(&mut self, socket: &Socket, #[param] id: u64, reason: DisconnectReason) {}
}

fn main() {}
