//! Decoding one received argument into a handler's type: the one rule for events and acks.

use bytes::Bytes;
use serde::de::DeserializeOwned;
use sio_core::{
    ArgDecodeError, Args as RawArgs, ExpansionBudget, RawArg, RawJson, decode_with_attachments,
};

/// Argument `index` of `args` as a `T`: missing reads as `null`, and each binary placeholder
/// reads as its attachment; what attachments expand into sequences spends `budget` (see
/// [`decode_with_attachments`]).
pub(crate) fn decode_arg<T: DeserializeOwned + 'static>(
    args: &RawArgs,
    attachments: &[Bytes],
    budget: &ExpansionBudget,
    index: usize,
) -> Result<T, ArgDecodeError> {
    let raw = args
        .get(index)
        .unwrap_or_else(|| RawArg::from(RawJson::null()));
    decode_with_attachments(&raw, attachments, budget)
}
