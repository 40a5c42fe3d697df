//! Families of namespaces: `/workspace/{id}` stands for `/workspace/1`, `/workspace/abc`, ...
//! The rules live here, once, for the `#[consumer]` macro (which checks a pattern at compile
//! time) and the runtime (which matches the names clients connect to).

use std::fmt;

use thiserror::Error;

use crate::names::validate_namespace;

/// The longest namespace name a pattern matches, in bytes: a client cannot make the server
/// keep (and match against) names of any length.
pub const MAX_DYNAMIC_NAMESPACE_LEN: usize = 256;

/// Why a namespace pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatternError {
    /// The pattern is not a namespace once its parameters are taken for text.
    #[error("`{pattern}` is not a namespace: {reason}")]
    NotANamespace {
        /// The pattern.
        pattern: String,
        /// What the namespace rules say.
        reason: String,
    },
    /// A `{` or `}` that does not enclose a whole segment: `/room-{id}` or `/{id}x`.
    #[error(
        "a parameter must be a whole segment between slashes, as in `/workspace/{{id}}`: `{0}`"
    )]
    PartialSegment(String),
    /// A parameter name that is not an identifier: `{}` or `{1st}`.
    #[error(
        "`{0}` is not a parameter name: use letters, digits and `_`, not starting with a digit"
    )]
    InvalidParamName(String),
    /// Two parameters of the same name.
    #[error("parameter `{0}` appears twice")]
    DuplicateParam(String),
    /// A catch-all `{*rest}` that is not the last segment.
    #[error("the catch-all `{{*{0}}}` must be the last segment")]
    CatchAllNotLast(String),
}

/// One segment of a pattern, between slashes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// Text that must be there as it is.
    Literal(String),
    /// `{name}`: one non-empty segment.
    Param(String),
    /// `{*name}`: what is left of the name, at least one character, slashes included.
    CatchAll(String),
}

/// A family of namespaces with named parameters, as `#[consumer(namespace = "/workspace/{id}")]`
/// declares it: `{name}` stands for one segment (not empty, no `/`), and a last `{*name}` for
/// the rest of the name. A pattern with no parameter is one namespace.
///
/// ```
/// use sio_core::NamespacePattern;
///
/// let pattern = NamespacePattern::parse("/workspace/{id}/doc/{doc}").unwrap();
/// let params = pattern.matches("/workspace/7/doc/intro").unwrap();
/// assert_eq!(params, [("id", "7"), ("doc", "intro")]);
/// assert!(pattern.matches("/workspace/7").is_none());
///
/// let files = NamespacePattern::parse("/files/{*path}").unwrap();
/// assert_eq!(files.matches("/files/a/b.txt").unwrap(), [("path", "a/b.txt")]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamespacePattern {
    source: String,
    /// After the leading `/`, split on `/`.
    segments: Vec<Segment>,
}

