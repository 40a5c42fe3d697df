//! What a session keeps of the HTTP request that opened it.

use std::net::SocketAddr;
use std::sync::OnceLock;

use http::{HeaderMap, HeaderName, HeaderValue, Request, Uri};

/// The HTTP request that opened a session: what the client presented at the handshake.
///
/// The headers are kept as one compact copy, and made into a [`HeaderMap`] only when first
/// asked for: most applications never read them, and every connection keeps them.
#[derive(Debug, Clone)]
pub struct HandshakeInfo {
    uri: Uri,
    remote_addr: Option<SocketAddr>,
    /// The headers as they came, one `name:value\n` line each (neither contains a line feed,
    /// nor a name a colon), in one allocation.
    raw_headers: Box<[u8]>,
    headers: OnceLock<HeaderMap>,
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
            uri,
            remote_addr,
            raw_headers: Box::default(),
            headers: OnceLock::from(headers),
        }
    }

    /// What a session keeps of the request that opened it.
    ///
    /// Copied, not cloned: hyper's header values and URI share its whole read buffer (8 KiB or
    /// more), which a clone would keep alive for as long as the session lives.
    pub(crate) fn copy_of<B>(request: &Request<B>) -> Self {
        let headers = request.headers();
        let length = headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 2)
            .sum();
        let mut raw_headers = Vec::with_capacity(length);
        for (name, value) in headers {
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
        HandshakeInfo {
            uri,
            remote_addr: request.extensions().get::<RemoteAddr>().map(|addr| addr.0),
            raw_headers: raw_headers.into_boxed_slice(),
            headers: OnceLock::new(),
        }
    }

    /// The request URI, with its query string.
    pub fn uri(&self) -> &Uri {
        &self.uri
    }

    /// The request headers (cookies, user agent, origin...).
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
            for line in self.raw_headers.split(|&byte| byte == b'\n') {
                let Some(colon) = line.iter().position(|&byte| byte == b':') else {
                    continue;
                };
                let name = HeaderName::from_bytes(&line[..colon]);
                let value = HeaderValue::from_bytes(&line[colon + 1..]);
                if let (Ok(name), Ok(value)) = (name, value) {
                    map.append(name, value);
                }
            }
            map
        })
    }

    /// The peer's address, when the server knows it (see [`RemoteAddr`]).
    pub fn remote_addr(&self) -> Option<SocketAddr> {
        self.remote_addr
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
}

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
    }
}
