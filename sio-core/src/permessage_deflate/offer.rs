//! The negotiation (RFC 7692, 7.1): the first permessage-deflate offer the server can honour
//! is accepted, the others declined.

/// What the server agreed to with one client: the `Sec-WebSocket-Extensions` answer, and
/// whether the client keeps its compression context from one message to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeflateAgreement {
    client_context_takeover: bool,
    /// The offer limited the server's window: the answer says the server keeps to it (15, the
    /// only size the compressor has).
    server_window_named: bool,
}

/// The extension's token.
const NAME: &str = "permessage-deflate";

/// One offer's parameters, as the client sent them.
#[derive(Debug, Default)]
struct Offer {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    client_max_window_bits: Option<Option<u8>>,
}

impl DeflateAgreement {
    /// Accepts the first permessage-deflate offer among the values of a client's
    /// `Sec-WebSocket-Extensions` headers that this server can honour, or none.
    ///
    /// An offer with an unknown, repeated or malformed parameter is declined, as is one that
    /// limits the server's window below 15 bits (the compressor has no smaller window). With
    /// `client_context_takeover` false, the answer asks the client to compress each message
    /// on its own, so the server keeps no inflater between messages.
    ///
    /// ```
    /// use sio_core::permessage_deflate::DeflateAgreement;
    ///
    /// let offers = ["permessage-deflate; server_max_window_bits=10, permessage-deflate"];
    /// let agreement = DeflateAgreement::negotiate(offers, true).unwrap();
    /// assert_eq!(agreement.response(), "permessage-deflate; server_no_context_takeover");
    /// assert!(agreement.client_context_takeover());
    /// assert_eq!(DeflateAgreement::negotiate(["x-webkit-deflate-frame"], true), None);
    /// ```
    pub fn negotiate<'a>(
        header_values: impl IntoIterator<Item = &'a str>,
        client_context_takeover: bool,
    ) -> Option<Self> {
        header_values
            .into_iter()
            .flat_map(|value| split_outside_quotes(value, ','))
            .filter_map(parse_offer)
            .find(|offer| offer.server_max_window_bits.is_none_or(|bits| bits == 15))
            .map(|offer| DeflateAgreement {
                client_context_takeover: client_context_takeover
                    && !offer.client_no_context_takeover,
                server_window_named: offer.server_max_window_bits.is_some(),
            })
    }

    /// The value of the `Sec-WebSocket-Extensions` header of the `101` answer.
    pub fn response(&self) -> String {
        let mut response = format!("{NAME}; server_no_context_takeover");
        if self.server_window_named {
            response.push_str("; server_max_window_bits=15");
        }
        if !self.client_context_takeover {
            response.push_str("; client_no_context_takeover");
        }
        response
    }

    /// Whether the client compresses each message with what it sent before: then an inflater
    /// lives as long as the connection, else only while a message arrives.
    pub fn client_context_takeover(&self) -> bool {
        self.client_context_takeover
    }
}

/// One offer, if it is permessage-deflate with valid parameters.
fn parse_offer(offer: &str) -> Option<Offer> {
    let mut parts = split_outside_quotes(offer, ';').map(str::trim);
    if !parts.next()?.eq_ignore_ascii_case(NAME) {
        return None;
    }
    let mut parsed = Offer::default();
    for parameter in parts {
        let (name, value) = match parameter.split_once('=') {
            Some((name, value)) => (name.trim(), Some(unquote(value.trim())?)),
            None => (parameter, None),
        };
        match (name.to_ascii_lowercase().as_str(), value) {
            ("server_no_context_takeover", None) if !parsed.server_no_context_takeover => {
                parsed.server_no_context_takeover = true;
            }
            ("client_no_context_takeover", None) if !parsed.client_no_context_takeover => {
                parsed.client_no_context_takeover = true;
            }
            ("server_max_window_bits", Some(value)) if parsed.server_max_window_bits.is_none() => {
                parsed.server_max_window_bits = Some(window_bits(value)?);
            }
            ("client_max_window_bits", value) if parsed.client_max_window_bits.is_none() => {
                let bits = match value {
                    Some(value) => Some(window_bits(value)?),
                    None => None,
                };
                parsed.client_max_window_bits = Some(bits);
            }
            _ => return None,
        }
    }
    Some(parsed)
}

