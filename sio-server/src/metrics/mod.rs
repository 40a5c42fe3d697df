//! Prometheus metrics of a server: what it counts (always built, bumped only when metrics are
//! on) and, with the `metrics` feature, `Metrics`, which hands the counts to a
//! `prometheus-client` registry or serves them as text.

pub(crate) mod counters;
#[cfg(feature = "metrics")]
mod export;

#[cfg(feature = "metrics")]
pub use export::{Metrics, MetricsService};
