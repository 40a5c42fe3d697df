//! The metrics as Prometheus reads them, through `prometheus-client`.

use std::convert::Infallible;
use std::future::{Ready, ready};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, header};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;

use super::counters::{ACK_BUCKETS, Counters, REASONS};
use crate::WeakServer;
use crate::engine::ResponseBody;

/// The Prometheus metrics of one server (feature `metrics`): give it to
/// [`ServerBuilder::metrics`](crate::ServerBuilder::metrics), then serve
/// [`service`](Self::service) at a path of your choosing, or [`register`](Self::register) it in a
/// `prometheus-client` registry of your own. Without it a server counts nothing.
///
/// ```
/// use sio_server::{Server, metrics::Metrics};
///
/// let metrics = Metrics::new();
/// let server = Server::builder().metrics(&metrics).build();
/// // In axum: `.route_service("/metrics", metrics.service())`.
/// assert!(metrics.encode().contains("socketio_events_received_total 0"));
/// # drop(server);
/// ```
///
/// What it exposes, all prefixed `socketio_`: `connections{transport}` (Engine.IO sessions now),
/// `sockets{namespace}` and `rooms{namespace}` (rooms named by the application, now),
/// `events_received_total` and `events_sent_total` (events from clients; events queued for
/// clients, a broadcast counting once per recipient), `packets_received_total` and
/// `packets_sent_total` (the Socket.IO messages received, an attachment counting as one; the
/// events and acks sockets queued), `bytes_received_total` and
/// `bytes_sent_total` (the Socket.IO messages, text and binary, that reached the server and that
/// its sockets queued), `broadcasts_total` and `broadcast_recipients_total` (local deliveries of
/// each), `upgrades_total`, `disconnects_total{reason}`, `closed_not_reading_total` (clients
/// closed because their queue was full), `volatile_dropped_total` and
/// `ack_duration_seconds` (a histogram of the round trips of the acks the server waited for);
/// with a channel layer that tells them ([`LayerStats`](crate::broadcast::LayerStats), the
/// Redis layers do), `layer_queued_bytes`, `layer_dropped_total`, `layer_reconnects_total` and,
/// for a log, `layer_lag_seconds`.
#[derive(Clone, Debug, Default)]
pub struct Metrics {
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    counters: Arc<Counters>,
    server: OnceLock<WeakServer>,
}

impl Metrics {
    /// Metrics for a server yet to be built.
    pub fn new() -> Self {
        Metrics::default()
    }

    /// The counters a server bumps, and the handle the gauges read it through.
    pub(crate) fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.shared.counters)
    }

    /// The server these metrics describe (the first one built with them).
    pub(crate) fn attach(&self, server: WeakServer) {
        let _ = self.shared.server.set(server);
    }

    /// Adds these metrics to `registry`, read at each of its scrapes.
    ///
    /// ```
    /// use prometheus_client::registry::Registry;
    ///
    /// let metrics = sio_server::metrics::Metrics::new();
    /// let mut registry = Registry::default();
    /// metrics.register(&mut registry);
    /// let mut text = String::new();
    /// prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    /// assert!(text.contains("socketio_upgrades_total 0"));
    /// ```
    pub fn register(&self, registry: &mut Registry) {
        registry.register_collector(Box::new(self.clone()));
    }

    /// The metrics in Prometheus's text format, as a scrape reads them.
    pub fn encode(&self) -> String {
        let mut registry = Registry::default();
        self.register(&mut registry);
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &registry);
        text
    }

    /// A tower service that answers every request with [`encode`](Self::encode), to mount where
    /// Prometheus scrapes.
    pub fn service(&self) -> MetricsService {
        MetricsService {
            metrics: self.clone(),
        }
    }
}

