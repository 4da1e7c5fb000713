//! Turning what a server sent back into a failure class.
//!
//! One table decides retries for every provider kind, so an error reported in an HTTP 200 body
//! or in a mid-stream `error` event is mapped to the HTTP status it stands for and then treated
//! exactly like that status (PROVIDERS.md fault 5).

use std::time::{Duration, SystemTime};

use serde::Serialize;
use serde_json::Value;

/// Failure classes, as reported in each attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Could not connect, or the connection dropped before a response (retryable).
    ConnectionFailed,
    /// Our deadline for this attempt passed (never retried: waiting again is what an SLO forbids).
    Timeout,
    /// Streaming: no real content before `first_token_timeout_ms` (never retried).
    FirstTokenTimeout,
    /// HTTP 408 from the server (retryable).
    RequestTimeout,
    /// 429 rate limit (retryable, honouring Retry-After).
    RateLimited,
    /// 429 for quota or spend limit: final for this target.
    QuotaExhausted,
    /// 5xx (retryable).
    ServerError,
    /// Anthropic 529 `overloaded_error` (retryable).
    Overloaded,
    /// 400 / 422: the request itself is wrong for this target (e.g. `unsupported_parameter`).
    InvalidRequest,
    /// Input longer than the context window (refused by the server, or by us before sending).
    ContextLengthExceeded,
    Unauthorized,
    PaymentRequired,
    Forbidden,
    /// 404: model missing or retired.
    NotFound,
    /// Any other status we have no rule for (not retried).
    HttpError,
    /// An error object in a 200 body we cannot map (not retried).
    ProviderError,
    /// Not the JSON the API promises: invalid JSON, `choices: null`, an HTML or plain-text page.
    MalformedResponse,
    /// Body or stream ended early: no finish reason, no `[DONE]` / `message_stop` / `done`.
    TruncatedResponse,
    /// Ollama evaluated far fewer prompt tokens than we estimated: it cut the prompt silently.
    ContextTruncated,
}

impl FailureKind {
    pub fn retryable(self) -> bool {
        matches!(
            self,
            FailureKind::ConnectionFailed
                | FailureKind::RequestTimeout
                | FailureKind::RateLimited
                | FailureKind::ServerError
                | FailureKind::Overloaded
        )
    }

    /// Errors that say the target (key, model name, parameters, account) is set up wrong.
    pub fn misconfigured(self) -> bool {
        matches!(
            self,
            FailureKind::InvalidRequest
                | FailureKind::Unauthorized
                | FailureKind::PaymentRequired
                | FailureKind::Forbidden
                | FailureKind::NotFound
                | FailureKind::QuotaExhausted
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::ConnectionFailed => "connection_failed",
            FailureKind::Timeout => "timeout",
            FailureKind::FirstTokenTimeout => "first_token_timeout",
            FailureKind::RequestTimeout => "request_timeout",
            FailureKind::RateLimited => "rate_limited",
            FailureKind::QuotaExhausted => "quota_exhausted",
            FailureKind::ServerError => "server_error",
            FailureKind::Overloaded => "overloaded",
            FailureKind::InvalidRequest => "invalid_request",
            FailureKind::ContextLengthExceeded => "context_length_exceeded",
            FailureKind::Unauthorized => "unauthorized",
            FailureKind::PaymentRequired => "payment_required",
            FailureKind::Forbidden => "forbidden",
            FailureKind::NotFound => "not_found",
            FailureKind::HttpError => "http_error",
            FailureKind::ProviderError => "provider_error",
            FailureKind::MalformedResponse => "malformed_response",
            FailureKind::TruncatedResponse => "truncated_response",
            FailureKind::ContextTruncated => "context_truncated",
        }
    }
}

/// What a failed attempt may have cost (fail closed: unknown is never free).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Charge {
    /// Nothing was generated: connection refused, or an error status.
    Nothing,
    /// The request was sent and we do not know what happened: reserve the worst case.
    WorstCase,
    /// Input plus the output tokens already streamed.
    Partial { output_tokens: u64 },
}

#[derive(Debug, Clone)]
pub(crate) struct Failure {
    pub kind: FailureKind,
    pub status: Option<u16>,
    /// Provider's error `code` or `type`, e.g. `insufficient_quota`, `overloaded_error`.
    pub code: Option<String>,
    pub message: String,
    pub retry_after: Option<Duration>,
    pub charge: Charge,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Failure { kind, status: None, code: None, message: message.into(), retry_after: None, charge: Charge::Nothing }
    }

    pub fn charge(mut self, c: Charge) -> Self {
        self.charge = c;
        self
    }
}

