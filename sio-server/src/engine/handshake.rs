//! What a session keeps of the HTTP request that opened it.

use std::fmt;
use std::net::SocketAddr;
use std::sync::OnceLock;

use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri};
use sio_core::EngineVersion;

/// The HTTP request that opened a session: what the client presented at the handshake.
///
/// The headers are kept as one compact copy: [`header`](Self::header) reads it as it is, and
/// [`headers`](Self::headers) makes a [`HeaderMap`] of it when first called, kept from then on
/// beside the copy. Most applications read a header or two, and every connection keeps them.
#[derive(Clone)]
pub struct HandshakeInfo {
    uri: Uri,
    remote_addr: Option<SocketAddr>,
    secure: bool,
    /// The headers as they came, one `name:value\n` line each (neither contains a line feed,
    /// nor a name a colon), in one allocation.
    raw_headers: Box<[u8]>,
    /// Boxed: the map is rarely made, and its room would be taken in every session.
    headers: OnceLock<Box<HeaderMap>>,
}

impl HandshakeInfo {
    /// A handshake with these parts, for an application that makes its own (in a test, say).
    ///
    /// ```
    /// # use sio_server::engine::HandshakeInfo;
    /// let info = HandshakeInfo::new(
    ///     "/engine.io/?EIO=4&transport=polling&room=a%20b".parse().unwrap(),
    ///     Default::default(),
    ///     None,
    /// );
    /// assert_eq!(info.query("room").as_deref(), Some("a b"));
    /// ```
    pub fn new(uri: Uri, headers: HeaderMap, remote_addr: Option<SocketAddr>) -> Self {
        HandshakeInfo {
            secure: uri.scheme() == Some(&http::uri::Scheme::HTTPS),
            uri,
            remote_addr,
            raw_headers: Box::default(),
            headers: OnceLock::from(Box::new(headers)),
        }
    }

    /// What a session keeps of the request that opened it.
    ///
    /// Copied, not cloned: hyper's header values and URI share its whole read buffer (8 KiB or
    /// more), which a clone would keep alive for as long as the session lives.
    pub(crate) fn copy_of<B>(request: &Request<B>) -> Self {
        // A value never holds a line feed (http checks, unless told not to): should one
        // slip through, it is left out rather than allowed to make up a header line.
        let headers = || {
            request
                .headers()
                .iter()
                .filter(|(_, value)| !value.as_bytes().contains(&b'\n'))
        };
        let length = headers()
            .map(|(name, value)| name.as_str().len() + value.len() + 2)
            .sum();
        let mut raw_headers = Vec::with_capacity(length);
        for (name, value) in headers() {
            raw_headers.extend_from_slice(name.as_str().as_bytes());
            raw_headers.push(b':');
            raw_headers.extend_from_slice(value.as_bytes());
            raw_headers.push(b'\n');
        }
        let uri = request
            .uri()
            .to_string()
            .parse()
            .unwrap_or_else(|_| request.uri().clone());
        let extensions = request.extensions();
        let remote_addr = peer_address(extensions);
        HandshakeInfo {
            secure: request.uri().scheme() == Some(&http::uri::Scheme::HTTPS)
                || extensions.get::<Encrypted>().is_some(),
            uri,
            remote_addr,
            raw_headers: raw_headers.into_boxed_slice(),
            headers: OnceLock::new(),
        }
    }

    /// Drops the map that [`headers`](Self::headers) made, when the compact copy can make it
    /// again: what a request filter asked for is not kept for the whole session.
    pub(crate) fn release_map(&mut self) {
        if !self.raw_headers.is_empty() {
            self.headers = OnceLock::new();
        }
    }

