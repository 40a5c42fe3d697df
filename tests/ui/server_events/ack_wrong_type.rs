#![allow(unused)]
use sio::{server_events, Ack, Server, ServerEvent, Socket};

struct Cluster;

#[server_events]
impl Cluster {
    #[event("count")]
    async fn count(&mut self, server: &Server, ack: Ack<u64>) -> sio::Result<()> {
        ack.send("many")
    }
}

fn main() {}
