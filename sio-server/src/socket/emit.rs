//! What a socket sends its client: events, acks, and the acks it waits for.

use std::time::Duration;

use serde::de::DeserializeOwned;
use sio_core::{AckId, EncodedPacket, PacketEncoder};
use thiserror::Error;
use tokio::sync::oneshot;
use tracing::{debug, warn};

use super::{Phase, Socket, outgoing};
use crate::ack::{AckError, AckResponse};
use crate::args::{EmitArgs, EmitArgsDyn};
use crate::engine::SendError;
use crate::metrics::counters::add;

/// Why an emit did not go out.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EmitError {
    /// The socket is disconnected.
    #[error("the socket is disconnected")]
    Disconnected,
    /// The client is not reading: its outgoing queue is full.
    #[error("the client is not reading: its outgoing queue is full")]
    QueueFull,
    /// An argument does not serialize.
    #[error(transparent)]
    Encode(#[from] sio_core::EncodeError),
    /// The event name is reserved (`connect`, `disconnect`, ...; see
    /// [`RESERVED_EVENTS`](sio_core::RESERVED_EVENTS)), as in Node's `emit`.
    #[error("`{0}` is a reserved event name")]
    ReservedName(String),
    /// A server-side event was sent to a selection narrowed to rooms, or to a pattern: it goes
    /// to one namespace, as it is, of the other processes.
    #[error(
        "a server-side event goes to a namespace of the other processes: not to rooms (`to`, `except`) nor to a pattern"
    )]
    NotForProcesses,
}

impl Socket {
    /// Sends an event to this client. See [`EmitArgs`] for how `data` becomes arguments.
    pub fn emit(&self, event: &str, data: impl EmitArgs) -> Result<(), EmitError> {
        let packet =
            self.inner
                .server
                .inner()
                .encode_event(self.namespace(), None, event, &data)?;
        if let Some(recovery) = self.inner.server.inner().recovery.as_ref() {
            if recovery.in_layer {
                // A broadcast to the room of its id, counted as one.
                return self.emit_through_layer(&packet);
            }
            self.emit_recorded(recovery, &packet)?;
        } else {
            outgoing::notify(self, &packet);
            self.send_packet(&packet)?;
        }
        self.count_event_sent();
        Ok(())
    }

    /// An event went to this socket's queue.
    pub(crate) fn count_event_sent(&self) {
        self.inner
            .server
            .inner()
            .count(|counters| add(&counters.events_sent, 1));
    }

