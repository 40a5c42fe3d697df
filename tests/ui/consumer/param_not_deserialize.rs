#![allow(unused)]
use sio::{consumer, Socket};

struct WorkspaceId(u64);

#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/workspace/{id}")]
impl Workspace {
    #[event("open")]
    async fn open(&mut self, socket: &Socket, #[param] id: WorkspaceId) {}
}

fn main() {}