impl NamespacePattern {
    /// Reads and checks a pattern.
    ///
    /// ```
    /// use sio_core::{NamespacePattern, PatternError};
    ///
    /// assert!(NamespacePattern::parse("/game/{room}").is_ok());
    /// assert_eq!(
    ///     NamespacePattern::parse("/game-{room}"),
    ///     Err(PatternError::PartialSegment("game-{room}".into()))
    /// );
    /// ```
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        // The pattern as written, and the text around its parameters, must make namespaces.
        let plain: String = pattern
            .chars()
            .filter(|c| !matches!(c, '{' | '}'))
            .collect();
        validate_namespace(pattern)
            .and_then(|()| validate_namespace(&plain))
            .map_err(|error| PatternError::NotANamespace {
                pattern: pattern.to_owned(),
                reason: error.to_string(),
            })?;
        let mut segments = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let parts: Vec<&str> = pattern[1..].split('/').collect();
        for (index, part) in parts.iter().enumerate() {
            let segment = match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(inner) if !inner.contains(['{', '}']) => {
                    let (name, catch_all) = match inner.strip_prefix('*') {
                        Some(name) => (name, true),
                        None => (inner, false),
                    };
                    if !is_identifier(name) {
                        return Err(PatternError::InvalidParamName(name.to_owned()));
                    }
                    if names.contains(&name) {
                        return Err(PatternError::DuplicateParam(name.to_owned()));
                    }
                    names.push(name);
                    if catch_all {
                        if index + 1 != parts.len() {
                            return Err(PatternError::CatchAllNotLast(name.to_owned()));
                        }
                        Segment::CatchAll(name.to_owned())
                    } else {
                        Segment::Param(name.to_owned())
                    }
                }
                _ if part.contains(['{', '}']) => {
                    return Err(PatternError::PartialSegment((*part).to_owned()));
                }
                _ => Segment::Literal((*part).to_owned()),
            };
            segments.push(segment);
        }
        Ok(NamespacePattern {
            source: pattern.to_owned(),
            segments,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether it has parameters (a family), or is one namespace.
    pub fn is_dynamic(&self) -> bool {
        self.segments
            .iter()
            .any(|segment| !matches!(segment, Segment::Literal(_)))
    }

    /// The names of its parameters, in order.
    ///
    /// ```
    /// let pattern = sio_core::NamespacePattern::parse("/org/{org}/{*path}").unwrap();
    /// assert_eq!(pattern.param_names().collect::<Vec<_>>(), ["org", "path"]);
    /// ```
    pub fn param_names(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|segment| match segment {
            Segment::Param(name) | Segment::CatchAll(name) => Some(name.as_str()),
            Segment::Literal(_) => None,
        })
    }

    /// The parameters of `name` if the pattern matches it, in order: `None` for a name it does
    /// not match, or one longer than [`MAX_DYNAMIC_NAMESPACE_LEN`].
    pub fn matches<'a>(&'a self, name: &'a str) -> Option<Vec<(&'a str, &'a str)>> {
        if name.len() > MAX_DYNAMIC_NAMESPACE_LEN {
            return None;
        }
        let mut rest = name.strip_prefix('/')?;
        let mut params = Vec::new();
        for (index, segment) in self.segments.iter().enumerate() {
            let last = index + 1 == self.segments.len();
            if let Segment::CatchAll(param) = segment {
                if rest.is_empty() {
                    return None;
                }
                params.push((param.as_str(), rest));
                return Some(params);
            }
            let (part, after) = match rest.split_once('/') {
                Some((part, after)) if !last => (part, Some(after)),
                Some(_) => return None,
                None if last => (rest, None),
                None => return None,
            };
            match segment {
                Segment::Literal(text) if text == part => {}
                Segment::Param(param) if !part.is_empty() => params.push((param.as_str(), part)),
                _ => return None,
            }
            rest = after.unwrap_or_default();
        }
        Some(params)
    }

    /// Whether some name matches both patterns: two consumers may not share one.
    ///
    /// ```
    /// use sio_core::NamespacePattern;
    /// let parse = |p| NamespacePattern::parse(p).unwrap();
    /// assert!(parse("/a/{x}").overlaps(&parse("/{y}/b")));   // `/a/b`
    /// assert!(!parse("/a/{x}").overlaps(&parse("/b/{x}")));
    /// assert!(parse("/files/{*path}").overlaps(&parse("/files/{dir}/{file}")));
    /// ```
    pub fn overlaps(&self, other: &NamespacePattern) -> bool {
        overlap(&self.segments, &other.segments)
    }
}

/// Whether some name matches both lists of segments.
fn overlap(left: &[Segment], right: &[Segment]) -> bool {
    match (left.split_first(), right.split_first()) {
        (None, None) => true,
        (None, Some(_)) | (Some(_), None) => false,
        // A catch-all takes whatever is left, if it is not empty: anything but a last, empty
        // segment.
        (Some((Segment::CatchAll(_), _)), Some((first, rest)))
        | (Some((first, rest)), Some((Segment::CatchAll(_), _))) => {
            !(rest.is_empty() && *first == Segment::Literal(String::new()))
        }
        (Some((a, left_rest)), Some((b, right_rest))) => {
            let compatible = match (a, b) {
                (Segment::Literal(a), Segment::Literal(b)) => a == b,
                // A parameter takes a literal only if it is not empty.
                (Segment::Param(_), Segment::Literal(text))
                | (Segment::Literal(text), Segment::Param(_)) => !text.is_empty(),
                _ => true,
            };
            compatible && overlap(left_rest, right_rest)
        }
    }
}

