//! Acks: the answer a handler owes a client, and the answers the server waits for.

use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use sio_core::{AckId, Args as RawArgs, ExpansionBudget, Namespace, PacketEncoder, RawArg};
use thiserror::Error;

use crate::args::{EmitArgs, decode_arg};
use crate::socket::{EmitError, Socket};

/// The ack a client asked for with an event, answered with a `T` (see [`EmitArgs`] for how a
/// value becomes arguments). In a server-event handler (see
/// [`ServerEvents`](crate::ServerEvents)) it answers the process that asked instead, which
/// reads the reply's first argument, as Node's adapters relay it.
///
/// [`send`](Ack::send) consumes it, so an ack cannot be answered twice. Sending when the client
/// asked for no ack does nothing. An ack dropped unanswered sends nothing, as with the reference
/// server: the client's `timeout()` reports the missing answer, and its `retries` send the event
/// again, so a handler that fails (returns `Err` before answering) does not lose the message.
///
/// The client reads only what the ack carries, so an error it should see is part of the
/// answer. The usual Socket.IO convention is an object with an error field, or Node's
/// `(err, value)` pair as two arguments:
///
/// ```
/// use serde::Serialize;
/// use sio_server::{Ack, Args};
///
/// #[derive(Serialize)]
/// #[serde(untagged)]
/// enum Saved {
///     Ok { id: u64 },
///     Failed { error: String },
/// }
///
/// fn answer(ack: Ack<Saved>, stored: Result<u64, String>) -> sio_server::Result<()> {
///     ack.send(match stored {
///         Ok(id) => Saved::Ok { id },             // the client reads `{ id: 7 }`
///         Err(error) => Saved::Failed { error },  // the client reads `{ error: "..." }`
///     })
/// }
///
/// // Node's callback style: `(err, value)`, with `null` for no error.
/// fn answer_node_style(ack: Ack<Args<(Option<String>, u64)>>) -> sio_server::Result<()> {
///     ack.send(Args((None, 7)))
/// }
/// ```
///
/// ```compile_fail
/// # fn handler(ack: sio_server::Ack<u32>) {
/// ack.send(1);
/// ack.send(2); // error: `ack` was moved by the first `send`
/// # }
/// ```
#[must_use = "the client waits for this ack; answer it with `send`"]
#[derive(Debug)]
pub struct Ack<T> {
    target: Option<AckTarget>,
    reply: PhantomData<fn(T)>,
}

/// Who waits for an ack.
#[derive(Debug)]
enum AckTarget {
    /// A client, for its event `AckId`.
    Client(Socket, AckId),
    /// Another process, for its server-side event.
    Process(ProcessReply),
}

/// How an answer to a server-side event goes back to the process that asked: the channel
/// layer's, given with [`ServerEvent::with_reply`](crate::ServerEvent::with_reply).
pub(crate) struct ProcessReply(Box<dyn FnOnce(AckResponse) + Send + Sync>);

impl ProcessReply {
    pub(crate) fn new(reply: impl FnOnce(AckResponse) + Send + Sync + 'static) -> Self {
        ProcessReply(Box::new(reply))
    }
}

impl std::fmt::Debug for ProcessReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProcessReply")
    }
}

impl<T> Ack<T> {
    pub(crate) fn new(socket: Socket, id: Option<AckId>) -> Self {
        Ack {
            target: id.map(|id| AckTarget::Client(socket, id)),
            reply: PhantomData,
        }
    }

    /// The ack of a server-side event, if the process that sent it waits for one.
    pub(crate) fn for_process(reply: Option<ProcessReply>) -> Self {
        Ack {
            target: reply.map(AckTarget::Process),
            reply: PhantomData,
        }
    }

    /// Whether the client waits for this ack.
    pub fn is_wanted(&self) -> bool {
        self.target.is_some()
    }
}

impl<T: EmitArgs> Ack<T> {
    /// Answers the client (or the process) that asked.
    pub fn send(mut self, reply: T) -> crate::Result<()> {
        match self.target.take() {
            Some(AckTarget::Client(socket, id)) => Ok(socket.send_ack(id, &reply)?),
            Some(AckTarget::Process(answer)) => {
                let mut encoder = PacketEncoder::ack(&Namespace::root(), AckId(0));
                reply.write_args(&mut encoder).map_err(EmitError::from)?;
                let (args, attachments) = encoder.finish_args();
                (answer.0)(AckResponse::new(args, attachments));
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// Why an awaited ack did not come.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AckError {
    /// No answer within the timeout.
    #[error("no ack within the timeout")]
    Timeout,
    /// The socket disconnected before answering.
    #[error("the socket disconnected before acknowledging")]
    Disconnected,
    /// The event could not be sent.
    #[error(transparent)]
    Emit(#[from] EmitError),
    /// The answer does not deserialize into the expected type.
    #[error("the ack does not deserialize: {0}")]
    Decode(String),
}

/// The arguments of an ack the server received.
#[derive(Debug, Clone)]
pub struct AckResponse {
    args: RawArgs,
    attachments: Vec<Bytes>,
    /// What its attachments may still expand into sequences, shared by its clones.
    budget: Arc<ExpansionBudget>,
}

impl AckResponse {
    /// An answer as received: its arguments, and the binary attachments their placeholders
    /// stand for (such as an answer relayed by another process). Its attachments may expand
    /// into sequences for 1,000,000 bytes in all (the default `max_payload`).
    pub fn new(args: RawArgs, attachments: Vec<Bytes>) -> Self {
        AckResponse::with_expansion(args, attachments, 1_000_000)
    }

    /// An answer whose attachments may expand into sequences for `max_expansion` bytes.
    pub(crate) fn with_expansion(
        args: RawArgs,
        attachments: Vec<Bytes>,
        max_expansion: usize,
    ) -> Self {
        AckResponse {
            args,
            attachments,
            budget: Arc::new(ExpansionBudget::new(max_expansion)),
        }
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// How many arguments the client answered with.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether the client answered with none.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Argument `index` as received.
    pub fn raw(&self, index: usize) -> Option<RawArg> {
        self.args.get(index)
    }

    /// Argument `index` deserialized into `T` (a missing argument reads as `null`); binary
    /// attachments read as [`IncomingEvent::arg`](crate::IncomingEvent::arg) reads them.
    pub fn get<T: DeserializeOwned + 'static>(&self, index: usize) -> Result<T, AckError> {
        decode_arg(&self.args, &self.attachments, &self.budget, index)
            .map_err(|error| AckError::Decode(error.to_string()))
    }
}