    /// Sends an event and waits up to `timeout` for the client's ack; its first argument is
    /// deserialized into `R`.
    pub async fn emit_with_ack<R: DeserializeOwned + 'static>(
        &self,
        event: &str,
        data: impl EmitArgs,
        timeout: Duration,
    ) -> Result<R, AckError> {
        self.emit_with_ack_response(event, data, timeout)
            .await?
            .get(0)
    }

    /// Sends an event and waits up to `timeout` for the client's ack, with all its arguments.
    pub async fn emit_with_ack_response(
        &self,
        event: &str,
        data: impl EmitArgs,
        timeout: Duration,
    ) -> Result<AckResponse, AckError> {
        let id = self.inner.namespace.next_ack_id();
        let packet =
            self.inner
                .server
                .inner()
                .encode_event(self.namespace(), Some(id), event, &data)?;
        let reply = self.expect_ack(id);
        outgoing::notify(self, &packet);
        let sent = std::time::Instant::now();
        self.send_packet(&packet)?;
        self.count_event_sent();
        let answer = self.await_ack(id, reply, timeout).await?;
        self.inner
            .server
            .inner()
            .count(|counters| counters.ack_returned(sent.elapsed()));
        Ok(answer)
    }

    pub(crate) fn expect_ack(&self, id: AckId) -> oneshot::Receiver<AckResponse> {
        let (sender, receiver) = oneshot::channel();
        self.inner.acks.lock().insert(id.0, sender);
        receiver
    }

    pub(crate) async fn await_ack(
        &self,
        id: AckId,
        reply: oneshot::Receiver<AckResponse>,
        timeout: Duration,
    ) -> Result<AckResponse, AckError> {
        match tokio::time::timeout(timeout, reply).await {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                self.inner.acks.lock().remove(&id.0);
                Err(AckError::Timeout)
            }
        }
    }

    /// An ACK arrived from the client.
    pub(crate) fn resolve_ack(&self, id: AckId, response: AckResponse) {
        let waiting = self.inner.acks.lock().remove(&id.0);
        match waiting {
            Some(sender) => {
                let _ = sender.send(response);
            }
            None => debug!(ack = id.0, "ack for no pending emit (late or unknown)"),
        }
    }

    pub(crate) fn send_ack(&self, id: AckId, reply: &dyn EmitArgsDyn) -> Result<(), EmitError> {
        let mut packet = PacketEncoder::new_ack(self.parser(), self.namespace(), id);
        reply.write_args_dyn(&mut packet)?;
        self.send_packet(&packet.finish())
    }

    /// How this socket's packets are encoded: the server's parser.
    pub(crate) fn parser(&self) -> sio_core::Parser {
        self.inner.server.inner().config.parser
    }

    /// Queues a packet: held while `connect` runs, dropped once disconnected; a client whose
    /// queue is full is closed.
    pub(crate) fn send_packet(&self, packet: &EncodedPacket) -> Result<(), EmitError> {
        let queued = self.queue_packet(packet);
        if queued == Err(EmitError::QueueFull) {
            self.close_not_reading();
        }
        #[cfg(feature = "admin")]
        if queued.is_ok() {
            self.inner
                .server
                .inner()
                .notify(|admin| admin.event_sent(self, packet));
        }
        queued
    }

    /// Queues a packet as [`send_packet`](Self::send_packet) does, leaving a full queue to the
    /// caller, which closes the client once it holds no lock that closing may need.
    pub(crate) fn queue_packet(&self, packet: &EncodedPacket) -> Result<(), EmitError> {
        let mut phase = self.inner.phase.lock();
        match &mut *phase {
            Phase::Connecting(held) => {
                // A restored socket is in its rooms while `connect` runs: what broadcasts hold
                // for it meanwhile is bounded as a handler's mailbox is.
                if self.recovered() {
                    let bytes = packet.byte_len();
                    let max = self.inner.server.inner().config.mailbox_bytes;
                    if held.live_bytes.saturating_add(bytes) > max {
                        return Err(EmitError::QueueFull);
                    }
                    held.live_bytes += bytes;
                }
                held.packets.push(packet.clone());
                Ok(())
            }
            Phase::Connected => {
                drop(phase);
                self.write(packet)
            }
            Phase::Disconnected(_) => Err(EmitError::Disconnected),
        }
    }

    /// Queues a packet's frames, all of them or none: a binary packet is never left half sent.
    /// A full queue is the caller's to act on, once it holds no lock of this socket.
    pub(super) fn write(&self, packet: &EncodedPacket) -> Result<(), EmitError> {
        let connection = &self.inner.connection;
        let queued = if packet.attachments.is_empty() {
            // By reference: a frame written straight to the socket is never copied.
            connection.send_frames(std::slice::from_ref(&packet.text))
        } else {
            connection.send_frames(&packet.frames().collect::<Vec<_>>())
        };
        if queued.is_ok() {
            self.inner.server.inner().count(|counters| {
                add(&counters.bytes_sent, packet.byte_len() as u64);
                add(&counters.packets_sent, 1);
            });
        }
        queued.map_err(|error| match error {
            SendError::Closed => EmitError::Disconnected,
            SendError::QueueFull => EmitError::QueueFull,
        })
    }

    /// The client's queue is full: it is not reading, so it is closed (1008), not waited for.
    /// Never called under a lock of this socket: the close tells the socket, which takes them.
    pub(crate) fn close_not_reading(&self) {
        self.inner
            .server
            .inner()
            .count(|counters| add(&counters.closed_not_reading, 1));
        warn!(socket = %self.inner.id, "client not reading; its queue is full; closing it");
        self.inner.connection.close_for_violation();
    }
}
