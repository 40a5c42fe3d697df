//! Procedural macros of the `sio` framework: `#[consumer]` and its markers (`#[event]`,
//! `#[fallback]`, `#[middleware]`, `#[event_middleware]`, `#[on_any]`, `#[on_any_outgoing]`, and
//! `#[param]` on arguments, which `#[consumer]` reads and removes), and `#[server_events]`
//! (with `#[event]` and `#[fallback]`). Users depend on the `sio` facade, which re-exports
//! them; see its documentation.
//!
//! The expansion is small on purpose: the user's impl block as written (markers removed), and one
//! impl of the runtime `Consumer` (or `ServerEvents`) trait whose `on_event` matches event names
//! to methods. Decoding,
//! acks and errors are ordinary generic code in `sio-server`, reached through
//! `::sio::__private`.

use proc_macro::TokenStream;

mod ast;
mod check;
mod expand;

/// Turns an impl block into the consumer of a namespace.
///
/// See the `sio` crate for the full description and examples.
#[proc_macro_attribute]
pub fn consumer(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::expand(ast::Kind::Consumer, args.into(), input.into()).into()
}

/// Turns an impl block into the handler of the server-side events other processes send to a
/// namespace (`#[server_events]` for `/`, or `#[server_events(namespace = "/chat")]`).
///
/// See the `sio` crate for the full description and examples.
#[proc_macro_attribute]
pub fn server_events(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::expand(ast::Kind::ServerEvents, args.into(), input.into()).into()
}

/// Marks a method of a `#[consumer]` impl as the handler of an event (`#[event("name")]`, or
/// `#[event]` for the method's name). Only meaningful inside `#[consumer]`.
#[proc_macro_attribute]
pub fn event(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("event", input)
}

/// Marks a method of a `#[consumer]` impl as the handler of events no other method names. Only
/// meaningful inside `#[consumer]`.
#[proc_macro_attribute]
pub fn fallback(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("fallback", input)
}

/// Marks a method of a `#[consumer]` impl as connect middleware: it runs before `connect`, in
/// declaration order, and may refuse the client. Only meaningful inside `#[consumer]`.
#[proc_macro_attribute]
pub fn middleware(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("middleware", input)
}

/// Marks a method of a `#[consumer]` impl as event middleware: it sees every event before its
/// handler and may drop it. Only meaningful inside `#[consumer]`.
#[proc_macro_attribute]
pub fn event_middleware(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("event_middleware", input)
}

/// Marks a method of a `#[consumer]` impl as a hook that sees every incoming event. Only
/// meaningful inside `#[consumer]`.
#[proc_macro_attribute]
pub fn on_any(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("on_any", input)
}

/// Marks a function of a `#[consumer]` impl as a hook that sees every outgoing event. Only
/// meaningful inside `#[consumer]`.
#[proc_macro_attribute]
pub fn on_any_outgoing(_args: TokenStream, input: TokenStream) -> TokenStream {
    misplaced("on_any_outgoing", input)
}

/// A marker reached on its own: the `#[consumer]` around it is missing.
fn misplaced(name: &str, input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    let message = match name {
        "event" | "fallback" => format!(
            "`#[{name}]` only works on a method of a `#[consumer]` or `#[server_events]` impl block"
        ),
        _ => format!("`#[{name}]` only works on a method of a `#[consumer]` impl block"),
    };
    quote::quote! {
        ::core::compile_error!(#message);
        #input
    }
    .into()
}
