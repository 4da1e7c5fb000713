//! Wire formats: request bodies per provider kind, and parsing of bodies and streams.

use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::classify::{classify_embedded, describe_non_json, extract_error, Charge, Failure, FailureKind};
use crate::config::{MaxTokensParam, ProviderKind};
use crate::params::Message;
use crate::secret::{ApiKey, REDACTED};

pub const ANTHROPIC_VERSION: &str = "2023-06-01";
pub const DEFAULT_OPENAI_BASE: &str = "https://api.openai.com/v1";
pub const DEFAULT_ANTHROPIC_BASE: &str = "https://api.anthropic.com";
pub const DEFAULT_OLLAMA_BASE: &str = "http://127.0.0.1:11434";
/// The echo provider has no server; this is what its "request" is shown as.
pub const ECHO_URL: &str = "echo:local";

/// Header value; secrets stay typed until they are put on the wire.
#[derive(Debug, Clone)]
pub(crate) enum HeaderVal {
    Plain(String),
    /// `prefix` + key, e.g. `Bearer ` + key. `None`: the env var was not set.
    Secret {
        prefix: &'static str,
        key: Option<ApiKey>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct WireRequest {
    pub url: String,
    pub headers: Vec<(&'static str, HeaderVal)>,
    pub body: Value,
    pub stream: bool,
}

/// A header as shown in reports (secrets replaced).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderPreview {
    pub name: String,
    pub value: String,
}

/// The exact request a target would receive, with keys redacted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestPreview {
    pub method: String,
    pub url: String,
    pub headers: Vec<HeaderPreview>,
    pub body: Value,
}

impl WireRequest {
    pub fn preview(&self) -> RequestPreview {
        RequestPreview {
            method: "POST".into(),
            url: self.url.clone(),
            headers: self
                .headers
                .iter()
                .map(|(n, v)| HeaderPreview {
                    name: (*n).to_string(),
                    value: match v {
                        HeaderVal::Plain(s) => s.clone(),
                        HeaderVal::Secret { prefix, .. } => format!("{prefix}{REDACTED}"),
                    },
                })
                .collect(),
            body: self.body.clone(),
        }
    }
}

/// Everything a body needs, already resolved from the policy and the model block.
#[derive(Debug, Clone)]
pub(crate) struct BuildParams<'a> {
    pub kind: ProviderKind,
    pub base_url: Option<&'a str>,
    pub model: &'a str,
    pub messages: &'a [Message],
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub stop: &'a [String],
    pub seed: Option<i64>,
    pub max_tokens: u64,
    pub max_tokens_param: MaxTokensParam,
    pub stream: bool,
    pub context_window: Option<u64>,
    pub key: Option<ApiKey>,
    pub has_key_env: bool,
}

/// `max_tokens` or `max_completion_tokens`: OpenAI's reasoning models (o1, o3, o4, gpt-5)
/// reject `max_tokens` with `unsupported_parameter`; older models and most compatible
/// servers (vLLM, llama.cpp, older Ollama) know only `max_tokens`.
pub fn max_tokens_param_for(model: &str) -> MaxTokensParam {
    let m = model.to_ascii_lowercase();
    let m = m.rsplit('/').next().unwrap_or(&m); // "openai/o3-mini" on gateways
    let reasoning = ["o1", "o3", "o4", "gpt-5"].iter().any(|p| m == *p || m.starts_with(&format!("{p}-")));
    if reasoning {
        MaxTokensParam::MaxCompletionTokens
    } else {
        MaxTokensParam::MaxTokens
    }
}

fn join_url(base: &str, path: &str) -> String {
    format!("{}/{}", base.trim_end_matches('/'), path.trim_start_matches('/'))
}

fn put_opt<T: Into<Value>>(m: &mut Map<String, Value>, k: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(k.into(), v.into());
    }
}

