//! The Redis Streams channel layer end to end: sio processes and Node's socket.io with the
//! official `@socket.io/redis-streams-adapter` on one `redis-server` of the test's own, with the
//! official `socket.io-client`; and connection state recovery across processes, through a TCP
//! proxy of the test's own that sends a client's reconnection to another process once its own
//! is gone.

mod support;

use serde_json::json;
use support::cluster::{across_a_redis_restart, expected_cluster, urls};
use support::proxy::Proxy;
use support::{Redis, Server, Waiting, node};

const PUBLIC: &str = "socket.io#/#";
const CHAT_PUBLIC: &str = "socket.io#/chat#";

/// A sio process on the streams layer, with recovery on (two minutes).
fn sio(redis: &Redis, name: &str) -> Server {
    Server::start(
        "cluster_node",
        &[
            "--redis",
            &redis.url(),
            "--streams",
            "--name",
            name,
            "--recovery-ms",
            "120000",
        ],
    )
}

/// A Node socket.io process on the official streams adapter, with recovery on (two minutes).
fn nodejs(redis: &Redis) -> Server {
    Server::start_node(
        "node_cluster_server.mjs",
        &[
            "--redis",
            &redis.url(),
            "--streams",
            "--recovery-ms",
            "120000",
        ],
    )
}

#[test]
fn two_sio_processes_and_a_node_one_share_broadcasts_and_server_operations() {
    let redis = Redis::start();
    let first = sio(&redis, "sio0");
    let second = sio(&redis, "sio1");
    let node_process = nodejs(&redis);
    redis.wait_for_subscribers(PUBLIC, 3);
    redis.wait_for_subscribers(CHAT_PUBLIC, 3);
    // Every broadcast, fetch, join, leave, ack gathering, server-side event and disconnect is
    // sent from each process in turn (recovery is on: events carry their offsets after their
    // data).
    let result = node(
        "cluster_client.mjs",
        &["cluster", &urls(&[&first, &second, &node_process])],
    );
    assert_eq!(result, expected_cluster(&["sio0", "sio1", "node"]));
}

/// Connects the recovery client through `proxy` to `from` (broadcasts come from `to`); once it
/// has 20 events, `away` takes its process away while the proxy points at `to`; returns what
/// the client saw.
fn recover_elsewhere(proxy: &Proxy, to: &Server, away: impl FnOnce()) -> serde_json::Value {
    let client = Waiting::start("recovery_cluster_client.mjs", &[&proxy.url(), &to.url()]);
    assert_eq!(client.ready, json!({ "ready": true }));
    proxy.point_to(to.addr);
    away();
    client.finish()
}

/// What a client that recovered sees: its socket, its room, and the 100 ticks once, in order,
/// some of them sent while it was away.
fn recovered() -> serde_json::Value {
    json!({
        "reconnected": true,
        "sameId": true,
        "recovered": true,
        "missedSome": true,
        "ticks": true,
        "inLobby": true,
    })
}

#[test]
fn a_client_of_a_killed_sio_process_recovers_on_another() {
    let redis = Redis::start();
    let mut first = sio(&redis, "sio0");
    let second = sio(&redis, "sio1");
    redis.wait_for_subscribers(PUBLIC, 2);
    let proxy = Proxy::start(first.addr);
    // Node's servers save a session only when its socket closes: killed, they lose it.
    let result = recover_elsewhere(&proxy, &second, || first.kill());
    assert_eq!(result, recovered());
}

#[test]
fn clients_recover_from_node_on_sio_and_from_sio_on_node() {
    let redis = Redis::start();
    let mut node_process = nodejs(&redis);
    let mut sio_process = sio(&redis, "sio0");
    redis.wait_for_subscribers(PUBLIC, 2);
    // A Node process replaced (`io.close()` on SIGTERM): its client recovers on sio, with the
    // session and offsets Node wrote.
    let proxy = Proxy::start(node_process.addr);
    let result = recover_elsewhere(&proxy, &sio_process, || node_process.terminate());
    assert_eq!(result, recovered(), "from Node to sio");
    assert!(
        node_process
            .wait_exit(std::time::Duration::from_secs(5))
            .is_some()
    );

    // A sio process killed: its client recovers on Node, with the session sio saved when it
    // connected and the offsets of sio's entries.
    let node_process = nodejs(&redis);
    redis.wait_for_subscribers(PUBLIC, 2);
    let proxy = Proxy::start(sio_process.addr);
    let result = recover_elsewhere(&proxy, &node_process, || sio_process.kill());
    assert_eq!(result, recovered(), "from sio to Node");
}

#[test]
fn a_client_back_before_its_server_noticed_it_left_gets_a_fresh_socket() {
    let redis = Redis::start();
    let first = sio(&redis, "sio0");
    let second = sio(&redis, "sio1");
    redis.wait_for_subscribers(PUBLIC, 2);
    // Its old socket is still connected (until a ping times out), holding its session: neither
    // the same process nor another restores it, so no two sockets ever share an id (as in
    // Node, whose session exists only once the old socket is gone).
    for (to, other) in [(&first, &first), (&second, &first)] {
        let proxy = Proxy::start(first.addr);
        let client = Waiting::start("recovery_cluster_client.mjs", &[&proxy.url(), &other.url()]);
        assert_eq!(client.ready, json!({ "ready": true }));
        proxy.point_to(to.addr);
        proxy.abandon_clients();
        let result = client.finish();
        // Refused because it is held: the old socket is still in the lobby.
        assert_eq!(
            (
                &result["reconnected"],
                &result["sameId"],
                &result["recovered"],
                &result["inLobby"]
            ),
            (&json!(true), &json!(false), &json!(false), &json!(true)),
            "back to {}: {result}",
            to.addr
        );
    }
}

#[test]
fn local_delivery_goes_on_while_redis_restarts_and_the_stream_resumes() {
    let mut redis = Redis::start();
    let mut first = sio(&redis, "sio0");
    let mut second = sio(&redis, "sio1");
    redis.wait_for_subscribers(PUBLIC, 2);
    // While Redis is away, a process's broadcasts reach its own clients at once (without
    // offsets); once it is back, the readers go on with the new stream.
    across_a_redis_restart(&mut redis, &mut first, &mut second);
}
