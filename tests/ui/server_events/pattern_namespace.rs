#![allow(unused)]
use sio::{server_events, Ack, Server, ServerEvent, Socket};

struct Cluster;

#[server_events(namespace = "/workspace/{id}")]
impl Cluster {
    #[event("ban")]
    async fn ban(&mut self, server: &Server, id: u64) {}
}

fn main() {}
