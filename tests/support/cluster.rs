//! What `tests/clients/js/cluster_client.mjs cluster` must see of a cluster of processes on a
//! Redis layer, whichever layer and whichever mix of sio and Node.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Redis, Server, Waiting};

pub fn urls(servers: &[&Server]) -> String {
    servers
        .iter()
        .map(|s| s.url())
        .collect::<Vec<_>>()
        .join(",")
}

/// What `cluster_client.mjs cluster` must see with `n` processes: every broadcast from every
/// process reaching exactly the right clients exactly once, and each server-side operation
/// acting on every process.
pub fn expected_cluster(servers: &[&str]) -> Value {
    let n = servers.len();
    let mut received = serde_json::Map::new();
    for i in 0..n {
        for (name, in_lobby) in [(format!("lobby{i}"), true), (format!("other{i}"), false)] {
            let mut got: Vec<String> = Vec::new();
            for from in 0..n {
                got.push(format!("all{from}"));
                if in_lobby {
                    got.push(format!("room{from}"));
                    if from != i {
                        got.push(format!("notSelf{from}"));
                    }
                } else {
                    got.push(format!("except{from}"));
                }
            }
            got.sort();
            received.insert(name, json!(got));
        }
    }
    // Each with the data its process set (`socket.data` in Node): the process's name.
    let lobby: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("lobby{i}"), "rooms": ["lobby"], "data": {"server": servers[i]}}))
        .collect();
    let lobby_names: Vec<String> = (0..n).map(|i| format!("lobby{i}")).collect();
    let other_names: Vec<String> = (0..n).map(|i| format!("other{i}")).collect();
    let mut disconnected = serde_json::Map::new();
    for i in 0..n {
        disconnected.insert(format!("lobby{i}"), Value::Null);
        disconnected.insert(format!("other{i}"), json!("io server disconnect"));
    }
    let binary: Vec<String> = (0..n).map(|from| format!("{from}:1,2,3")).collect();
    let mut binaries = serde_json::Map::new();
    for i in 0..n {
        binaries.insert(format!("lobby{i}"), json!(binary));
        binaries.insert(format!("other{i}"), json!(binary));
    }
    let chat: Vec<String> = (0..n).map(|from| format!("chat{from}")).collect();
    let chats: serde_json::Map<String, Value> =
        (0..n).map(|i| (format!("chat{i}"), json!(chat))).collect();
    json!({
        "received": received,
        "chatFromMain": [],
        "chat": chats,
        "mainFromChat": [],
        "binary": binaries,
        "fetched": vec![lobby; n],
        "afterJoin": other_names,
        "rooms": ["joined", "lobby", "other"],
        "roomsHaveEveryId": true,
        "afterLeave": [],
        "asked": vec![lobby_names; n],
        "disconnected": disconnected,
    })
}

/// Runs `cluster_client.mjs restart` against two processes while `redis` is killed for 2 s and
/// restarted: delivery within a process never stops, and across them it resumes within 5 s.
#[allow(clippy::print_stderr)] // it reports the measured resume time
pub fn across_a_redis_restart(redis: &mut Redis, first: &mut Server, second: &mut Server) {
    // A client of the first process broadcasts to the lobby every 100 ms: its peer on the same
    // process and a client of the second process listen.
    let client = Waiting::start("cluster_client.mjs", &["restart", &urls(&[first, second])]);
    let ready = Instant::now();
    let client_ms = |at: Instant| {
        client.ready["t"].as_u64().unwrap_or(0) + at.duration_since(ready).as_millis() as u64
    };
    std::thread::sleep(Duration::from_millis(1500));
    let killed = client_ms(Instant::now());
    redis.kill();
    std::thread::sleep(Duration::from_millis(2000));
    let restarted = client_ms(Instant::now());
    redis.restart();
    std::thread::sleep(Duration::from_millis(6000));
    let result = client.finish();

    let sent: Vec<(u64, u64)> = result["sent"]
        .as_array()
        .expect("sent")
        .iter()
        .map(|pair| (pair[0].as_u64().unwrap_or(0), pair[1].as_u64().unwrap_or(0)))
        .collect();
    let seqs = |name: &str| -> Vec<u64> {
        result[name]
            .as_array()
            .expect(name)
            .iter()
            .filter_map(Value::as_u64)
            .collect()
    };
    let all: Vec<u64> = sent.iter().map(|(seq, _)| *seq).collect();
    assert!(
        all.len() > 60,
        "the sender kept going: {} broadcasts",
        all.len()
    );
    assert_eq!(seqs("peer"), all, "local delivery never stops");

    let remote = seqs("remote");
    let before_kill: Vec<u64> = sent
        .iter()
        .filter(|(_, t)| *t + 300 < killed)
        .map(|(s, _)| *s)
        .collect();
    assert!(
        before_kill.iter().all(|seq| remote.contains(seq)),
        "before the kill, every broadcast crossed: {remote:?}"
    );
    let resumed_at = sent
        .iter()
        .filter(|(seq, t)| *t > restarted && remote.contains(seq))
        .map(|(_, t)| *t)
        .next()
        .expect("cross-process delivery resumed after the restart");
    let resumed_after = resumed_at - restarted;
    eprintln!("cross-process delivery resumed {resumed_after} ms after redis-server restarted");
    assert!(
        resumed_after < 5000,
        "resumed {resumed_after} ms after the restart"
    );
    let after_resume: Vec<u64> = sent
        .iter()
        .filter(|(_, t)| *t > resumed_at)
        .map(|(s, _)| *s)
        .collect();
    assert!(
        after_resume.iter().all(|seq| remote.contains(seq)),
        "once resumed, every broadcast crossed"
    );
    assert_eq!(
        result["fetchedAfterRestart"], 3,
        "fetch_sockets reaches the other process again"
    );
    assert_eq!(result["connected"], json!([true, true]));
    assert!(
        first.is_running() && second.is_running(),
        "both processes survived"
    );
}
