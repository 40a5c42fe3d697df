//! The benchmark server on socketioxide (crates.io): the same events, acks and rooms as sio's.

use serde_json::Value;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4002".into());
    let (layer, io) = SocketIo::new_layer();
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
