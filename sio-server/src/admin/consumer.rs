//! The admin namespace: who may join it, what it is told on arrival, and the actions it may ask
//! for.

use std::sync::Arc;

use serde_json::{Value, json};
use sio_core::RawJson;
use tracing::debug;

use super::Admin;
use super::auth::{self, AdminAuth};
use super::serialize::socket_entry;
use crate::args::Args;
use crate::consumer::{ConnectError, Consumer, HandlerError};
use crate::event::IncomingEvent;
use crate::socket::Socket;

/// The consumer of the admin namespace, one per admin socket.
pub(crate) struct AdminConsumer {
    pub(crate) admin: Arc<Admin>,
}

impl Consumer for AdminConsumer {
    // Registered under the configured name, not this one.
    const NAMESPACE: &'static str = "/admin";

    async fn connect(
        &mut self,
        socket: &Socket,
        auth: Option<RawJson>,
    ) -> Result<(), ConnectError> {
        let auth: Value = auth
            .and_then(|auth| auth.deserialize().ok())
            .unwrap_or(Value::Null);
        if let AdminAuth::Basic { username, hash } = &self.admin.config.auth {
            let session = auth.get("sessionId").and_then(Value::as_str);
            if session.is_some_and(|id| self.admin.sessions.contains(id)) {
                debug!(socket = %socket.id(), "admin authenticated by its session");
            } else {
                let given = auth.get("username").and_then(Value::as_str);
                let password = auth.get("password").and_then(Value::as_str);
                let verified = match (given, password) {
                    (Some(given), Some(password)) if given == username => {
                        // bcrypt's work, two at a time: a flood of logins waits for nothing.
                        let Ok(_turn) = self.admin.verifications.try_acquire() else {
                            return Err(ConnectError::new("too many logins at once; retry"));
                        };
                        auth::verify(password.to_owned(), hash.clone()).await
                    }
                    _ => false,
                };
                if !verified {
                    debug!(socket = %socket.id(), "admin refused: invalid credentials");
                    return Err(ConnectError::new("invalid credentials"));
                }
                socket.emit("session", self.admin.sessions.open())?;
            }
        }
        socket.emit(
            "config",
            json!({ "supportedFeatures": self.admin.config.features() }),
        )?;
        if self.admin.config.development {
            // Sent with the acceptance, before any statistics: the UI shows the namespace of the
            // first socket listed (what joins or leaves while the list is gathered across
            // processes is not told to this socket, which is not in yet).
            socket.emit("all_sockets", all_sockets(socket).await)?;
        }
        Ok(())
    }

    async fn on_event(
        &mut self,
        socket: &Socket,
        event: IncomingEvent,
    ) -> Result<(), HandlerError> {
        if self.admin.config.read_only {
            return Ok(());
        }
        let text = |index: usize| event.arg::<Option<String>>(index).ok().flatten();
        let server = socket.server();
        let selected = |namespace: &str, filter: Option<String>| {
            let operator = server.of(namespace);
            match filter.filter(|room| !room.is_empty()) {
                Some(room) => operator.to(room),
                None => operator,
            }
        };
        match event.name() {
            // emit(nsp, filter, event, ...args)
            "emit" => {
                let (Some(namespace), Some(name)) = (text(0), text(2)) else {
                    return Ok(());
                };
                let args: Vec<_> = (3..event.len()).filter_map(|i| event.raw(i)).collect();
                selected(&namespace, text(1)).emit(&name, Args(args))?;
            }
            // join(nsp, room, filter) and leave(nsp, room, filter)
            "join" | "leave" => {
                let (Some(namespace), Some(room)) = (text(0), text(1)) else {
                    return Ok(());
                };
                let operator = selected(&namespace, text(2));
                if event.name() == "join" {
                    operator.sockets_join(room);
                } else {
                    operator.sockets_leave(room);
                }
            }
            // _disconnect(nsp, close, filter)
            "_disconnect" => {
                let Some(namespace) = text(0) else {
                    return Ok(());
                };
                let close = event.arg::<Option<bool>>(1).ok().flatten().unwrap_or(false);
                selected(&namespace, text(2)).disconnect_sockets(close);
            }
            _ => {}
        }
        Ok(())
    }
}

/// Every socket of every namespace of this process, in every process, as the UI lists them.
async fn all_sockets(socket: &Socket) -> Vec<Value> {
    let server = socket.server();
    let mut names: Vec<String> = server
        .inner()
        .all_namespaces()
        .iter()
        .map(|namespace| namespace.name.as_str().to_owned())
        .collect();
    // The application's namespaces first, in order, the UI's own last: the UI shows the first
    // one's sockets until told otherwise.
    let admin = socket.namespace().as_str().to_owned();
    names.sort_by_key(|name| (*name == admin, name.clone()));
    let mut all = Vec::new();
    for name in names {
        if let Ok(sockets) = server.of(&name).fetch_sockets().await {
            all.extend(sockets.iter().map(socket_entry));
        }
    }
    all
}
