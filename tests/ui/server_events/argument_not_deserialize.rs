#![allow(unused)]
use sio::{server_events, Ack, Server, ServerEvent, Socket};

struct Cluster;

struct NotDeserialize;

#[server_events]
impl Cluster {
    #[event("ban")]
    async fn ban(&mut self, server: &Server, who: NotDeserialize) {}
}

fn main() {}
