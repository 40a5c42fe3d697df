//! Checks: every mistake is reported at once, each on the user's own token, saying the fix.

use std::collections::HashMap;

use proc_macro2::Span;

use crate::ast::{Kind, Method, Model, Param, Role};

fn error(span: Span, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, message)
}

pub(crate) fn check(model: &Model, errors: &mut Vec<syn::Error>) {
    if model.kind == Kind::ServerEvents {
        check_server_events(model, errors);
        return;
    }
    match &model.args.namespace {
        None if model.args.namespace_written => {} // reported where it was written
        None => errors.push(error(
            Span::call_site(),
            "missing namespace: write `#[consumer(namespace = \"/chat\")]`",
        )),
        Some(namespace) => {
            // A namespace, or a pattern of namespaces (`/workspace/{id}`).
            let value = namespace.value();
            if let Err(problem) = sio_core::validate_namespace(&value) {
                errors.push(syn::Error::new_spanned(namespace, format!("{problem}")));
            } else if let Err(problem) = sio_core::NamespacePattern::parse(&value) {
                errors.push(syn::Error::new_spanned(namespace, format!("{problem}")));
            }
        }
    }

    let pattern = model
        .args
        .namespace
        .as_ref()
        .and_then(|namespace| sio_core::NamespacePattern::parse(&namespace.value()).ok());
    let mut names: HashMap<String, Span> = HashMap::new();
    let mut fallback: Option<Span> = None;
    for method in &model.methods {
        common(method, errors);
        path_params(method, pattern.as_ref(), errors);
        match &method.role {
            Role::Event(name, span) => {
                event_name(name, Kind::Consumer, *span, &mut names, errors);
                event_params(method, Kind::Consumer, errors);
            }
            Role::Fallback => fallback_once(method, Kind::Consumer, &mut fallback, errors),
            Role::Connect => expect_connect(
                method,
                "`connect` takes `(&mut self, socket: &Socket, auth: A)`, or no `auth`",
                errors,
            ),
            Role::Middleware => expect_connect(
                method,
                "`#[middleware]` takes `(&mut self, socket: &Socket, auth: A)`, or no `auth`",
                errors,
            ),
            Role::EventMiddleware => expect_params(
                method,
                &[Shape::Socket, Shape::Value],
                "`#[event_middleware]` takes `(&mut self, socket: &Socket, event: &mut IncomingEvent)`",
                errors,
            ),
            Role::OnAny => expect_params(
                method,
                &[Shape::Socket, Shape::Value],
                "`#[on_any]` takes `(&mut self, socket: &Socket, event: &IncomingEvent)`",
                errors,
            ),
            Role::OnAnyOutgoing => expect_params(
                method,
                &[Shape::Socket, Shape::Value],
                "`#[on_any_outgoing]` takes `(socket: &Socket, event: &OutgoingEvent)`",
                errors,
            ),
            Role::Disconnect => expect_params(
                method,
                &[Shape::Socket, Shape::Value],
                "`disconnect` takes `(&mut self, socket: &Socket, reason: DisconnectReason)`",
                errors,
            ),
            Role::Recover => expect_params(
                method,
                &[Shape::Socket, Shape::Value],
                "`recover` takes `(&mut self, socket: &Socket, kept: T)`, `T` what `socket.set_data` kept",
                errors,
            ),
            Role::Disconnecting => expect_params(
                method,
                &[Shape::Socket, Shape::Value],
                "`disconnecting` takes `(&mut self, socket: &Socket, reason: DisconnectReason)`",
                errors,
            ),
        }
    }
}

fn common(method: &Method, errors: &mut Vec<syn::Error>) {
    if let Some(span) = method.has_generics {
        errors.push(error(
            span,
            "a handler cannot be generic; use concrete argument types",
        ));
    }
    if matches!(method.role, Role::OnAnyOutgoing) {
        // It runs inside whatever emits, on any task, while the consumer may be busy.
        if method.is_async || method.takes_self {
            errors.push(error(
                method.ident.span(),
                format!(
                    "`{}` must be a plain `fn` without `self`: an outgoing hook runs inside \
                     whatever emits, on any task",
                    method.ident
                ),
            ));
        }
        return;
    }
    if !method.is_async {
        errors.push(error(
            method.ident.span(),
            format!("`{}` must be `async fn`", method.ident),
        ));
    }
    if method.receiver.is_none() {
        errors.push(error(
            method.ident.span(),
            format!("`{}` must take `&self` or `&mut self` first", method.ident),
        ));
    }
}

