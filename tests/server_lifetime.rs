//! A server that was shut down frees everything once its last handle is dropped and its sessions
//! have finished closing: its state, its engine with the session registry, its namespaces and its
//! channel layer. Nothing keeps them alive in a cycle.
//!
//! The engine owns the server's state (namespaces, channel layer, session registry) as its
//! handler, and every session and socket holds the engine, so a token owned by the state that is
//! freed proves all of them gone; a [`WeakServer`] that no longer upgrades proves the handles
//! gone.

mod support;

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use serde_json::json;
use sio::ConnectError;
use sio::socket::{
    Consumer, HandlerError, IncomingEvent, RawJson, Server, ServerBuilder, Socket, WeakServer,
};
use support::Waiting;
use tokio::runtime::Runtime;

/// Every client joins `lobby`; events are ignored.
struct Lobby;

impl Consumer for Lobby {
    const NAMESPACE: &'static str = "/";

    async fn connect(
        &mut self,
        socket: &Socket,
        _auth: Option<RawJson>,
    ) -> Result<(), ConnectError> {
        socket.join("lobby").await;
        Ok(())
    }

    async fn on_event(
        &mut self,
        _socket: &Socket,
        _event: IncomingEvent,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}

/// Waits up to `limit` for `alive` to turn false.
fn within(limit: Duration, alive: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while alive() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Weak handles to a server: to its handles, and to its state (a token owned by the consumer
/// factory, which lives with the namespaces in the server's state, the engine's handler).
struct Watched {
    server: WeakServer,
    state: Weak<()>,
}

impl Watched {
    /// Checks that both are freed within a second.
    fn assert_freed(&self) {
        let limit = Duration::from_secs(1);
        assert!(
            within(limit, || self.server.upgrade().is_some()),
            "a server handle is still alive 1 s after the last one was dropped"
        );
        assert!(
            within(limit, || self.state.strong_count() > 0),
            "the server's state (engine, registry, namespaces, layer) is still alive 1 s after \
             the last handle was dropped"
        );
    }
}

/// A builder whose state owns a token; the returned weak watches it.
fn builder() -> (ServerBuilder, Weak<()>) {
    let token = Arc::new(());
    let state = Arc::downgrade(&token);
    let builder = Server::builder().consumer_with(move || {
        let _owned = &token;
        Lobby
    });
    (builder, state)
}

/// Serves `server` with three official clients connected (polling upgraded to WebSocket,
/// WebSocket, polling), shuts it down, lets the clients go and drops every handle.
fn serve_then_drop(runtime: &Runtime, server: Server) -> WeakServer {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let serving = runtime.spawn({
        let server = server.clone();
        async move { server.serve(listener).await }
    });

    let clients = Waiting::start("lifetime_client.mjs", &[&url]);
    assert_eq!(
        clients.ready,
        json!({ "connected": ["websocket", "websocket", "polling"] })
    );
    // The client reports its upgrade when it sends the `upgrade` packet; wait until the server
    // has it too, so every message before the close goes out on the transport the client reads.
    let start = Instant::now();
    while server.stats().engine.websocket < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no upgrade: {:?}",
            server.stats()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(server.stats().sockets, 3);
    let weak = server.downgrade();

    runtime.block_on(server.shutdown(Duration::from_secs(5)));
    let seen = clients.finish();
    // Neither a DISCONNECT nor an engine `close`: each client sees its transport end (the
    // polling one its request refused) and would reconnect.
    assert_eq!(
        seen,
        json!({ "disconnected": ["transport close", "transport close", "transport error"] })
    );
    let served =
        runtime.block_on(async { tokio::time::timeout(Duration::from_secs(5), serving).await });
    assert!(
        matches!(served, Ok(Ok(Ok(())))),
        "serve returns after the shutdown: {served:?}"
    );
    drop(server);
    weak
}

#[test]
fn a_shut_down_server_is_freed_once_dropped() {
    let runtime = Runtime::new().expect("runtime");
    let _entered = runtime.enter();
    let (builder, state) = builder();
    let server = builder.build();
    let watched = Watched {
        server: serve_then_drop(&runtime, server),
        state,
    };
    watched.assert_freed();
}

#[cfg(feature = "redis")]
#[test]
fn a_shut_down_server_with_a_redis_layer_is_freed_once_dropped() {
    let redis = support::Redis::start();
    let runtime = Runtime::new().expect("runtime");
    let _entered = runtime.enter();
    let layer = sio::redis::RedisLayer::new(&redis.url()).expect("a Redis URL");
    let (builder, state) = builder();
    let server = builder.channel_layer(layer).build();
    // The layer is live: its subscriber counts as a process of the cluster.
    redis.wait_for_subscribers("socket.io-request#/#", 1);
    let watched = Watched {
        server: serve_then_drop(&runtime, server),
        state,
    };
    watched.assert_freed();
    // The layer's connections are gone with it.
    redis.wait_for_subscribers("socket.io-request#/#", 0);
}
