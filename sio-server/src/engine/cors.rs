//! Cross-origin rules for browsers that reach the server from another origin.

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE, ACCESS_CONTROL_REQUEST_HEADERS, ORIGIN,
    VARY,
};
use http::{HeaderMap, HeaderValue};

/// Which origins may call the server from a browser, and whether with credentials (cookies).
///
/// Without a `Cors`, the server sends no CORS headers, so browsers only reach it from its own
/// origin.
///
/// ```
/// use sio_server::engine::Cors;
/// let any = Cors::any();
/// let listed = Cors::origins(["https://chat.example"]).credentials(true);
/// # let _ = (any, listed);
/// ```
#[derive(Debug, Clone)]
pub struct Cors {
    origins: Origins,
    credentials: bool,
    max_age_secs: u32,
}

#[derive(Debug, Clone)]
enum Origins {
    Any,
    List(Vec<HeaderValue>),
}

impl Cors {
    /// Every origin (`Access-Control-Allow-Origin: *`, or the caller's origin with credentials).
    pub fn any() -> Self {
        Cors {
            origins: Origins::Any,
            credentials: false,
            max_age_secs: 86_400,
        }
    }

    /// Only these origins, such as `https://chat.example`; origins that are not valid header
    /// values are ignored.
    pub fn origins<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list = origins
            .into_iter()
            .filter_map(|origin| HeaderValue::from_str(origin.as_ref()).ok())
            .collect();
        Cors {
            origins: Origins::List(list),
            ..Cors::any()
        }
    }

    /// Whether browsers may send cookies and HTTP authentication along.
    pub fn credentials(mut self, allow: bool) -> Self {
        self.credentials = allow;
        self
    }

    /// How long browsers may cache a preflight answer.
    pub fn max_age_secs(mut self, seconds: u32) -> Self {
        self.max_age_secs = seconds;
        self
    }

    /// The origin to echo for a request's `Origin` header, if it is allowed.
    fn allowed_origin(&self, origin: Option<&HeaderValue>) -> Option<HeaderValue> {
        match &self.origins {
            Origins::Any if self.credentials => origin.cloned(),
            Origins::Any => Some(HeaderValue::from_static("*")),
            Origins::List(list) => origin.filter(|o| list.contains(o)).cloned(),
        }
    }

    /// Whether a WebSocket handshake with this `Origin` may proceed: any request without one
    /// (not a browser), and with an allow-list only the origins it names.
    pub(crate) fn admits(&self, origin: Option<&HeaderValue>) -> bool {
        match (&self.origins, origin) {
            (Origins::List(list), Some(origin)) => list.contains(origin),
            _ => true,
        }
    }

    /// Adds the CORS headers of an ordinary response to a request with this `Origin`.
    pub(crate) fn apply(&self, origin: Option<&HeaderValue>, response: &mut HeaderMap) {
        if let Some(origin) = self.allowed_origin(origin) {
            response.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            response.insert(VARY, HeaderValue::from_static("Origin"));
            if self.credentials {
                response.insert(
                    ACCESS_CONTROL_ALLOW_CREDENTIALS,
                    HeaderValue::from_static("true"),
                );
            }
        }
    }

    /// Adds the headers of a preflight (`OPTIONS`) answer.
    pub(crate) fn apply_preflight(&self, request: &HeaderMap, response: &mut HeaderMap) {
        let origin = request.get(ORIGIN);
        if self.allowed_origin(origin).is_none() {
            return;
        }
        self.apply(origin, response);
        response.insert(
            ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        if let Some(headers) = request.get(ACCESS_CONTROL_REQUEST_HEADERS) {
            response.insert(ACCESS_CONTROL_ALLOW_HEADERS, headers.clone());
        }
        response.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from(self.max_age_secs));
    }
}

#[cfg(test)]
mod tests {
    use http::header::{
        ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS,
        ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE,
        ACCESS_CONTROL_REQUEST_HEADERS, ORIGIN, VARY,
    };
    use http::{HeaderMap, HeaderValue};

    use super::Cors;

    fn applied(cors: &Cors, origin: Option<&str>) -> HeaderMap {
        let origin = origin.map(|o| HeaderValue::from_str(o).unwrap());
        let mut headers = HeaderMap::new();
        cors.apply(origin.as_ref(), &mut headers);
        headers
    }

    #[test]
    fn any_origin_answers_a_star_without_credentials() {
        let headers = applied(&Cors::any(), Some("https://a.example"));
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], "*");
        assert_eq!(headers[VARY], "Origin");
        assert!(!headers.contains_key(ACCESS_CONTROL_ALLOW_CREDENTIALS));
    }

    #[test]
    fn any_origin_with_credentials_echoes_the_caller() {
        let headers = applied(&Cors::any().credentials(true), Some("https://a.example"));
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_ORIGIN], "https://a.example");
        assert_eq!(headers[ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
        // Without an `Origin`, there is nobody to echo.
        assert!(applied(&Cors::any().credentials(true), None).is_empty());
    }

    #[test]
    fn a_list_admits_only_its_origins() {
        let cors = Cors::origins(["https://a.example", "not a header value\n"]);
        let admitted = applied(&cors, Some("https://a.example"));
        assert_eq!(admitted[ACCESS_CONTROL_ALLOW_ORIGIN], "https://a.example");
        assert!(applied(&cors, Some("https://b.example")).is_empty());
        assert!(applied(&cors, None).is_empty());
    }

    #[test]
    fn a_preflight_lists_methods_headers_and_max_age() {
        let cors = Cors::origins(["https://a.example"]).max_age_secs(60);
        let mut request = HeaderMap::new();
        request.insert(ORIGIN, HeaderValue::from_static("https://a.example"));
        request.insert(
            ACCESS_CONTROL_REQUEST_HEADERS,
            HeaderValue::from_static("x-token"),
        );
        let mut response = HeaderMap::new();
        cors.apply_preflight(&request, &mut response);
        assert_eq!(response[ACCESS_CONTROL_ALLOW_ORIGIN], "https://a.example");
        assert_eq!(response[ACCESS_CONTROL_ALLOW_METHODS], "GET, POST");
        assert_eq!(response[ACCESS_CONTROL_ALLOW_HEADERS], "x-token");
        assert_eq!(response[ACCESS_CONTROL_MAX_AGE], "60");

        request.insert(ORIGIN, HeaderValue::from_static("https://b.example"));
        let mut refused = HeaderMap::new();
        cors.apply_preflight(&request, &mut refused);
        assert!(refused.is_empty());
    }
}
