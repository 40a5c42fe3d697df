#![allow(unused)]
use sio::{server_events, Ack, Server, ServerEvent, Socket};

struct Cluster;

#[server_events]
impl Cluster {
    #[event("ban")]
    async fn ban(&mut self, server: &Server, id: u64) {}

    #[event("ban")]
    async fn ban_again(&mut self, server: &Server, id: u64) {}
}

fn main() {}
