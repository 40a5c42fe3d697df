//! The write floor of a broadcast: a bare WebSocket server over tokio, without tungstenite's
//! streams or a task per socket on the way out. A client that sends `join` is in the room (and
//! gets `joined`); a client that sends `bcast:<text>` has `42["bcast",<text>]` written to every
//! socket of the room, framed once, one `write` per socket, by the task that read the request.
//! The load generator's `broadcast ... bare` mode speaks this.

use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;

/// The room: every joined socket's write half.
type Room = Arc<Mutex<Vec<OwnedWriteHalf>>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4002".into());
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let room: Room = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        tokio::spawn(serve(stream, Arc::clone(&room)));
    }
}

async fn serve(mut stream: TcpStream, room: Room) {
    if handshake(&mut stream).await.is_err() {
        return;
    }
    let (mut reader, writer) = stream.into_split();
    let mut writer = Some(writer);
    let mut buffer = Vec::with_capacity(4096);
    while let Some(message) = next_message(&mut reader, &mut buffer).await {
        if message == b"join" {
            if let Some(mut writer) = writer.take() {
                if writer.write_all(&frame(b"joined")).await.is_err() {
                    return;
                }
                room.lock().await.push(writer);
            }
        } else if let Some(text) = message.strip_prefix(b"bcast:") {
            let mut payload = b"42[\"bcast\",".to_vec();
            payload.extend_from_slice(text);
            payload.push(b']');
            let frame = frame(&payload);
            for socket in room.lock().await.iter_mut() {
                let _ = socket.write_all(&frame).await;
            }
        }
    }
}

/// Reads the HTTP upgrade request and answers `101 Switching Protocols`.
async fn handshake(stream: &mut TcpStream) -> std::io::Result<()> {
    let mut request = Vec::new();
    let mut byte = [0u8; 1];
    while !request.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).await? == 0 || request.len() > 8192 {
            return Err(std::io::ErrorKind::InvalidData.into());
        }
        request.push(byte[0]);
    }
    let text = String::from_utf8_lossy(&request);
    let key = text
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("sec-websocket-key")
                .then(|| value.trim().to_owned())
        })
        .ok_or(std::io::ErrorKind::InvalidData)?;
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
        derive_accept_key(key.as_bytes())
    );
    stream.write_all(response.as_bytes()).await
}

/// The next complete message from a client (masked frames, unfragmented); `None` at the end.
async fn next_message(reader: &mut OwnedReadHalf, buffer: &mut Vec<u8>) -> Option<Vec<u8>> {
    loop {
        if let Some((message, used)) = parse(buffer) {
            buffer.drain(..used);
            match message {
                Parsed::Text(text) => return Some(text),
                Parsed::Close => return None,
                Parsed::Other => continue,
            }
        }
        let mut chunk = [0u8; 4096];
        let n = reader.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
}

enum Parsed {
    Text(Vec<u8>),
    Close,
    Other,
}

/// One masked client frame from the front of `buffer`, and its length.
fn parse(buffer: &[u8]) -> Option<(Parsed, usize)> {
    let [first, second, ..] = *buffer else {
        return None;
    };
    let (len, mut at) = match second & 0x7F {
        126 => (
            u16::from_be_bytes(buffer.get(2..4)?.try_into().ok()?) as usize,
            4,
        ),
        127 => (
            u64::from_be_bytes(buffer.get(2..10)?.try_into().ok()?) as usize,
            10,
        ),
        n => (usize::from(n), 2),
    };
    let mask: [u8; 4] = buffer.get(at..at + 4)?.try_into().ok()?;
    at += 4;
    let payload = buffer.get(at..at + len)?;
    let unmasked: Vec<u8> = payload
        .iter()
        .enumerate()
        .map(|(i, byte)| byte ^ mask[i % 4])
        .collect();
    let parsed = match first & 0x0F {
        1 | 2 => Parsed::Text(unmasked),
        8 => Parsed::Close,
        _ => Parsed::Other,
    };
    Some((parsed, at + len))
}

/// A server text frame (unmasked) around `payload`.
fn frame(payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(payload.len() + 10);
    frame.push(0x81);
    match payload.len() {
        n if n < 126 => frame.push(n as u8),
        n if n < 65536 => {
            frame.push(126);
            frame.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            frame.push(127);
            frame.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    frame.extend_from_slice(payload);
    frame
}
