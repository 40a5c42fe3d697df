//! The answers other processes give a server-side event.

use serde::de::DeserializeOwned;

use crate::ack::{AckError, AckResponse};
use crate::broadcast::LayerError;

/// What a server-side event with ack hears back: how many processes were asked, then each
/// answer. A [`ChannelLayer`](crate::broadcast::ChannelLayer) yields these from
/// [`server_side_emit_with_ack`](crate::broadcast::ChannelLayer::server_side_emit_with_ack).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum ServerAckEvent {
    /// The event went to so many other processes.
    Asked(usize),
    /// One process answered.
    Answered(AckResponse),
    /// The other processes could not be asked.
    Failed(LayerError),
}

/// The answers to [`BroadcastOperator::server_side_emit_with_ack`](crate::BroadcastOperator::server_side_emit_with_ack),
/// one per process that answered within the timeout (Node's `serverSideEmit` with an ack hands
/// the same list to its callback, with an error when some are missing).
///
/// ```no_run
/// # async fn run(server: sio_server::Server) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
///
/// let acks = server
///     .server_side_emit_with_ack("count_users", sio_server::Args(()), Duration::from_secs(2))
///     .await?;
/// let counts: Vec<u64> = acks.decode()?;
/// let total: u64 = counts.iter().sum();
/// if !acks.is_complete() {
///     let missing = acks.asked().saturating_sub(counts.len());
///     println!("{total} users, not counting {missing} processes");
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct ServerAcks {
    answers: Vec<AckResponse>,
    /// How many processes were asked, once the layer said.
    asked: Option<usize>,
    error: Option<LayerError>,
}

impl ServerAcks {
    /// Gathers `events` until they end.
    pub(crate) async fn gather(events: impl futures_util::Stream<Item = ServerAckEvent>) -> Self {
        use futures_util::StreamExt;
        let mut acks = ServerAcks::default();
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            match event {
                ServerAckEvent::Asked(processes) => {
                    acks.asked = Some(acks.asked.unwrap_or(0).saturating_add(processes));
                }
                ServerAckEvent::Answered(response) => acks.answers.push(response),
                ServerAckEvent::Failed(error) => acks.error = Some(error),
            }
        }
        acks
    }

    /// The answers, in the order they came.
    pub fn answers(&self) -> &[AckResponse] {
        &self.answers
    }

    /// The first argument of every answer, deserialized into `R`.
    pub fn decode<R: DeserializeOwned + 'static>(&self) -> Result<Vec<R>, AckError> {
        self.answers.iter().map(|answer| answer.get(0)).collect()
    }

    /// How many other processes were asked; 0 when the layer did not say in time (then
    /// [`is_complete`](Self::is_complete) is `false`).
    pub fn asked(&self) -> usize {
        self.asked.unwrap_or(0)
    }

    /// Why the other processes could not be asked, if they could not.
    pub fn error(&self) -> Option<&LayerError> {
        self.error.as_ref()
    }

    /// Whether every process asked answered in time (also when there was none to ask); `false`
    /// when the layer could not ask, or did not say in time how many it asked.
    pub fn is_complete(&self) -> bool {
        self.error.is_none() && self.asked.is_some_and(|asked| self.answers.len() >= asked)
    }

    /// The answers of an event that went nowhere (a namespace with no name, or `local`).
    pub(crate) fn nobody_asked() -> Self {
        ServerAcks {
            asked: Some(0),
            ..ServerAcks::default()
        }
    }
}
