//! The Redis channel layer end to end: sio processes (and Node's socket.io with the official
//! Redis adapter, and the official Redis emitter) sharing one `redis-server` of the test's own,
//! with official `socket.io-client` clients connected to each process.

mod support;

use serde_json::json;
use support::cluster::{across_a_redis_restart, expected_cluster, urls};
use support::{Redis, Server, node, node_with_env};

const REQUESTS: &str = "socket.io-request#/#";
const CHAT_REQUESTS: &str = "socket.io-request#/chat#";

fn sio(redis: &Redis, name: &str) -> Server {
    Server::start("cluster_node", &["--redis", &redis.url(), "--name", name])
}

/// Two sio processes (`sio0`, `sio1`) and a Node socket.io one with the official Redis adapter,
/// all subscribed.
fn mixed_cluster(redis: &Redis) -> [Server; 3] {
    let first = sio(redis, "sio0");
    let second = sio(redis, "sio1");
    let nodejs = Server::start_node("node_cluster_server.mjs", &["--redis", &redis.url()]);
    redis.wait_for_subscribers(REQUESTS, 3);
    [first, second, nodejs]
}

#[test]
fn three_sio_processes_share_broadcasts_and_server_operations() {
    let redis = Redis::start();
    let servers: Vec<Server> = (0..3).map(|i| sio(&redis, &format!("sio{i}"))).collect();
    redis.wait_for_subscribers(REQUESTS, 3);
    redis.wait_for_subscribers(CHAT_REQUESTS, 3);
    let all: Vec<&Server> = servers.iter().collect();
    let result = node("cluster_client.mjs", &["cluster", &urls(&all)]);
    assert_eq!(result, expected_cluster(&["sio0", "sio1", "sio2"]));
}

#[test]
fn a_node_socket_io_process_with_the_redis_adapter_joins_two_sio_processes() {
    let redis = Redis::start();
    let [first, second, nodejs] = mixed_cluster(&redis);
    redis.wait_for_subscribers(CHAT_REQUESTS, 3);
    // The Node process is the third: its clients are lobby2 and other2, and every broadcast,
    // fetch, join, leave, ack gathering and disconnect is sent from each process in turn.
    let result = node(
        "cluster_client.mjs",
        &["cluster", &urls(&[&first, &second, &nodejs])],
    );
    // Node's `fetchSockets` lists sio's sockets with their data, and sio Node's.
    assert_eq!(result, expected_cluster(&["sio0", "sio1", "node"]));
}

#[test]
fn with_the_msgpack_parser_a_node_process_and_two_sio_processes_make_one_cluster() {
    // Every process speaks socket.io-msgpack-parser: what crosses Redis is the packets'
    // MessagePack values as they came, binaries included.
    let redis = Redis::start();
    let sio = |name| {
        Server::start(
            "cluster_node",
            &["--redis", &redis.url(), "--name", name, "--msgpack"],
        )
    };
    let (first, second) = (sio("sio0"), sio("sio1"));
    let nodejs = Server::start_node(
        "node_cluster_server.mjs",
        &["--redis", &redis.url(), "--msgpack"],
    );
    redis.wait_for_subscribers(REQUESTS, 3);
    redis.wait_for_subscribers(CHAT_REQUESTS, 3);
    let result = node_with_env(
        "cluster_client.mjs",
        &["cluster", &urls(&[&first, &second, &nodejs])],
        &[("SIO_PARSER", "msgpack")],
    );
    assert_eq!(result, expected_cluster(&["sio0", "sio1", "node"]));
}

#[test]
fn the_admin_ui_of_any_process_sees_the_sockets_and_servers_of_all() {
    // Two sio processes and a Node one instrumented with @socket.io/admin-ui, on one Redis.
    let redis = Redis::start();
    let sio = |name| {
        Server::start(
            "cluster_node",
            &["--redis", &redis.url(), "--name", name, "--admin"],
        )
    };
    let (first, second) = (sio("sio0"), sio("sio1"));
    let nodejs = Server::start_node(
        "node_cluster_server.mjs",
        &["--redis", &redis.url(), "--admin"],
    );
    redis.wait_for_subscribers(REQUESTS, 3);
    redis.wait_for_subscribers(CHAT_REQUESTS, 3);
    let views = node(
        "admin_cluster_client.mjs",
        &[&urls(&[&first, &second, &nodejs])],
    );
    let everyone = json!({"listed": [true, true, true], "servers": ["node", "sio0", "sio1"]});
    assert_eq!(views, json!([everyone, everyone, everyone]));
}

#[test]
fn the_node_redis_emitter_reaches_sio_sockets() {
    let redis = Redis::start();
    let first = sio(&redis, "sio0");
    let second = sio(&redis, "sio1");
    redis.wait_for_subscribers(REQUESTS, 2);
    let result = node(
        "cluster_client.mjs",
        &["emitter", &urls(&[&first, &second]), &redis.url()],
    );
    assert_eq!(
        result,
        json!({
            "toRoom": ["lobby0", "lobby1"],
            "exceptRoom": ["other0", "other1"],
            "binary": {"lobby0": [1, 2, 3], "lobby1": [1, 2, 3]},
            "afterJoin": ["other0", "other1"],
            "disconnected": {
                "lobby0": "io server disconnect", "lobby1": "io server disconnect",
                "other0": null, "other1": null,
            },
        })
    );
}

