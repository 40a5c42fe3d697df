//! A Socket.IO client on HTTP long-polling only (Engine.IO v4, never upgrading), for the polling
//! echo. It keeps two keep-alive HTTP/1.1 connections: one carries the long-poll GETs, the other
//! the POSTs, so a GET waiting for the server never holds up the next emit.

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::HOST;
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use sio_core::{
    AckId, EnginePacket, Frame, Handshake, Namespace, PacketDecoder, PacketEncoder, SocketPacket,
};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

type Connection = SendRequest<Full<Bytes>>;

/// One HTTP/1.1 connection to `host` and the `path` its requests go to.
struct Http {
    sender: Connection,
    host: String,
    path: String,
}

impl Http {
    async fn connect(host: &str, path: String) -> Http {
        let stream = TcpStream::connect(host).await.expect("connect");
        // Each request is written whole; nothing gains from Nagle's delay.
        stream.set_nodelay(true).expect("nodelay");
        let (sender, connection) = http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP handshake");
        tokio::spawn(connection);
        Http {
            sender,
            host: host.to_owned(),
            path,
        }
    }

    /// Sends one request and reads the whole response body.
    async fn request(&mut self, method: Method, body: Bytes) -> Result<Bytes, String> {
        let request = Request::builder()
            .method(method)
            .uri(&self.path)
            .header(HOST, &self.host)
            .body(Full::new(body))
            .map_err(|e| e.to_string())?;
        self.sender.ready().await.map_err(|e| e.to_string())?;
        let response = self
            .sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?
            .to_bytes();
        if !status.is_success() {
            return Err(format!("{status}: {}", String::from_utf8_lossy(&body)));
        }
        Ok(body)
    }
}

/// Engine.IO packets of every GET response, in order, until the session or the client ends.
async fn long_poll(mut get: Http, packets: mpsc::Sender<EnginePacket>) {
    loop {
        let body = match get.request(Method::GET, Bytes::new()).await {
            Ok(body) => body,
            Err(error) => return eprintln!("long-poll GET: {error}"),
        };
        for packet in sio_core::decode_payload(body).expect("payload") {
            if packets.send(packet.expect("packet")).await.is_err() {
                return; // the client is gone
            }
        }
    }
}

/// A polling Socket.IO client joined to the main namespace.
pub(crate) struct Client {
    post: Http,
    packets: mpsc::Receiver<EnginePacket>,
    decoder: PacketDecoder,
    next_ack: u64,
}

impl Client {
    /// Opens a session at `host` (`127.0.0.1:4000`) and connects to the main namespace.
    pub(crate) async fn connect(host: &str) -> Client {
        let mut get = Http::connect(host, "/socket.io/?EIO=4&transport=polling".into()).await;
        let open = get.request(Method::GET, Bytes::new()).await.expect("open");
        let Some(Ok(EnginePacket::Open(handshake))) =
            sio_core::decode_payload(open).expect("open").next()
        else {
            panic!("no open packet");
        };
        let sid = Handshake::decode(&handshake).expect("handshake").sid;
        get.path.push_str(&format!("&sid={}", sid.as_str()));
        let post = Http::connect(host, get.path.clone()).await;
        // One GET is in flight at a time; a few packets of slack keep it polling while the
        // client is busy.
        let (sender, packets) = mpsc::channel(16);
        tokio::spawn(long_poll(get, sender));
        let mut client = Client {
            post,
            packets,
            decoder: PacketDecoder::default(),
            next_ack: 0,
        };
        let connect = SocketPacket::Connect {
            namespace: Namespace::root(),
            data: None,
        };
        client.send(connect.encode()).await;
        match client.next_packet().await {
            SocketPacket::Connect { .. } => client,
            other => panic!("not connected: {other:?}"),
        }
    }

    /// POSTs one frame. Only this task POSTs, so a pong never overlaps an emit.
    async fn send(&mut self, frame: Frame) {
        let mut body = BytesMut::new();
        sio_core::encode_payload([&frame], &mut body);
        self.post
            .request(Method::POST, body.freeze())
            .await
            .expect("POST");
    }

    /// The next Socket.IO packet; pings are answered on the way.
    async fn next_packet(&mut self) -> SocketPacket {
        loop {
            match self.packets.recv().await.expect("session ended") {
                EnginePacket::Ping(data) => self.send(EnginePacket::Pong(data).encode()).await,
                EnginePacket::Message(text) => {
                    if let Some(decoded) = self.decoder.decode_text(text).expect("packet") {
                        return decoded.packet;
                    }
                }
                EnginePacket::Close => panic!("session closed by the server"),
                _ => {}
            }
        }
    }

    /// Emits `event` with `arg` and waits for its ack.
    pub(crate) async fn call(&mut self, event: &str, arg: &serde_json::Value) {
        let id = AckId(self.next_ack);
        self.next_ack += 1;
        let mut packet = PacketEncoder::event(&Namespace::root(), Some(id), event);
        packet.arg(arg).expect("argument");
        self.send(packet.finish().text).await;
        while !matches!(self.next_packet().await, SocketPacket::Ack { ack_id, .. } if ack_id == id)
        {
        }
    }
}