impl fmt::Display for NamespacePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::{MAX_DYNAMIC_NAMESPACE_LEN, NamespacePattern, PatternError};

    fn parse(pattern: &str) -> NamespacePattern {
        NamespacePattern::parse(pattern).unwrap_or_else(|error| panic!("{pattern}: {error}"))
    }

    #[test]
    fn static_names_match_only_themselves() {
        let chat = parse("/chat");
        assert!(!chat.is_dynamic());
        assert_eq!(chat.matches("/chat"), Some(vec![]));
        assert_eq!(chat.matches("/chat/"), None);
        assert_eq!(chat.matches("/chats"), None);
        let root = parse("/");
        assert_eq!(root.matches("/"), Some(vec![]));
        assert_eq!(root.matches("/x"), None);
    }

    #[test]
    fn parameters_take_one_non_empty_segment() {
        let pattern = parse("/workspace/{id}");
        assert!(pattern.is_dynamic());
        assert_eq!(pattern.matches("/workspace/1"), Some(vec![("id", "1")]));
        assert_eq!(pattern.matches("/workspace/"), None);
        assert_eq!(pattern.matches("/workspace/1/2"), None);
        assert_eq!(pattern.matches("/workspace"), None);
        assert_eq!(pattern.matches("workspace/1"), None);
        let nested = parse("/{org}/{repo}");
        assert_eq!(
            nested.matches("/rust-lang/rust"),
            Some(vec![("org", "rust-lang"), ("repo", "rust")])
        );
    }

    #[test]
    fn a_catch_all_takes_the_rest() {
        let pattern = parse("/files/{*path}");
        assert_eq!(pattern.matches("/files/a"), Some(vec![("path", "a")]));
        assert_eq!(pattern.matches("/files/a/b/"), Some(vec![("path", "a/b/")]));
        assert_eq!(pattern.matches("/files/"), None);
        assert_eq!(pattern.matches("/files"), None);
    }

    #[test]
    fn names_beyond_the_bound_match_nothing() {
        let pattern = parse("/{*rest}");
        let long = format!("/{}", "a".repeat(MAX_DYNAMIC_NAMESPACE_LEN));
        assert_eq!(pattern.matches(&long), None);
        assert!(
            pattern
                .matches(&long[..MAX_DYNAMIC_NAMESPACE_LEN])
                .is_some()
        );
    }

    #[test]
    fn mistakes_are_named() {
        let error = |pattern| NamespacePattern::parse(pattern).unwrap_err();
        assert!(matches!(
            error("chat/{id}"),
            PatternError::NotANamespace { .. }
        ));
        assert!(matches!(
            error("/chat/{id},x"),
            PatternError::NotANamespace { .. }
        ));
        // A brace before the slash would hide that the name does not start with one.
        assert!(matches!(
            error("}/{id}"),
            PatternError::NotANamespace { .. }
        ));
        assert_eq!(
            error("/room-{id}"),
            PatternError::PartialSegment("room-{id}".into())
        );
        assert_eq!(
            error("/{id}x"),
            PatternError::PartialSegment("{id}x".into())
        );
        assert_eq!(
            error("/{{id}}"),
            PatternError::PartialSegment("{{id}}".into())
        );
        assert_eq!(error("/{}"), PatternError::InvalidParamName(String::new()));
        assert_eq!(
            error("/{1st}"),
            PatternError::InvalidParamName("1st".into())
        );
        assert_eq!(
            error("/{a-b}"),
            PatternError::InvalidParamName("a-b".into())
        );
        assert_eq!(
            error("/{id}/{id}"),
            PatternError::DuplicateParam("id".into())
        );
        assert_eq!(
            error("/{*rest}/x"),
            PatternError::CatchAllNotLast("rest".into())
        );
    }

    #[test]
    fn overlapping_patterns_are_found() {
        let overlap = |a, b| {
            let (a, b) = (parse(a), parse(b));
            assert_eq!(a.overlaps(&b), b.overlaps(&a), "symmetric");
            a.overlaps(&b)
        };
        assert!(overlap("/workspace/{id}", "/workspace/{other}"));
        assert!(overlap("/workspace/{id}", "/{kind}/{id}"));
        assert!(overlap("/workspace/{id}", "/workspace/1"));
        assert!(!overlap("/workspace/{id}", "/workspace/{id}/doc"));
        assert!(!overlap("/workspace/{id}", "/game/{id}"));
        assert!(overlap("/{*all}", "/a/b/c"));
        assert!(!overlap("/a/{*rest}", "/a"));
        assert!(!overlap("/a/{*rest}", "/a/"), "a catch-all is never empty");
        assert!(overlap("/a/{*rest}", "/a//b"));
        assert!(overlap("/{*x}", "/{*y}"));
        assert!(!overlap("/a/{x}", "/a/"), "a parameter is never empty");
        assert!(overlap("/", "/"));
        assert!(!overlap("/", "/{x}"));
    }
}