#[test]
fn the_local_flag_keeps_every_operation_in_its_process() {
    let redis = Redis::start();
    let servers: Vec<Server> = (0..2).map(|i| sio(&redis, &format!("sio{i}"))).collect();
    redis.wait_for_subscribers(REQUESTS, 2);
    let all: Vec<&Server> = servers.iter().collect();
    let result = node("cluster_client.mjs", &["local", &urls(&all)]);
    assert_eq!(
        result,
        json!({
            // The local broadcast reached the first process's clients only; the other one all.
            "received": {
                "lobby0": ["all0", "local0"], "other0": ["all0", "local0"],
                "lobby1": ["all0"], "other1": ["all0"],
            },
            "fetched": ["lobby0", "other0"],
            "rooms": ["lobby", "lobby0", "other", "other0"],
            "asked": ["lobby0", "other0"],
            "joined": ["lobby0", "other0"],
            "disconnected": {
                "lobby0": null, "other0": "io server disconnect",
                "lobby1": null, "other1": null,
            },
        })
    );
}

#[test]
fn an_ack_gathered_from_a_room_says_who_did_not_answer() {
    let redis = Redis::start();
    let [first, second, nodejs] = mixed_cluster(&redis);
    let result = node(
        "cluster_client.mjs",
        &["unanswered", &urls(&[&first, &second, &nodejs])],
    );
    assert_eq!(
        result,
        json!({
            "names": ["answers0", "answers1", "answers2"],
            // sio names its sockets, here and in the other sio process...
            "unanswered": ["silent0", "silent1"],
            // ...Node's adapter counts them only.
            "unnamed": 1,
            "unreported": 0,
        })
    );
}

#[test]
fn server_side_events_cross_sio_and_node_processes_both_ways() {
    let redis = Redis::start();
    let [first, second, nodejs] = mixed_cluster(&redis);
    let result = node(
        "cluster_client.mjs",
        &["server_side", &urls(&[&first, &second, &nodejs])],
    );
    assert_eq!(
        result,
        json!({
            // Each process's event with ack is answered by the two others, never by itself:
            // Node's `serverSideEmit` by both sio processes, sio's by Node and the other sio.
            "asked": [
                {"answers": ["I am node", "I am sio1"], "complete": true},
                {"answers": ["I am node", "I am sio0"], "complete": true},
                {"answers": ["I am sio0", "I am sio1"], "complete": true},
            ],
            // sio sends its bytes as binary, which Node reads as a Buffer; Node's adapter
            // sends JSON, so its note is text alone.
            "heard": [
                ["from node", "from sio1:1,2,3"],
                ["from node", "from sio0:1,2,3"],
                ["from sio0:1,2,3", "from sio1:1,2,3"],
            ],
        })
    );
}

#[test]
fn a_process_that_never_answers_makes_fetch_sockets_time_out() {
    let redis = Redis::start();
    let server = sio(&redis, "sio0");
    redis.wait_for_subscribers(REQUESTS, 1);
    let result = node(
        "cluster_client.mjs",
        &["silent", &urls(&[&server]), &redis.url()],
    );
    assert_eq!(
        result["answer"],
        json!({"error": "1 of 2 processes answered within the timeout"})
    );
    // The asker answered; the process that never answers is counted, not forgotten.
    assert_eq!(
        result["asked"],
        json!({"names": ["asker"], "unanswered": [], "unnamed": 0, "unreported": 1})
    );
    // The default requests timeout is 5 s.
    let took = result["took"].as_u64().unwrap_or(0);
    assert!((4500..9000).contains(&took), "answered after {took} ms");
}

#[test]
fn local_delivery_goes_on_while_redis_restarts_and_cross_process_delivery_resumes() {
    let mut redis = Redis::start();
    let mut first = sio(&redis, "sio0");
    let mut second = sio(&redis, "sio1");
    redis.wait_for_subscribers(REQUESTS, 2);
    across_a_redis_restart(&mut redis, &mut first, &mut second);
}

#[test]
fn namespaces_made_from_a_pattern_span_processes() {
    let redis = Redis::start();
    let start = || {
        Server::start(
            "namespaces_testbed",
            &["--redis", &redis.url(), "--cleanup", "on"],
        )
    };
    let (first, second) = (start(), start());
    // Only sio processes hear the pattern's own channels.
    redis.wait_for_subscribers("socket.io-request#/workspace/{id}#", 2);
    redis.wait_for_subscribers(REQUESTS, 2);
    for mode in ["polling", "websocket", "upgrade"] {
        let result = node(
            "namespaces_client.mjs",
            &["cluster", &urls(&[&first, &second]), mode],
        );
        let disconnected = json!({
            "a2": "io server disconnect", "b": "io server disconnect", "c": "io server disconnect",
        });
        assert_eq!(
            result,
            json!({
                "heard": {
                    // The same workspace on two processes is one workspace.
                    "a1": ["to every workspace", "again"],
                    "a2": ["to every workspace", "within workspace 1", "again"],
                    // Workspace 2 exists on the second process only.
                    "b": ["to every workspace", "again"],
                    "c": ["to every workspace", "again"],
                },
                "rooms": 4,
                // Sent by a1's `disconnect` after its process removed workspace 1.
                "left": "someone left",
                "operated": {
                    "answers": ["a2", "b", "c"],
                    "found": ["/workspace/1", "/workspace/2", "/workspace/3"],
                    "joined": ["everyone"],
                    "inRoom": 3,
                    "left": [],
                    // Asked of the second process, which never had workspace 3.
                    "elsewhere": {"sockets": 1, "acks": 1},
                },
                // c's socket is on the first process, in a workspace the second never had.
                "found": {"a2": "/workspace/1", "b": "/workspace/2", "c": "/workspace/3"},
                "disconnected": disconnected,
            }),
            "mode {mode}"
        );
        // Emptied and removed, each workspace stops hearing Redis, on both processes.
        for id in 1..=3 {
            redis.wait_for_subscribers(&format!("socket.io-request#/workspace/{id}#"), 0);
        }
    }
}
