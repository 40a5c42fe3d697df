//! Parsing: the `#[consumer]` arguments and the impl block, into a model that keeps the user's
//! tokens for spans.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprLit, FnArg, ImplItem, ImplItemFn, ItemImpl, Lit, LitStr, Meta, Type,
    TypePath, TypeReference,
};

/// Which attribute the impl block carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `#[consumer]`: one namespace's clients.
    Consumer,
    /// `#[server_events]`: one namespace's events from other processes.
    ServerEvents,
}

impl Kind {
    /// The attribute as written, for messages.
    pub(crate) fn attribute(self) -> &'static str {
        match self {
            Kind::Consumer => "#[consumer]",
            Kind::ServerEvents => "#[server_events]",
        }
    }
}

/// What `#[consumer(...)]` or `#[server_events(...)]` says.
pub(crate) struct Args {
    pub(crate) namespace: Option<LitStr>,
    /// Whether a `namespace` key was written, valid or not (a wrong one is reported once).
    pub(crate) namespace_written: bool,
}

impl Args {
    /// Parses `namespace = "/..."`; an unknown or repeated key, or a namespace that is not a
    /// string literal, is an error on its own token, and parsing goes on to report the rest.
    pub(crate) fn parse(tokens: TokenStream, kind: Kind, errors: &mut Vec<syn::Error>) -> Args {
        let mut namespace: Option<LitStr> = None;
        let mut namespace_written = false;
        let parser = syn::meta::parser(|meta| {
            if !meta.path.is_ident("namespace") {
                errors.push(syn::Error::new_spanned(
                    &meta.path,
                    format!(
                        "unknown `{}` argument; expected `namespace = \"/...\"`",
                        kind.attribute()
                    ),
                ));
                return skip_value(meta.input);
            }
            let value: Expr = meta.value()?.parse()?;
            if std::mem::replace(&mut namespace_written, true) {
                errors.push(syn::Error::new_spanned(
                    &meta.path,
                    match kind {
                        Kind::Consumer => "duplicate `namespace`: a consumer serves one namespace",
                        Kind::ServerEvents => {
                            "duplicate `namespace`: server events belong to one namespace"
                        }
                    },
                ));
                return Ok(());
            }
            match value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(literal),
                    ..
                }) => namespace = Some(literal),
                other => errors.push(syn::Error::new_spanned(
                    other,
                    "the namespace must be a string literal, such as `\"/chat\"`",
                )),
            }
            Ok(())
        });
        if let Err(error) = parser.parse2(tokens) {
            errors.push(error);
        }
        Args {
            namespace,
            namespace_written,
        }
    }
}

/// Skips the value of an argument, whatever its form, up to the next `,`.
fn skip_value(input: syn::parse::ParseStream<'_>) -> syn::Result<()> {
    while !input.is_empty() && !input.peek(syn::Token![,]) {
        input.parse::<proc_macro2::TokenTree>()?;
    }
    Ok(())
}

/// The kind of one parameter after the receiver.
pub(crate) enum Param {
    /// `&Socket`.
    Socket,
    /// `&Server`, which server-event handlers take instead of a socket.
    Server,
    /// `Ack<T>`, holding `T`.
    Ack(Type),
    /// `#[param] id: T` or `#[param("id")] name: T`: parameter `id` of the namespace's pattern.
    Path {
        name: String,
        /// Where the name was written: the attribute's string, or the argument's name.
        name_span: Span,
        ty: Type,
    },
    /// Anything else: an event argument, or `connect`'s auth, or `disconnect`'s reason.
    Value(Type),
}

pub(crate) struct Parameter {
    pub(crate) kind: Param,
    pub(crate) span: Span,
}

/// One method of the impl block and what the markers make of it.
pub(crate) struct Method {
    pub(crate) ident: syn::Ident,
    pub(crate) role: Role,
    pub(crate) is_async: bool,
    pub(crate) has_generics: Option<Span>,
    /// `Some(mutable)` for `&self` / `&mut self`; `None` without a reference receiver.
    pub(crate) receiver: Option<bool>,
    /// Whether it takes `self` in any form.
    pub(crate) takes_self: bool,
    pub(crate) params: Vec<Parameter>,
    pub(crate) output: syn::ReturnType,
}

