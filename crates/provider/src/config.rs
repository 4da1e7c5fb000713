//! The `providers` and `routing` sections of `promptctl.yaml`.
//!
//! Every struct denies unknown fields: a misspelt `latency_slo_ms` that silently fell back to a
//! default would defeat the point of a policy. serde_yaml's messages already name the path
//! (`routing.default: unknown field ...`) with line and column; [`PolicyConfig::validate`] adds
//! the checks serde cannot express, each naming its field.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Id of the built-in offline provider, usable even when `promptctl.yaml` does not list it,
/// so `promptctl dry-run --provider echo` works on a fresh machine.
pub const BUILTIN_ECHO: &str = "echo";

/// `providers` and `routing` from `promptctl.yaml`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    #[serde(default)]
    pub providers: BTreeMap<String, ProviderConfig>,
    #[serde(default)]
    pub routing: BTreeMap<String, RouteConfig>,
}

/// The API shape a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// OpenAI Chat Completions, or any server speaking it (Ollama `/v1`, vLLM, llama.cpp, LM Studio).
    Openai,
    /// Anthropic Messages API.
    Anthropic,
    /// Ollama's native `/api/chat`.
    Ollama,
    /// Built in, offline, deterministic.
    Echo,
}

impl ProviderKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Ollama => "ollama",
            ProviderKind::Echo => "echo",
        }
    }
}

/// Which field carries the output limit on an OpenAI-compatible server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MaxTokensParam {
    MaxTokens,
    MaxCompletionTokens,
}

/// Price per million tokens, in USD.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    pub output: f64,
}

/// One entry under `providers:`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderConfig {
    pub kind: ProviderKind,
    /// Defaults: openai `https://api.openai.com/v1`, anthropic `https://api.anthropic.com`,
    /// ollama `http://127.0.0.1:11434`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// Required except for `kind: echo`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Name of the environment variable holding the key. No variable, no auth header
    /// (local servers); the key itself never appears in the file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key_env: Option<String>,
    /// Missing means unknown, never free: a route with a budget skips such a target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_per_mtok: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_window: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_tokens: Option<u64>,
    /// openai only: force `max_tokens` or `max_completion_tokens` instead of choosing by model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens_param: Option<MaxTokensParam>,
    /// Safety margin added to the o200k estimate where no exact tokenizer exists
    /// (fraction: 0.2 = +20 %). Default 0.2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_estimate_margin: Option<f64>,
    /// Retries on this target for retryable errors; overrides the route's `retries_per_target`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<u32>,
}

impl ProviderConfig {
    /// The provider used for `--provider echo` when the file does not define `echo`.
    pub fn builtin_echo() -> Self {
        ProviderConfig {
            kind: ProviderKind::Echo,
            base_url: None,
            model: Some("echo".into()),
            api_key_env: None,
            price_per_mtok: Some(Price { input: 0.0, output: 0.0 }),
            context_window: None,
            max_output_tokens: None,
            max_tokens_param: None,
            token_estimate_margin: None,
            retries: None,
        }
    }
}

/// One entry under `routing:`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RouteConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secondary: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// A longer ordered list, instead of primary/secondary/fallback.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<String>>,
    /// Ceiling for the whole dry-run, all attempts together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_token_budget_usd: Option<f64>,
    /// One overall deadline for the whole dry-run, shared by every attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_slo_ms: Option<u64>,
    /// Default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries_per_target: Option<u32>,
    /// Base of the exponential backoff when the server gives no Retry-After. Default 100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_backoff_ms: Option<u64>,
    /// Cap for one attempt. Default: an even share of the time left among the targets left,
    /// so a silent primary cannot eat the fallback's time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_timeout_ms: Option<u64>,
    /// Stream responses (SSE / NDJSON). The prompt's `model.stream` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// When streaming: limit from sending the request to the first real content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_token_timeout_ms: Option<u64>,
}

impl RouteConfig {
    /// Ordered target ids: `targets`, or primary, secondary, fallback.
    pub fn target_ids(&self) -> Vec<String> {
        match &self.targets {
            Some(t) => t.clone(),
            None => [&self.primary, &self.secondary, &self.fallback].into_iter().flatten().cloned().collect(),
        }
    }
}

/// Upper bound for every duration in the policy: a dry-run is interactive, and the bound keeps
/// deadline arithmetic far from overflow.
const MAX_MS: u64 = 86_400_000;

fn cfg_err(field: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Config { field: field.into(), message: message.into() }
}

fn check_finite_nonneg(field: String, v: f64) -> Result<(), Error> {
    if !v.is_finite() || v < 0.0 {
        return Err(cfg_err(field, format!("must be a number >= 0, got {v}")));
    }
    Ok(())
}