/// `#[param]` arguments: on the hooks that have a socket of a namespace being served, naming a
/// parameter of the consumer's pattern.
fn path_params(
    method: &Method,
    pattern: Option<&sio_core::NamespacePattern>,
    errors: &mut Vec<syn::Error>,
) {
    for param in &method.params {
        let Param::Path {
            name, name_span, ..
        } = &param.kind
        else {
            continue;
        };
        if !matches!(
            method.role,
            Role::Event(..) | Role::Connect | Role::Middleware
        ) {
            errors.push(error(
                param.span,
                "`#[param]` goes on arguments of `#[event]` handlers, `connect` and `#[middleware]`",
            ));
            continue;
        }
        // A namespace that does not parse is reported on its own.
        let Some(pattern) = pattern else {
            continue;
        };
        let known: Vec<&str> = pattern.param_names().collect();
        if known.is_empty() {
            errors.push(error(
                *name_span,
                format!(
                    "`#[param]` reads a parameter of the namespace's pattern, and `{pattern}` has none; \
                     declare one, such as `{pattern}/{{{name}}}`"
                ),
            ));
        } else if !known.contains(&name.as_str()) {
            let list = known
                .iter()
                .map(|known| format!("`{known}`"))
                .collect::<Vec<_>>()
                .join(", ");
            errors.push(error(
                *name_span,
                format!("`{name}` is not a parameter of `{pattern}`; it has {list}"),
            ));
        }
    }
}

#[derive(Clone, Copy)]
enum Shape {
    Socket,
    Server,
    Value,
}

fn expect_params(method: &Method, shapes: &[Shape], usage: &str, errors: &mut Vec<syn::Error>) {
    let fits = method.params.len() == shapes.len()
        && method.params.iter().zip(shapes).all(|(param, shape)| {
            matches!(
                (&param.kind, shape),
                (Param::Socket, Shape::Socket)
                    | (Param::Server, Shape::Server)
                    | (Param::Value(_), Shape::Value)
            )
        });
    if !fits {
        errors.push(error(
            method.ident.span(),
            format!("wrong signature: {usage}"),
        ));
    }
}

fn expect_connect(method: &Method, usage: &str, errors: &mut Vec<syn::Error>) {
    // What it returns is checked by the `ConnectOutput` trait the expansion calls, on the
    // type itself: an alias of `Result` is as good as `Result`.
    // `#[param]` arguments may come anywhere after the socket.
    let params: Vec<&Param> = method
        .params
        .iter()
        .map(|p| &p.kind)
        .filter(|kind| !matches!(kind, Param::Path { .. }))
        .collect();
    let socket_first = matches!(method.params.first(), Some(p) if matches!(p.kind, Param::Socket));
    let fits = socket_first
        && (matches!(params.as_slice(), [Param::Socket])
            || matches!(params.as_slice(), [Param::Socket, Param::Value(_)]));
    if !fits {
        errors.push(error(
            method.ident.span(),
            format!("wrong signature: {usage}"),
        ));
    }
}

fn event_params(method: &Method, kind: Kind, errors: &mut Vec<syn::Error>) {
    let (first, wrong, name) = match kind {
        Kind::Consumer => (Param::Socket, Param::Server, "socket: &Socket"),
        Kind::ServerEvents => (Param::Server, Param::Socket, "server: &Server"),
    };
    let same = |a: &Param, b: &Param| std::mem::discriminant(a) == std::mem::discriminant(b);
    let mut wrong_taken = false;
    for param in &method.params {
        if same(&param.kind, &wrong) {
            wrong_taken = true;
            errors.push(error(
                param.span,
                match kind {
                    Kind::Consumer => {
                        "an event handler takes `socket: &Socket`; reach the server with `socket.server()`"
                    }
                    Kind::ServerEvents => {
                        "a server event comes from another process, not a socket: take `server: &Server`"
                    }
                },
            ));
        }
    }
    let first_at = method.params.iter().position(|p| same(&p.kind, &first));
    let short = name.split(": ").nth(1).unwrap_or(name);
    match (first_at, method.params.first()) {
        (Some(0), _) => {}
        // The one it took instead is reported.
        (None, _) if wrong_taken => {}
        (Some(index), _) => errors.push(error(
            method.params[index].span,
            format!("`{short}` comes first, right after `self`"),
        )),
        (None, Some(first)) => errors.push(error(
            first.span,
            format!("missing `{name}`: it comes first, right after `self`"),
        )),
        (None, None) => errors.push(error(
            method.ident.span(),
            format!("missing `{name}` after `self`"),
        )),
    }
    let acks: Vec<usize> = method
        .params
        .iter()
        .enumerate()
        .filter(|(_, p)| matches!(p.kind, Param::Ack(_)))
        .map(|(index, _)| index)
        .collect();
    match acks.as_slice() {
        [] => {}
        [only] if *only + 1 == method.params.len() => {}
        [only] => errors.push(error(
            method.params[*only].span,
            "the `Ack` parameter must come last",
        )),
        [_, extra @ ..] => {
            for index in extra {
                errors.push(error(
                    method.params[*index].span,
                    "a handler takes one `Ack` at most",
                ));
            }
        }
    }
}

