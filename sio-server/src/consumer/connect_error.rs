//! A refused connection, as the client sees it.

use serde::Serialize;
use sio_core::RawJson;

use crate::socket::EmitError;

/// A refused connection: the client receives `CONNECT_ERROR` with this message and data.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// What the client sees as `err.message`.
    pub message: String,
    /// What the client sees as `err.data`, if anything.
    pub data: Option<serde_json::Value>,
}

impl ConnectError {
    /// A refusal with a message.
    pub fn new(message: impl Into<String>) -> Self {
        ConnectError {
            message: message.into(),
            data: None,
        }
    }

    /// Adds data for the client (`err.data`).
    pub fn with_data(mut self, data: impl Serialize) -> Self {
        self.data = serde_json::to_value(data).ok();
        self
    }

    pub(crate) fn payload(&self) -> RawJson {
        #[derive(Serialize)]
        struct Payload<'a> {
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            data: Option<&'a serde_json::Value>,
        }
        RawJson::from_value(&Payload {
            message: &self.message,
            data: self.data.as_ref(),
        })
        .unwrap_or_else(|_| RawJson::null())
    }
}

impl std::fmt::Display for ConnectError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConnectError {}

/// `?` on an emit inside `connect` refuses the client with the emit's error.
impl From<EmitError> for ConnectError {
    fn from(error: EmitError) -> Self {
        ConnectError::new(error.to_string())
    }
}
