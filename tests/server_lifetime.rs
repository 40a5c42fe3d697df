//! A server that was shut down frees everything once its last handle is dropped: its state, its
//! engine with the session registry, its namespaces and its channel layer. Nothing keeps them
//! alive in a cycle.
//!
//! The engine owns the server's state as its handler, and every session and socket holds the
//! engine, so one [`WeakServer`] that no longer upgrades proves all of them gone.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use sio::ConnectError;
use sio::socket::{Consumer, HandlerError, IncomingEvent, RawJson, Server, Socket, WeakServer};
use support::Waiting;
use tokio::runtime::Runtime;

/// Every client joins `lobby`; events are ignored.
#[derive(Default)]
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

/// Waits up to `limit` for the server to be freed.
fn freed_within(weak: &WeakServer, limit: Duration) -> bool {
    let start = Instant::now();
    while weak.upgrade().is_some() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Serves `server` with two official clients connected, shuts it down, lets the clients go and
/// drops every handle; returns the weak handle taken while the clients were connected.
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
        json!({ "connected": ["websocket", "websocket"] })
    );
    assert_eq!(server.stats().sockets, 2);
    let weak = server.downgrade();

    server.shutdown();
    let seen = clients.finish();
    assert_eq!(
        seen,
        json!({ "disconnected": ["io server disconnect", "io server disconnect"] })
    );
    serving.abort();
    drop(server);
    weak
}

#[test]
fn a_shut_down_server_is_freed_once_dropped() {
    let runtime = Runtime::new().expect("runtime");
    let _entered = runtime.enter();
    let server = Server::builder().consumer::<Lobby>().build();
    let weak = serve_then_drop(&runtime, server);
    assert!(
        freed_within(&weak, Duration::from_secs(1)),
        "the server (its state, engine and sessions) is still alive 1 s after the last handle went"
    );
}

#[cfg(feature = "redis")]
#[test]
fn a_shut_down_server_with_a_redis_layer_is_freed_once_dropped() {
    let redis = support::Redis::start();
    let runtime = Runtime::new().expect("runtime");
    let _entered = runtime.enter();
    let layer = sio::redis::RedisLayer::new(&redis.url()).expect("a Redis URL");
    let server = Server::builder()
        .consumer::<Lobby>()
        .channel_layer(layer)
        .build();
    // The layer is live: its subscriber counts as a process of the cluster.
    redis.wait_for_subscribers("socket.io-request#/#", 1);
    let weak = serve_then_drop(&runtime, server);
    assert!(
        freed_within(&weak, Duration::from_secs(1)),
        "the server and its Redis layer are still alive 1 s after the last handle went"
    );
    // The layer's connections are gone with it.
    redis.wait_for_subscribers("socket.io-request#/#", 0);
}
