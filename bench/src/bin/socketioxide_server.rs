//! The benchmark server on socketioxide (crates.io): the same events, acks and rooms as sio's.
//!
//! `socketioxide_server [--msgpack] [ADDR]`: with `--msgpack`, its MessagePack parser.

use serde_json::Value;
use socketioxide::{ParserConfig, SocketIo};
use socketioxide::extract::{AckSender, Data, SocketRef};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = args
        .iter()
        .find(|arg| !arg.starts_with("--"))
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:4002".into());
    let (layer, io) = if args.iter().any(|arg| arg == "--msgpack") {
        SocketIo::builder()
            .with_parser(ParserConfig::msgpack())
            .build_layer()
    } else {
        SocketIo::new_layer()
    };
    io.ns("/", async |socket: SocketRef| {
        socket.on("echo", async |Data::<Value>(data), ack: AckSender| {
            ack.send(&data).ok();
        });
        socket.on(
            "join",
            async |socket: SocketRef, Data::<String>(room), ack: AckSender| {
                socket.join(room);
                ack.send(&()).ok();
            },
        );
        socket.on(
            "broadcast",
            async |io: SocketIo, Data::<(String, Value)>((room, data))| {
                io.to(room).emit("bcast", &data).await.ok();
            },
        );
    });
    let app = axum::Router::new().layer(layer);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app).await
}
