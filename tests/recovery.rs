//! Connection state recovery with the official socket.io-client, against
//! `tests/servers/recovery_testbed.rs`: a client whose connection is cut comes back as the same
//! socket with every event it missed, and one that comes back too late gets a fresh socket.

mod support;

use serde_json::json;
use support::{Server, node, node_with_env};

#[test]
fn a_client_cut_off_mid_burst_recovers_its_socket_rooms_and_every_event_once() {
    cut_mid_burst(&Server::start("recovery_testbed", &[]), "json");
}

#[test]
fn with_the_msgpack_parser_too() {
    // Each event's offset is appended to its MessagePack packet, and the client's CONNECT
    // carries it back in a MessagePack map.
    cut_mid_burst(
        &Server::start("recovery_testbed", &["--msgpack"]),
        "msgpack",
    );
}

#[test]
#[cfg(feature = "redis")] // without it, the testbed has no streams layer
fn on_the_redis_streams_layer_too() {
    let redis = support::Redis::start();
    cut_mid_burst(
        &Server::start("recovery_testbed", &["--redis-streams", &redis.url()]),
        "json",
    );
    // The events missed are read back from the stream and encoded for MessagePack clients.
    cut_mid_burst(
        &Server::start(
            "recovery_testbed",
            &["--redis-streams", &redis.url(), "--msgpack"],
        ),
        "msgpack",
    );
    let server = Server::start(
        "recovery_testbed",
        &[
            "--redis-streams",
            &redis.url(),
            "--max-disconnection-ms",
            "2000",
        ],
    );
    let result = node(
        "recovery_client.mjs",
        &["expire", &server.url(), "websocket"],
    );
    assert_eq!(result, json!({ "sameId": false, "recovered": false }));
}

/// The client is cut after 20 of 100 direct and 100 room events and recovers them all.
fn cut_mid_burst(server: &Server, parser: &str) {
    for mode in ["websocket", "upgrade"] {
        let result = node_with_env(
            "recovery_client.mjs",
            &["cut", &server.url(), mode],
            &[("SIO_PARSER", parser)],
        );
        // Its own room (named by its id) and the one it was in, sorted.
        let own = result["rooms"]
            .as_array()
            .and_then(|rooms| rooms.iter().find(|room| *room != "r1"))
            .and_then(|room| room.as_str())
            .unwrap_or_default()
            .to_owned();
        let mut rooms = vec![own, "r1".to_owned()];
        rooms.sort();
        assert_eq!(
            result,
            json!({
                "sameId": true,
                "recovered": true,
                "seq": true,
                "roomSeq": true,
                "rooms": rooms,
                // `connect` ran again, told it recovered, and the middleware did not run.
                "welcomed": 2,
                "recoveredOnServer": true,
                "middlewareSkipped": true,
                // The consumer's state, rebuilt by `recover` from the socket's kept data.
                "bursts": 1,
                "missedSome": true,
            }),
            "mode {mode}"
        );
    }
}

#[test]
fn a_client_back_after_the_maximum_disconnection_duration_gets_a_fresh_socket() {
    let server = Server::start("recovery_testbed", &["--max-disconnection-ms", "2000"]);
    // The client comes back 3 s after the cut.
    let result = node(
        "recovery_client.mjs",
        &["expire", &server.url(), "websocket"],
    );
    assert_eq!(result, json!({ "sameId": false, "recovered": false }));
}
