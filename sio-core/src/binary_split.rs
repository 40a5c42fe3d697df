//! Binary attachments on the way out: a serde serializer that writes every byte buffer as a
//! `{"_placeholder":true,"num":N}` object and collects the buffer, N in order of appearance.
//!
//! It wraps the JSON serializer rather than building a tree first, so a payload is still
//! written to JSON in one pass, wherever its buffers are nested.

use std::cell::RefCell;

use bytes::Bytes;
use serde::ser::{
    Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant, SerializeTuple,
    SerializeTupleStruct, SerializeTupleVariant, Serializer,
};

/// Serializes `value` into `serializer`, replacing byte buffers with placeholders and pushing
/// them onto `buffers`.
pub(crate) fn serialize_splitting<S, T>(
    value: &T,
    serializer: S,
    buffers: &RefCell<Vec<Bytes>>,
) -> Result<S::Ok, S::Error>
where
    S: Serializer,
    T: Serialize + ?Sized,
{
    value.serialize(Splitter {
        inner: serializer,
        buffers,
    })
}

/// A serializer (or compound serializer) with buffer splitting around `inner`.
struct Splitter<'b, S> {
    inner: S,
    buffers: &'b RefCell<Vec<Bytes>>,
}

/// A value whose serialization goes through a [`Splitter`], for the nested calls of compounds.
struct Nested<'v, 'b, T: ?Sized> {
    value: &'v T,
    buffers: &'b RefCell<Vec<Bytes>>,
}

impl<T: Serialize + ?Sized> Serialize for Nested<'_, '_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_splitting(self.value, serializer, self.buffers)
    }
}

impl<'b, S> Splitter<'b, S> {
    fn nest<'v, T: ?Sized>(&self, value: &'v T) -> Nested<'v, 'b, T> {
        Nested {
            value,
            buffers: self.buffers,
        }
    }
}

/// Splits the buffers of a compound's elements into the same list.
fn splitter<C>(buffers: &RefCell<Vec<Bytes>>, inner: C) -> Splitter<'_, C> {
    Splitter { inner, buffers }
}

macro_rules! forward {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $method(self, $($arg: $ty),*) -> Result<S::Ok, S::Error> {
            self.inner.$method($($arg),*)
        })*
    };
}

impl<'b, S: Serializer> Serializer for Splitter<'b, S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = Splitter<'b, S::SerializeSeq>;
    type SerializeTuple = Splitter<'b, S::SerializeTuple>;
    type SerializeTupleStruct = Splitter<'b, S::SerializeTupleStruct>;
    type SerializeTupleVariant = Splitter<'b, S::SerializeTupleVariant>;
    type SerializeMap = Splitter<'b, S::SerializeMap>;
    type SerializeStruct = Splitter<'b, S::SerializeStruct>;
    type SerializeStructVariant = Splitter<'b, S::SerializeStructVariant>;

    forward! {
        serialize_bool(v: bool);
        serialize_i8(v: i8);
        serialize_i16(v: i16);
        serialize_i32(v: i32);
        serialize_i64(v: i64);
        serialize_i128(v: i128);
        serialize_u8(v: u8);
        serialize_u16(v: u16);
        serialize_u32(v: u32);
        serialize_u64(v: u64);
        serialize_u128(v: u128);
        serialize_f32(v: f32);
        serialize_f64(v: f64);
        serialize_char(v: char);
        serialize_str(v: &str);
        serialize_none();
        serialize_unit();
        serialize_unit_struct(name: &'static str);
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str);
    }

    fn serialize_bytes(self, v: &[u8]) -> Result<S::Ok, S::Error> {
        let num = {
            let mut buffers = self.buffers.borrow_mut();
            buffers.push(Bytes::copy_from_slice(v));
            buffers.len() - 1
        };
        let mut placeholder = self.inner.serialize_struct("Placeholder", 2)?;
        placeholder.serialize_field("_placeholder", &true)?;
        placeholder.serialize_field("num", &num)?;
        placeholder.end()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<S::Ok, S::Error> {
        let nested = self.nest(value);
        self.inner.serialize_some(&nested)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let nested = self.nest(value);
        self.inner.serialize_newtype_struct(name, &nested)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<S::Ok, S::Error> {
        let nested = self.nest(value);
        self.inner
            .serialize_newtype_variant(name, index, variant, &nested)
    }

    fn serialize_seq(self, len: Option<usize>) -> Result<Self::SerializeSeq, S::Error> {
        Ok(splitter(self.buffers, self.inner.serialize_seq(len)?))
    }

    fn serialize_tuple(self, len: usize) -> Result<Self::SerializeTuple, S::Error> {
        Ok(splitter(self.buffers, self.inner.serialize_tuple(len)?))
    }

    fn serialize_tuple_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleStruct, S::Error> {
        Ok(splitter(
            self.buffers,
            self.inner.serialize_tuple_struct(name, len)?,
        ))
    }

    fn serialize_tuple_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeTupleVariant, S::Error> {
        let buffers = self.buffers;
        let inner = self
            .inner
            .serialize_tuple_variant(name, index, variant, len)?;
        Ok(splitter(buffers, inner))
    }

    fn serialize_map(self, len: Option<usize>) -> Result<Self::SerializeMap, S::Error> {
        Ok(splitter(self.buffers, self.inner.serialize_map(len)?))
    }

    fn serialize_struct(
        self,
        name: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStruct, S::Error> {
        Ok(splitter(
            self.buffers,
            self.inner.serialize_struct(name, len)?,
        ))
    }

    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Self::SerializeStructVariant, S::Error> {
        let buffers = self.buffers;
        let inner = self
            .inner
            .serialize_struct_variant(name, index, variant, len)?;
        Ok(splitter(buffers, inner))
    }

    fn is_human_readable(&self) -> bool {
        self.inner.is_human_readable()
    }
}

macro_rules! compound {
    ($trait:ident, $method:ident) => {
        impl<C: $trait> $trait for Splitter<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
                let nested = self.nest(value);
                self.inner.$method(&nested)
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}

compound!(SerializeSeq, serialize_element);
compound!(SerializeTuple, serialize_element);
compound!(SerializeTupleStruct, serialize_field);
compound!(SerializeTupleVariant, serialize_field);

impl<C: SerializeMap> SerializeMap for Splitter<'_, C> {
    type Ok = C::Ok;
    type Error = C::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), C::Error> {
        let nested = self.nest(key);
        self.inner.serialize_key(&nested)
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), C::Error> {
        let nested = self.nest(value);
        self.inner.serialize_value(&nested)
    }

    fn end(self) -> Result<C::Ok, C::Error> {
        self.inner.end()
    }
}

macro_rules! fields {
    ($trait:ident) => {
        impl<C: $trait> $trait for Splitter<'_, C> {
            type Ok = C::Ok;
            type Error = C::Error;

            fn serialize_field<T: Serialize + ?Sized>(
                &mut self,
                key: &'static str,
                value: &T,
            ) -> Result<(), C::Error> {
                let nested = self.nest(value);
                self.inner.serialize_field(key, &nested)
            }

            fn skip_field(&mut self, key: &'static str) -> Result<(), C::Error> {
                self.inner.skip_field(key)
            }

            fn end(self) -> Result<C::Ok, C::Error> {
                self.inner.end()
            }
        }
    };
}

fields!(SerializeStruct);
fields!(SerializeStructVariant);
