//! An event from another process, as a server-event handler receives it.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use sio_core::{Args as RawArgs, ExpansionBudget, RawArg};

use crate::ack::{Ack, AckResponse, ProcessReply};
use crate::args::decode_arg;
use crate::event::ArgError;

/// What the arguments of one server-side event may expand into when read as sequences (Node's
/// default `maxHttpBufferSize`, as for a relayed ack).
const MAX_EXPANSION: usize = 1_000_000;

/// One server-side event from another process (Node's `serverSideEmit`): its name, its
/// arguments still as raw JSON, and the answer the sender may wait for.
///
/// A channel layer makes one for each event it hears and hands it to
/// [`LocalSockets::server_side_event`](crate::broadcast::LocalSockets::server_side_event);
/// the namespace's [`ServerEvents`](crate::ServerEvents) handler reads it.
///
/// ```
/// use sio_server::ServerEvent;
/// use sio_core::Args as RawArgs;
///
/// let args = RawArgs::from_array(r#"[{"id":7}]"#).unwrap();
/// let (answer, mut answered) = tokio::sync::oneshot::channel();
/// let mut event = ServerEvent::new("user_banned", args, Vec::new())
///     .with_reply(move |reply| drop(answer.send(reply)));
///
/// #[derive(serde::Deserialize)]
/// struct Banned { id: u64 }
/// let banned: Banned = event.arg(0).unwrap();
/// assert_eq!((event.name(), banned.id), ("user_banned", 7));
/// event.ack::<&str>().send("done").unwrap();
/// assert_eq!(answered.try_recv().unwrap().get::<String>(0).unwrap(), "done");
/// ```
#[derive(Debug)]
pub struct ServerEvent {
    name: String,
    args: RawArgs,
    attachments: Vec<Bytes>,
    reply: Option<ProcessReply>,
    budget: ExpansionBudget,
}

impl ServerEvent {
    /// An event named `name` with `args` (the arguments only, not the name) and the binary
    /// attachments their placeholders stand for. Read as sequences, the attachments may expand
    /// into 1,000,000 bytes in all.
    pub fn new(name: impl Into<String>, args: RawArgs, attachments: Vec<Bytes>) -> Self {
        ServerEvent {
            name: name.into(),
            args,
            attachments,
            reply: None,
            budget: ExpansionBudget::new(MAX_EXPANSION),
        }
    }

    /// The sender waits for an answer: a handler's [`Ack`] hands it to `reply`, once. An
    /// event whose handler does not answer (or that no handler takes) never calls it.
    #[must_use]
    pub fn with_reply(mut self, reply: impl FnOnce(AckResponse) + Send + Sync + 'static) -> Self {
        self.reply = Some(ProcessReply::new(reply));
        self
    }

    /// The bytes it holds while it waits for a handler: its text and its attachments.
    pub(crate) fn cost(&self) -> usize {
        self.attachments.iter().map(Bytes::len).fold(
            self.args.held_bytes() + self.name.len(),
            usize::saturating_add,
        )
    }

    /// The event name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// How many arguments came.
    pub fn len(&self) -> usize {
        self.args.len()
    }

    /// Whether no argument came.
    pub fn is_empty(&self) -> bool {
        self.args.is_empty()
    }

    /// Argument `index` exactly as received.
    pub fn raw(&self, index: usize) -> Option<RawArg> {
        self.args.get(index)
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Argument `index`, deserialized into `T`; a missing one reads as `null`. Binary
    /// attachments read as in [`IncomingEvent::arg`](crate::IncomingEvent::arg).
    pub fn arg<T: DeserializeOwned + 'static>(&self, index: usize) -> Result<T, ArgError> {
        decode_arg(&self.args, &self.attachments, &self.budget, index).map_err(|error| ArgError {
            event: self.name.clone(),
            index,
            message: error.to_string(),
        })
    }

    /// Takes the answer the sender waits for; sending to it when it waits for none does
    /// nothing, and so does a second `Ack` taken from the same event. The sender reads the
    /// first argument of the reply.
    pub fn ack<T>(&mut self) -> Ack<T> {
        Ack::for_process(self.reply.take())
    }

    /// Whether the sender waits for an answer.
    pub fn wants_ack(&self) -> bool {
        self.reply.is_some()
    }
}