    /// The request URI, with its query string.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The first value of header `name` (in any case), if it is text. Reads the compact copy:
    /// nothing is made or kept.
    ///
    /// ```
    /// # use sio_server::engine::HandshakeInfo;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("cookie", "session=1".parse().unwrap());
    /// let info = HandshakeInfo::new("/socket.io/".parse().unwrap(), headers, None);
    /// assert_eq!(info.header("Cookie"), Some("session=1"));
    /// assert_eq!(info.header("origin"), None);
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_lines()
            .find(|(line_name, _)| line_name.eq_ignore_ascii_case(name))
            .and_then(|(_, value)| std::str::from_utf8(value).ok())
    }

    /// The request headers (cookies, user agent, origin...), as a map made when first asked
    /// for and kept with the session from then on.
    ///
    /// ```
    /// # use sio_server::engine::HandshakeInfo;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("cookie", "session=1".parse().unwrap());
    /// let info = HandshakeInfo::new("/socket.io/".parse().unwrap(), headers, None);
    /// assert_eq!(info.headers()["cookie"], "session=1");
    /// ```
    pub fn headers(&self) -> &HeaderMap {
        self.headers.get_or_init(|| {
            let mut map = HeaderMap::new();
            for (name, value) in self.raw_lines() {
                let name = HeaderName::from_bytes(name.as_bytes());
                let value = HeaderValue::from_bytes(value);
                if let (Ok(name), Ok(value)) = (name, value) {
                    map.append(name, value);
                }
            }
            Box::new(map)
        })
    }

    /// Every header, in order, each name with one value; from the compact copy when there is
    /// one, so that nothing is made.
    pub(crate) fn header_lines(&self) -> Box<dyn Iterator<Item = (&str, &[u8])> + '_> {
        if self.raw_headers.is_empty() {
            let map = self.headers();
            Box::new(
                map.iter()
                    .map(|(name, value)| (name.as_str(), value.as_bytes())),
            )
        } else {
            Box::new(self.raw_lines())
        }
    }

    /// The lines of the compact copy, as names and values.
    fn raw_lines(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.raw_headers
            .split(|&byte| byte == b'\n')
            .filter_map(|line| {
                let colon = line.iter().position(|&byte| byte == b':')?;
                let name = std::str::from_utf8(&line[..colon]).ok()?;
                Some((name, &line[colon + 1..]))
            })
    }

    /// The peer's address, when the server knows it: from a [`RemoteAddr`] extension of the
    /// request (which [`serve`](crate::engine::serve) adds), or, with the `axum` feature, from
    /// axum's `ConnectInfo<SocketAddr>` (`into_make_service_with_connect_info`).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
    }

    /// Whether the request came over TLS: its URI says `https`, or the server that terminated
    /// TLS marked it with [`Encrypted`] (Node's `handshake.secure`).
    ///
    /// ```
    /// # use sio_server::engine::HandshakeInfo;
    /// let info = HandshakeInfo::new("https://example.com/socket.io/".parse().unwrap(), Default::default(), None);
    /// assert!(info.is_secure());
    /// ```
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// Whether the request names an `Origin` (Node's `handshake.xdomain`).
    ///
    /// ```
    /// # use sio_server::engine::HandshakeInfo;
    /// let mut headers = http::HeaderMap::new();
    /// headers.insert("origin", "https://app.example".parse().unwrap());
    /// let info = HandshakeInfo::new("/socket.io/".parse().unwrap(), headers, None);
    /// assert!(info.is_cross_domain());
    /// ```
    pub fn is_cross_domain(&self) -> bool {
        self.header("origin").is_some()
    }

    /// Every query parameter, decoded, in order; a name may come more than once.
    ///
    /// ```
    /// # use sio_server::engine::HandshakeInfo;
    /// let uri = "/socket.io/?EIO=4&transport=polling&tag=a&tag=b".parse().unwrap();
    /// let info = HandshakeInfo::new(uri, Default::default(), None);
    /// let tags: Vec<String> = info.query_pairs().filter(|(k, _)| k == "tag").map(|(_, v)| v).collect();
    /// assert_eq!(tags, ["a", "b"]);
    /// ```
    pub fn query_pairs(&self) -> impl Iterator<Item = (String, String)> + '_ {
        form_urlencoded::parse(self.uri.query().unwrap_or("").as_bytes())
            .map(|(key, value)| (key.into_owned(), value.into_owned()))
    }

    /// The value of query parameter `name`, decoded.
    ///
    /// ```
    /// # use sio_server::engine::HandshakeInfo;
    /// let uri = "/engine.io/?EIO=4&transport=polling&room=a%20b".parse().unwrap();
    /// let info = HandshakeInfo::new(uri, Default::default(), None);
    /// assert_eq!(info.query("room").as_deref(), Some("a b"));
    /// ```
    pub fn query(&self, name: &str) -> Option<String> {
        let query = self.uri.query()?;
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    }

    /// The Engine.IO revision the client speaks (`EIO`), if it is one the engine knows.
    ///
    /// ```
    /// use sio_server::engine::{EngineVersion, HandshakeInfo};
    ///
    /// let handshake = HandshakeInfo::new("/socket.io/?EIO=3".parse().unwrap(), Default::default(), None);
    /// assert_eq!(handshake.engine_version(), Some(EngineVersion::V3));
    /// ```
    pub fn engine_version(&self) -> Option<EngineVersion> {
        EngineVersion::from_query(&self.query("EIO")?)
    }
}