/// `#[server_events]`: a namespace as it is (`/` unless written), `#[event]` handlers that take
/// `&Server` where a consumer's take `&Socket`, and one `#[fallback]` at most.
fn check_server_events(model: &Model, errors: &mut Vec<syn::Error>) {
    if let Some(namespace) = &model.args.namespace {
        let value = namespace.value();
        if let Err(problem) = sio_core::validate_namespace(&value) {
            errors.push(syn::Error::new_spanned(namespace, format!("{problem}")));
        } else if sio_core::NamespacePattern::parse(&value).is_ok_and(|p| p.is_dynamic()) {
            errors.push(syn::Error::new_spanned(
                namespace,
                "server-side events go to a namespace as it is, not a pattern; name one, such as `\"/\"`",
            ));
        }
    }
    let mut names: HashMap<String, Span> = HashMap::new();
    let mut fallback: Option<Span> = None;
    for method in &model.methods {
        common(method, errors);
        for param in &method.params {
            if matches!(param.kind, Param::Path { .. }) {
                errors.push(error(
                    param.span,
                    "`#[param]` reads a parameter of a consumer's namespace pattern; server events have none",
                ));
            }
        }
        match &method.role {
            Role::Event(name, span) => {
                event_name(name, Kind::ServerEvents, *span, &mut names, errors);
                event_params(method, Kind::ServerEvents, errors);
            }
            Role::Fallback => fallback_once(method, Kind::ServerEvents, &mut fallback, errors),
            // Only `#[event]` and `#[fallback]` give a role in `#[server_events]`.
            _ => {}
        }
    }
}

/// An event name: valid, not reserved (for a socket's events, or a namespace's between
/// processes), and handled once.
fn event_name(
    name: &str,
    kind: Kind,
    span: Span,
    names: &mut HashMap<String, Span>,
    errors: &mut Vec<syn::Error>,
) {
    let valid = match kind {
        Kind::Consumer => sio_core::validate_event_name(name),
        Kind::ServerEvents => sio_core::validate_server_event_name(name),
    };
    if let Err(problem) = valid {
        errors.push(error(span, problem));
    }
    if names.insert(name.to_owned(), span).is_some() {
        errors.push(error(
            span,
            format!("duplicate event name `{name}`; each event has one handler"),
        ));
    }
}

/// A `#[fallback]`: one at most, taking the socket (or the server) and the event.
fn fallback_once(
    method: &Method,
    kind: Kind,
    fallback: &mut Option<Span>,
    errors: &mut Vec<syn::Error>,
) {
    if fallback.replace(method.ident.span()).is_some() {
        let message = match kind {
            Kind::Consumer => "a consumer has one `#[fallback]` at most",
            Kind::ServerEvents => "`#[server_events]` has one `#[fallback]` at most",
        };
        errors.push(error(method.ident.span(), message));
    }
    let (first, usage) = match kind {
        Kind::Consumer => (
            Shape::Socket,
            "a fallback takes `(&mut self, socket: &Socket, event: IncomingEvent)`",
        ),
        Kind::ServerEvents => (
            Shape::Server,
            "a fallback takes `(&mut self, server: &Server, event: ServerEvent)`",
        ),
    };
    expect_params(method, &[first, Shape::Value], usage, errors);
}
