#![allow(unused)]
use sio::{consumer, Socket};

#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/workspace/{id}")]
impl Workspace {
    async fn helper(&self, #[param] id: u64) {}
}

fn main() {}
