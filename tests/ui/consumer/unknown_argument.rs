#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat", room = "lobby", strict)]
impl Chat {}

fn main() {}
