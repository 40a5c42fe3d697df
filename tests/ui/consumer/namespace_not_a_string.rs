#![allow(unused)]
use sio::{consumer, Ack, ConnectError, DisconnectReason, Socket};

#[derive(Default)]
struct Chat;

const CHAT: &str = "/chat";

#[consumer(namespace = CHAT)]
impl Chat {}

fn main() {}
