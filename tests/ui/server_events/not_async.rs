#![allow(unused)]
use sio::{server_events, Ack, Server, ServerEvent, Socket};

struct Cluster;

#[server_events]
impl Cluster {
    #[event("ban")]
    fn ban(&mut self, server: &Server, id: u64) {}
}

fn main() {}
