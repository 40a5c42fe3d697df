//! The benchmark server on sio: the same events, acks and rooms as every peer's.
//!
//! `echo` acks its arguments back; `join` joins a room and acks; `broadcast` sends its second
//! argument as `bcast` to the room named by its first.
//!
//! `sio_server [--recovery] [--deflate] [--msgpack] [--metrics] [ADDR]`: with `--recovery`, connection state
//! recovery is on (Node's defaults), so each broadcast is kept with its offset before it goes;
//! with `--deflate`, permessage-deflate is on (its defaults: messages from 1 KiB compressed);
//! with `--msgpack`, the server speaks the MessagePack parser; with `--metrics`, it counts what
//! it does for Prometheus (nothing scrapes them here: the cost is the counting).

use std::net::SocketAddr;

use sio::socket::{Consumer, HandlerError, IncomingEvent, Server, Socket};

#[derive(Default)]
struct Bench;

impl Consumer for Bench {
    const NAMESPACE: &'static str = "/";

    async fn on_event(
        &mut self,
        socket: &Socket,
        mut event: IncomingEvent,
    ) -> Result<(), HandlerError> {
        match event.name() {
            "echo" => {
                let received = event.received();
                event.ack().send(received)?;
            }
            "join" => {
                let room: String = event.arg(0)?;
                socket.join(room).await;
                event.ack().send(sio::Args(()))?;
            }
            "broadcast" => {
                let room: String = event.arg(0)?;
                socket
                    .server()
                    .of("/")
                    .to(room)
                    .emit("bcast", event.raw(1))?;
            }
            _ => {}
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let recovery = args.iter().any(|arg| arg == "--recovery");
    let deflate = args.iter().any(|arg| arg == "--deflate");
    let addr: SocketAddr = args
        .iter()
        .find(|arg| !arg.starts_with("--"))
        .map_or("127.0.0.1:4000", String::as_str)
        .parse()
        .expect("address");
    let mut builder = Server::builder().consumer::<Bench>();
    if recovery {
        builder = builder.connection_state_recovery(sio::ConnectionStateRecovery::default());
    }
    if deflate {
        builder = builder.per_message_deflate(sio::engine::PerMessageDeflate::default());
    }
    if args.iter().any(|arg| arg == "--msgpack") {
        builder = builder.parser(sio::Parser::MsgPack);
    }
    let metrics = sio::metrics::Metrics::new();
    if args.iter().any(|arg| arg == "--metrics") {
        builder = builder.metrics(&metrics);
    }
    let server = builder.build();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    server.serve(listener).await
}
