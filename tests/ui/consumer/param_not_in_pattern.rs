#![allow(unused)]
use sio::{consumer, Socket};

#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/workspace/{id}")]
impl Workspace {
    #[event("open")]
    async fn open(&mut self, socket: &Socket, #[param] doc: u64) {}
}

fn main() {}
