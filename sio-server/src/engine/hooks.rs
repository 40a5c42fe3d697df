//! The application's hooks on the engine's HTTP side: headers added to responses (Node's
//! `initial_headers` and `headers`), the session cookie, and the report of every refused
//! request (Node's `connection_error`).

use std::fmt;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, Method, Request, Uri};
use serde_json::{Value, json};

use crate::engine::handshake::peer_address;
use crate::engine::http::RequestError;
use crate::engine::query::Query;

/// What the hooks see of a request: its method, URI, headers and peer.
///
/// ```
/// # use sio_server::engine::RequestHead;
/// fn log(request: &RequestHead) {
///     println!("{} {} from {:?}", request.method(), request.uri(), request.remote_addr());
/// }
/// ```
#[derive(Debug, Clone)]
pub struct RequestHead {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    remote_addr: Option<SocketAddr>,
}

impl RequestHead {
    pub(crate) fn of<B>(request: &Request<B>) -> Self {
        RequestHead {
            method: request.method().clone(),
            uri: request.uri().clone(),
            headers: request.headers().clone(),
            remote_addr: peer_address(request.extensions()),
        }
    }

    /// The request method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The request URI, with its query string.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The peer's address, when known (see
    /// [`HandshakeInfo::remote_addr`](crate::engine::HandshakeInfo::remote_addr)).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// Whether the request opens a session (it names none).
    fn is_initial(&self) -> bool {
        Query::parse(self.uri.query().unwrap_or("")).sid.is_none()
    }
}

/// The session cookie the engine sets on the handshake response of a polling session, Node's
/// `cookie` option: `io=<sid>; Path=/; HttpOnly; SameSite=Lax` by default. A load balancer can
/// route a client's requests by it (sticky sessions).
///
/// ```
/// use std::time::Duration;
/// use sio_server::engine::SessionCookie;
///
/// let cookie = SessionCookie::new("sid").path("/app").secure(true).max_age(Duration::from_secs(3600));
/// assert_eq!(
///     cookie.header_for("abc").unwrap(),
///     "sid=abc; Max-Age=3600; Path=/app; HttpOnly; Secure; SameSite=Lax"
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct SessionCookie {
    name: String,
    path: Option<String>,
    domain: Option<String>,
    max_age: Option<Duration>,
    http_only: bool,
    secure: bool,
    same_site: Option<SameSite>,
}

/// The `SameSite` attribute of a cookie.
///
/// ```
/// use sio_server::engine::{SameSite, SessionCookie};
///
/// let cookie = SessionCookie::new("io").same_site(SameSite::None).secure(true);
/// assert_eq!(cookie.header_for("1").unwrap(), "io=1; Path=/; HttpOnly; Secure; SameSite=None");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SameSite {
    /// Sent with same-site requests only.
    Strict,
    /// Also sent with top-level navigations from other sites (the default).
    Lax,
    /// Sent with every request; browsers then require `Secure`.
    None,
}

impl Default for SessionCookie {
    fn default() -> Self {
        SessionCookie::new("io")
    }
}

impl SessionCookie {
    /// A cookie of this name with Node's defaults: path `/`, `HttpOnly`, `SameSite=Lax`.
    pub fn new(name: impl Into<String>) -> Self {
        SessionCookie {
            name: name.into(),
            path: Some("/".to_owned()),
            domain: None,
            max_age: None,
            http_only: true,
            secure: false,
            same_site: Some(SameSite::Lax),
        }
    }

    /// The `Path` attribute (default `/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// No `Path` attribute: the browser takes the request's.
    pub fn without_path(mut self) -> Self {
        self.path = None;
        self
    }

    /// The `Domain` attribute.
    pub fn domain(mut self, domain: impl Into<String>) -> Self {
        self.domain = Some(domain.into());
        self
    }

    /// The `Max-Age` attribute, in whole seconds (default none: a session cookie).
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }

    /// Whether scripts are kept from reading it (default yes).
    pub fn http_only(mut self, http_only: bool) -> Self {
        self.http_only = http_only;
        self
    }

    /// Whether it is sent over HTTPS only (default no).
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// The `SameSite` attribute, or none.
    pub fn same_site(mut self, same_site: impl Into<Option<SameSite>>) -> Self {
        self.same_site = same_site.into();
        self
    }

    /// The `Set-Cookie` value for session `sid`, its attributes in the order Node's `cookie`
    /// package writes them. The value is percent-encoded as JavaScript's `encodeURIComponent`
    /// does, as that package encodes it.
    /// `None` if the name, path or domain the application gave cannot be in a header.
    pub fn header_for(&self, sid: &str) -> Option<HeaderValue> {
        let mut value = format!("{}={}", self.name, encode(sid));
        if let Some(max_age) = self.max_age {
            value.push_str(&format!("; Max-Age={}", max_age.as_secs()));
        }
        if let Some(domain) = &self.domain {
            value.push_str(&format!("; Domain={domain}"));
        }
        if let Some(path) = &self.path {
            value.push_str(&format!("; Path={path}"));
        }
        if self.http_only {
            value.push_str("; HttpOnly");
        }
        if self.secure {
            value.push_str("; Secure");
        }
        match self.same_site {
            Some(SameSite::Strict) => value.push_str("; SameSite=Strict"),
            Some(SameSite::Lax) => value.push_str("; SameSite=Lax"),
            Some(SameSite::None) => value.push_str("; SameSite=None"),
            None => {}
        }
        HeaderValue::from_str(&value).ok()
    }
}

