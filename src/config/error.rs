//! Configuration errors, each one line: where, which key, which value, what was expected.
//!
//! Locating a key is done on the span-keeping parse of `toml` (`DeTable`), so serde's
//! messages (which carry a byte span but no key path) and our own checks (which know the key
//! path but not the span) both end up as `file:line:column: key ...`.

use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// Why `collecte.toml` (or an environment override) could not become a [`super::Config`].
///
/// Every message is a single line an operator can act on without opening the source: the
/// place (`collecte.toml:12:8`, or `environment`), the dotted key, the value as written and
/// what would have been accepted.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file does not exist; the usual fix is `collecte init`.
    #[error(
        "{}: no such config file; run `collecte init` to write one, or name yours with --config or COLLECTE_CONFIG",
        path.display()
    )]
    NotFound {
        /// The path that was looked for.
        path: PathBuf,
    },
    /// The file exists but could not be read (permissions, not UTF-8, ...).
    #[error("{}: cannot read the config file: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O or decoding error, as text.
        reason: String,
    },
    /// The file is not valid TOML.
    #[error("{at}: TOML syntax error: {message}")]
    Syntax {
        /// `file:line:column`.
        at: String,
        /// The parser's description.
        message: String,
    },
    /// A key collecte does not know, most likely a typo or a key in the wrong table.
    #[error("{at}: unknown key {key}, expected {expected}")]
    UnknownKey {
        /// `file:line:column`.
        at: String,
        /// The dotted key, e.g. `bank.lead_day`.
        key: String,
        /// The keys allowed at that place.
        expected: String,
    },
    /// A key without a default is absent.
    #[error("{at}: {key} is missing, and it has no default")]
    MissingKey {
        /// `file:line:column` of the table that lacks it, or the file.
        at: String,
        /// The dotted key, e.g. `creditor.iban`.
        key: String,
    },
    /// A value of the wrong type or that does not pass its check.
    #[error("{at}: {key} = {value}: expected {expected}")]
    Invalid {
        /// `file:line:column`, the file, or `environment`.
        at: String,
        /// The dotted key, or the environment variable.
        key: String,
        /// The value as written (strings quoted).
        value: String,
        /// What would have been accepted, and why this was not.
        expected: String,
    },
}

/// One TOML source being validated: its display name, its text and its span-keeping parse,
/// so that any error can be pinned to a line and column.
pub(super) struct Source<'a> {
    name: String,
    text: &'a str,
    doc: Spanned<DeTable<'a>>,
}

impl<'a> Source<'a> {
    /// Parses `text` for its spans; a syntax error is reported here, once.
    pub fn parse(name: String, text: &'a str) -> Result<Self, ConfigError> {
        match DeTable::parse(text) {
            Ok(doc) => Ok(Self { name, text, doc }),
            Err(e) => Err(ConfigError::Syntax {
                at: position(&name, text, e.span()),
                message: fold(e.message()),
            }),
        }
    }

    /// Deserializes the raw layer, turning serde's message into a located, keyed error.
    pub fn deserialize<T: serde::de::DeserializeOwned>(&self) -> Result<T, ConfigError> {
        T::deserialize(toml::de::Deserializer::from(self.doc.clone())).map_err(|e| self.serde_error(&e))
    }

    /// `file:line:column` of `key`'s value, or just the file when the key is not written
    /// (its value is a default).
    pub fn at(&self, key: &str) -> String {
        position(&self.name, self.text, self.span_of(key))
    }

    /// An [`ConfigError::Invalid`] for `key`, located in this source.
    pub fn invalid(&self, key: &str, value: impl AsRef<str>, expected: impl AsRef<str>) -> ConfigError {
        invalid(self.at(key), key, value.as_ref(), expected.as_ref())
    }

    fn serde_error(&self, e: &toml::de::Error) -> ConfigError {
        // A span covering the whole document says nothing about where; name the file only.
        let span = e.span().filter(|s| *s != self.doc.span());
        let key = span
            .as_ref()
            .and_then(|s| key_at(self.doc.get_ref(), s, ""))
            .unwrap_or_default();
        let at = position(&self.name, self.text, span.clone());
        let message = fold(e.message());
        if let Some(rest) = message.strip_prefix("unknown field `") {
            let expected = rest
                .split_once(", expected ")
                .map(|(_, list)| list.replace('`', ""))
                .unwrap_or_else(|| "no key here".to_owned());
            return ConfigError::UnknownKey { at, key, expected };
        }
        if let Some(rest) = message.strip_prefix("missing field `") {
            let field = rest.trim_end_matches('`');
            let key = if key.is_empty() {
                field.to_owned()
            } else {
                format!("{key}.{field}")
            };
            return ConfigError::MissingKey { at, key };
        }
        let value = span.and_then(|s| self.text.get(s)).unwrap_or_default();
        let expected = match message.split_once(", expected ") {
            Some((_, expected)) => expected.replace('`', "\""),
            None => message,
        };
        invalid(at, &key, value.trim(), &plain_types(&expected))
    }

