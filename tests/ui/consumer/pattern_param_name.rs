#![allow(unused)]
use sio::{consumer, Socket};

#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/workspace/{1st}")]
impl Workspace {}

fn main() {}
