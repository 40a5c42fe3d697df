#![allow(unused)]
use sio::{consumer, Socket};

#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/room-{id}")]
impl Workspace {}

fn main() {}
