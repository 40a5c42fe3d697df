#![allow(unused)]
use sio::{server_events, Ack, Server, ServerEvent, Socket};

struct Cluster;

#[server_events]
impl Cluster {
    #[middleware]
    async fn check(&mut self, server: &Server) {}
}

fn main() {}