pub(crate) enum Role {
    Connect,
    /// `disconnecting`: runs before `disconnect`, while the socket's rooms are readable.
    Disconnecting,
    Disconnect,
    /// `recover`: rebuilds a restored socket's state from its kept data, before `connect`.
    Recover,
    /// `#[event]` or `#[event("name")]`: the event name and the token it came from.
    Event(String, Span),
    Fallback,
    /// `#[middleware]`: runs before `connect`, and may refuse the client.
    Middleware,
    /// `#[event_middleware]`: sees every event before its handler, and may drop it.
    EventMiddleware,
    /// `#[on_any]`: sees every incoming event, before the event middleware.
    OnAny,
    /// `#[on_any_outgoing]`: sees every outgoing event, on whichever task sends it.
    OnAnyOutgoing,
}

/// The role a marker that takes no argument gives.
fn plain_marker(name: &str) -> Option<Role> {
    match name {
        "fallback" => Some(Role::Fallback),
        "middleware" => Some(Role::Middleware),
        "event_middleware" => Some(Role::EventMiddleware),
        "on_any" => Some(Role::OnAny),
        "on_any_outgoing" => Some(Role::OnAnyOutgoing),
        _ => None,
    }
}

pub(crate) struct Model {
    pub(crate) kind: Kind,
    pub(crate) args: Args,
    pub(crate) item: ItemImpl,
    pub(crate) methods: Vec<Method>,
}

fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(TypePath { qself: None, path }) => path.segments.last(),
        _ => None,
    }
}

fn classify(ty: &Type) -> Param {
    if let Type::Reference(TypeReference { elem, .. }) = ty
        && let Some(segment) = last_segment(elem)
    {
        if segment.ident == "Socket" {
            return Param::Socket;
        }
        if segment.ident == "Server" {
            return Param::Server;
        }
    }
    if let Some(segment) = last_segment(ty)
        && segment.ident == "Ack"
        && let syn::PathArguments::AngleBracketed(args) = &segment.arguments
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return Param::Ack(inner.clone());
    }
    Param::Value(ty.clone())
}

/// Takes `#[param]` or `#[param("name")]` off an argument: the parameter's name and where it
/// was written, the argument's own name for the bare form.
fn take_param_marker(
    typed: &mut syn::PatType,
    errors: &mut Vec<syn::Error>,
) -> Option<(String, Span)> {
    let position = typed.attrs.iter().position(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "param")
    })?;
    let attr = typed.attrs.remove(position);
    let is_param = |attr: &Attribute| {
        attr.path()
            .segments
            .last()
            .is_some_and(|s| s.ident == "param")
    };
    for repeated in typed.attrs.iter().filter(|attr| is_param(attr)) {
        errors.push(syn::Error::new_spanned(
            repeated,
            "duplicate `#[param]`: an argument reads one parameter",
        ));
    }
    typed.attrs.retain(|attr| !is_param(attr));
    let usage = "expected `#[param]` or `#[param(\"name\")]`";
    match &attr.meta {
        Meta::Path(_) => match &*typed.pat {
            syn::Pat::Ident(binding) => Some((binding.ident.to_string(), binding.ident.span())),
            other => {
                errors.push(syn::Error::new_spanned(
                    other,
                    "name the parameter: `#[param(\"id\")]` for an argument that is not a plain name",
                ));
                None
            }
        },
        Meta::List(_) => match attr.parse_args::<LitStr>() {
            Ok(lit) => Some((lit.value(), lit.span())),
            Err(_) => {
                errors.push(syn::Error::new_spanned(&attr, usage));
                None
            }
        },
        Meta::NameValue(_) => {
            errors.push(syn::Error::new_spanned(&attr, usage));
            None
        }
    }
}