/// Builds the request, or says why this target cannot carry these messages.
pub(crate) fn build(p: &BuildParams<'_>, notes: &mut Vec<String>) -> Result<WireRequest, String> {
    match p.kind {
        ProviderKind::Openai | ProviderKind::Echo => {
            let url = if p.kind == ProviderKind::Echo {
                ECHO_URL.to_string()
            } else {
                join_url(p.base_url.unwrap_or(DEFAULT_OPENAI_BASE), "chat/completions")
            };
            let mut b = Map::new();
            b.insert("model".into(), p.model.into());
            b.insert(
                "messages".into(),
                Value::Array(p.messages.iter().map(|m| json!({"role": m.role, "content": m.content})).collect()),
            );
            put_opt(&mut b, "temperature", p.temperature);
            put_opt(&mut b, "top_p", p.top_p);
            if !p.stop.is_empty() {
                b.insert("stop".into(), json!(p.stop));
            }
            put_opt(&mut b, "seed", p.seed);
            let field = match p.max_tokens_param {
                MaxTokensParam::MaxTokens => "max_tokens",
                MaxTokensParam::MaxCompletionTokens => "max_completion_tokens",
            };
            b.insert(field.into(), p.max_tokens.into());
            let mut headers = vec![("Content-Type", HeaderVal::Plain("application/json".into()))];
            let stream = p.stream && p.kind == ProviderKind::Openai;
            if stream {
                b.insert("stream".into(), true.into());
                // Without this the usage never arrives on a stream, and cost would be unknown.
                b.insert("stream_options".into(), json!({"include_usage": true}));
                headers.push(("Accept", HeaderVal::Plain("text/event-stream".into())));
            }
            if p.has_key_env {
                headers.insert(0, ("Authorization", HeaderVal::Secret { prefix: "Bearer ", key: p.key.clone() }));
            }
            if p.kind == ProviderKind::Echo {
                headers.clear();
            }
            Ok(WireRequest { url, headers, body: Value::Object(b), stream })
        }
        ProviderKind::Anthropic => {
            let base = p.base_url.unwrap_or(DEFAULT_ANTHROPIC_BASE);
            // Accept both ".../v1" and the bare host as base_url.
            let url = if base.trim_end_matches('/').ends_with("/v1") {
                join_url(base, "messages")
            } else {
                join_url(base, "v1/messages")
            };
            let mut system: Vec<&str> = vec![];
            let mut msgs = vec![];
            for (i, m) in p.messages.iter().enumerate() {
                match m.role.as_str() {
                    // A system role inside `messages` is a 400: lift it to the top level.
                    "system" | "developer" => system.push(&m.content),
                    "user" | "assistant" => msgs.push(json!({"role": m.role, "content": m.content})),
                    other => {
                        return Err(format!(
                            "messages[{i}] has role `{other}`, which the Anthropic Messages API does not accept"
                        ))
                    }
                }
            }
            if msgs.is_empty() {
                return Err("the Anthropic Messages API needs at least one user message".into());
            }
            let mut b = Map::new();
            b.insert("model".into(), p.model.into());
            // Required by the API: always sent.
            b.insert("max_tokens".into(), p.max_tokens.into());
            if !system.is_empty() {
                b.insert("system".into(), system.join("\n\n").into());
            }
            b.insert("messages".into(), Value::Array(msgs));
            put_opt(&mut b, "temperature", p.temperature);
            put_opt(&mut b, "top_p", p.top_p);
            if !p.stop.is_empty() {
                b.insert("stop_sequences".into(), json!(p.stop));
            }
            if p.seed.is_some() {
                notes.push("seed is not supported by the Anthropic Messages API; not sent".into());
            }
            let mut headers = vec![];
            if p.has_key_env {
                headers.push(("x-api-key", HeaderVal::Secret { prefix: "", key: p.key.clone() }));
            }
            headers.push(("anthropic-version", HeaderVal::Plain(ANTHROPIC_VERSION.into())));
            headers.push(("content-type", HeaderVal::Plain("application/json".into())));
            if p.stream {
                b.insert("stream".into(), true.into());
                headers.push(("accept", HeaderVal::Plain("text/event-stream".into())));
            }
            Ok(WireRequest { url, headers, body: Value::Object(b), stream: p.stream })
        }
        ProviderKind::Ollama => {
            let url = join_url(p.base_url.unwrap_or(DEFAULT_OLLAMA_BASE), "api/chat");
            let msgs: Vec<Value> = p
                .messages
                .iter()
                .map(|m| {
                    let role = if m.role == "developer" { "system" } else { &m.role };
                    json!({"role": role, "content": m.content})
                })
                .collect();
            let mut opts = Map::new();
            // Without num_ctx Ollama uses its small default and silently truncates the prompt.
            put_opt(&mut opts, "num_ctx", p.context_window);
            opts.insert("num_predict".into(), p.max_tokens.into());
            put_opt(&mut opts, "temperature", p.temperature);
            put_opt(&mut opts, "top_p", p.top_p);
            if !p.stop.is_empty() {
                opts.insert("stop".into(), json!(p.stop));
            }
            put_opt(&mut opts, "seed", p.seed);
            let mut b = Map::new();
            b.insert("model".into(), p.model.into());
            b.insert("messages".into(), Value::Array(msgs));
            // Ollama streams by default, so say it either way.
            b.insert("stream".into(), p.stream.into());
            b.insert("options".into(), Value::Object(opts));
            let mut headers = vec![];
            if p.has_key_env {
                // Ollama behind an authenticating proxy, or ollama.com.
                headers.push(("Authorization", HeaderVal::Secret { prefix: "Bearer ", key: p.key.clone() }));
            }
            headers.push(("Content-Type", HeaderVal::Plain("application/json".into())));
            Ok(WireRequest { url, headers, body: Value::Object(b), stream: p.stream })
        }
    }
}

