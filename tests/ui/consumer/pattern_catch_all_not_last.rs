#![allow(unused)]
use sio::{consumer, Socket};

#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/files/{*path}/x")]
impl Workspace {}

fn main() {}