/// A window size parameter: 8 to 15, in decimal without leading zeros (RFC 7692, 7.1.2).
fn window_bits(value: &str) -> Option<u8> {
    if value.starts_with('0') || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|bits| (8..=15).contains(bits))
}

/// A parameter's value without the quotes of a quoted string (RFC 6455, 9.1).
fn unquote(value: &str) -> Option<&str> {
    match value.strip_prefix('"') {
        Some(quoted) => quoted.strip_suffix('"'),
        None => Some(value),
    }
}

/// `value` split at each `separator` that is not inside a quoted string.
fn split_outside_quotes(value: &str, separator: char) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    value.split(move |c: char| {
        if c == '"' {
            quoted = !quoted;
        }
        c == separator && !quoted
    })
}

#[cfg(test)]
mod tests {
    use super::DeflateAgreement;

    fn answer(offers: &[&str], client_context_takeover: bool) -> Option<String> {
        DeflateAgreement::negotiate(offers.iter().copied(), client_context_takeover)
            .map(|agreement| agreement.response())
    }

    #[test]
    fn what_browsers_and_node_offer_is_accepted() {
        let chromium = "permessage-deflate; client_max_window_bits";
        assert_eq!(
            answer(&[chromium], false).as_deref(),
            Some("permessage-deflate; server_no_context_takeover; client_no_context_takeover")
        );
        assert_eq!(
            answer(&[chromium], true).as_deref(),
            Some("permessage-deflate; server_no_context_takeover")
        );
    }

    #[test]
    fn the_client_may_give_up_its_context_of_its_own() {
        let agreement =
            DeflateAgreement::negotiate(["permessage-deflate; client_no_context_takeover"], true)
                .unwrap();
        assert!(!agreement.client_context_takeover());
        assert!(
            agreement
                .response()
                .ends_with("; client_no_context_takeover")
        );
    }

    #[test]
    fn a_window_the_compressor_cannot_keep_to_declines_the_offer() {
        assert_eq!(
            answer(&["permessage-deflate; server_max_window_bits=12"], true),
            None
        );
        assert_eq!(
            answer(
                &[
                    "permessage-deflate; server_max_window_bits=12",
                    "permessage-deflate; server_max_window_bits=\"15\""
                ],
                true
            )
            .as_deref(),
            Some("permessage-deflate; server_no_context_takeover; server_max_window_bits=15")
        );
    }

    #[test]
    fn malformed_offers_are_declined_and_the_next_one_taken() {
        for bad in [
            "permessage-deflate; unknown",
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            "permessage-deflate; client_max_window_bits=7",
            "permessage-deflate; client_max_window_bits=16",
            "permessage-deflate; client_max_window_bits=09",
            "permessage-deflate; server_max_window_bits",
            "permessage-deflate; client_no_context_takeover=1",
            "deflate-frame",
        ] {
            assert_eq!(answer(&[bad], true), None, "{bad}");
            let offers = format!("{bad}, permessage-deflate; client_max_window_bits=10");
            assert!(answer(&[&offers], true).is_some(), "{offers}");
        }
    }

    #[test]
    fn an_unclosed_quote_spoils_the_rest_of_its_header() {
        let offers = "permessage-deflate; client_max_window_bits=\"10, permessage-deflate";
        assert_eq!(answer(&[offers], true), None);
        assert!(answer(&[offers, "permessage-deflate"], true).is_some());
    }

    #[test]
    fn offers_may_come_in_several_headers() {
        assert!(answer(&["foo; a=\"x,y\"", "PERMESSAGE-DEFLATE"], true).is_some());
        assert_eq!(answer(&[], true), None);
    }
}
