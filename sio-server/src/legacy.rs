//! Socket.IO v2 clients (protocol 4, over Engine.IO v3), where they differ from v3 and later,
//! as Node serves them with `allowEIO3`: the server connects them to `/` on its own; a
//! namespace's CONNECT carries a query string, which becomes its auth; the CONNECT answer has
//! no payload; a refusal carries its data, or its message as a plain string; a socket's id is
//! the connection's (`/chat#<sid>` outside `/`). Every other packet is the same.

use bytestring::ByteString;
use sio_core::{Namespace, RawJson};

use crate::consumer::{ConnectError, Consumer, HandlerError};
use crate::event::IncomingEvent;
use crate::socket::{Socket, SocketId};

/// A v2 client's CONNECT text (`0/chat?token=abc,`) in v3's form (`0/chat,{"token":"abc"}`):
/// the query string as an object of strings (the last of a repeated key wins, as in Node), in
/// place of the payload; `None` when it has no query.
///
/// A v2 client sends no payload in a CONNECT; whatever follows the comma is dropped.
pub(crate) fn connect_with_query_as_auth(text: &ByteString) -> Option<ByteString> {
    let rest = text.strip_prefix('0')?;
    let namespace = rest.split(',').next().unwrap_or(rest);
    let (path, query) = namespace.split_once('?')?;
    let mut auth = serde_json::Map::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        auth.insert(
            key.into_owned(),
            serde_json::Value::String(value.into_owned()),
        );
    }
    let auth = serde_json::Value::Object(auth);
    let rewritten = if path.is_empty() || path == "/" {
        format!("0{auth}")
    } else {
        format!("0{path},{auth}")
    };
    Some(ByteString::from(rewritten))
}

/// The id of a v2 client's socket in `namespace`: the connection's id, after `<namespace>#`
/// outside `/`, as Node makes it (and as the client computes it). The one place an id comes
/// from a session id.
pub(crate) fn socket_id(namespace: &Namespace, sid: &str) -> SocketId {
    if namespace.as_str() == "/" {
        SocketId::from_text(sid)
    } else {
        SocketId::from_text(&format!("{namespace}#{sid}"))
    }
}

/// What a v2 client reads in a refusal: the error's data if it has some (Node's
/// `err.data || err.message`: data that JavaScript takes for false does not count), else its
/// message as a plain string.
pub(crate) fn refusal_payload(error: &ConnectError) -> RawJson {
    let truthy = |data: &&serde_json::Value| match data {
        serde_json::Value::Null | serde_json::Value::Bool(false) => false,
        serde_json::Value::Number(n) => n.as_f64() != Some(0.0),
        serde_json::Value::String(s) => !s.is_empty(),
        _ => true,
    };
    let value = match error.data.as_ref().filter(truthy) {
        Some(data) => data.clone(),
        None => serde_json::Value::String(error.message.clone()),
    };
    RawJson::from_value(&value).unwrap_or_else(|_| RawJson::null())
}

/// The consumer of `/` when the application has none and v2 clients are allowed: they are
/// connected to `/` before anything else (Node's main namespace always exists), and their
/// events there are ignored.
#[derive(Default)]
pub(crate) struct ImplicitRoot;

impl Consumer for ImplicitRoot {
    const NAMESPACE: &'static str = "/";

    async fn on_event(
        &mut self,
        _socket: &Socket,
        _event: IncomingEvent,
    ) -> Result<(), HandlerError> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sio_core::Namespace;

    use super::{connect_with_query_as_auth, refusal_payload, socket_id};
    use crate::consumer::ConnectError;

    #[test]
    fn a_connect_query_becomes_its_auth() {
        let rewritten =
            |text: &str| connect_with_query_as_auth(&text.into()).map(|t| t.to_string());
        assert_eq!(
            rewritten("0/chat?token=abc&room=a%20b,").as_deref(),
            Some(r#"0/chat,{"room":"a b","token":"abc"}"#)
        );
        assert_eq!(
            rewritten("0/chat?x=1&x=2").as_deref(),
            Some(r#"0/chat,{"x":"2"}"#)
        );
        assert_eq!(
            rewritten("0/?token=t,").as_deref(),
            Some(r#"0{"token":"t"}"#)
        );
        assert_eq!(rewritten("0/chat,"), None);
        assert_eq!(rewritten("2/chat?x=1,[\"e\"]"), None);
    }

    #[test]
    fn ids_are_the_connections() {
        assert_eq!(socket_id(&Namespace::root(), "abc").as_str(), "abc");
        let chat = Namespace::new("/chat").unwrap();
        assert_eq!(socket_id(&chat, "abc").as_str(), "/chat#abc");
    }

    #[test]
    fn refusals_carry_their_data_or_their_message() {
        assert_eq!(
            refusal_payload(&ConnectError::new("not authorized")).as_str(),
            r#""not authorized""#
        );
        let with_data = ConnectError::new("no").with_data(serde_json::json!({"a": 1}));
        assert_eq!(refusal_payload(&with_data).as_str(), r#"{"a":1}"#);
        for falsy in [
            serde_json::json!(null),
            serde_json::json!(0),
            serde_json::json!(""),
        ] {
            let error = ConnectError::new("no").with_data(falsy);
            assert_eq!(refusal_payload(&error).as_str(), r#""no""#);
        }
    }
}
