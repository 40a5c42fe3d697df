#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[derive(Default)]
struct Chat;

#[consumer(namespace = "/chat", namespace = "/other")]
impl Chat {}

fn main() {}