impl fmt::Debug for HandshakeInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, String)> = self
            .header_lines()
            .map(|(name, value)| (name, String::from_utf8_lossy(value).into_owned()))
            .collect();
        f.debug_struct("HandshakeInfo")
            .field("uri", &self.uri)
            .field("headers", &headers)
            .field("remote_addr", &self.remote_addr)
            .finish()
    }
}

/// The peer address a request carries: a [`RemoteAddr`], or, with the `axum` feature, axum's
/// `ConnectInfo<SocketAddr>`.
pub(crate) fn peer_address(extensions: &http::Extensions) -> Option<SocketAddr> {
    let remote_addr = extensions.get::<RemoteAddr>().map(|addr| addr.0);
    #[cfg(feature = "axum")]
    let remote_addr = remote_addr.or_else(|| {
        extensions
            .get::<axum::extract::ConnectInfo<SocketAddr>>()
            .map(|info| info.0)
    });
    remote_addr
}

/// A mark that a request came over TLS, as a request extension: a server that terminates TLS
/// in front of the engine inserts it, so that [`HandshakeInfo::is_secure`] is true.
///
/// ```
/// use sio_server::engine::Encrypted;
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(Encrypted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Encrypted;

/// The peer address of a request, as a request extension.
///
/// The standalone server inserts it; an application that mounts the engine in its own hyper or
/// axum server can insert it too, so that [`HandshakeInfo::remote_addr`] is known.
///
/// ```
/// use sio_server::engine::RemoteAddr;
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(RemoteAddr("127.0.0.1:4000".parse().unwrap()));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemoteAddr(pub SocketAddr);

#[cfg(test)]
mod tests {
    use super::{HandshakeInfo, RemoteAddr};
    use http::HeaderValue;

    #[test]
    fn a_copy_keeps_uri_headers_and_address() {
        let mut request = http::Request::get("/socket.io/?EIO=4&transport=polling&x=1")
            .header("cookie", "a=b")
            .body(())
            .unwrap();
        let addr = "10.0.0.1:5000".parse().unwrap();
        request.extensions_mut().insert(RemoteAddr(addr));
        let info = HandshakeInfo::copy_of(&request);
        assert_eq!(info.uri(), "/socket.io/?EIO=4&transport=polling&x=1");
        assert_eq!(info.headers()["cookie"], "a=b");
        assert_eq!(info.remote_addr(), Some(addr));
        assert_eq!(info.query("x").as_deref(), Some("1"));
    }

    #[test]
    fn headers_come_back_whole_and_in_order() {
        let request = http::Request::get("/socket.io/")
            .header("cookie", "a=b")
            .header("x-list", "1")
            .header("x-list", "2:3")
            .header("user-agent", "")
            .body(())
            .unwrap();
        let info = HandshakeInfo::copy_of(&request);
        assert_eq!(info.headers(), request.headers());
        let values: Vec<_> = info.headers().get_all("x-list").iter().collect();
        assert_eq!(values, ["1", "2:3"]);
        assert_eq!(info.header("X-List"), Some("1"));
        assert_eq!(info.header("user-agent"), Some(""));
    }

    #[test]
    fn values_that_are_not_text_survive_the_copy() {
        let request = http::Request::get("/socket.io/")
            .header("x-bytes", HeaderValue::from_bytes(b"caf\xe9").unwrap())
            .body(())
            .unwrap();
        let mut info = HandshakeInfo::copy_of(&request);
        assert_eq!(info.headers()["x-bytes"].as_bytes(), b"caf\xe9");
        assert_eq!(info.header("x-bytes"), None);
        info.release_map();
        assert_eq!(info.headers()["x-bytes"].as_bytes(), b"caf\xe9");
    }
}