/// Takes the markers (`#[event]`, `#[event("name")]`, `#[fallback]`, the middleware and the
/// hooks) off a method, returning its role.
fn take_role(method: &mut ImplItemFn, kind: Kind, errors: &mut Vec<syn::Error>) -> Option<Role> {
    let mut role = None;
    let mut kept: Vec<Attribute> = Vec::new();
    for attr in method.attrs.drain(..) {
        // `#[event]` or `#[sio::event]`, whatever the path to it.
        let marker = attr.path().segments.last().map(|s| s.ident.to_string());
        if marker.as_deref() == Some("event") {
            let name = match &attr.meta {
                Meta::Path(_) => Some((method.sig.ident.to_string(), method.sig.ident.span())),
                Meta::List(_) => match attr.parse_args::<LitStr>() {
                    Ok(lit) => Some((lit.value(), lit.span())),
                    Err(_) => {
                        errors.push(syn::Error::new_spanned(
                            &attr,
                            "expected `#[event]` or `#[event(\"event_name\")]`",
                        ));
                        None
                    }
                },
                Meta::NameValue(_) => {
                    errors.push(syn::Error::new_spanned(
                        &attr,
                        "expected `#[event]` or `#[event(\"event_name\")]`",
                    ));
                    None
                }
            };
            if let Some((name, span)) = name {
                if role.is_some() {
                    errors.push(syn::Error::new_spanned(&attr, "a method has one role only"));
                }
                role = Some(Role::Event(name, span));
            }
        } else if let Some(plain) = marker.as_deref().and_then(plain_marker) {
            if kind == Kind::ServerEvents && !matches!(plain, Role::Fallback) {
                errors.push(syn::Error::new_spanned(
                    &attr,
                    "`#[server_events]` takes `#[event]` handlers and one `#[fallback]` only",
                ));
                continue;
            }
            if !matches!(attr.meta, Meta::Path(_)) {
                errors.push(syn::Error::new_spanned(
                    &attr,
                    format!("`#[{}]` takes no arguments", marker.unwrap_or_default()),
                ));
            }
            if role.is_some() {
                errors.push(syn::Error::new_spanned(&attr, "a method has one role only"));
            }
            role = Some(plain);
        } else {
            kept.push(attr);
        }
    }
    method.attrs = kept;
    // Server events have no connection: `connect` and the rest are plain methods there.
    if role.is_none() && kind == Kind::Consumer {
        if method.sig.ident == "connect" {
            role = Some(Role::Connect);
        } else if method.sig.ident == "disconnect" {
            role = Some(Role::Disconnect);
        } else if method.sig.ident == "disconnecting" {
            role = Some(Role::Disconnecting);
        } else if method.sig.ident == "recover" {
            role = Some(Role::Recover);
        }
    }
    role
}

impl Model {
    pub(crate) fn parse(
        kind: Kind,
        args: TokenStream,
        input: TokenStream,
        errors: &mut Vec<syn::Error>,
    ) -> Option<Model> {
        let args = Args::parse(args, kind, errors);
        let mut item: ItemImpl = match syn::parse2(input.clone()) {
            Ok(item) => item,
            Err(_) => {
                errors.push(syn::Error::new_spanned(
                    input,
                    match kind {
                        Kind::Consumer => {
                            "`#[consumer]` goes on an impl block: `#[consumer(namespace = \"/chat\")] impl Chat { ... }`"
                        }
                        Kind::ServerEvents => {
                            "`#[server_events]` goes on an impl block: `#[server_events] impl Cluster { ... }`"
                        }
                    },
                ));
                return None;
            }
        };
        let mut methods = Vec::new();
        for impl_item in &mut item.items {
            let ImplItem::Fn(method) = impl_item else {
                continue;
            };
            let Some(role) = take_role(method, kind, errors) else {
                // A method that is no handler has no namespace to read a `#[param]` from.
                for input in &mut method.sig.inputs {
                    if let FnArg::Typed(typed) = input
                        && take_param_marker(typed, errors).is_some()
                    {
                        errors.push(syn::Error::new_spanned(
                            &*typed,
                            "`#[param]` goes on arguments of `#[event]` handlers, `connect` and `#[middleware]`",
                        ));
                    }
                }
                continue;
            };
            let mut receiver = None;
            let mut takes_self = false;
            let mut params = Vec::new();
            for input in &mut method.sig.inputs {
                match input {
                    FnArg::Receiver(r) => {
                        takes_self = true;
                        receiver = r.reference.as_ref().map(|_| r.mutability.is_some());
                    }
                    FnArg::Typed(typed) => {
                        let kind = match take_param_marker(typed, errors) {
                            Some((name, name_span)) => Param::Path {
                                name,
                                name_span,
                                ty: (*typed.ty).clone(),
                            },
                            None => classify(&typed.ty),
                        };
                        params.push(Parameter {
                            kind,
                            span: typed.span(),
                        });
                    }
                }
            }
            let sig = &method.sig;
            methods.push(Method {
                ident: sig.ident.clone(),
                role,
                is_async: sig.asyncness.is_some(),
                has_generics: (!sig.generics.params.is_empty()).then(|| sig.generics.span()),
                receiver,
                takes_self,
                params,
                output: sig.output.clone(),
            });
        }
        Some(Model {
            kind,
            args,
            item,
            methods,
        })
    }
}
