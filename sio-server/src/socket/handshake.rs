//! A socket's handshake as Node's `socket.handshake` gives it, field for field.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::Socket;

/// The handshake of a socket as Node's socket.io gives it (`socket.handshake`), from
/// [`Socket::handshake_details`]; it serializes to the same JSON, so tools written for Node's
/// (the Admin UI, a Node process fetching sockets across a cluster) read it unchanged.
///
/// [`Socket::handshake`] is the request itself, with every header and the query as they came.
///
/// ```
/// # async fn connect(socket: &sio_server::Socket) {
/// let handshake = socket.handshake_details();
/// tracing::info!(address = ?handshake.address, url = %handshake.url, "connected");
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Handshake {
    /// The headers of the request that opened the connection (the first polling request, or
    /// the WebSocket upgrade), names in lowercase. Repeated headers are kept as Node's HTTP
    /// server keeps them: the first of those that may appear once (`host`, `user-agent`,
    /// `authorization`, ...), the others joined, with `; ` for `cookie` and `, ` for the rest.
    /// (Node makes `set-cookie`, which requests do not send, a list; here it is joined too.)
    pub headers: BTreeMap<String, String>,
    /// When the socket connected, as JavaScript's `Date.toString()` writes it, in UTC.
    pub time: String,
    /// The peer's IP address, when known.
    pub address: Option<String>,
    /// Whether the request named an `Origin`.
    pub xdomain: bool,
    /// Whether the request came over TLS.
    pub secure: bool,
    /// When the socket connected, in milliseconds since the Unix epoch.
    pub issued: u64,
    /// The request URL: path and query.
    pub url: String,
    /// The query parameters; of a repeated one, the last.
    pub query: BTreeMap<String, String>,
    /// The payload of the client's CONNECT for this namespace, `{}` if it sent none.
    pub auth: serde_json::Value,
}

impl Handshake {
    pub(crate) fn of(socket: &Socket) -> Self {
        let info = socket.handshake();
        let headers = node_headers(info.header_lines());
        let issued = socket.inner.issued;
        Handshake {
            headers,
            time: js_date_string(issued),
            address: info.remote_addr().map(|addr| addr.ip().to_string()),
            xdomain: info.is_cross_domain(),
            secure: info.is_secure(),
            issued,
            url: info
                .uri()
                .path_and_query()
                .map_or_else(|| info.uri().to_string(), ToString::to_string),
            query: info.query_pairs().collect(),
            auth: socket
                .auth()
                .and_then(|auth| auth.deserialize().ok())
                .unwrap_or_else(|| serde_json::json!({})),
        }
    }
}

/// Headers as Node's HTTP server gives them: names in lowercase, repeated ones kept first or
/// joined.
fn node_headers<'a>(lines: impl Iterator<Item = (&'a str, &'a [u8])>) -> BTreeMap<String, String> {
    let mut headers: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in lines {
        let Ok(value) = std::str::from_utf8(value) else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        let separator = if name == "cookie" { "; " } else { ", " };
        let first_only = FIRST_ONLY.contains(&name.as_str());
        headers
            .entry(name)
            .and_modify(|joined| {
                if !first_only {
                    joined.push_str(separator);
                    joined.push_str(value);
                }
            })
            .or_insert_with(|| value.to_owned());
    }
    headers
}

/// The headers of which Node's HTTP server keeps the first when a request repeats them.
const FIRST_ONLY: [&str; 18] = [
    "age",
    "authorization",
    "content-length",
    "content-type",
    "etag",
    "expires",
    "from",
    "host",
    "if-modified-since",
    "if-unmodified-since",
    "last-modified",
    "location",
    "max-forwards",
    "proxy-authorization",
    "referer",
    "retry-after",
    "server",
    "user-agent",
];

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_millis() as u64
}

/// `Date.toString()` of JavaScript for `millis`, in UTC:
/// `Mon Nov 30 2026 22:51:03 GMT+0000 (Coordinated Universal Time)`.
fn js_date_string(millis: u64) -> String {
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let seconds = millis / 1000;
    let days = seconds / 86_400;
    let of_day = seconds % 86_400;
    let (year, month, day) = sio_core::civil_date(i64::try_from(days).unwrap_or_default());
    format!(
        "{} {} {:02} {} {:02}:{:02}:{:02} GMT+0000 (Coordinated Universal Time)",
        WEEKDAYS[(days % 7) as usize],
        MONTHS[(month - 1) as usize],
        day,
        year,
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60,
    )
}

#[cfg(test)]
mod tests {
    use super::{js_date_string, node_headers};

    #[test]
    fn repeated_headers_are_kept_as_nodes_server_keeps_them() {
        let lines: [(&str, &[u8]); 7] = [
            ("Host", b"a"),
            ("host", b"b"),
            ("Cookie", b"x=1"),
            ("cookie", b"y=2"),
            ("Accept", b"text/html"),
            ("accept", b"*/*"),
            ("x-bytes", b"caf\xe9"),
        ];
        let headers = node_headers(lines.into_iter());
        assert_eq!(headers["host"], "a");
        assert_eq!(headers["cookie"], "x=1; y=2");
        assert_eq!(headers["accept"], "text/html, */*");
        assert!(
            !headers.contains_key("x-bytes"),
            "a value that is not text is left out"
        );
    }

    #[test]
    fn dates_read_as_javascript_writes_them() {
        assert_eq!(
            js_date_string(0),
            "Thu Jan 01 1970 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        // `new Date(1796083200000).toString()` with TZ=UTC
        assert_eq!(
            js_date_string(1_796_083_200_000),
            "Tue Dec 01 2026 00:00:00 GMT+0000 (Coordinated Universal Time)"
        );
        // A leap day, and the end of a day.
        assert_eq!(
            js_date_string(951_868_799_999),
            "Tue Feb 29 2000 23:59:59 GMT+0000 (Coordinated Universal Time)"
        );
    }
}