/// Tokens reported by the provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
}

/// A successful answer, before it is put in a report.
#[derive(Debug, Clone, Default)]
pub(crate) struct Completion {
    pub text: String,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    pub model: Option<String>,
    pub notes: Vec<String>,
}

fn u(v: &Value, path: &[&str]) -> Option<u64> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_u64()
}

fn malformed(msg: impl Into<String>) -> Failure {
    // A 200 we cannot read may still have been billed.
    Failure::new(FailureKind::MalformedResponse, msg).charge(Charge::WorstCase)
}

/// Parses a complete (non-streamed) 2xx body.
pub(crate) fn parse_body(kind: ProviderKind, content_type: &str, body: &[u8]) -> Result<Completion, Failure> {
    let v: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(e) => {
            let what = describe_non_json(content_type, body);
            let msg = if what.starts_with("not JSON") { format!("invalid JSON ({e}); body {what}") } else { what };
            return Err(malformed(msg));
        }
    };
    if let Some((code, msg)) = extract_error(&v) {
        return Err(classify_embedded(code, msg, "in an HTTP 200 body"));
    }
    match kind {
        ProviderKind::Openai | ProviderKind::Echo => {
            let choices = match v.get("choices") {
                Some(Value::Array(a)) if !a.is_empty() => a,
                Some(Value::Array(_)) => return Err(malformed("`choices` is empty")),
                Some(Value::Null) => return Err(malformed("`choices` is null")),
                Some(_) => return Err(malformed("`choices` is not a list")),
                None => return Err(malformed("no `choices` in the response")),
            };
            let c0 = &choices[0];
            let msg = c0
                .get("message")
                .filter(|m| m.is_object())
                .ok_or_else(|| malformed("`choices[0].message` is missing"))?;
            let finish = c0.get("finish_reason").and_then(Value::as_str).map(str::to_string);
            let mut notes = vec![];
            let text = match msg.get("content") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => {
                    notes.push(format!(
                        "message.content was null (finish_reason {})",
                        finish.as_deref().unwrap_or("none")
                    ));
                    String::new()
                }
                Some(_) => return Err(malformed("`choices[0].message.content` is not a string")),
            };
            let usage = match (u(&v, &["usage", "prompt_tokens"]), u(&v, &["usage", "completion_tokens"])) {
                (Some(i), Some(o)) => Some(Usage { input_tokens: i, output_tokens: o }),
                _ => None,
            };
            Ok(Completion {
                text,
                finish_reason: finish,
                usage,
                model: v.get("model").and_then(Value::as_str).map(str::to_string),
                notes,
            })
        }
        ProviderKind::Anthropic => {
            let content = match v.get("content") {
                Some(Value::Array(a)) => a,
                Some(Value::Null) | None => return Err(malformed("no `content` in the response")),
                Some(_) => return Err(malformed("`content` is not a list")),
            };
            let text: String = content
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
                .filter_map(|b| b.get("text").and_then(Value::as_str))
                .collect();
            let usage = match (u(&v, &["usage", "input_tokens"]), u(&v, &["usage", "output_tokens"])) {
                (Some(i), Some(o)) => Some(Usage { input_tokens: i, output_tokens: o }),
                _ => None,
            };
            Ok(Completion {
                text,
                finish_reason: v.get("stop_reason").and_then(Value::as_str).map(str::to_string),
                usage,
                model: v.get("model").and_then(Value::as_str).map(str::to_string),
                notes: vec![],
            })
        }
        ProviderKind::Ollama => {
            // stream:false gives one object; parse it as a one-line NDJSON stream so the same
            // rules (done flag, counts, errors) apply.
            let mut s = StreamState::new(kind);
            s.ollama_object(&v)?;
            s.finish()
        }
    }
}