/// Writes a counter without labels.
fn counter(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

/// Writes a gauge with one value per label.
fn gauges<'a>(
    encoder: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    label: &str,
    values: impl IntoIterator<Item = (&'a str, usize)>,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
    for (value_of, value) in values {
        let labels = [(label, value_of)];
        ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX))
            .encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

impl Collector for Metrics {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let server = self.shared.server.get().and_then(WeakServer::upgrade);
        let engine = server.as_ref().map(|server| server.stats().engine);
        let (polling, websocket) = engine.map_or((0, 0), |stats| (stats.polling, stats.websocket));
        gauges(
            &mut encoder,
            "socketio_connections",
            "Engine.IO sessions open now, by transport.",
            "transport",
            [("polling", polling), ("websocket", websocket)],
        )?;
        let namespaces = server
            .as_ref()
            .map(|server| server.inner().all_namespaces())
            .unwrap_or_default();
        let mut namespaces: Vec<_> = namespaces
            .iter()
            .map(|namespace| {
                let (sockets, rooms) = namespace.counts();
                (namespace.name.as_str().to_owned(), sockets, rooms)
            })
            .collect();
        namespaces.sort();
        gauges(
            &mut encoder,
            "socketio_sockets",
            "Sockets connected now, by namespace.",
            "namespace",
            namespaces
                .iter()
                .map(|(name, sockets, _)| (name.as_str(), *sockets)),
        )?;
        gauges(
            &mut encoder,
            "socketio_rooms",
            "Rooms named by the application with at least one socket now, by namespace.",
            "namespace",
            namespaces
                .iter()
                .map(|(name, _, rooms)| (name.as_str(), *rooms)),
        )?;
        if let Some(layer) = server
            .as_ref()
            .and_then(|server| server.inner().layer.stats())
        {
            let queued = ConstGauge::new(i64::try_from(layer.queued_bytes).unwrap_or(i64::MAX));
            queued.encode(encoder.encode_descriptor(
                "socketio_layer_queued_bytes",
                "Bytes waiting to go to the other processes.",
                None,
                queued.metric_type(),
            )?)?;
            counter(
                &mut encoder,
                "socketio_layer_dropped",
                "Messages to the other processes given up.",
                layer.dropped_total,
            )?;
            counter(
                &mut encoder,
                "socketio_layer_reconnects",
                "Connections to the other processes' medium made again.",
                layer.reconnects_total,
            )?;
            if let Some(lag) = layer.lag {
                let lag = ConstGauge::new(lag.as_secs_f64());
                lag.encode(encoder.encode_descriptor(
                    "socketio_layer_lag_seconds",
                    "Age of the last message read from the other processes' log.",
                    None,
                    lag.metric_type(),
                )?)?;
            }
        }
        let counters = &self.shared.counters;
        for (name, help, value) in [
            (
                "socketio_events_received",
                "Events received from clients.",
                &counters.events_received,
            ),
            (
                "socketio_events_sent",
                "Events queued for clients, a broadcast once per recipient.",
                &counters.events_sent,
            ),
            (
                "socketio_packets_received",
                "Socket.IO messages received.",
                &counters.packets_received,
            ),
            (
                "socketio_packets_sent",
                "Socket.IO packets queued by sockets.",
                &counters.packets_sent,
            ),
            (
                "socketio_bytes_received",
                "Bytes of the Socket.IO messages received.",
                &counters.bytes_received,
            ),
            (
                "socketio_bytes_sent",
                "Bytes of the Socket.IO messages queued by sockets.",
                &counters.bytes_sent,
            ),
            (
                "socketio_broadcasts",
                "Broadcasts delivered in this process.",
                &counters.broadcasts,
            ),
            (
                "socketio_broadcast_recipients",
                "Sockets of this process that broadcasts reached.",
                &counters.broadcast_recipients,
            ),
            (
                "socketio_upgrades",
                "Transports upgraded from polling to WebSocket.",
                &counters.upgrades,
            ),
            (
                "socketio_closed_not_reading",
                "Clients closed because their outgoing queue was full.",
                &counters.closed_not_reading,
            ),
            (
                "socketio_volatile_dropped",
                "Volatile events not sent to a client that was not ready.",
                &counters.volatile_dropped,
            ),
        ] {
            counter(&mut encoder, name, help, Counters::load(value))?;
        }
        let mut family = encoder.encode_descriptor(
            "socketio_disconnects",
            "Sockets disconnected, by reason.",
            None,
            MetricType::Counter,
        )?;
        for (reason, count) in REASONS.iter().zip(&counters.disconnects) {
            let labels = [("reason", reason.as_str())];
            ConstCounter::new(Counters::load(count)).encode(family.encode_family(&labels)?)?;
        }
        let buckets: Vec<(f64, u64)> = ACK_BUCKETS
            .iter()
            .copied()
            .chain([f64::INFINITY])
            .zip(counters.ack_buckets.iter().map(Counters::load))
            .collect();
        let count = buckets.iter().map(|(_, n)| n).sum();
        let sum = Counters::load(&counters.ack_micros) as f64 / 1e6;
        encoder
            .encode_descriptor(
                "socketio_ack_duration_seconds",
                "Round trips of the acks the server waited for.",
                None,
                MetricType::Histogram,
            )?
            .encode_histogram::<NoLabelSet>(sum, count, &buckets, None)
    }
}

/// The tower service of [`Metrics::service`]: every request gets the metrics as text. Cheap to
/// clone.
///
/// ```
/// use tower_service::Service;
///
/// # async fn run() {
/// let metrics = sio_server::metrics::Metrics::new();
/// let request = http::Request::get("/metrics").body(()).unwrap();
/// let response = metrics.service().call(request).await.unwrap();
/// assert_eq!(response.status(), http::StatusCode::OK);
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct MetricsService {
    metrics: Metrics,
}

impl<B> tower_service::Service<Request<B>> for MetricsService {
    type Response = Response<ResponseBody>;
    type Error = Infallible;
    type Future = Ready<Result<Self::Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _request: Request<B>) -> Self::Future {
        let mut response = Response::new(ResponseBody::new(Bytes::from(self.metrics.encode())));
        *response.status_mut() = StatusCode::OK;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
        );
        ready(Ok(response))
    }
}
