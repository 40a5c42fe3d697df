//! The acks of a broadcast: what the sockets answered, and which did not answer in time.

use futures_util::{Stream, StreamExt};

use crate::ack::AckResponse;
use crate::socket::SocketId;

/// What a broadcast with ack hears back, from this process or another, in any order: where
/// the event went, then each answer. A [`ChannelLayer`](crate::broadcast::ChannelLayer) yields
/// these from [`broadcast_with_ack`](crate::broadcast::ChannelLayer::broadcast_with_ack).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AckEvent {
    /// The event was sent to these sockets.
    Sent(Vec<SocketId>),
    /// The event was sent to so many sockets of a process that does not name them (Node's
    /// socket.io says how many only).
    SentUnnamed(usize),
    /// A socket answered: named, unless its process does not say which.
    Answered(Option<SocketId>, AckResponse),
    /// So many processes did not say where the event went in time (or could not be asked at
    /// all, counted as one): their sockets are neither named nor counted.
    Unreported(usize),
}

/// One answer to a broadcast with ack.
#[derive(Debug, Clone)]
pub struct BroadcastAck {
    socket: Option<SocketId>,
    response: AckResponse,
}

impl BroadcastAck {
    /// The socket that answered; `None` for a socket of a process that does not say which
    /// (Node's socket.io relays the answer alone).
    pub fn socket(&self) -> Option<&SocketId> {
        self.socket.as_ref()
    }

    /// What it answered.
    pub fn response(&self) -> &AckResponse {
        &self.response
    }
}

/// The acks gathered by [`BroadcastOperator::emit_with_ack`](crate::BroadcastOperator::emit_with_ack):
/// which socket answered what, and which did not answer within the timeout (or disconnected
/// first). Node's socket.io reports only an error when some did not answer.
///
/// ```no_run
/// # async fn run(server: sio_server::Server) -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
///
/// let acks = server
///     .to("voters")
///     .emit_with_ack("vote", "lunch at noon?", Duration::from_secs(10))
///     .await?;
/// for ack in acks.answers() {
///     let yes: bool = ack.response().get(0)?;
///     println!("{:?} says {yes}", ack.socket());
/// }
/// println!("no answer from {:?}", acks.unanswered());
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default)]
pub struct BroadcastAcks {
    answers: Vec<BroadcastAck>,
    unanswered: Vec<SocketId>,
    unanswered_unnamed: usize,
    unreported: usize,
}

impl BroadcastAcks {
    /// Gathers `events` until they end.
    pub(crate) async fn gather(events: impl Stream<Item = AckEvent>) -> Self {
        let mut sent: Vec<SocketId> = Vec::new();
        let mut sent_unnamed = 0_usize;
        let mut acks = BroadcastAcks::default();
        let mut events = std::pin::pin!(events);
        while let Some(event) = events.next().await {
            match event {
                AckEvent::Sent(sockets) => sent.extend(sockets),
                AckEvent::SentUnnamed(count) => sent_unnamed = sent_unnamed.saturating_add(count),
                AckEvent::Answered(socket, response) => {
                    acks.answers.push(BroadcastAck { socket, response });
                }
                AckEvent::Unreported(processes) => {
                    acks.unreported = acks.unreported.saturating_add(processes);
                }
            }
        }
        acks.finish(sent, sent_unnamed);
        acks
    }

    /// Works out who did not answer, from where the event went.
    fn finish(&mut self, mut sent: Vec<SocketId>, sent_unnamed: usize) {
        let named: std::collections::HashSet<&SocketId> = self
            .answers
            .iter()
            .filter_map(BroadcastAck::socket)
            .collect();
        sent.retain(|socket| !named.contains(socket));
        sent.sort();
        sent.dedup();
        self.unanswered = sent;
        let unnamed_answers = self
            .answers
            .iter()
            .filter(|ack| ack.socket.is_none())
            .count();
        self.unanswered_unnamed = sent_unnamed.saturating_sub(unnamed_answers);
    }

    /// The answers, in the order they came.
    pub fn answers(&self) -> &[BroadcastAck] {
        &self.answers
    }

    /// The sockets the event went to that did not answer in time, sorted.
    pub fn unanswered(&self) -> &[SocketId] {
        &self.unanswered
    }

    /// How many sockets of processes that do not name them (Node's) did not answer in time.
    pub fn unanswered_unnamed(&self) -> usize {
        self.unanswered_unnamed
    }

    /// How many other processes did not say in time where the event went (or could not be
    /// asked: the channel layer was unavailable), so that their sockets are in neither list.
    pub fn unreported_processes(&self) -> usize {
        self.unreported
    }

    /// Whether every socket the event went to answered, in every process.
    pub fn is_complete(&self) -> bool {
        self.unanswered.is_empty() && self.unanswered_unnamed == 0 && self.unreported == 0
    }

    /// How many answers came.
    pub fn len(&self) -> usize {
        self.answers.len()
    }

    /// Whether no answer came.
    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

impl IntoIterator for BroadcastAcks {
    type Item = BroadcastAck;
    type IntoIter = std::vec::IntoIter<BroadcastAck>;

    fn into_iter(self) -> Self::IntoIter {
        self.answers.into_iter()
    }
}

impl<'a> IntoIterator for &'a BroadcastAcks {
    type Item = &'a BroadcastAck;
    type IntoIter = std::slice::Iter<'a, BroadcastAck>;

    fn into_iter(self) -> Self::IntoIter {
        self.answers.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sio_core::Args;

    fn answer(socket: Option<&str>) -> AckEvent {
        let args = Args::from_array("[true]").expect("JSON");
        AckEvent::Answered(
            socket.map(SocketId::from),
            AckResponse::new(args, Vec::new()),
        )
    }

    #[test]
    fn those_that_did_not_answer_are_named_or_counted() {
        let events = futures_util::stream::iter([
            AckEvent::Sent(vec![SocketId::from("b"), SocketId::from("a")]),
            answer(Some("a")),
            AckEvent::SentUnnamed(3),
            answer(None),
            AckEvent::Sent(vec![SocketId::from("c")]),
            AckEvent::Unreported(1),
        ]);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let acks = runtime.block_on(BroadcastAcks::gather(events));
        assert_eq!(acks.len(), 2);
        assert_eq!(
            acks.unanswered(),
            [SocketId::from("b"), SocketId::from("c")]
        );
        assert_eq!(acks.unanswered_unnamed(), 2);
        assert_eq!(acks.unreported_processes(), 1);
        assert!(!acks.is_complete());
        assert_eq!(acks.answers()[0].socket(), Some(&SocketId::from("a")));
    }
}
