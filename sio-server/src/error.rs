//! The error handlers return: any error, boxed, so `?` works on everything.

use std::fmt;

/// An error from a handler or an emit: any error, boxed. `?` converts every
/// `std::error::Error` into it; [`downcast_ref`](Error::downcast_ref) gets the original back.
///
/// Like `anyhow::Error`, it does not implement `std::error::Error` itself, which is what lets
/// every error convert into it.
///
/// ```
/// fn parse(text: &str) -> sio_server::Result<u32> {
///     Ok(text.parse::<u32>()?)
/// }
/// assert!(parse("x").unwrap_err().downcast_ref::<std::num::ParseIntError>().is_some());
/// ```
pub struct Error(Box<dyn std::error::Error + Send + Sync>);

/// `Result` with [`Error`] as its default error.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;

impl Error {
    /// An error with only a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Error(message.to_string().into())
    }

    /// The original error, if it is an `E`.
    pub fn downcast_ref<E: std::error::Error + 'static>(&self) -> Option<&E> {
        self.0.downcast_ref()
    }

    /// The boxed error.
    pub fn into_inner(self) -> Box<dyn std::error::Error + Send + Sync> {
        self.0
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(error: E) -> Self {
        Error(Box::new(error))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}
