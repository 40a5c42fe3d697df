//! What `#[consumer]` expansions call, through `::sio::__private`. Not a public API: the names
//! may change with the macro.
//!
//! Each bound carries a diagnostic that names the fix, so a mistake in a handler's signature is
//! reported on the user's own token.

use std::future::Future;

use serde::de::DeserializeOwned;
use tracing::{debug, warn};

pub use crate::{
    Ack, ConnectError, Consumer, DisconnectReason, EmitArgs, HandlerError, IncomingEvent,
    OutgoingEvent, OutgoingHook, RawJson, Server, ServerEvent, ServerEvents, Socket,
};
use crate::{ArgError, Error};

/// A type a handler can take as an event argument.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an event argument: it is not `Deserialize`",
    label = "this type must implement `serde::Deserialize`",
    note = "derive it: `#[derive(serde::Deserialize)]`"
)]
pub trait EventArg: DeserializeOwned + 'static {}

impl<T: DeserializeOwned + 'static> EventArg for T {}

/// Argument `index` of `event` as a `T`.
pub fn event_arg<T: EventArg>(event: &IncomingEvent, index: usize) -> Result<T, ArgError> {
    event.arg(index)
}

/// A type `recover` can take a restored socket's kept data as.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be the data `recover` takes: it is not `Deserialize`",
    label = "this type must implement `serde::Deserialize`",
    note = "derive it (`#[derive(serde::Deserialize)]`), as the type given to `socket.set_data` derives `Serialize`"
)]
pub trait KeptData: DeserializeOwned + 'static {}

impl<T: DeserializeOwned + 'static> KeptData for T {}

/// The data a restored socket kept, as the `T` its consumer's `recover` takes.
pub fn decode_data<T: KeptData>(data: RawJson) -> Result<T, HandlerError> {
    Ok(data.deserialize()?)
}

/// Whether a `#[middleware]` step is skipped for `socket`: a client restored by connection
/// state recovery, unless its settings keep the middleware.
pub fn skips_middleware(socket: &Socket) -> bool {
    socket.skips_middleware()
}

/// Argument `index` of a server-side event as a `T`.
pub fn server_event_arg<T: EventArg>(event: &ServerEvent, index: usize) -> Result<T, ArgError> {
    event.arg(index)
}

/// The answer the process that sent a server-side event waits for, as a `T`.
pub fn take_server_ack<T: AckReply>(event: &mut ServerEvent) -> Ack<T> {
    event.ack()
}

/// A type a handler can take as a parameter of its namespace's pattern (`#[param]`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a namespace parameter: it is not `Deserialize`",
    label = "this type must implement `serde::Deserialize`",
    note = "take it as text (`String`), a number or a `bool`, or derive `serde::Deserialize`"
)]
pub trait PathParam: DeserializeOwned + 'static {}

impl<T: DeserializeOwned + 'static> PathParam for T {}

/// Parameter `name` of the socket's namespace as a `T`, for an event handler: a value that does
/// not decode ends the handler with the error logged.
pub fn path_param<T: PathParam>(socket: &Socket, name: &str) -> Result<T, Error> {
    socket.param(name)
}

/// Parameter `name` of the socket's namespace as a `T`, for `connect` or a middleware: a name
/// whose parameter does not decode is not one this consumer serves, and the client gets
/// `Invalid namespace`.
pub fn connect_param<T: PathParam>(socket: &Socket, name: &str) -> Result<T, ConnectError> {
    socket.param(name).map_err(|error| {
        debug!(socket = %socket.id(), namespace = %socket.namespace(), parameter = name, %error, "a namespace parameter does not decode");
        ConnectError::new("Invalid namespace")
    })
}

/// A type a handler can answer an ack with.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an ack reply: it is not `Serialize`",
    label = "this type must implement `serde::Serialize` (or be `Args((..))`)",
    note = "derive it: `#[derive(serde::Serialize)]`"
)]
pub trait AckReply: EmitArgs {}

impl<T: EmitArgs> AckReply for T {}

