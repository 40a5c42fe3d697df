//! The transport floor: a bare tokio-tungstenite WebSocket server (4 KiB read buffer) that
//! echoes every message. It speaks no Engine.IO: the load generator's `bare` mode sends it the
//! same frames and counts each echo as a round trip.

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4001".into());
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let config = WebSocketConfig::default().read_buffer_size(4096);
            let Ok(socket) =
                tokio_tungstenite::accept_async_with_config(stream, Some(config)).await
            else {
                return;
            };
            let (mut sink, mut stream) = socket.split();
            while let Some(Ok(message)) = stream.next().await {
                if message.is_text() || message.is_binary() {
                    if sink.send(message).await.is_err() {
                        break;
                    }
                } else if message.is_close() {
                    break;
                }
            }
        });
    }
}
