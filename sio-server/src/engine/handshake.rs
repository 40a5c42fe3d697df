//! What a session keeps of the HTTP request that opened it.

use std::net::SocketAddr;

use http::{HeaderMap, Request, Uri};

/// The HTTP request that opened a session: what the client presented at the handshake.
#[derive(Debug, Clone)]
pub struct HandshakeInfo {
    /// The request URI, with its query string.
    pub uri: Uri,
    /// The request headers (cookies, user agent, origin...).
    pub headers: HeaderMap,
    /// The peer's address, when the server knows it (see [`RemoteAddr`]).
    pub remote_addr: Option<SocketAddr>,
}

impl HandshakeInfo {
    /// What a session keeps of the request that opened it.
    ///
    /// Copied, not cloned: hyper's header values and URI share its whole read buffer (8 KiB or
    /// more), which a clone would keep alive for as long as the session lives.
    pub(crate) fn copy_of<B>(request: &Request<B>) -> Self {
        let mut headers = HeaderMap::with_capacity(request.headers().len());
        for (name, value) in request.headers() {
            if let Ok(value) = http::HeaderValue::from_bytes(value.as_bytes()) {
                headers.append(name.clone(), value);
            }
        }
        let uri = request
            .uri()
            .to_string()
            .parse()
            .unwrap_or_else(|_| request.uri().clone());
        HandshakeInfo {
            uri,
            headers,
            remote_addr: request.extensions().get::<RemoteAddr>().map(|addr| addr.0),
        }
    }

    /// The value of query parameter `name`, decoded.
    ///
    /// ```
    /// # use sio_server::engine::HandshakeInfo;
    /// let info = HandshakeInfo {
    ///     uri: "/engine.io/?EIO=4&transport=polling&room=a%20b".parse().unwrap(),
    ///     headers: Default::default(),
    ///     remote_addr: None,
    /// };
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
        assert_eq!(info.uri, "/socket.io/?EIO=4&transport=polling&x=1");
        assert_eq!(info.headers["cookie"], "a=b");
        assert_eq!(info.remote_addr, Some(addr));
        assert_eq!(info.query("x").as_deref(), Some("1"));
    }
}
