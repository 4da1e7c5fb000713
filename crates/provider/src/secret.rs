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

    /// Returns `s` with every secret replaced, and every run of 8 or more characters of a
    /// secret too: servers echo keys masked (`sk-proj-abcd****wxyz`), and a long enough piece of
    /// a key is still a secret.
    pub fn clean(&self, s: &str) -> String {
        let mut out = s.to_string();
        for secret in &self.secrets {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), REDACTED);
            }
        }
        for secret in &self.secrets {
            out = redact_fragments(&out, secret);
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

/// Replaces every span of `text` covered by an 8-character (or longer) piece of `secret`.
fn redact_fragments(text: &str, secret: &str) -> String {
    const PIECE: usize = 8;
    if !secret.is_ascii() || secret.len() < 2 * PIECE {
        return text.to_string();
    }
    let pieces: std::collections::HashSet<&[u8]> = secret.as_bytes().windows(PIECE).collect();
    let bytes = text.as_bytes();
    let mut covered = vec![false; bytes.len()];
    let mut any = false;
    for i in 0..bytes.len().saturating_sub(PIECE - 1) {
        if pieces.contains(&bytes[i..i + PIECE]) {
            covered[i..i + PIECE].iter_mut().for_each(|c| *c = true);
            any = true;
        }
    }
    if !any {
        return text.to_string();
    }
    // Pieces are ASCII, so covered spans start and end on character boundaries.
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        if covered[i] {
            out.push_str(REDACTED);
            while i < bytes.len() && covered[i] {
                i += 1;
            }
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
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

    #[test]
    fn masked_and_partial_echoes_are_redacted() {
        let mut r = Redactor::default();
        r.add(&ApiKey::new("sk-QASECRET-0123456789-fXYZ"));
        // The masked form OpenAI prints in a 401 body: its 8-character visible piece goes.
        assert_eq!(
            r.clean("Incorrect API key provided: sk-QASEC****fXYZ."),
            "Incorrect API key provided: [redacted]****fXYZ."
        );
        assert_eq!(r.clean("key sk-QASECRET-01****"), "key [redacted]****");
        assert_eq!(r.clean("tail 0123456789-fXYZ!"), "tail [redacted]!");
        // Short common pieces of text are left alone.
        assert_eq!(r.clean("sk- and fXYZ and 0123"), "sk- and fXYZ and 0123");
        assert_eq!(r.clean("é sk-QASECRET-0123 ü"), "é [redacted] ü");
    }
}
