//! Handler callbacks that act on their own connection: they must neither deadlock nor reorder.
#![allow(clippy::unwrap_used)] // a failed unwrap is a failed test

use std::net::TcpStream;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sio_server::engine::{CloseReason, Connection, Engine, EngineHandler, HandshakeInfo, Message};
use tungstenite::Message as WsMessage;

#[derive(Default)]
struct Recorder {
    closes: AtomicUsize,
    reasons: Mutex<Vec<CloseReason>>,
}

struct CloseOnRequest(Arc<Recorder>);

impl EngineHandler for CloseOnRequest {
    type Data = ();

    fn connection_data(&self, _handshake: &HandshakeInfo) {}

    fn on_message(&self, connection: &Connection, message: Message) {
        if message == Message::from("close-me") {
            // Re-enters the session from inside a callback.
            connection.close();
            assert!(connection.is_closed());
        } else {
            let _ = connection.send(message);
        }
    }

    fn on_close(&self, _connection: &Connection, reason: CloseReason) {
        self.0.closes.fetch_add(1, Ordering::SeqCst);
        self.0.reasons.lock().unwrap().push(reason);
    }
}

#[test]
fn closing_from_inside_a_callback_closes_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let recorder = Arc::new(Recorder::default());
    let engine = Engine::builder().build(CloseOnRequest(Arc::clone(&recorder)));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(sio_server::engine::serve(listener, engine.clone()));

    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let url = format!("ws://{addr}/engine.io/?EIO=4&transport=websocket");
    let (mut socket, _) = tungstenite::client(url.as_str(), stream).unwrap();
    let mut texts = Vec::new();
    let read_text = |socket: &mut tungstenite::WebSocket<TcpStream>| loop {
        match socket.read() {
            Ok(WsMessage::Text(text)) => return Some(text.to_string()),
            Ok(WsMessage::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    };
    assert!(read_text(&mut socket).unwrap().starts_with("0{"));
    socket.send(WsMessage::text("4before")).unwrap();
    socket.send(WsMessage::text("4close-me")).unwrap();
    while let Some(text) = read_text(&mut socket) {
        texts.push(text);
    }
    assert_eq!(texts, ["4before"], "the echo, then the WebSocket closes");

    for _ in 0..100 {
        if engine.stats().open == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(engine.stats().open, 0);
    assert_eq!(recorder.closes.load(Ordering::SeqCst), 1);
    assert_eq!(
        *recorder.reasons.lock().unwrap(),
        [CloseReason::ServerClose]
    );
}