/// Incremental parser for SSE (OpenAI, Anthropic) and NDJSON (Ollama).
#[derive(Debug)]
pub(crate) struct StreamState {
    kind: ProviderKind,
    buf: Vec<u8>,
    event: Option<String>,
    data: Vec<String>,
    text: String,
    finish_reason: Option<String>,
    input_tokens: Option<u64>,
    output_tokens: Option<u64>,
    model: Option<String>,
    done: bool,
    deltas: u64,
    /// Set by the first chunk that carries real content (pings and empty deltas do not).
    pub got_content: bool,
}

impl StreamState {
    pub fn new(kind: ProviderKind) -> Self {
        StreamState {
            kind,
            buf: vec![],
            event: None,
            data: vec![],
            text: String::new(),
            finish_reason: None,
            input_tokens: None,
            output_tokens: None,
            model: None,
            done: false,
            deltas: 0,
            got_content: false,
        }
    }

    /// Output tokens already streamed, for charging a broken stream: providers send about one
    /// token per delta, Anthropic several, so take whichever of deltas and bytes/4 is larger.
    pub fn partial_output_tokens(&self) -> u64 {
        self.output_tokens.unwrap_or(0).max(self.deltas).max(self.text.len().div_ceil(4) as u64)
    }

    fn fail_mid_stream(&self, mut f: Failure) -> Failure {
        f.charge = Charge::Partial { output_tokens: self.partial_output_tokens() };
        f
    }

