//! Arguments of events and acks, both ways: what can be sent ([`EmitArgs`], [`Args`]), what
//! passes received arguments on ([`Received`]), and how a received argument becomes a handler's
//! type.

mod decode;
mod received;

use serde::Serialize;
use sio_core::{EncodeError, PacketEncoder};

pub(crate) use decode::decode_arg;
pub use received::Received;

/// What can be sent as the arguments of an event or an ack.
///
/// The rule: **any `Serialize` value is one argument**, whatever its shape (a struct, a `Vec`,
/// an array, a tuple); **several arguments** are written `Args((a, b, c))`, and **none** is
/// `Args(())`. A `bytes::Bytes` anywhere inside becomes a binary attachment.
///
/// ```
/// use sio_server::Args;
/// # fn emit(_: impl sio_server::EmitArgs) {}
/// emit("one");                     // ["event","one"]
/// emit(vec![1, 2, 3]);             // ["event",[1,2,3]]: one argument
/// emit(Args(("two", 2)));          // ["event","two",2]
/// emit(Args(()));                  // ["event"]
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as event arguments",
    label = "not `Serialize`, nor `Args((..))` of `Serialize` values",
    note = "send one value that implements `serde::Serialize`, or several as `Args((a, b))`"
)]
pub trait EmitArgs {
    /// Appends the arguments to a packet being encoded.
    fn write_args(&self, packet: &mut PacketEncoder) -> Result<(), EncodeError>;
}

impl<T: Serialize + ?Sized> EmitArgs for T {
    fn write_args(&self, packet: &mut PacketEncoder) -> Result<(), EncodeError> {
        packet.arg(self).map(drop)
    }
}

/// Several arguments: a tuple of `Serialize` values, or a `Vec` of them; none is `Args(())`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Args<T>(pub T);

macro_rules! tuple_args {
    ($($name:ident)*) => {
        impl<$($name: Serialize),*> EmitArgs for Args<($($name,)*)> {
            #[allow(non_snake_case, unused_variables)]
            fn write_args(&self, packet: &mut PacketEncoder) -> Result<(), EncodeError> {
                let ($($name,)*) = &self.0;
                $(packet.arg($name)?;)*
                Ok(())
            }
        }
    };
}

/// A list of arguments of one type, as many as it holds (to pass received arguments on).
impl<T: Serialize> EmitArgs for Args<Vec<T>> {
    fn write_args(&self, packet: &mut PacketEncoder) -> Result<(), EncodeError> {
        for arg in &self.0 {
            packet.arg(arg)?;
        }
        Ok(())
    }
}

tuple_args!();
tuple_args!(A);
tuple_args!(A B);
tuple_args!(A B C);
tuple_args!(A B C D);
tuple_args!(A B C D E);
tuple_args!(A B C D E F);
tuple_args!(A B C D E F G);
tuple_args!(A B C D E F G H);

/// [`EmitArgs`] behind a reference, so acks can be sent without knowing the reply type.
pub(crate) trait EmitArgsDyn {
    fn write_args_dyn(&self, packet: &mut PacketEncoder) -> Result<(), EncodeError>;
}

impl<T: EmitArgs + ?Sized> EmitArgsDyn for T {
    fn write_args_dyn(&self, packet: &mut PacketEncoder) -> Result<(), EncodeError> {
        self.write_args(packet)
    }
}
