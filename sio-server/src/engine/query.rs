//! The query parameters the engine reads.

use std::borrow::Cow;

use sio_core::{EngineVersion, Transport};

/// `EIO`, `transport` and `sid`; the rest (such as the `t` cache-buster) is ignored.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Query<'a> {
    pub(crate) version: Option<EngineVersion>,
    pub(crate) transport: Option<Transport>,
    pub(crate) sid: Option<Cow<'a, str>>,
}

impl<'a> Query<'a> {
    pub(crate) fn parse(query: &'a str) -> Self {
        let mut parsed = Query::default();
        let mut seen_version = false;
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            match &*key {
                // The first, as `HandshakeInfo::engine_version` reads it: a request naming two
                // versions is served as the one it is admitted as.
                "EIO" if !seen_version => {
                    seen_version = true;
                    parsed.version = EngineVersion::from_query(&value);
                }
                "transport" => parsed.transport = Transport::from_query(&value),
                "sid" => parsed.sid = Some(value),
                _ => {}
            }
        }
        parsed
    }
}

#[cfg(test)]
mod tests {
    use super::Query;
    use sio_core::{EngineVersion, Transport};

    #[test]
    fn reads_version_transport_and_sid() {
        let query = Query::parse("EIO=4&transport=websocket&sid=a%2Bb&t=Nx1");
        assert_eq!(query.version, Some(EngineVersion::V4));
        assert_eq!(query.transport, Some(Transport::WebSocket));
        assert_eq!(query.sid.as_deref(), Some("a+b"));
    }

    #[test]
    fn unknown_values_read_as_absent() {
        let query = Query::parse("EIO=2&transport=carrier-pigeon");
        assert_eq!(query, Query::default());
        assert_eq!(Query::parse("EIO=3").version, Some(EngineVersion::V3));
        assert_eq!(Query::parse("EIO=3&EIO=4").version, Some(EngineVersion::V3));
    }
}
