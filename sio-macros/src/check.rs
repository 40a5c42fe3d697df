//! Checks: every mistake is reported at once, each on the user's own token, saying the fix.

use std::collections::HashMap;

use proc_macro2::Span;

use crate::ast::{Method, Model, Param, Role};

fn error(span: Span, message: impl std::fmt::Display) -> syn::Error {
    syn::Error::new(span, message)
}

pub(crate) fn check(model: &Model, errors: &mut Vec<syn::Error>) {
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
                if let Err(problem) = sio_core::validate_event_name(name) {
                    errors.push(error(*span, problem));
                }
                if names.insert(name.clone(), *span).is_some() {
                    errors.push(error(
                        *span,
                        format!("duplicate event name `{name}`; each event has one handler"),
                    ));
                }
                event_params(method, errors);
            }
            Role::Fallback => {
                if fallback.replace(method.ident.span()).is_some() {
                    errors.push(error(
                        method.ident.span(),
                        "a consumer has one `#[fallback]` at most",
                    ));
                }
                expect_params(
                    method,
                    &[Shape::Socket, Shape::Value],
                    "a fallback takes `(&mut self, socket: &Socket, event: IncomingEvent)`",
                    errors,
                );
            }
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
    Value,
}

fn expect_params(method: &Method, shapes: &[Shape], usage: &str, errors: &mut Vec<syn::Error>) {
    let fits = method.params.len() == shapes.len()
        && method.params.iter().zip(shapes).all(|(param, shape)| {
            matches!(
                (&param.kind, shape),
                (Param::Socket, Shape::Socket) | (Param::Value(_), Shape::Value)
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

fn event_params(method: &Method, errors: &mut Vec<syn::Error>) {
    let socket_at = method
        .params
        .iter()
        .position(|p| matches!(p.kind, Param::Socket));
    match (socket_at, method.params.first()) {
        (Some(0), _) => {}
        (Some(index), _) => errors.push(error(
            method.params[index].span,
            "`&Socket` comes first, right after `self`",
        )),
        (None, Some(first)) => errors.push(error(
            first.span,
            "missing `socket: &Socket`: it comes first, right after `self`",
        )),
        (None, None) => errors.push(error(
            method.ident.span(),
            "missing `socket: &Socket` after `self`",
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
