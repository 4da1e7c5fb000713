//! Who did something and when. Both appear in hashed encodings, so both are validated and
//! normalised here: an actor is one line of printable text; a time is RFC 3339 in UTC.

use std::fmt;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("invalid actor {0:?}: use one line of text without control characters")]
    Actor(String),
    #[error("invalid time {0:?}: use RFC 3339, e.g. 2026-01-31T12:00:00Z")]
    Time(String),
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Actor(String);

impl Actor {
    pub fn new(s: &str) -> Result<Self, SignatureError> {
        let t = s.trim();
        if t.is_empty() || t.len() > 256 || t.chars().any(|c| c.is_control()) {
            return Err(SignatureError::Actor(s.to_string()));
        }
        Ok(Actor(t.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A point in time, stored with second precision in UTC so that its text form is canonical.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
pub struct Timestamp(i64);

impl Timestamp {
    pub fn now() -> Self {
        Timestamp(OffsetDateTime::now_utc().unix_timestamp())
    }
    pub fn from_unix(secs: i64) -> Self {
        Timestamp(secs)
    }
    pub fn unix(&self) -> i64 {
        self.0
    }
    pub fn parse(s: &str) -> Result<Self, SignatureError> {
        let t = OffsetDateTime::parse(s.trim(), &Rfc3339).map_err(|_| SignatureError::Time(s.to_string()))?;
        Ok(Timestamp(t.unix_timestamp()))
    }
    pub fn to_datetime(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
    /// `2026-12-03T10:19:00Z`
    pub fn to_rfc3339(&self) -> String {
        self.to_datetime().format(&Rfc3339).unwrap_or_else(|_| self.0.to_string())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_is_normalised_to_utc() {
        let t = Timestamp::parse("2026-12-03T11:19:00+01:00").expect("parse");
        assert_eq!(t.to_rfc3339(), "2026-12-03T10:19:00Z");
        assert!(Timestamp::parse("yesterday").is_err());
    }

    #[test]
    fn actor_is_one_line() {
        assert!(Actor::new("Ada Lovelace").is_ok());
        assert!(Actor::new("a\nb").is_err());
        assert!(Actor::new("  ").is_err());
    }
}
