#![allow(unused)]
use sio::{server_events, Ack, Server, ServerEvent, Socket};

struct Cluster;

#[server_events]
impl Cluster {
    #[event("ban")]
    async fn ban(&mut self, id: u64) {}
}

fn main() {}