/// An error object found in a body: (code or type, message).
pub(crate) fn extract_error(v: &Value) -> Option<(Option<String>, String)> {
    let obj = v.as_object()?;
    // Anthropic: {"type":"error","error":{"type","message"}}; OpenAI: {"error":{"message","type","code"}};
    // Ollama and many compat servers: {"error":"text"}.
    match obj.get("error") {
        Some(Value::Object(e)) => {
            let code = e.get("code").and_then(value_as_code).or_else(|| e.get("type").and_then(value_as_code));
            let msg = e.get("message").and_then(Value::as_str).unwrap_or("").to_string();
            // OpenAI puts the specific reason in `code` and the family in `type`; keep both
            // visible so `insufficient_quota` is never hidden behind `invalid_request_error`.
            let ty = e.get("type").and_then(value_as_code);
            let msg = match (&ty, &code) {
                (Some(t), Some(c)) if t != c => format!("{msg} (type {t})"),
                _ => msg,
            };
            Some((code, msg))
        }
        Some(Value::String(s)) => Some((None, s.clone())),
        Some(Value::Null) | None => {
            if obj.get("type").and_then(Value::as_str) == Some("error") {
                return Some((None, "error without details".into()));
            }
            None
        }
        Some(other) => Some((None, other.to_string())),
    }
}