    /// Feeds raw bytes; processes every complete line.
    pub fn feed(&mut self, bytes: &[u8]) -> Result<(), Failure> {
        self.buf.extend_from_slice(bytes);
        while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line);
            let line = line.trim_end_matches(['\n', '\r']).to_string();
            self.line(&line)?;
        }
        Ok(())
    }

    fn line(&mut self, line: &str) -> Result<(), Failure> {
        if self.done {
            return Ok(());
        }
        if self.kind == ProviderKind::Ollama {
            if line.trim().is_empty() {
                return Ok(());
            }
            let v: Value = serde_json::from_str(line).map_err(|e| {
                self.fail_mid_stream(malformed(format!(
                    "invalid NDJSON line ({e}): {}",
                    crate::classify::snippet(line, 120)
                )))
            })?;
            return self.ollama_object(&v);
        }
        // SSE (https://html.spec.whatwg.org/multipage/server-sent-events.html)
        if line.is_empty() {
            return self.dispatch();
        }
        if line.starts_with(':') {
            return Ok(()); // comment / keep-alive
        }
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_string()),
            "data" => self.data.push(value.to_string()),
            _ => {}
        }
        Ok(())
    }

    fn dispatch(&mut self) -> Result<(), Failure> {
        let event = self.event.take();
        if self.data.is_empty() {
            return Ok(());
        }
        let data = std::mem::take(&mut self.data).join("\n");
        if self.kind != ProviderKind::Anthropic && data.trim() == "[DONE]" {
            self.done = true;
            return Ok(());
        }
        let v: Value = match serde_json::from_str(&data) {
            Ok(v) => v,
            Err(e) => {
                return Err(self.fail_mid_stream(malformed(format!(
                    "invalid JSON in stream event ({e}): {}",
                    crate::classify::snippet(&data, 120)
                ))))
            }
        };
        match self.kind {
            ProviderKind::Anthropic => self.anthropic_event(event.as_deref(), &v),
            _ => self.openai_chunk(&v),
        }
    }

    fn openai_chunk(&mut self, v: &Value) -> Result<(), Failure> {
        if let Some((code, msg)) = extract_error(v) {
            let f = classify_embedded(code, msg, "in the stream");
            return Err(self.fail_mid_stream(f));
        }
        if self.model.is_none() {
            self.model = v.get("model").and_then(Value::as_str).map(str::to_string);
        }
        if let Some(us) = v.get("usage").filter(|x| x.is_object()) {
            self.input_tokens = us.get("prompt_tokens").and_then(Value::as_u64);
            self.output_tokens = us.get("completion_tokens").and_then(Value::as_u64);
        }
        // `choices` may be null or empty on the usage chunk (some servers); that is fine here.
        if let Some(c0) = v.get("choices").and_then(Value::as_array).and_then(|a| a.first()) {
            if let Some(d) = c0.get("delta") {
                if let Some(t) = d.get("content").and_then(Value::as_str) {
                    if !t.is_empty() {
                        self.text.push_str(t);
                        self.deltas += 1;
                        self.got_content = true;
                    }
                }
                if d.get("tool_calls").is_some_and(|t| !t.is_null()) {
                    self.deltas += 1;
                    self.got_content = true;
                }
            }
            if let Some(fr) = c0.get("finish_reason").and_then(Value::as_str) {
                self.finish_reason = Some(fr.to_string());
            }
        }
        Ok(())
    }

    fn anthropic_event(&mut self, event: Option<&str>, v: &Value) -> Result<(), Failure> {
        let ty = event.or_else(|| v.get("type").and_then(Value::as_str)).unwrap_or("");
        match ty {
            "error" => {
                let (code, msg) = extract_error(v).unwrap_or((None, v.to_string()));
                let f = classify_embedded(code, msg, "event after HTTP 200");
                return Err(self.fail_mid_stream(f));
            }
            "message_start" => {
                let m = v.get("message");
                self.input_tokens = m.and_then(|m| u(m, &["usage", "input_tokens"]));
                self.output_tokens = m.and_then(|m| u(m, &["usage", "output_tokens"]));
                self.model = m.and_then(|m| m.get("model")).and_then(Value::as_str).map(str::to_string);
            }
            "content_block_delta" => {
                let d = v.get("delta");
                let dt = d.and_then(|d| d.get("type")).and_then(Value::as_str);
                if let Some(t) = d.and_then(|d| d.get("text")).and_then(Value::as_str) {
                    if !t.is_empty() {
                        self.text.push_str(t);
                        self.deltas += 1;
                        self.got_content = true;
                    }
                } else if dt == Some("input_json_delta") {
                    self.deltas += 1;
                    self.got_content = true;
                }
            }
            "message_delta" => {
                if let Some(sr) = v.get("delta").and_then(|d| d.get("stop_reason")).and_then(Value::as_str) {
                    self.finish_reason = Some(sr.to_string());
                }
                if let Some(o) = u(v, &["usage", "output_tokens"]) {
                    self.output_tokens = Some(o);
                }
            }
            "message_stop" => self.done = true,
            _ => {} // ping, content_block_start/stop, unknown future events
        }
        Ok(())
    }

    pub(crate) fn ollama_object(&mut self, v: &Value) -> Result<(), Failure> {
        if let Some((code, msg)) = extract_error(v) {
            let f = classify_embedded(code, msg, "from Ollama");
            return Err(if self.deltas > 0 { self.fail_mid_stream(f) } else { f });
        }
        if self.model.is_none() {
            self.model = v.get("model").and_then(Value::as_str).map(str::to_string);
        }
        match v.get("message").and_then(|m| m.get("content")) {
            Some(Value::String(t)) => {
                if !t.is_empty() {
                    self.text.push_str(t);
                    self.deltas += 1;
                    self.got_content = true;
                }
            }
            Some(Value::Null) | None => {
                if v.get("done").is_none() {
                    return Err(malformed("Ollama object without `message` or `done`"));
                }
            }
            Some(_) => return Err(malformed("Ollama `message.content` is not a string")),
        }
        if v.get("done").and_then(Value::as_bool) == Some(true) {
            self.done = true;
            self.finish_reason =
                v.get("done_reason").and_then(Value::as_str).map(str::to_string).or(Some("stop".into()));
            self.input_tokens = v.get("prompt_eval_count").and_then(Value::as_u64);
            self.output_tokens = v.get("eval_count").and_then(Value::as_u64);
        }
        Ok(())
    }

    /// Call at end of stream. Complete only with a terminal marker (`[DONE]`, `message_stop`,
    /// Ollama `done`) or a finish reason; otherwise the stream was cut (fault 6).
    pub fn finish(mut self) -> Result<Completion, Failure> {
        if !self.done {
            // A last line without its newline.
            if !self.buf.is_empty() {
                let rest = String::from_utf8_lossy(&std::mem::take(&mut self.buf)).to_string();
                let line = rest.trim_end_matches(['\r', '\n']).to_string();
                match self.line(&line) {
                    Ok(()) => {}
                    Err(f) if self.kind == ProviderKind::Ollama => {
                        // A half-written NDJSON line is truncation, not a server error.
                        let _ = f;
                        return Err(self.truncated());
                    }
                    Err(f) => return Err(f),
                }
            }
            if self.kind != ProviderKind::Ollama {
                self.dispatch()?;
            }
        }
        if !self.done && self.finish_reason.is_none() {
            return Err(self.truncated());
        }
        let usage = match (self.input_tokens, self.output_tokens) {
            (Some(i), Some(o)) => Some(Usage { input_tokens: i, output_tokens: o }),
            _ => None,
        };
        let mut notes = vec![];
        if !self.done {
            notes.push("stream ended after its finish reason without an end marker".into());
        }
        Ok(Completion { text: self.text, finish_reason: self.finish_reason, usage, model: self.model, notes })
    }

    fn truncated(&self) -> Failure {
        let marker = match self.kind {
            ProviderKind::Anthropic => "no stop_reason and no message_stop",
            ProviderKind::Ollama => "no final object with done: true",
            _ => "no finish_reason and no [DONE]",
        };
        self.fail_mid_stream(Failure::new(
            FailureKind::TruncatedResponse,
            format!("stream ended early ({marker}) after {} content chunk(s)", self.deltas),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn param_choice() {
        assert_eq!(max_tokens_param_for("gpt-4o"), MaxTokensParam::MaxTokens);
        assert_eq!(max_tokens_param_for("o3-mini"), MaxTokensParam::MaxCompletionTokens);
        assert_eq!(max_tokens_param_for("o1"), MaxTokensParam::MaxCompletionTokens);
        assert_eq!(max_tokens_param_for("gpt-5-mini"), MaxTokensParam::MaxCompletionTokens);
        assert_eq!(max_tokens_param_for("llama3"), MaxTokensParam::MaxTokens);
        assert_eq!(max_tokens_param_for("openai/o4-mini"), MaxTokensParam::MaxCompletionTokens);
    }

    #[test]
    fn sse_split_anywhere() {
        let s = "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hé\"}}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":null,\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n";
        for cut in 0..s.len() {
            let mut st = StreamState::new(ProviderKind::Openai);
            let b = s.as_bytes();
            assert!(st.feed(&b[..cut]).is_ok());
            assert!(st.feed(&b[cut..]).is_ok());
            let c = st.finish().map_err(|f| f.message).unwrap_or_default();
            assert_eq!(c.text, "Hé");
            assert_eq!(c.usage.map(|u| u.input_tokens), Some(5));
        }
    }
}
