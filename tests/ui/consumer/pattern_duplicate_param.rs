#![allow(unused)]
use sio::{consumer, Socket};

#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/{id}/x/{id}")]
impl Workspace {}

fn main() {}
