//! The server the end-to-end tests of dynamic namespaces drive with the official client. Not an
//! example to learn from: each event exercises one rule.
//!
//! `--addr HOST:PORT` (port 0 picks one; the address is printed), `--max-children N` (the most
//! namespaces `/workspace/{id}` may have), `--max-per-connection N` (the most namespaces one
//! connection may be in), `--cleanup on` (remove a workspace once empty),
//! `--redis URL` (with the `redis` feature: share broadcasts with the other processes there).
#![allow(clippy::print_stdout, clippy::print_stderr)] // a test server reports its address

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};
use sio::{Ack, ConnectError, Server, Socket, consumer};

/// One namespace per workspace.
#[derive(Default)]
struct Workspace;

#[consumer(namespace = "/workspace/{id}")]
impl Workspace {
    /// Workspace 0 is closed: its CONNECTs are refused. With auth `{"slow": true}`, a CONNECT
    /// is refused after 300 ms (time for its client to leave first).
    async fn connect(&mut self, socket: &Socket, auth: Option<Value>) -> Result<(), ConnectError> {
        if auth.is_some_and(|auth| auth["slow"] == true) {
            tokio::time::sleep(std::time::Duration::from_millis(300)).await;
            return Err(ConnectError::new("too slow"));
        }
        match socket.param::<u64>("id") {
            Ok(0) => Err(ConnectError::new("workspace 0 is closed")),
            Ok(_) => Ok(()),
            Err(_) => Err(ConnectError::new("workspaces are numbered")),
        }
    }

    /// Its namespace and its parameter, typed and as text.
    #[event("whoami")]
    async fn whoami(
        &mut self,
        socket: &Socket,
        #[param] id: u64,
        #[param("id")] text: String,
        ack: Ack<Value>,
    ) -> sio::Result<()> {
        ack.send(json!({
            "namespace": socket.namespace().as_str(),
            "id": id,
            "text": text,
            "params": socket.params(),
        }))?;
        Ok(())
    }

    /// To the other sockets of this workspace only.
    #[event("say")]
    async fn say(&mut self, socket: &Socket, text: String) -> sio::Result<()> {
        socket.broadcast().emit("said", text)?;
        Ok(())
    }

    #[event("ping")]
    async fn ping(&mut self, _socket: &Socket, ack: Ack<&'static str>) -> sio::Result<()> {
        ack.send("pong")?;
        Ok(())
    }

    /// Tells the workspace, in every process, even when this was its last socket here.
    async fn disconnect(&mut self, socket: &Socket, _reason: sio::DisconnectReason) {
        let _ = socket.broadcast().emit("left", "someone left");
    }
}

/// A game per number: `connect` takes the number typed, so `/game/x` is no game.
#[derive(Default)]
struct Game;

#[consumer(namespace = "/game/{number}")]
impl Game {
    /// Game 0 is closed; a number that does not decode is refused here already.
    #[middleware]
    async fn open_games(
        &mut self,
        _socket: &Socket,
        #[param] number: u32,
    ) -> Result<(), ConnectError> {
        if number == 0 {
            return Err(ConnectError::new("game 0 is closed"));
        }
        Ok(())
    }

    async fn connect(&mut self, socket: &Socket, #[param] number: u32) {
        socket.insert(number);
    }

    #[event("whoami")]
    async fn whoami(&mut self, socket: &Socket, ack: Ack<Option<u32>>) -> sio::Result<()> {
        ack.send(socket.get::<u32>())?;
        Ok(())
    }
}

/// Rooms that exist when the predicate says so (`/room/dyn-...`, with auth `{"pass": "yes"}`).
#[derive(Default)]
struct DynamicRoom;

#[consumer(namespace = "/room/{name}")]
impl DynamicRoom {
    #[event("ping")]
    async fn ping(&mut self, _socket: &Socket, ack: Ack<&'static str>) -> sio::Result<()> {
        ack.send("pong")?;
        Ok(())
    }
}

/// How often the predicate of `/room/{name}` ran.
static PREDICATE_CALLS: AtomicUsize = AtomicUsize::new(0);

/// The predicate: slow (200 ms), so that CONNECTs arriving meanwhile wait for its answer.
async fn admit_room(name: sio::protocol::Namespace, handshake: sio::socket::Handshake) -> bool {
    PREDICATE_CALLS.fetch_add(1, Ordering::Relaxed);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        !name.as_str().contains("panic"),
        "the predicate panics on purpose"
    );
    name.as_str().starts_with("/room/dyn-") && handshake.auth["pass"] == "yes"
}

/// A name the pattern matches, declared as it is: it wins over the pattern.
#[derive(Default)]
struct Lobby;

#[consumer(namespace = "/workspace/lobby")]
impl Lobby {
    #[event("whoami")]
    async fn whoami(&mut self, socket: &Socket, ack: Ack<Value>) -> sio::Result<()> {
        ack.send(json!({ "namespace": socket.namespace().as_str(), "declared": true }))?;
        Ok(())
    }
}

/// The main namespace: what the server serves now.
#[derive(Default)]
struct Admin;

