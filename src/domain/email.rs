//! Email addresses of customers, billing contacts and admins.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An address mail can plausibly be delivered to: one `@`, a local part, a domain with a dot
/// (or `localhost`), no whitespace or angle brackets.
///
/// Deliberately not RFC 5322 in full: the point is to catch the typos and pasted junk that
/// would otherwise make a digest or a card warning bounce, without refusing real addresses.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress(String);

/// Why an email address was refused, with the address as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid email address {input:?}: {reason}")]
pub struct EmailError {
    /// The address as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl EmailAddress {
    /// Parses an address; surrounding whitespace is trimmed.
    pub fn parse(input: &str) -> Result<Self, EmailError> {
        let fail = |reason: &str| EmailError {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(fail("is empty"));
        }
        if s.len() > 254 {
            return Err(fail("is longer than 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(fail("contains a space or a control character"));
        }
        if s.chars().any(|c| matches!(c, '<' | '>' | ',' | ';')) {
            return Err(fail("contains one of < > , ;"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(fail("has no '@'"));
        };
        if local.is_empty() || domain.is_empty() || domain.contains('@') {
            return Err(fail("must be local-part@domain with exactly one '@'"));
        }
        let labels_ok = domain
            .split('.')
            .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if !labels_ok {
            return Err(fail(&format!(
                "domain {domain:?} has an empty or badly hyphenated label"
            )));
        }
        if !domain.contains('.') && domain != "localhost" {
            return Err(fail(&format!("domain {domain:?} has no dot")));
        }
        Ok(Self(s.to_owned()))
    }

    /// The address as stored and put in `To:` headers.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EmailAddress({})", self.0)
    }
}

impl FromStr for EmailAddress {
    type Err = EmailError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for EmailAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for EmailAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "a@b.fr",
            " billing@demo.example ",
            "first.last+tag@sub.example.com",
            "root@localhost",
        ] {
            assert!(EmailAddress::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_junk() {
        for bad in [
            "", "a", "a@", "@b.fr", "a@b", "a@@b.fr", "a b@c.fr", "a@b..fr", "<a@b.fr>", "a@-b.fr",
        ] {
            assert!(EmailAddress::parse(bad).is_err(), "{bad}");
        }
    }
}
