//! Token counting before sending.
//!
//! OpenAI models are counted with tiktoken (o200k_base / cl100k_base embedded in tiktoken-rs,
//! so it works offline) plus the chat framing of OpenAI's cookbook (3 tokens per message and 3
//! to prime the reply). Nothing offline tokenizes Claude or Llama, so for every other model the
//! o200k count is raised by a stated margin (default +20 %) and labelled an estimate.
//!
//! Building a tiktoken table costs about 220 ms (release build), far more than the whole
//! overhead allowed before a request is on the wire. So a run first decides with a cheap upper
//! bound — a byte-level BPE token always covers at least one byte, so the UTF-8 length bounds
//! the count — and only waits for the real count (started in the background) when that bound
//! is not enough to decide a budget or context-window check.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::Serialize;
use tiktoken_rs::CoreBPE;

use crate::config::ProviderKind;
use crate::params::Message;

/// Default margin for estimates where no exact tokenizer exists.
pub const DEFAULT_ESTIMATE_MARGIN: f64 = 0.2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    O200kBase,
    Cl100kBase,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::O200kBase => "o200k_base",
            Encoding::Cl100kBase => "cl100k_base",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CountMethod {
    /// tiktoken with the model's own encoding.
    Tiktoken,
    /// o200k count plus `margin_pct`: no offline tokenizer for this model.
    Estimate,
    /// UTF-8 bytes: a guaranteed upper bound, used when it was enough to decide.
    ByteUpperBound,
}

/// A token figure and how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenCount {
    pub tokens: u64,
    pub method: CountMethod,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin_pct: Option<f64>,
}

impl TokenCount {
    /// Human label: "tiktoken o200k_base", "estimate (o200k_base +20%)", "upper bound (bytes)".
    pub fn label(&self) -> String {
        let enc = self.encoding.map(Encoding::as_str).unwrap_or("?");
        match self.method {
            CountMethod::Tiktoken => format!("tiktoken {enc}"),
            CountMethod::Estimate => {
                format!("estimate: {enc} +{}%", self.margin_pct.unwrap_or(0.0))
            }
            CountMethod::ByteUpperBound => "upper bound: UTF-8 bytes".into(),
        }
    }
}

/// How one target's input is counted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CountRule {
    pub encoding: Encoding,
    /// `None`: exact tiktoken count. `Some(m)`: estimate, raised by `m` (0.2 = +20 %).
    pub margin: Option<f64>,
    pub per_message: u64,
}

impl CountRule {
    pub fn for_target(kind: ProviderKind, model: &str, margin: Option<f64>) -> Self {
        let margin = margin.unwrap_or(DEFAULT_ESTIMATE_MARGIN);
        let estimate = CountRule { encoding: Encoding::O200kBase, margin: Some(margin), per_message: 3 };
        if kind != ProviderKind::Openai {
            return estimate;
        }
        use tiktoken_rs::tokenizer::{get_tokenizer, Tokenizer};
        // gpt-3.5 framing is 4 per message (cookbook); everything newer is 3.
        let per_message = if model.starts_with("gpt-3.5") { 4 } else { 3 };
        match get_tokenizer(model) {
            Some(Tokenizer::O200kBase) => CountRule { encoding: Encoding::O200kBase, margin: None, per_message },
            Some(Tokenizer::Cl100kBase) => CountRule { encoding: Encoding::Cl100kBase, margin: None, per_message },
            // Open-weights models behind an OpenAI-compatible server, or legacy encodings.
            _ => estimate,
        }
    }

    /// Raw framed count → the figure checks use.
    pub fn apply(&self, raw: u64) -> u64 {
        match self.margin {
            None => raw,
            Some(m) => (raw as f64 * (1.0 + m)).ceil() as u64,
        }
    }

    pub fn count(&self, raw: u64) -> TokenCount {
        TokenCount {
            tokens: self.apply(raw),
            method: if self.margin.is_some() { CountMethod::Estimate } else { CountMethod::Tiktoken },
            encoding: Some(self.encoding),
            margin_pct: self.margin.map(|m| (m * 1000.0).round() / 10.0),
        }
    }

    /// Upper bound without a tokenizer (see module docs).
    pub fn bound(&self, messages: &[Message]) -> TokenCount {
        TokenCount {
            tokens: self.apply(byte_bound(messages, self.per_message)),
            method: CountMethod::ByteUpperBound,
            encoding: None,
            margin_pct: self.margin.map(|m| (m * 1000.0).round() / 10.0),
        }
    }
}

pub(crate) fn byte_bound(messages: &[Message], per_message: u64) -> u64 {
    messages.iter().map(|m| per_message + m.role.len() as u64 + m.content.len() as u64).sum::<u64>() + 3
}

fn bpe(enc: Encoding) -> Option<&'static CoreBPE> {
    static O200K: OnceLock<Option<CoreBPE>> = OnceLock::new();
    static CL100K: OnceLock<Option<CoreBPE>> = OnceLock::new();
    match enc {
        Encoding::O200kBase => O200K.get_or_init(|| tiktoken_rs::o200k_base().ok()),
        Encoding::Cl100kBase => CL100K.get_or_init(|| tiktoken_rs::cl100k_base().ok()),
    }
    .as_ref()
}

/// Tokens of a plain text (no framing). `None` only if the embedded table failed to load.
pub fn count_text(enc: Encoding, text: &str) -> Option<u64> {
    // encode_ordinary: text that looks like a special token is just text to the API.
    bpe(enc).map(|b| b.encode_ordinary(text).len() as u64)
}

/// Framed chat count (cookbook formula), before any margin.
pub fn count_messages(enc: Encoding, per_message: u64, messages: &[Message]) -> Option<u64> {
    let b = bpe(enc)?;
    let mut n = 3;
    for m in messages {
        n += per_message + b.encode_ordinary(&m.role).len() as u64 + b.encode_ordinary(&m.content).len() as u64;
    }
    Some(n)
}

/// Raw framed counts per (encoding, per_message) pair.
pub(crate) type RawCounts = BTreeMap<(Encoding, u64), Option<u64>>;

pub(crate) fn count_all(keys: &[(Encoding, u64)], messages: &[Message]) -> RawCounts {
    keys.iter().map(|&(e, pm)| ((e, pm), count_messages(e, pm, messages))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bound_is_above_count() {
        let msgs = vec![
            Message::new("system", "Be brief. Ünïcödé ✓ 日本語"),
            Message::new("user", "hello <|endoftext|> world"),
        ];
        let exact = count_messages(Encoding::O200kBase, 3, &msgs).unwrap_or(0);
        assert!(exact > 0);
        assert!(byte_bound(&msgs, 3) >= exact);
    }

    #[test]
    fn rules() {
        let r = CountRule::for_target(ProviderKind::Openai, "gpt-4o", None);
        assert_eq!(r.margin, None);
        assert_eq!(r.encoding, Encoding::O200kBase);
        let r = CountRule::for_target(ProviderKind::Openai, "gpt-4", None);
        assert_eq!(r.encoding, Encoding::Cl100kBase);
        let r = CountRule::for_target(ProviderKind::Openai, "llama3", None);
        assert_eq!(r.margin, Some(DEFAULT_ESTIMATE_MARGIN));
        let r = CountRule::for_target(ProviderKind::Anthropic, "claude-3-5-sonnet", Some(0.0));
        assert_eq!(r.apply(2000), 2000);
        assert_eq!(r.count(10).method, CountMethod::Estimate);
    }
}