/// Percent-encodes `value` as `encodeURIComponent` does.
fn encode(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        let plain = byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte);
        if plain {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// A request the engine refused, as Node's `connection_error` event reports it: Node's code
/// and message, a context that says what was wrong, and the request.
///
/// | code | message | when |
/// |---|---|---|
/// | 0 | `Transport unknown` | `transport` missing, unknown or turned off |
/// | 1 | `Session ID unknown` | `sid` names no open session |
/// | 2 | `Bad handshake method` | a handshake that is not a GET |
/// | 3 | `Bad request` | a malformed WebSocket handshake, or a polling request for a session on WebSocket |
/// | 4 | `Forbidden` | the request filter's refusal, or (sio's own) a WebSocket origin the CORS rules refuse |
///
/// As in Node, concurrent polls, closed sessions, failed bodies and requests for another path
/// are answered without a report.
///
/// ```
/// use sio_server::engine::{Connection, Engine, Message};
///
/// let engine = Engine::builder()
///     .on_connection_error(|error| {
///         if error.code() == 1 {
///             eprintln!("unknown session {} from {:?}", error.context()["sid"], error.request().remote_addr());
///         }
///     })
///     .build(|_: &Connection, _: Message| {});
/// # drop(engine);
/// ```
/// | 5 | `Unsupported protocol version` | `EIO` missing or not 4 |
#[derive(Debug, Clone)]
pub struct ConnectionError {
    code: u8,
    message: &'static str,
    context: Value,
    request: RequestHead,
}

impl ConnectionError {
    pub(crate) fn new(
        code: u8,
        message: &'static str,
        context: Value,
        request: RequestHead,
    ) -> Self {
        ConnectionError {
            code,
            message,
            context,
            request,
        }
    }

    /// A refusal of the engine, with the context Node gives the same refusal; `None` for the
    /// refusals Node reports no `connection_error` for (a request for another path, a
    /// preflight, concurrent polls, a closed session, a body that fails, a shutdown).
    pub(crate) fn of(error: RequestError, request: RequestHead) -> Option<Self> {
        let raw = |name: &str| {
            request.uri.query().and_then(|query| {
                form_urlencoded::parse(query.as_bytes())
                    .find(|(key, _)| key == name)
                    .map(|(_, value)| value.into_owned())
            })
        };
        let (code, context) = match error {
            RequestError::UnknownTransport => (0, json!({ "transport": raw("transport") })),
            RequestError::UnknownSession => (1, json!({ "sid": raw("sid") })),
            RequestError::HandshakeNotGet => (2, json!({ "method": request.method.as_str() })),
            RequestError::NotPolling => (
                3,
                json!({
                    "name": "TRANSPORT_MISMATCH",
                    "transport": raw("transport"),
                    "previousTransport": "websocket",
                }),
            ),
            RequestError::NotWebSocketHandshake | RequestError::MissingWebSocketKey => {
                (3, json!({ "name": "TRANSPORT_HANDSHAKE_ERROR" }))
            }
            // sio's own: Node leaves origins to its CORS middleware, which reports nothing.
            RequestError::OriginNotAllowed => {
                let origin = request
                    .headers
                    .get(http::header::ORIGIN)
                    .and_then(|origin| origin.to_str().ok());
                (4, json!({ "name": "ORIGIN_NOT_ALLOWED", "origin": origin }))
            }
            // Node answers every version but 4 as version 3, which it does not allow.
            RequestError::UnsupportedVersion => (5, json!({ "protocol": 3 })),
            RequestError::NotFound
            | RequestError::CrossOriginRefused
            | RequestError::ConcurrentGet
            | RequestError::ConcurrentPost
            | RequestError::SessionClosed
            | RequestError::UnreadableBody
            | RequestError::UndecodablePayload
            | RequestError::PayloadTooLarge
            | RequestError::BodyTimeout
            | RequestError::ShuttingDown => return None,
        };
        Some(ConnectionError::new(
            code,
            NODE_MESSAGES[usize::from(code)],
            context,
            request,
        ))
    }

    /// Node's error code, 0 to 5.
    pub fn code(&self) -> u8 {
        self.code
    }

    /// Node's message for the code, such as `Session ID unknown`.
    pub fn message(&self) -> &'static str {
        self.message
    }

    /// What was wrong, as Node's `context` says it: `{"sid": ..}` for an unknown session,
    /// `{"name": "INVALID_ORIGIN", "origin": ..}` for a refused origin, and so on.
    pub fn context(&self) -> &Value {
        &self.context
    }

    /// The request that was refused.
    pub fn request(&self) -> &RequestHead {
        &self.request
    }
}

