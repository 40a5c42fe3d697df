//! The server the end-to-end tests of acks, middleware and catch-all hooks drive with the
//! official clients. Not an example to learn from: each event exercises one rule.
//!
//! `--addr HOST:PORT` (port 0 picks one; the address is printed).
//!
//! The CONNECT auth steers the middleware: `{"refuse": "server" | "first" | "second"}` refuses
//! at that step, with data naming it; `{"name": ".."}` is the typed data the server's middleware
//! keeps on the socket.
#![allow(clippy::print_stdout, clippy::print_stderr)] // a test server reports its address

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};
use sio::socket::OutgoingEvent;
use sio::{Ack, ConnectError, DisconnectReason, IncomingEvent, Server, Socket, consumer};

#[derive(Debug, Default, Deserialize)]
struct Auth {
    refuse: Option<String>,
    name: Option<String>,
}

/// What the server's middleware keeps on each socket, for the handlers to read.
#[derive(Debug, Clone)]
struct Visitor {
    name: String,
}

/// The events the outgoing hook saw for a socket, kept on it.
#[derive(Debug, Clone, Default)]
struct Sent(Arc<Mutex<Vec<Value>>>);

/// Middleware steps that ran after an earlier step refused: none, if a refusal ends the chain.
static STEPS_AFTER_REFUSAL: AtomicU32 = AtomicU32::new(0);

/// Counts a step reached although `auth` asked an earlier one (of `earlier`) to refuse.
fn check_not_after(auth: &Auth, earlier: &[&str]) {
    if earlier.contains(&auth.refuse.as_deref().unwrap_or_default()) {
        STEPS_AFTER_REFUSAL.fetch_add(1, Ordering::Relaxed);
    }
}

fn refusal(step: &str) -> ConnectError {
    ConnectError::new(format!("refused by {step}")).with_data(json!({ "step": step }))
}

/// The main namespace, every piece in use.
#[derive(Default)]
struct Guarded {
    /// The steps of the connect chain this socket went through, in order.
    steps: Vec<&'static str>,
    /// Names of the events `#[on_any]` saw.
    seen: Vec<String>,
    /// How many times each counted event reached its handler.
    received: std::collections::HashMap<String, u32>,
}

impl Guarded {
    fn count(&mut self, event: &str) {
        *self.received.entry(event.to_owned()).or_default() += 1;
    }
}

#[consumer(namespace = "/")]
impl Guarded {
    #[middleware]
    async fn first(&mut self, socket: &Socket, auth: Option<Auth>) -> Result<(), ConnectError> {
        if socket.get::<Visitor>().is_some() {
            self.steps.push("server");
        }
        self.steps.push("first");
        let auth = auth.unwrap_or_default();
        check_not_after(&auth, &["server"]);
        match auth.refuse.as_deref() {
            Some("first") => Err(refusal("first")),
            _ => Ok(()),
        }
    }

    #[middleware]
    async fn second(&mut self, _socket: &Socket, auth: Option<Auth>) -> Result<(), ConnectError> {
        // Asynchronous, to show the chain waits for each step.
        tokio::time::sleep(Duration::from_millis(5)).await;
        self.steps.push("second");
        let auth = auth.unwrap_or_default();
        check_not_after(&auth, &["server", "first"]);
        match auth.refuse.as_deref() {
            Some("second") => Err(refusal("second")),
            _ => Ok(()),
        }
    }

    async fn connect(&mut self, socket: &Socket, auth: Option<Auth>) {
        check_not_after(&auth.unwrap_or_default(), &["server", "first", "second"]);
        self.steps.push("connect");
        socket.insert(Sent::default());
        socket.join("everyone").await;
    }

    #[on_any]
    async fn seen(&mut self, _socket: &Socket, event: &IncomingEvent) {
        self.seen.push(event.name().to_owned());
    }

    #[event_middleware]
    async fn gate(&mut self, socket: &Socket, event: &mut IncomingEvent) -> sio::Result<()> {
        match event.name() {
            "forbidden" => Err(sio::Error::msg("forbidden event")),
            "kick" => {
                socket.disconnect();
                Err(sio::Error::msg("kicked"))
            }
            "answered_by_middleware" => {
                event.ack::<&str>().send("the middleware answers")?;
                Err(sio::Error::msg("answered here"))
            }
            _ => Ok(()),
        }
    }

    #[on_any_outgoing]
    fn sent(socket: &Socket, event: &OutgoingEvent) {
        if let Some(Sent(sent)) = socket.get::<Sent>() {
            let args: Vec<Value> = (0..event.len())
                .filter_map(|index| event.arg(index).ok())
                .collect();
            sent.lock().expect("sent").push(json!([event.name(), args]));
        }
    }

