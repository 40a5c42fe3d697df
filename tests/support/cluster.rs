//! What `tests/clients/js/cluster_client.mjs cluster` must see of a cluster of processes on a
//! Redis layer, whichever layer and whichever mix of sio and Node.

use serde_json::{Value, json};

use super::Server;

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