/// The ack of `event`, answered with a `T`.
pub fn take_ack<T: AckReply>(event: &mut IncomingEvent) -> Ack<T> {
    event.ack()
}

/// The CONNECT payload as an `A` (absent reads as `null`, so `Option<A>` accepts it); a payload
/// that does not fit refuses the client.
pub fn decode_auth<A: EventArg>(auth: Option<RawJson>) -> Result<A, ConnectError> {
    let auth = auth.unwrap_or_else(RawJson::null);
    auth.deserialize()
        .map_err(|error| ConnectError::new(format!("invalid auth payload: {error}")))
}

/// What a handler may return: `()` or `Result<(), E>` with an error `?` can convert.
#[diagnostic::on_unimplemented(
    message = "a handler or hook must return `()` or `Result<(), E>` with `E` convertible into `sio::Error`",
    label = "this return type is not supported",
    note = "return `sio::Result<()>` and use `?` on any error"
)]
pub trait HandlerOutput {
    /// The outcome as the runtime logs it.
    fn into_handler_result(self) -> Result<(), HandlerError>;
}

impl HandlerOutput for () {
    fn into_handler_result(self) -> Result<(), HandlerError> {
        Ok(())
    }
}

impl<E: Into<Error>> HandlerOutput for Result<(), E> {
    fn into_handler_result(self) -> Result<(), HandlerError> {
        self.map_err(Into::into)
    }
}

/// What `connect` may return: `()` to accept every client, or `Result<(), E>` with an error
/// that converts into a [`ConnectError`] to refuse some.
#[diagnostic::on_unimplemented(
    message = "`connect` and `#[middleware]` must return `()` or `Result<(), E>` with `E` convertible into `ConnectError`",
    label = "this return type is not supported",
    note = "return `Result<(), ConnectError>` and refuse a client with `Err(ConnectError::new(\"...\"))`"
)]
pub trait ConnectOutput {
    /// The outcome as the runtime answers the client.
    fn into_connect_result(self) -> Result<(), ConnectError>;
}

impl ConnectOutput for () {
    fn into_connect_result(self) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl<E: Into<ConnectError>> ConnectOutput for Result<(), E> {
    fn into_connect_result(self) -> Result<(), ConnectError> {
        self.map_err(Into::into)
    }
}

/// An `#[on_any]` hook finished; a failure is logged, and the event goes on to the handlers.
pub fn hook_done(socket: &Socket, event: &IncomingEvent, outcome: Result<(), HandlerError>) {
    if let Err(error) = outcome {
        warn!(socket = %socket.id(), event = event.name(), %error, "`#[on_any]` hook failed");
    }
}

/// An `#[event_middleware]` refused `event`: it reaches no handler and, unless the middleware
/// answered it, gets no ack (the client's retries apply). Nothing is sent to the client, as with
/// the reference server.
pub fn event_refused(
    socket: &Socket,
    event: &IncomingEvent,
    refusal: HandlerError,
) -> Result<(), HandlerError> {
    debug!(socket = %socket.id(), event = event.name(), %refusal, "event refused by middleware");
    Ok(())
}

/// What an `#[on_any_outgoing]` hook may return: nothing, since it runs inside whatever emits
/// and nobody could take an error.
#[diagnostic::on_unimplemented(
    message = "an `#[on_any_outgoing]` hook must return `()`",
    label = "this return type is not supported",
    note = "log or count a failure inside the hook: it runs inside whatever emits"
)]
pub trait OutgoingHookOutput {}

impl OutgoingHookOutput for () {}

/// An `#[on_any_outgoing]` hook returned.
pub fn outgoing_done<T: OutgoingHookOutput>(_returned: T) {}

/// Requires a handler's future to be `Send`: handlers run on a multi-threaded runtime, so a
/// value that is not `Send` (an `Rc`, a `RefCell` borrow, a `MutexGuard`) must not live across
/// an `.await` in a handler.
pub fn assert_send<F: Future + Send>(future: F) -> F {
    future
}
