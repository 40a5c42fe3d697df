//! Expansion: the user's impl block as written (markers removed), plus one impl of the runtime
//! `Consumer` trait. Everything else is generic code in `sio-server`.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::ast::{Kind, Method, Model, Param, Role};
use crate::check::check;

/// `#[consumer]` or `#[server_events]`, as `kind` says.
pub(crate) fn expand(kind: Kind, args: TokenStream, input: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    let Some(model) = Model::parse(kind, args, input.clone(), &mut errors) else {
        return with_errors(input, errors);
    };
    check(&model, &mut errors);
    if !errors.is_empty() {
        // The impl block still compiles on its own, so the IDE keeps working and one mistake
        // does not cascade into others.
        let item = &model.item;
        return with_errors(quote!(#item), errors);
    }
    match kind {
        Kind::Consumer => generate(&model),
        Kind::ServerEvents => generate_server_events(&model),
    }
}

fn with_errors(item: TokenStream, errors: Vec<syn::Error>) -> TokenStream {
    let errors = errors.into_iter().map(|error| error.to_compile_error());
    quote! {
        #item
        #(#errors)*
    }
}

fn generate(model: &Model) -> TokenStream {
    let item = &model.item;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let namespace = model
        .args
        .namespace
        .as_ref()
        .map(syn::LitStr::value)
        .unwrap_or_default();

    let connect = connect_fn(model);
    let recover = model
        .methods
        .iter()
        .find(|m| matches!(m.role, Role::Recover))
        .map(recover_fn);
    let outgoing = outgoing_fn(model);
    let disconnect = model
        .methods
        .iter()
        .find(|m| matches!(m.role, Role::Disconnect))
        .map(|method| leave_fn(method, quote!(disconnect)));
    let disconnecting = model
        .methods
        .iter()
        .find(|m| matches!(m.role, Role::Disconnecting))
        .map(|method| leave_fn(method, quote!(disconnecting)));

    let route = dispatch(model, Kind::Consumer);

    let hooks = with_role(model, |role| matches!(role, Role::OnAny)).map(on_any_call);
    let filters =
        with_role(model, |role| matches!(role, Role::EventMiddleware)).map(event_middleware_call);

    quote! {
        #item

        #[automatically_derived]
        impl #impl_generics ::sio::__private::Consumer for #self_ty #where_clause {
            const NAMESPACE: &'static str = #namespace;

            #connect
            #recover
            #disconnecting
            #disconnect
            #outgoing

            #[allow(unused_mut, clippy::match_single_binding)]
            fn on_event(
                &mut self,
                socket: &::sio::__private::Socket,
                event: ::sio::__private::IncomingEvent,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<(), ::sio::__private::HandlerError>,
            > + ::core::marker::Send {
                async move {
                    let mut event = event;
                    #(#hooks)*
                    #(#filters)*
                    #route
                }
            }
        }
    }
}

/// How `on_event` reaches its handler: the event's name picks one, which is called; the
/// fallback (or `Ok(())` without one) takes the rest.
fn dispatch(model: &Model, kind: Kind) -> TokenStream {
    let mut names = Vec::new();
    let mut arms = Vec::new();
    for (index, method) in model.methods.iter().enumerate() {
        if let Role::Event(name, _) = &method.role {
            names.push(quote!(#name => #index,));
            let call = handler_call(method, kind);
            arms.push(quote!(#index => #call,));
        }
    }
    let first = match kind {
        Kind::Consumer => quote!(socket),
        Kind::ServerEvents => quote!(server),
    };
    let fallback = match with_role(model, |role| matches!(role, Role::Fallback)).next() {
        Some(method) => {
            let ident = &method.ident;
            let call = quote_spanned!(ident.span()=>
                ::sio::__private::assert_send(Self::#ident(self, #first, event))
            );
            let (output, value) = handler_output(method);
            quote!({
                let #value = #call.await;
                #output(#value)
            })
        }
        None => quote!(::core::result::Result::Ok(())),
    };
    quote! {
        let handler: usize = match event.name() {
            #(#names)*
            _ => usize::MAX,
        };
        match handler {
            #(#arms)*
            _ => #fallback,
        }
    }
}

/// The call of one event handler, of a consumer's or of server events (which take `server`
/// where a consumer's take `socket`): its arguments decoded, its ack taken, its result
/// converted.
fn handler_call(method: &Method, kind: Kind) -> TokenStream {
    let (first, arg, ack) = match kind {
        Kind::Consumer => (quote!(socket), quote!(event_arg), quote!(take_ack)),
        Kind::ServerEvents => (
            quote!(server),
            quote!(server_event_arg),
            quote!(take_server_ack),
        ),
    };
    let ident = &method.ident;
    let mut decodes = Vec::new();
    let mut values = Vec::new();
    let mut arg_index = 0usize;
    for (position, param) in method.params.iter().enumerate().skip(1) {
        let var = format_ident!("__sio_arg{}", position);
        match &param.kind {
            Param::Value(ty) => {
                decodes.push(quote_spanned!(ty.span()=>
                    let #var = ::sio::__private::#arg::<#ty>(&event, #arg_index)?;
                ));
                arg_index += 1;
            }
            Param::Ack(reply) => {
                decodes.push(quote_spanned!(reply.span()=>
                    let #var = ::sio::__private::#ack::<#reply>(&mut event);
                ));
            }
            Param::Path { name, ty, .. } => {
                decodes.push(quote_spanned!(ty.span()=>
                    let #var = ::sio::__private::path_param::<#ty>(socket, #name)?;
                ));
            }
            // Refused by the checks after the first place.
            Param::Socket | Param::Server => {}
        }
        values.push(var);
    }
    let call = quote_spanned!(ident.span()=>
        ::sio::__private::assert_send(Self::#ident(self, #first, #(#values),*))
    );
    let (output, value) = handler_output(method);
    quote!({
        #(#decodes)*
        let #value = #call.await;
        #output(#value)
    })
}

/// The function that turns what a handler returned into the runtime's result, and the name of
/// the returned value, both spanned on the handler's return type so that an unsupported one is
/// reported there.
fn handler_output(method: &Method) -> (TokenStream, TokenStream) {
    let span = return_span(method);
    (
        quote_spanned!(span=> ::sio::__private::HandlerOutput::into_handler_result),
        returned_value(span),
    )
}

/// The name of a handler's returned value: located on its return type, for errors, but resolved
/// at the macro's own site, so no name of the user's can capture it.
fn returned_value(span: proc_macro2::Span) -> TokenStream {
    let name = syn::Ident::new(
        "__sio_returned",
        proc_macro2::Span::mixed_site().located_at(span),
    );
    quote!(#name)
}

fn return_span(method: &Method) -> proc_macro2::Span {
    match &method.output {
        syn::ReturnType::Type(_, ty) => ty.span(),
        syn::ReturnType::Default => method.ident.span(),
    }
}

/// The methods with a role `role` selects, in declaration order.
fn with_role(model: &Model, role: impl Fn(&Role) -> bool) -> impl Iterator<Item = &Method> {
    model.methods.iter().filter(move |m| role(&m.role))
}

/// `#[on_any]`: sees the event; a failure is logged and the event goes on.
fn on_any_call(method: &Method) -> TokenStream {
    let ident = &method.ident;
    let call = quote_spanned!(ident.span()=>
        ::sio::__private::assert_send(Self::#ident(self, socket, &event))
    );
    let (output, value) = handler_output(method);
    quote!({
        let #value = #call.await;
        ::sio::__private::hook_done(socket, &event, #output(#value));
    })
}

/// `#[event_middleware]`: may take the ack or drop the event, which then reaches no handler.
fn event_middleware_call(method: &Method) -> TokenStream {
    let ident = &method.ident;
    let call = quote_spanned!(ident.span()=>
        ::sio::__private::assert_send(Self::#ident(self, socket, &mut event))
    );
    let (output, value) = handler_output(method);
    quote!({
        let #value = #call.await;
        if let ::core::result::Result::Err(refusal) = #output(#value) {
            return ::sio::__private::event_refused(socket, &event, refusal);
        }
    })
}

/// One step of the connect chain (a `#[middleware]` or `connect` itself): its auth decoded from
/// a copy of the CONNECT payload, its refusal returned.
fn connect_step(method: &Method) -> TokenStream {
    let ident = &method.ident;
    let span = return_span(method);
    let output = quote_spanned!(span=> ::sio::__private::ConnectOutput::into_connect_result);
    let value = returned_value(span);
    // After the socket: the auth, decoded from a copy of the payload, and `#[param]` values,
    // in the order written; a value that does not decode refuses the client.
    let mut decodes = Vec::new();
    let mut values = Vec::new();
    for (position, param) in method.params.iter().enumerate().skip(1) {
        let var = format_ident!("__sio_arg{}", position);
        match &param.kind {
            Param::Value(auth_ty) => decodes.push(quote_spanned!(auth_ty.span()=>
                let #var = ::sio::__private::decode_auth::<#auth_ty>(
                    ::core::clone::Clone::clone(&auth),
                )?;
            )),
            Param::Path { name, ty, .. } => decodes.push(quote_spanned!(ty.span()=>
                let #var = ::sio::__private::connect_param::<#ty>(socket, #name)?;
            )),
            // Refused by the checks.
            Param::Socket | Param::Server | Param::Ack(_) => {}
        }
        values.push(var);
    }
    let invoke = quote_spanned!(ident.span()=>
        ::sio::__private::assert_send(Self::#ident(self, socket, #(#values),*))
    );
    let call = quote!(
        #(#decodes)*
        let #value = #invoke.await;
    );
    quote!({
        #call
        #output(#value)?;
    })
}

/// `connect`: the `#[middleware]` methods in order, then the user's `connect`; none of it if
/// there is neither (the trait's default accepts everyone).
fn connect_fn(model: &Model) -> Option<TokenStream> {
    let middleware: Vec<TokenStream> = with_role(model, |role| matches!(role, Role::Middleware))
        .map(connect_step)
        .collect();
    let connect: Vec<TokenStream> = with_role(model, |role| matches!(role, Role::Connect))
        .map(connect_step)
        .collect();
    if middleware.is_empty() && connect.is_empty() {
        return None;
    }
    // A client restored by connection state recovery skips the middleware, unless told not to.
    let middleware = (!middleware.is_empty()).then(|| {
        quote! {
            if !::sio::__private::skips_middleware(socket) {
                #(#middleware)*
            }
        }
    });
    let steps = quote! {
        #middleware
        #(#connect)*
    };
    Some(quote! {
        fn connect(
            &mut self,
            socket: &::sio::__private::Socket,
            auth: ::core::option::Option<::sio::__private::RawJson>,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<(), ::sio::__private::ConnectError>,
        > + ::core::marker::Send {
            async move {
                #steps
                let _ = auth;
                ::core::result::Result::Ok(())
            }
        }
    })
}

/// `outgoing_hook`: the `#[on_any_outgoing]` functions in order, as one function pointer.
fn outgoing_fn(model: &Model) -> Option<TokenStream> {
    let calls: Vec<TokenStream> = with_role(model, |role| matches!(role, Role::OnAnyOutgoing))
        .map(|method| {
            let ident = &method.ident;
            // A hook returns nothing: there is nobody to hand an error to.
            let span = return_span(method);
            let call = quote_spanned!(ident.span()=> Self::#ident(socket, event));
            let value = returned_value(span);
            let done = quote_spanned!(span=> ::sio::__private::outgoing_done);
            quote!({
                let #value = #call;
                #done(#value);
            })
        })
        .collect();
    if calls.is_empty() {
        return None;
    }
    Some(quote! {
        fn outgoing_hook() -> ::core::option::Option<::sio::__private::OutgoingHook> {
            let hook: ::sio::__private::OutgoingHook = |socket, event| {
                #(#calls)*
            };
            ::core::option::Option::Some(hook)
        }
    })
}

/// `disconnecting` or `disconnect` (named by `hook`): the user's method of that name.
fn leave_fn(method: &Method, hook: TokenStream) -> TokenStream {
    let ident = &method.ident;
    let call = quote_spanned!(ident.span()=>
        ::sio::__private::assert_send(Self::#ident(self, socket, reason))
    );
    quote! {
        fn #hook(
            &mut self,
            socket: &::sio::__private::Socket,
            reason: ::sio::__private::DisconnectReason,
        ) -> impl ::core::future::Future<Output = ()> + ::core::marker::Send {
            async move { #call.await }
        }
    }
}

/// `#[server_events]`: the user's impl block, and one impl of the runtime `ServerEvents` trait
/// whose `on_event` matches event names to methods.
fn generate_server_events(model: &Model) -> TokenStream {
    let item = &model.item;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let namespace = model
        .args
        .namespace
        .as_ref()
        .map_or_else(|| "/".to_owned(), syn::LitStr::value);
    let route = dispatch(model, Kind::ServerEvents);
    quote! {
        #item

        #[automatically_derived]
        impl #impl_generics ::sio::__private::ServerEvents for #self_ty #where_clause {
            const NAMESPACE: &'static str = #namespace;

            #[allow(unused_mut, clippy::match_single_binding)]
            fn on_event(
                &mut self,
                server: &::sio::__private::Server,
                event: ::sio::__private::ServerEvent,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<(), ::sio::__private::HandlerError>,
            > + ::core::marker::Send {
                async move {
                    let mut event = event;
                    #route
                }
            }
        }
    }
}

/// `recover`: the kept data decoded into the user's type, then the user's `recover`.
fn recover_fn(method: &Method) -> TokenStream {
    let ident = &method.ident;
    let data_ty = method.params.iter().find_map(|param| match &param.kind {
        Param::Value(ty) => Some(ty.clone()),
        _ => None,
    });
    let decode = data_ty.map(|ty| {
        quote_spanned!(ty.span()=>
            let data = ::sio::__private::decode_data::<#ty>(data)?;
        )
    });
    let call = quote_spanned!(ident.span()=>
        ::sio::__private::assert_send(Self::#ident(self, socket, data))
    );
    let (output, value) = handler_output(method);
    quote! {
        fn recover(
            &mut self,
            socket: &::sio::__private::Socket,
            data: ::sio::__private::RawJson,
        ) -> impl ::core::future::Future<
            Output = ::core::result::Result<(), ::sio::__private::HandlerError>,
        > + ::core::marker::Send {
            async move {
                #decode
                let #value = #call.await;
                #output(#value)
            }
        }
    }
}