fn value_as_code(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// FastAPI-style `{"detail": ...}` (vLLM and friends answer 422 with it).
pub(crate) fn extract_detail(v: &Value) -> Option<String> {
    let d = v.get("detail")?;
    Some(match d {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

fn lower_contains_any(s: &str, needles: &[&str]) -> bool {
    let l = s.to_ascii_lowercase();
    needles.iter().any(|n| l.contains(n))
}

fn is_quota(code: Option<&str>, msg: &str) -> bool {
    const CODES: &[&str] = &[
        "insufficient_quota",
        "billing_hard_limit_reached",
        "enforced_spend_limit_reached",
        "quota_exceeded",
        "billing_error",
    ];
    code.is_some_and(|c| CODES.contains(&c))
        || lower_contains_any(
            msg,
            &[
                "insufficient_quota",
                "exceeded your current quota",
                "spend limit",
                "spending limit",
                "enforced_spend_limit_reached",
                "billing",
            ],
        )
}

fn is_context(code: Option<&str>, msg: &str) -> bool {
    code.is_some_and(|c| c == "context_length_exceeded" || c == "request_too_large")
        || lower_contains_any(
            msg,
            &[
                "context length",
                "context_length",
                "maximum context",
                "context window",
                "prompt is too long",
                "too many tokens",
            ],
        )
}

/// The HTTP status an error code stands for, when the code says it.
fn status_for_code(code: &str) -> Option<u16> {
    Some(match code {
        "invalid_request_error" | "unsupported_parameter" | "invalid_value" => 400,
        "authentication_error" | "invalid_api_key" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" | "model_not_found" => 404,
        "request_too_large" => 413,
        "rate_limit_error" | "rate_limit_exceeded" | "insufficient_quota" => 429,
        "api_error" | "server_error" | "internal_error" => 500,
        "overloaded_error" => 529,
        "timeout_error" => 504,
        "context_length_exceeded" => 400,
        _ => return None,
    })
}

/// Classifies by HTTP status plus what the body says.
pub(crate) fn kind_for_status(status: u16, code: Option<&str>, msg: &str) -> FailureKind {
    match status {
        400 | 413 | 422 if is_context(code, msg) => FailureKind::ContextLengthExceeded,
        413 => FailureKind::ContextLengthExceeded,
        400 | 422 => FailureKind::InvalidRequest,
        401 => FailureKind::Unauthorized,
        402 => FailureKind::PaymentRequired,
        403 => FailureKind::Forbidden,
        404 => FailureKind::NotFound,
        408 => FailureKind::RequestTimeout,
        429 if is_quota(code, msg) => FailureKind::QuotaExhausted,
        429 => FailureKind::RateLimited,
        529 => FailureKind::Overloaded,
        500..=599 => FailureKind::ServerError,
        _ => FailureKind::HttpError,
    }
}

/// An error object that arrived with a success status or inside a stream.
pub(crate) fn classify_embedded(code: Option<String>, msg: String, where_: &str) -> Failure {
    let status = code
        .as_deref()
        .and_then(status_for_code)
        .or_else(|| lower_contains_any(&msg, &["not found"]).then_some(404))
        .or_else(|| is_context(None, &msg).then_some(400))
        .or_else(|| lower_contains_any(&msg, &["overloaded"]).then_some(529))
        .or_else(|| lower_contains_any(&msg, &["rate limit"]).then_some(429));
    let kind = match status {
        Some(s) => kind_for_status(s, code.as_deref(), &msg),
        None => FailureKind::ProviderError,
    };
    let code_part = code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
    Failure {
        kind,
        status: None,
        message: format!("error{code_part} {where_}: {}", snippet(&msg, 300)),
        code,
        retry_after: None,
        charge: Charge::Nothing,
    }
}

/// Classifies a non-2xx response.
pub(crate) fn classify_status(status: u16, content_type: &str, body: &[u8], retry_after: Option<Duration>) -> Failure {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let (code, msg) = match parsed.as_ref() {
        Some(v) => match extract_error(v) {
            Some((c, m)) => (c, m),
            None => (None, extract_detail(v).unwrap_or_else(|| snippet_bytes(body, 300))),
        },
        None => (None, describe_non_json(content_type, body)),
    };
    let kind = kind_for_status(status, code.as_deref(), &msg);
    let code_part = code.as_deref().map(|c| format!(" {c}")).unwrap_or_default();
    Failure {
        kind,
        status: Some(status),
        message: format!("HTTP {status}{code_part}: {}", snippet(&msg, 300)),
        code,
        retry_after,
        charge: Charge::Nothing,
    }
}

/// "HTML error page (title …)" or "plain text: …", for bodies that are not JSON.
pub(crate) fn describe_non_json(content_type: &str, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim_start();
    if trimmed.is_empty() {
        return "empty body".into();
    }
    let looks_html = content_type.contains("html")
        || trimmed.starts_with('<')
        || trimmed.get(..15).is_some_and(|s| s.eq_ignore_ascii_case("<!doctype html>"));
    if looks_html {
        let lower = text.to_ascii_lowercase();
        let title = lower.find("<title>").and_then(|a| {
            let start = a + "<title>".len();
            lower[start..].find("</title>").and_then(|b| text.get(start..start + b))
        });
        return match title {
            Some(t) => format!("HTML page instead of JSON (title: {})", snippet(t.trim(), 120)),
            None => "HTML page instead of JSON".into(),
        };
    }
    format!("not JSON: {}", snippet(trimmed, 200))
}

/// A short single-line excerpt, cut on a char boundary.
pub(crate) fn snippet(s: &str, max: usize) -> String {
    let one_line: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let one_line = one_line.trim();
    if one_line.chars().count() <= max {
        return one_line.to_string();
    }
    let cut: String = one_line.chars().take(max).collect();
    format!("{cut}…")
}

pub(crate) fn snippet_bytes(b: &[u8], max: usize) -> String {
    snippet(&String::from_utf8_lossy(b), max)
}

/// Longest wait we represent; anything longer is past every deadline anyway, and capping keeps
/// `Instant + wait` from overflowing on a hostile header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(86_400);

/// `retry-after-ms` (OpenAI, milliseconds) wins over `retry-after` (seconds or an HTTP date).
pub(crate) fn parse_retry_after(ms: Option<&str>, secs_or_date: Option<&str>) -> Option<Duration> {
    let secs = |x: f64| {
        (x.is_finite() && x >= 0.0)
            .then(|| Duration::try_from_secs_f64(x).unwrap_or(MAX_RETRY_AFTER).min(MAX_RETRY_AFTER))
    };
    if let Some(d) = ms.and_then(|s| s.trim().parse::<f64>().ok()).and_then(|v| secs(v / 1000.0)) {
        return Some(d);
    }
    let v = secs_or_date?.trim();
    if let Ok(s) = v.parse::<f64>() {
        return secs(s);
    }
    let when = httpdate::parse_http_date(v).ok()?;
    Some(when.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO).min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after(Some("250"), Some("9")), Some(Duration::from_millis(250)));
        assert_eq!(parse_retry_after(None, Some("2")), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(None, Some("soon")), None);
        assert_eq!(parse_retry_after(Some("1e300"), None), Some(MAX_RETRY_AFTER));
        assert_eq!(parse_retry_after(None, Some("-1")), None);
        let past = httpdate::fmt_http_date(SystemTime::UNIX_EPOCH);
        assert_eq!(parse_retry_after(None, Some(&past)), Some(Duration::ZERO));
        let future = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(30));
        let d = parse_retry_after(None, Some(&future)).unwrap_or_default();
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30));
    }

    #[test]
    fn table() {
        let q = br#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert_eq!(classify_status(429, "application/json", q, None).kind, FailureKind::QuotaExhausted);
        let r = br#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
        assert_eq!(classify_status(429, "application/json", r, None).kind, FailureKind::RateLimited);
        let a = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        let f = classify_status(529, "application/json", a, None);
        assert_eq!(f.kind, FailureKind::Overloaded);
        assert!(f.kind.retryable());
        let s = br#"{"type":"error","error":{"type":"rate_limit_error","message":"enforced_spend_limit_reached"}}"#;
        assert_eq!(classify_status(429, "application/json", s, None).kind, FailureKind::QuotaExhausted);
        let h = b"<html><head><title>502 Bad Gateway</title></head></html>";
        let f = classify_status(502, "text/html", h, None);
        assert_eq!(f.kind, FailureKind::ServerError);
        assert!(f.message.contains("502 Bad Gateway"), "{}", f.message);
        let d = br#"{"detail":[{"loc":["body","messages"],"msg":"field required"}]}"#;
        let f = classify_status(422, "application/json", d, None);
        assert_eq!(f.kind, FailureKind::InvalidRequest);
        assert!(f.message.contains("field required"));
        let f = classify_embedded(Some("overloaded_error".into()), "Overloaded".into(), "in stream");
        assert_eq!(f.kind, FailureKind::Overloaded);
        let f = classify_embedded(None, "model 'x' not found, try pulling it first".into(), "in body");
        assert_eq!(f.kind, FailureKind::NotFound);
    }
}
