#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[consumer(namespace = "/chat")]
struct Chat;

fn main() {}