impl PolicyConfig {
    /// Parses a YAML document that holds only `providers` and `routing`, then validates it.
    /// (The CLI, which owns the rest of promptctl.yaml, can instead deserialize
    /// [`ProviderConfig`]/[`RouteConfig`] maps itself and call [`PolicyConfig::validate`].)
    pub fn from_yaml_str(text: &str) -> Result<Self, Error> {
        let cfg: PolicyConfig = serde_yaml::from_str(text).map_err(|e| Error::ConfigParse(e.to_string()))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Looks up a provider, including the built-in `echo`.
    pub fn provider(&self, id: &str) -> Option<ProviderConfig> {
        match self.providers.get(id) {
            Some(p) => Some(p.clone()),
            None if id == BUILTIN_ECHO => Some(ProviderConfig::builtin_echo()),
            None => None,
        }
    }

    pub(crate) fn known_providers(&self) -> String {
        let mut ids: Vec<&str> = self.providers.keys().map(String::as_str).collect();
        if !self.providers.contains_key(BUILTIN_ECHO) {
            ids.push(BUILTIN_ECHO);
        }
        ids.join(", ")
    }

    pub(crate) fn known_routes(&self) -> String {
        if self.routing.is_empty() {
            return "(none)".into();
        }
        self.routing.keys().cloned().collect::<Vec<_>>().join(", ")
    }

    /// Checks what serde cannot: references, ranges, URLs. Errors name the field.
    pub fn validate(&self) -> Result<(), Error> {
        for (id, p) in &self.providers {
            let f = |name: &str| format!("providers.{id}.{name}");
            if id.trim().is_empty() {
                return Err(cfg_err("providers", "a provider id is empty"));
            }
            match &p.model {
                Some(m) if m.trim().is_empty() => return Err(cfg_err(f("model"), "must not be empty")),
                None if p.kind != ProviderKind::Echo => {
                    return Err(cfg_err(f("model"), format!("required for kind {}", p.kind.as_str())))
                }
                _ => {}
            }
            if let Some(url) = &p.base_url {
                match reqwest::Url::parse(url) {
                    Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {
                        if !u.username().is_empty() || u.password().is_some() {
                            // Credentials in a URL would end up in every printed request.
                            return Err(cfg_err(f("base_url"), "must not contain credentials; use api_key_env"));
                        }
                    }
                    Ok(u) => {
                        return Err(cfg_err(
                            f("base_url"),
                            format!("scheme must be http or https, got `{}`", u.scheme()),
                        ))
                    }
                    Err(e) => return Err(cfg_err(f("base_url"), format!("not a URL: {e}"))),
                }
            }
            if let Some(env) = &p.api_key_env {
                let ok = !env.is_empty()
                    && env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    && !env.starts_with(|c: char| c.is_ascii_digit());
                if !ok {
                    return Err(cfg_err(
                        f("api_key_env"),
                        "must be the name of an environment variable (letters, digits, _), not the key itself",
                    ));
                }
            }
            if let Some(pr) = &p.price_per_mtok {
                check_finite_nonneg(f("price_per_mtok.input"), pr.input)?;
                check_finite_nonneg(f("price_per_mtok.output"), pr.output)?;
            }
            if p.context_window == Some(0) {
                return Err(cfg_err(f("context_window"), "must be > 0"));
            }
            if p.max_output_tokens == Some(0) {
                return Err(cfg_err(f("max_output_tokens"), "must be > 0"));
            }
            if let Some(m) = p.token_estimate_margin {
                if !m.is_finite() || !(0.0..=10.0).contains(&m) {
                    return Err(cfg_err(
                        f("token_estimate_margin"),
                        "must be a fraction between 0 and 10 (0.2 = +20 %)",
                    ));
                }
            }
            if p.max_tokens_param.is_some() && p.kind != ProviderKind::Openai {
                return Err(cfg_err(f("max_tokens_param"), "only applies to kind openai"));
            }
        }
        for (name, r) in &self.routing {
            let f = |field: &str| format!("routing.{name}.{field}");
            if r.targets.is_some() && (r.primary.is_some() || r.secondary.is_some() || r.fallback.is_some()) {
                return Err(cfg_err(f("targets"), "use either targets or primary/secondary/fallback, not both"));
            }
            let ids = r.target_ids();
            if ids.is_empty() {
                return Err(cfg_err(format!("routing.{name}"), "has no targets (set primary, or targets)"));
            }
            for (i, id) in ids.iter().enumerate() {
                let field = match (&r.targets, i) {
                    (Some(_), i) => format!("targets[{i}]"),
                    (None, _) if r.primary.as_deref() == Some(id) => "primary".into(),
                    (None, _) if r.secondary.as_deref() == Some(id) => "secondary".into(),
                    (None, _) => "fallback".into(),
                };
                if self.provider(id).is_none() {
                    return Err(cfg_err(
                        f(&field),
                        format!("unknown provider `{id}`; providers defined: {}", self.known_providers()),
                    ));
                }
                if ids[..i].contains(id) {
                    return Err(cfg_err(f(&field), format!("provider `{id}` is listed twice")));
                }
            }
            if let Some(b) = r.max_token_budget_usd {
                check_finite_nonneg(f("max_token_budget_usd"), b)?;
            }
            for (field, v) in [
                ("latency_slo_ms", r.latency_slo_ms),
                ("attempt_timeout_ms", r.attempt_timeout_ms),
                ("first_token_timeout_ms", r.first_token_timeout_ms),
                ("retry_backoff_ms", r.retry_backoff_ms),
            ] {
                match v {
                    Some(0) if field != "retry_backoff_ms" => return Err(cfg_err(f(field), "must be > 0")),
                    Some(ms) if ms > MAX_MS => {
                        return Err(cfg_err(f(field), format!("must be at most {MAX_MS} (one day), got {ms}")))
                    }
                    _ => {}
                }
            }
        }
        Ok(())
    }
}