    /// What the chain and the hooks saw, and the counts.
    #[event("report")]
    async fn report(&mut self, socket: &Socket, ack: Ack<Value>) -> sio::Result<()> {
        let visitor = socket.get::<Visitor>().map(|visitor| visitor.name);
        let sent = socket
            .get::<Sent>()
            .map(|Sent(sent)| sent.lock().expect("sent").clone())
            .unwrap_or_default();
        ack.send(json!({
            "steps": self.steps,
            "visitor": visitor,
            "seen": self.seen,
            "received": self.received,
            "sent": sent,
            "stepsAfterRefusal": STEPS_AFTER_REFUSAL.load(Ordering::Relaxed),
        }))
    }

    /// Takes no ack: the client's asks go unanswered.
    #[event("silent")]
    async fn silent(&mut self, _socket: &Socket) {
        self.count("silent");
    }

    /// Fails before it answers.
    #[event("failing")]
    async fn failing(&mut self, _socket: &Socket, ack: Ack<&'static str>) -> sio::Result<()> {
        self.count("failing");
        Err(sio::Error::msg("the store is down"))?;
        ack.send("stored")
    }

    /// Drops its ack unanswered.
    #[event("dropped")]
    async fn dropped(&mut self, _socket: &Socket, ack: Ack<&'static str>) {
        self.count("dropped");
        drop(ack);
    }

    /// Answers a number with its double; anything else does not decode.
    #[event("double")]
    async fn double(&mut self, _socket: &Socket, n: u32, ack: Ack<u32>) -> sio::Result<()> {
        self.count("double");
        ack.send(n * 2)
    }

    /// Joins a room (`watchers` hear who leaves).
    #[event("join")]
    async fn join(&mut self, socket: &Socket, room: String, ack: Ack<()>) -> sio::Result<()> {
        socket.join(room).await;
        ack.send(())
    }

    /// Tells the watchers which rooms the socket was in: they are still readable here.
    async fn disconnecting(&mut self, socket: &Socket, reason: DisconnectReason) {
        let rooms: Vec<String> = socket.rooms().iter().map(ToString::to_string).collect();
        let _ = socket.server().to("watchers").emit(
            "leaving",
            sio::Args((socket.id().as_str(), reason.as_str(), rooms)),
        );
    }

    /// Then `disconnect`, when the rooms are gone.
    async fn disconnect(&mut self, socket: &Socket, _reason: DisconnectReason) {
        let rooms: Vec<String> = socket.rooms().iter().map(ToString::to_string).collect();
        let _ = socket
            .server()
            .to("watchers")
            .emit("left", sio::Args((socket.id().as_str(), rooms)));
    }

    /// A reserved name cannot be emitted, as in Node.
    #[event("emit_reserved")]
    async fn emit_reserved(&mut self, socket: &Socket, ack: Ack<String>) -> sio::Result<()> {
        let refused = socket.emit("disconnect", "nope").err();
        ack.send(refused.map(|error| error.to_string()).unwrap_or_default())
    }

    /// Must never run: the middleware refuses it.
    #[event("forbidden")]
    async fn forbidden(&mut self, _socket: &Socket, ack: Ack<&'static str>) -> sio::Result<()> {
        self.count("forbidden");
        ack.send("the handler ran")
    }

    /// Direct emits (one binary), a broadcast to everyone (this socket included), and an ack.
    #[event("shout")]
    async fn shout(&mut self, socket: &Socket, text: String, ack: Ack<()>) -> sio::Result<()> {
        socket.emit("echo", &text)?;
        socket.emit("binary", Bytes::from_static(&[1, 2, 3]))?;
        socket.server().to("everyone").emit("shouted", &text)?;
        ack.send(())
    }
}

/// A second namespace, to show a refusal in one leaves the others working.
#[derive(Default)]
struct Other;

#[consumer(namespace = "/other")]
impl Other {
    #[event("ping")]
    async fn ping(&mut self, _socket: &Socket, ack: Ack<&'static str>) -> sio::Result<()> {
        ack.send("pong")
    }
}

fn parse_addr() -> SocketAddr {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [flag, addr] if flag == "--addr" => addr.parse().unwrap_or_else(|err| {
            eprintln!("invalid address `{addr}`: {err}");
            std::process::exit(2);
        }),
        _ => {
            eprintln!("usage: hooks_testbed --addr HOST:PORT");
            std::process::exit(2);
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let server = Server::builder()
        .middleware(|socket: Socket| async move {
            let auth: Auth = socket
                .auth()
                .and_then(|auth| auth.deserialize().ok())
                .unwrap_or_default();
            if auth.refuse.as_deref() == Some("server") {
                return Err(refusal("server"));
            }
            if let Some(name) = auth.name {
                socket.insert(Visitor { name });
            }
            Ok(())
        })
        .consumer::<Guarded>()
        .consumer::<Other>()
        .build();
    let listener = tokio::net::TcpListener::bind(parse_addr()).await?;
    println!("listening on {}", listener.local_addr()?);
    server.serve(listener).await
}
