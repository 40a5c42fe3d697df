#![allow(unused)]
use sio::{server_events, Ack, Server, ServerEvent, Socket};

struct Cluster;

#[server_events]
impl Cluster {
    #[fallback]
    async fn other(&mut self, event: ServerEvent) {}
}

fn main() {}
