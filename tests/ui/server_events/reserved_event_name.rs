#![allow(unused)]
use sio::{server_events, Ack, Server, ServerEvent, Socket};

struct Cluster;

#[server_events]
impl Cluster {
    #[event("connection")]
    async fn gone(&mut self, server: &Server) {}
}

fn main() {}
