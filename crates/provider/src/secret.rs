//! API keys and redaction.
//!
//! Keys are read from the environment once, when a dry-run is prepared, and live only in
//! [`ApiKey`]. Nothing in this crate can print one: `Debug` and `Display` say `[redacted]`,
//! there is no `Serialize`, and every string that comes back from a server (error messages,
//! body snippets, even answers — a hostile or buggy server may echo headers) passes through
//! [`Redactor`] before it reaches a report or an error.

use std::fmt;

/// What every secret prints as.
pub const REDACTED: &str = "[redacted]";

/// An API key. Deliberately not `Serialize`, and its `Debug`/`Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key read from the environment.
    pub fn new(value: impl Into<String>) -> Self {
        ApiKey(value.into())
    }

    /// The raw value, only for putting on the wire.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Replaces every known secret value in a string by `[redacted]`.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Vec<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} secrets)", self.secrets.len())
    }
}

impl Redactor {
    pub(crate) fn add(&mut self, key: &ApiKey) {
        let v = key.expose();
        if !v.is_empty() && !self.secrets.iter().any(|s| s == v) {
            self.secrets.push(v.to_string());
            // Longest first, so a key that contains another key is replaced whole.
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }

    /// Returns `s` with every secret replaced.
    pub fn clean(&self, s: &str) -> String {
        let mut out = s.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        out
    }

    /// Redacts every string inside a JSON value (keys included).
    pub(crate) fn clean_json(&self, v: &serde_json::Value) -> serde_json::Value {
        use serde_json::Value;
        if self.secrets.is_empty() {
            return v.clone();
        }
        match v {
            Value::String(s) => Value::String(self.clean(s)),
            Value::Array(a) => Value::Array(a.iter().map(|x| self.clean_json(x)).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, x)| (self.clean(k), self.clean_json(x))).collect()),
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_never_formats() {
        let k = ApiKey::new("sk-live-123456");
        assert_eq!(format!("{k}"), REDACTED);
        assert_eq!(format!("{k:?}"), REDACTED);
        let mut r = Redactor::default();
        r.add(&k);
        assert_eq!(r.clean("key sk-live-123456!"), "key [redacted]!");
    }
}
