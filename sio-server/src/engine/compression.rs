//! HTTP compression of polling responses, as the reference server's `httpCompression`: gzip or
//! deflate, as the request's `Accept-Encoding` prefers, for bodies of at least a threshold.

use std::io::Write;

use bytes::Bytes;
use flate2::Compression;
use flate2::write::{GzEncoder, ZlibEncoder};
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::engine::http::{ResponseBody, plain};

/// Compression of polling responses (Node's `httpCompression`), given to
/// [`EngineBuilder::http_compression`](crate::engine::EngineBuilder::http_compression). On by
/// default, as in Node: a response body of at least 1 KiB is compressed with gzip or deflate
/// when the request's `Accept-Encoding` allows one. WebSocket messages are not concerned.
///
/// ```
/// use sio_server::engine::{Engine, HttpCompression};
///
/// let engine = Engine::builder()
///     .http_compression(HttpCompression::default().threshold(4096))
///     .build(|_: &sio_server::engine::Connection, _| {});
/// # drop(engine);
/// let plain = Engine::builder().http_compression(HttpCompression::off());
/// # drop(plain);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub struct HttpCompression {
    /// `None` when off.
    threshold: Option<usize>,
}

impl Default for HttpCompression {
    fn default() -> Self {
        HttpCompression {
            threshold: Some(1024),
        }
    }
}

impl HttpCompression {
    /// No compression.
    pub fn off() -> Self {
        HttpCompression { threshold: None }
    }

    /// Compresses bodies of at least `bytes` (default 1024, Node's).
    pub fn threshold(self, bytes: usize) -> Self {
        HttpCompression {
            threshold: Some(bytes),
        }
    }

    /// What to do with the polling responses to a request with `headers`: `None` when off or
    /// when the request accepts neither gzip nor deflate.
    pub(crate) fn for_request(self, headers: &HeaderMap) -> Option<Compress> {
        Some(Compress {
            threshold: self.threshold?,
            encoding: negotiate(headers)?,
        })
    }
}

/// How the responses to one request are compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Compress {
    threshold: usize,
    encoding: Encoding,
}

impl Compress {
    /// A `200 OK` response of `body`, compressed if it is large enough.
    pub(crate) fn ok(compress: Option<Compress>, body: Bytes) -> Response<ResponseBody> {
        let Some(compress) = compress.filter(|compress| body.len() >= compress.threshold) else {
            return plain(StatusCode::OK, body);
        };
        let mut response = plain(StatusCode::OK, compress.encoding.compress(&body));
        response.headers_mut().insert(
            header::CONTENT_ENCODING,
            HeaderValue::from_static(compress.encoding.name()),
        );
        response
    }
}

/// A content coding the engine writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Gzip,
    /// zlib-wrapped deflate, as HTTP's `deflate` coding is.
    Deflate,
}

impl Encoding {
    fn name(self) -> &'static str {
        match self {
            Encoding::Gzip => "gzip",
            Encoding::Deflate => "deflate",
        }
    }

    fn compress(self, bytes: &[u8]) -> Bytes {
        // Writing into a Vec cannot fail.
        let out = Vec::with_capacity(bytes.len() / 4 + 64);
        let compressed = match self {
            Encoding::Gzip => {
                let mut encoder = GzEncoder::new(out, Compression::default());
                let _ = encoder.write_all(bytes);
                encoder.finish()
            }
            Encoding::Deflate => {
                let mut encoder = ZlibEncoder::new(out, Compression::default());
                let _ = encoder.write_all(bytes);
                encoder.finish()
            }
        };
        compressed.map(Bytes::from).unwrap_or_default()
    }
}

/// The coding `Accept-Encoding` prefers of gzip and deflate, as Node's `accepts` picks it: the
/// highest quality above 0 (a coding named outright, else `*`), and between equals the one named
/// first, gzip when neither is named.
fn negotiate(headers: &HeaderMap) -> Option<Encoding> {
    let mut named: Vec<(String, f32, usize)> = Vec::new();
    for (index, item) in headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .enumerate()
    {
        let mut parts = item.split(';');
        let coding = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        if coding.is_empty() {
            continue;
        }
        let quality = parts
            .filter_map(|param| param.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        named.push((coding, quality, index));
    }
    let rank = |encoding: Encoding| {
        let exact = named.iter().find(|(coding, ..)| coding == encoding.name());
        let any = named.iter().find(|(coding, ..)| coding == "*");
        exact
            .or(any)
            .map(|(_, quality, index)| (*quality, usize::MAX - index))
    };
    [Encoding::Gzip, Encoding::Deflate]
        .into_iter()
        .filter_map(|encoding| Some((encoding, rank(encoding)?)))
        .filter(|(_, (quality, _))| *quality > 0.0)
        // The first of the best: `max_by` keeps the last of equals, so the order is reversed.
        .rev()
        .max_by(|(_, a), (_, b)| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal))
        .map(|(encoding, _)| encoding)
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn accepting(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        headers
    }

    #[test]
    fn the_preferred_coding_is_chosen_as_node_does() {
        assert_eq!(negotiate(&HeaderMap::new()), None);
        assert_eq!(
            negotiate(&accepting("gzip, deflate, br")),
            Some(Encoding::Gzip)
        );
        assert_eq!(
            negotiate(&accepting("deflate, gzip")),
            Some(Encoding::Deflate)
        );
        assert_eq!(
            negotiate(&accepting("gzip;q=0.5, deflate")),
            Some(Encoding::Deflate)
        );
        assert_eq!(negotiate(&accepting("gzip;q=0, deflate;q=0")), None);
        assert_eq!(negotiate(&accepting("br, identity")), None);
        assert_eq!(negotiate(&accepting("*")), Some(Encoding::Gzip));
        assert_eq!(
            negotiate(&accepting("*;q=0.1, deflate;q=0.5")),
            Some(Encoding::Deflate)
        );
    }

    /// The body of a response.
    fn body(response: Response<ResponseBody>) -> Bytes {
        use http_body_util::BodyExt;
        let collected = futures_util::FutureExt::now_or_never(response.into_body().collect());
        collected
            .and_then(Result::ok)
            .map(|body| body.to_bytes())
            .unwrap_or_default()
    }

    #[test]
    fn bodies_from_the_threshold_on_are_compressed_and_decode() {
        let text = "4".to_owned() + &"hello ".repeat(400);
        let ok = |accept: &str, compression: HttpCompression, text: &str| {
            let compress = compression.for_request(&accepting(accept));
            Compress::ok(compress, Bytes::from(text.to_owned()))
        };
        let compression = HttpCompression::default();
        let small = ok("gzip", compression, "4small");
        assert!(small.headers().get(header::CONTENT_ENCODING).is_none());
        let large = ok("gzip", compression, &text);
        assert_eq!(large.headers()[header::CONTENT_ENCODING], "gzip");
        let bytes = body(large);
        assert!(bytes.len() < text.len() / 10);
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, text);
        let bytes = body(ok("deflate", compression, &text));
        let mut decoded = String::new();
        flate2::read::ZlibDecoder::new(&bytes[..])
            .read_to_string(&mut decoded)
            .unwrap();
        assert_eq!(decoded, text);
        let off = ok("gzip", HttpCompression::off(), &text);
        assert!(off.headers().get(header::CONTENT_ENCODING).is_none());
        let high = ok("gzip", HttpCompression::default().threshold(100_000), &text);
        assert!(high.headers().get(header::CONTENT_ENCODING).is_none());
    }
}