/// Node's messages, by code.
pub(crate) const NODE_MESSAGES: [&str; 6] = [
    "Transport unknown",
    "Session ID unknown",
    "Bad handshake method",
    "Bad request",
    "Forbidden",
    "Unsupported protocol version",
];

type HeadersFn = dyn Fn(&mut HeaderMap, &RequestHead) + Send + Sync + 'static;
type ErrorFn = dyn Fn(&ConnectionError) + Send + Sync + 'static;

/// The hooks of one engine.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    pub(crate) initial_headers: Option<Arc<HeadersFn>>,
    pub(crate) headers: Option<Arc<HeadersFn>>,
    pub(crate) connection_error: Option<Arc<ErrorFn>>,
}

impl Hooks {
    /// Whether any hook needs the request once it has been answered.
    pub(crate) fn want_request(&self) -> bool {
        self.initial_headers.is_some() || self.headers.is_some() || self.connection_error.is_some()
    }

    /// A response the engine gave: the header hooks add to it, the handshake's first. A
    /// preflight is CORS's answer, not a session's: as in Node, the hooks leave it alone.
    pub(crate) fn answered(&self, headers: &mut HeaderMap, request: &RequestHead) {
        if request.method == Method::OPTIONS {
            return;
        }
        if let Some(hook) = &self.initial_headers
            && request.is_initial()
        {
            hook(headers, request);
        }
        if let Some(hook) = &self.headers {
            hook(headers, request);
        }
    }

    /// A request the engine refused.
    pub(crate) fn refused(&self, error: impl FnOnce() -> Option<ConnectionError>) {
        if let Some(hook) = &self.connection_error
            && let Some(error) = error()
        {
            hook(&error);
        }
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("initial_headers", &self.initial_headers.is_some())
            .field("headers", &self.headers.is_some())
            .field("connection_error", &self.connection_error.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::{ConnectionError, RequestHead, SameSite, SessionCookie};
    use crate::engine::http::RequestError;

    #[test]
    fn the_default_cookie_is_nodes() {
        assert_eq!(
            SessionCookie::default().header_for("a b").unwrap(),
            "io=a%20b; Path=/; HttpOnly; SameSite=Lax"
        );
        assert_eq!(SessionCookie::new("bad\nname").header_for("1"), None);
        let bare = SessionCookie::new("x")
            .without_path()
            .http_only(false)
            .same_site(None)
            .domain("example.com");
        assert_eq!(bare.header_for("1").unwrap(), "x=1; Domain=example.com");
        let strict = SessionCookie::new("x").same_site(SameSite::Strict);
        assert_eq!(
            strict.header_for("1").unwrap(),
            "x=1; Path=/; HttpOnly; SameSite=Strict"
        );
    }

    #[test]
    fn refusals_carry_nodes_codes_and_context() {
        let request = http::Request::post("/socket.io/?EIO=4&transport=polling&sid=nope")
            .header("origin", "http://evil.example")
            .body(())
            .unwrap();
        let head = RequestHead::of(&request);
        let unknown = ConnectionError::of(RequestError::UnknownSession, head.clone()).unwrap();
        assert_eq!(unknown.code(), 1);
        assert_eq!(unknown.message(), "Session ID unknown");
        assert_eq!(unknown.context(), &serde_json::json!({"sid": "nope"}));
        let method = ConnectionError::of(RequestError::HandshakeNotGet, head.clone()).unwrap();
        assert_eq!(
            (method.code(), method.message()),
            (2, "Bad handshake method")
        );
        assert_eq!(method.context(), &serde_json::json!({"method": "POST"}));
        let origin = ConnectionError::of(RequestError::OriginNotAllowed, head.clone()).unwrap();
        assert_eq!(origin.code(), 4);
        assert_eq!(
            origin.context(),
            &serde_json::json!({"name": "ORIGIN_NOT_ALLOWED", "origin": "http://evil.example"})
        );
        let version = ConnectionError::of(RequestError::UnsupportedVersion, head.clone()).unwrap();
        assert_eq!(version.context(), &serde_json::json!({"protocol": 3}));
        assert!(ConnectionError::of(RequestError::ConcurrentGet, head).is_none());
    }
}
