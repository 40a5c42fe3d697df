#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[derive(Default)]
struct Chat;

#[consumer(room = Vec<u8>, strict, namespace = "/chat")]
impl Chat {}

fn main() {}
