//! `server_stats`, every two seconds: this process, its clients, its namespaces, and what
//! happened since the last report, second by second, for the UI's charts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::WeakServer;
use crate::metrics::counters::Counters;

/// How often the UI gets the statistics (Node's: every 2 s).
const EVERY: Duration = Duration::from_secs(2);

/// The totals at the last report, to tell what happened since.
#[derive(Default, Clone, Copy)]
struct Totals {
    connections: u64,
    disconnections: u64,
    packets_in: u64,
    packets_out: u64,
    bytes_in: u64,
    bytes_out: u64,
}

fn totals(server: &crate::Server, counters: &Counters) -> Totals {
    let engine = server.stats().engine;
    Totals {
        connections: engine.opened_total,
        disconnections: engine.closed_total,
        packets_in: Counters::load(&counters.packets_received),
        packets_out: Counters::load(&counters.packets_sent),
        bytes_in: Counters::load(&counters.bytes_received),
        bytes_out: Counters::load(&counters.bytes_sent),
    }
}

/// This machine's name, as Node's `os.hostname()`.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|name| name.trim().to_owned())
        .ok()
        .filter(|name| !name.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Emits `server_stats` to `namespace` every two seconds until the server is gone.
pub(crate) async fn report(
    server: WeakServer,
    namespace: String,
    server_id: String,
    counters: Arc<Counters>,
) {
    let started = Instant::now();
    let hostname = hostname();
    let mut last = Totals::default();
    let mut ticks = tokio::time::interval(EVERY);
    loop {
        ticks.tick().await;
        let Some(server) = server.upgrade() else {
            return;
        };
        let now = totals(&server, &counters);
        let second = crate::socket::now_millis() / 1000 * 1000;
        let events: Vec<Value> = [
            ("rawConnection", now.connections - last.connections),
            ("rawDisconnection", now.disconnections - last.disconnections),
            ("packetsIn", now.packets_in - last.packets_in),
            ("packetsOut", now.packets_out - last.packets_out),
            ("bytesIn", now.bytes_in - last.bytes_in),
            ("bytesOut", now.bytes_out - last.bytes_out),
        ]
        .into_iter()
        .filter(|(_, count)| *count > 0)
        .map(|(kind, count)| json!({"timestamp": second, "type": kind, "count": count}))
        .collect();
        last = now;
        let stats = server.stats();
        let mut namespaces: Vec<Value> = server
            .inner()
            .all_namespaces()
            .iter()
            .map(|namespace| {
                json!({"name": namespace.name.as_str(), "socketsCount": namespace.socket_count()})
            })
            .collect();
        namespaces.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        let report = json!({
            "serverId": server_id,
            "hostname": hostname,
            "pid": std::process::id(),
            "uptime": started.elapsed().as_secs_f64(),
            "clientsCount": stats.engine.open,
            "pollingClientsCount": stats.engine.polling,
            "aggregatedEvents": events,
            "namespaces": namespaces,
        });
        let _ = server.of(&namespace).emit("server_stats", report);
    }
}
