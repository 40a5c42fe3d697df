//! Every supported handler shape compiles.

use serde::{Deserialize, Serialize};
use sio::{
    Ack, Args, ConnectError, DisconnectReason, IncomingEvent, OutgoingEvent, Socket, consumer,
};

#[derive(Deserialize)]
struct Token {
    #[allow(dead_code)]
    token: String,
}

#[derive(Deserialize, Serialize)]
struct ChatMessage {
    text: String,
}

#[derive(Serialize)]
struct Status {
    status: &'static str,
}

#[derive(Debug)]
struct Oops;

impl std::fmt::Display for Oops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("oops")
    }
}

impl std::error::Error for Oops {}

#[derive(Default)]
struct Chat {
    messages: usize,
}

#[consumer(namespace = "/chat")]
impl Chat {
    async fn connect(&mut self, socket: &Socket, auth: Option<Token>) -> Result<(), ConnectError> {
        let _ = auth;
        socket.join("lobby").await;
        socket.emit("system_message", &ChatMessage { text: "Welcome!".into() })?;
        Ok(())
    }

    #[event("chat_message")]
    async fn chat_message(&mut self, socket: &Socket, msg: ChatMessage, ack: Ack<Status>) -> sio::Result<()> {
        self.messages += 1;
        socket.server().of(socket.namespace().as_str()).to("lobby").emit("chat_message", &msg)?;
        ack.send(Status { status: "ok" })
    }

    /// `#[event]` alone takes the method's name; `&self` is enough; no return value.
    #[event]
    async fn ping(&self, _socket: &Socket) {}

    /// Several arguments, and an ack with several values.
    #[event("pair")]
    async fn pair(&mut self, _socket: &Socket, left: i32, right: Option<String>, ack: Ack<Args<(i32, String)>>) -> sio::Result<()> {
        ack.send(Args((left, right.unwrap_or_default())))
    }

    /// An ack with no values, and an error type of its own.
    #[event("empty")]
    async fn empty(&mut self, _socket: &Socket, ack: Ack<Args<()>>) -> Result<(), Oops> {
        let _ = ack.send(Args(()));
        Err(Oops)
    }

    /// Binary arguments.
    #[event("upload")]
    async fn upload(&mut self, _socket: &Socket, file: bytes::Bytes, ack: Ack<usize>) -> sio::Result<()> {
        ack.send(file.len())
    }

    #[sio::fallback]
    async fn other(&mut self, _socket: &Socket, event: IncomingEvent) {
        let _ = event.name();
    }

    async fn disconnect(&mut self, _socket: &Socket, reason: DisconnectReason) {
        let _ = reason;
    }

    // A restored socket's kept data, typed.
    async fn recover(&mut self, _socket: &Socket, kept: Option<Vec<String>>) -> sio::Result<()> {
        let _ = kept;
        Ok(())
    }

    /// A plain helper method is left alone.
    fn count(&self) -> usize {
        self.messages
    }
}

/// The smallest consumer: no hooks, no connect auth.
#[derive(Default)]
struct Minimal;

#[consumer(namespace = "/")]
impl Minimal {
    async fn connect(&mut self, _socket: &Socket) -> Result<(), ConnectError> {
        Ok(())
    }
}

/// Return types are checked by type, not by their tokens: an alias works.
type Admission = Result<(), ConnectError>;
type Outcome = sio::Result<()>;

#[derive(Default)]
struct Aliased;

#[consumer(namespace = "/aliased")]
impl Aliased {
    async fn connect(&mut self, _socket: &Socket) -> Admission {
        Ok(())
    }

    #[event("say")]
    async fn say(&mut self, _socket: &Socket, _text: String) -> Outcome {
        Ok(())
    }
}

/// A `connect` that admits everyone returns nothing; one that refuses can fail with any error
/// that converts into a `ConnectError`, such as an emit's.
#[derive(Default)]
struct Open;