    fn span_of(&self, key: &str) -> Option<Range<usize>> {
        let mut table = self.doc.get_ref();
        let mut span = None;
        let mut segments = key.split('.').peekable();
        while let Some(segment) = segments.next() {
            let (name, indexes) = match segment.split_once('[') {
                Some((name, rest)) => (name, Some(rest)),
                None => (segment, None),
            };
            let (_, value) = table.iter().find(|(k, _)| k.get_ref() == name)?;
            let mut value: &Spanned<DeValue<'_>> = value;
            for index in indexes.iter().flat_map(|rest| rest.split('[')) {
                let i: usize = index.trim_end_matches(']').parse().ok()?;
                value = value.get_ref().as_array()?.get(i)?;
            }
            span = Some(value.span());
            if segments.peek().is_some() {
                table = value.get_ref().as_table()?;
            }
        }
        span
    }
}

/// The dotted path of the key whose name or value is exactly at `span`, or of the innermost
/// value containing it.
fn key_at(table: &DeTable<'_>, span: &Range<usize>, prefix: &str) -> Option<String> {
    let join = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    for (k, v) in table.iter() {
        let path = join(k.get_ref());
        if k.span() == *span {
            return Some(path);
        }
        if let Some(found) = value_key_at(v, span, &path) {
            return Some(found);
        }
    }
    None
}

fn value_key_at(value: &Spanned<DeValue<'_>>, span: &Range<usize>, path: &str) -> Option<String> {
    match value.get_ref() {
        DeValue::Table(inner) => {
            if let Some(found) = key_at(inner, span, path) {
                return Some(found);
            }
        }
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if let Some(found) = value_key_at(item, span, &format!("{path}[{i}]")) {
                    return Some(found);
                }
            }
        }
        _ => {}
    }
    let own = value.span();
    (own.start <= span.start && span.end <= own.end).then(|| path.to_owned())
}

/// A [`ConfigError::Invalid`], folded onto one line whatever the value and the checker's
/// message hold (the value cut to 100 characters).
pub(super) fn invalid(at: String, key: &str, value: &str, expected: &str) -> ConfigError {
    ConfigError::Invalid {
        at,
        key: key.to_owned(),
        value: one_line(value),
        expected: fold(expected),
    }
}

/// `name:line:column` (1-based) of the span's start, or `name` when there is none.
fn position(name: &str, text: &str, span: Option<Range<usize>>) -> String {
    let Some(span) = span else {
        return name.to_owned();
    };
    let before = text.get(..span.start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit_once('\n')
        .map_or(before, |(_, last)| last)
        .chars()
        .count()
        + 1;
    format!("{name}:{line}:{column}")
}

/// Folds text onto one line, so that an error never spans several lines of a log.
fn fold(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// [`fold`], cut to 100 characters.
fn one_line(text: &str) -> String {
    let folded = fold(text);
    if folded.chars().count() > 100 {
        let mut cut: String = folded.chars().take(97).collect();
        cut.push_str("...");
        cut
    } else {
        folded
    }
}

/// Replaces Rust type names and serde's jargon in an "expected ..." with words.
fn plain_types(expected: &str) -> String {
    match expected {
        "i64" | "u64" | "u32" | "i32" | "u8" => "an integer".to_owned(),
        "a boolean" | "bool" => "true or false".to_owned(),
        "a string" | "string" => "a string in quotes".to_owned(),
        "a sequence" => "an array [...]".to_owned(),
        "a map" => "a table".to_owned(),
        // A unit enum given something else than a string (toml's wording).
        "wanted string or table" => "a string in quotes".to_owned(),
        // The raw layer's struct names mean nothing to an operator.
        other if other.starts_with("struct ") => "a table".to_owned(),
        other => other.to_owned(),
    }
}