#[consumer(namespace = "/")]
impl Admin {
    /// To every workspace at once; answers how many sockets the pattern's rooms hold.
    #[event("announce")]
    async fn announce(
        &mut self,
        socket: &Socket,
        text: String,
        ack: Ack<usize>,
    ) -> sio::Result<()> {
        let workspaces = socket.server().of("/workspace/{id}");
        workspaces.emit("announced", text)?;
        ack.send(workspaces.rooms().await?.len())?;
        Ok(())
    }

    /// Every server-side operation on the pattern, in every process: an ack gathered from
    /// each workspace's sockets, the sockets found, a room joined (then its rooms), the room
    /// left, and at last every workspace socket disconnected.
    #[event("operate")]
    async fn operate(&mut self, socket: &Socket, ack: Ack<Value>) -> sio::Result<()> {
        let workspaces = socket.server().of("/workspace/{id}");
        let timeout = std::time::Duration::from_secs(3);
        let mut answers: Vec<String> = workspaces
            .emit_with_ack("survey", sio::Args(()), timeout)
            .await?
            .answers()
            .iter()
            .filter_map(|ack| ack.response().get::<String>(0).ok())
            .collect();
        answers.sort();
        let sockets = workspaces.fetch_sockets().await?;
        let mut found: Vec<String> = sockets
            .iter()
            .map(|socket| socket.namespace().as_str().to_owned())
            .collect();
        found.sort();
        // Each socket found hears of it, wherever it is (through its namespace's channels).
        for found in &sockets {
            found.emit("found", found.namespace().as_str())?;
        }
        // Workspace 3 exists only where the tests put it first: asked of the other process,
        // the request goes through the pattern.
        let elsewhere = socket.server().of("/workspace/3");
        let elsewhere = json!({
            "sockets": elsewhere.fetch_sockets().await?.len(),
            "acks": elsewhere.emit_with_ack("survey", sio::Args(()), timeout).await?.len(),
        });
        let ids: Vec<String> = sockets.iter().map(|s| s.id().to_string()).collect();
        workspaces.sockets_join("everyone");
        let joined = named_rooms(&workspaces, &ids).await?;
        let in_room = workspaces
            .clone()
            .to("everyone")
            .fetch_sockets()
            .await?
            .len();
        workspaces.sockets_leave("everyone");
        let left = named_rooms(&workspaces, &ids).await?;
        workspaces.disconnect_sockets(false);
        ack.send(json!({
            "answers": answers,
            "found": found,
            "joined": joined,
            "inRoom": in_room,
            "left": left,
            "elsewhere": elsewhere,
        }))?;
        Ok(())
    }

    #[event("predicateCalls")]
    async fn predicate_calls(&mut self, _socket: &Socket, ack: Ack<usize>) -> sio::Result<()> {
        ack.send(PREDICATE_CALLS.load(Ordering::Relaxed))?;
        Ok(())
    }

    #[event("namespaces")]
    async fn namespaces(&mut self, socket: &Socket, ack: Ack<Vec<String>>) -> sio::Result<()> {
        let names = socket.server().namespaces();
        ack.send(names.iter().map(|name| name.as_str().to_owned()).collect())?;
        Ok(())
    }
}

/// The rooms of the pattern's namespaces other than the rooms of the sockets' ids.
async fn named_rooms(
    workspaces: &sio::socket::BroadcastOperator,
    ids: &[String],
) -> sio::Result<Vec<String>> {
    let rooms = workspaces.rooms().await?;
    Ok(rooms
        .iter()
        .map(|room| room.as_str().to_owned())
        .filter(|room| !ids.contains(room))
        .collect())
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut addr: Option<SocketAddr> = None;
    let mut builder = Server::builder()
        .consumer::<Workspace>()
        .consumer::<Lobby>()
        .consumer::<Admin>()
        .consumer::<Game>()
        .consumer::<DynamicRoom>()
        .admit_namespaces("/room/{name}", admit_room);
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--addr", Some(value)) => addr = value.parse().ok(),
            ("--max-children", Some(value)) => {
                builder = builder.max_child_namespaces(value.parse().unwrap_or(0));
            }
            ("--max-per-connection", Some(value)) => {
                builder = builder.max_namespaces_per_connection(value.parse().unwrap_or(0));
            }
            ("--cleanup", Some(value)) => {
                builder = builder.cleanup_empty_child_namespaces(value == "on");
            }
            #[cfg(feature = "redis")]
            ("--redis", Some(url)) => match sio::redis::RedisLayer::new(&url) {
                Ok(layer) => builder = builder.channel_layer(layer),
                Err(err) => {
                    eprintln!("error: invalid Redis URL: {err}");
                    std::process::exit(2);
                }
            },
            _ => {
                eprintln!(
                    "usage: namespaces_testbed --addr HOST:PORT [--max-children N] [--max-per-connection N] [--cleanup on] [--redis URL]"
                );
                std::process::exit(2);
            }
        }
    }
    let Some(addr) = addr else {
        eprintln!("usage: namespaces_testbed --addr HOST:PORT");
        std::process::exit(2);
    };
    let server = builder.build();
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    server.serve(listener).await
}