#[consumer(namespace = "/open")]
impl Open {
    async fn connect(&mut self, _socket: &Socket) {}
}

#[derive(Default)]
struct Greeting;

#[consumer(namespace = "/greeting")]
impl Greeting {
    async fn connect(&mut self, socket: &Socket) -> Result<(), sio::EmitError> {
        socket.emit("hello", "you")
    }
}

/// Middleware and hooks: connect middleware with and without typed auth, with `()` or a
/// `Result` of any error that converts; event middleware that reads or takes the ack; `#[on_any]`
/// with `&self`; outgoing hooks, two of them, run in order.
#[derive(Default)]
struct Hooked {
    user: Option<String>,
}

#[derive(Deserialize)]
struct UserToken {
    user: String,
}

#[consumer(namespace = "/hooked")]
impl Hooked {
    #[middleware]
    async fn authenticate(&mut self, _socket: &Socket, token: Option<UserToken>) -> Result<(), ConnectError> {
        self.user = Some(token.ok_or_else(|| ConnectError::new("no token"))?.user);
        Ok(())
    }

    #[sio::middleware]
    async fn greet(&mut self, socket: &Socket) -> Result<(), sio::EmitError> {
        socket.emit("hello", &self.user)
    }

    #[middleware]
    async fn accept(&self, _socket: &Socket) {}

    #[event_middleware]
    async fn only_known(&mut self, _socket: &Socket, event: &IncomingEvent) -> sio::Result<()> {
        match event.name() {
            "say" => Ok(()),
            other => Err(sio::Error::msg(format!("unknown event {other}"))),
        }
    }

    #[event_middleware]
    async fn answer_early(&mut self, _socket: &Socket, event: &mut IncomingEvent) {
        let _ = event.ack::<&str>().send("seen");
    }

    #[on_any]
    async fn log(&self, _socket: &Socket, event: &IncomingEvent) {
        let _ = event.name();
    }

    #[on_any_outgoing]
    fn count(_socket: &Socket, _event: &OutgoingEvent) {}

    async fn disconnecting(&mut self, socket: &Socket, _reason: DisconnectReason) {
        let _rooms = socket.rooms();
    }

    #[sio::on_any_outgoing]
    fn audit(_socket: &Socket, event: &OutgoingEvent) {
        let _ = (event.name(), event.len());
    }

    #[event("say")]
    async fn say(&mut self, _socket: &Socket, _text: String) {}
}

/// A family of namespaces: `/workspace/1`, `/workspace/2`, ... each made at its first CONNECT.
#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/workspace/{id}/{*rest}")]
impl Workspace {
    /// Typed parameters anywhere after the socket, beside the auth.
    async fn connect(
        &mut self,
        socket: &Socket,
        #[param] id: u64,
        auth: Option<String>,
        #[param("rest")] path: String,
    ) {
        let _ = (socket, id, auth, path);
    }

    #[middleware]
    async fn only_some(&mut self, _socket: &Socket, #[param] id: u64) -> Result<(), ConnectError> {
        if id == 0 {
            return Err(ConnectError::new("workspace 0 is closed"));
        }
        Ok(())
    }

    #[event("which")]
    async fn which(&mut self, socket: &Socket, ack: Ack<u64>) -> sio::Result<()> {
        ack.send(socket.param::<u64>("id")?)
    }

    #[event("where")]
    async fn where_(
        &mut self,
        _socket: &Socket,
        #[param] id: u64,
        name: String,
        #[param] rest: String,
        ack: Ack<String>,
    ) -> sio::Result<()> {
        ack.send(format!("{name} in {id}/{rest}"))
    }
}

fn main() {
    let _ = Chat::default().count();
    let _server = sio::Server::builder()
        .consumer::<Chat>()
        .consumer::<Minimal>()
        .consumer::<Aliased>()
        .consumer::<Open>()
        .consumer::<Greeting>()
        .consumer::<Hooked>()
        .consumer::<Workspace>()
        .build();
}
