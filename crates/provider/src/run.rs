//! The routing loop: one deadline, one retry loop, budget reserved before every attempt.

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::time::{timeout_at, Instant};

use crate::classify::{classify_status, parse_retry_after, Charge, Failure, FailureKind};
use crate::config::ProviderKind;
use crate::error::ExitCategory;
use crate::plan::{DryRun, Target, USD_EPSILON};
use crate::report::{usd, Answer, Attempt, RunReport, SkipReason, Source, TargetResult, TargetStatus, TokenReport};
use crate::tokens::{count_all, count_text, CountMethod, Encoding, RawCounts, TokenCount};
use crate::wire::{parse_body, Completion, HeaderVal, StreamState, Usage, WireRequest};

/// Fixed usage the echo provider reports, so its runs are reproducible to the byte.
pub const ECHO_USAGE: Usage = Usage { input_tokens: 8, output_tokens: 8 };
/// Error bodies are read up to this much (enough for any JSON error, not a whole HTML site).
const ERROR_BODY_LIMIT: usize = 64 * 1024;
/// Success bodies and streams are cut here rather than filling memory.
const BODY_LIMIT: usize = 16 * 1024 * 1024;
const BACKOFF_CAP: Duration = Duration::from_secs(5);

/// Holds the HTTP clients; build one per process and reuse it for several runs if you like.
/// Clients are built on first use: a run that only touches `echo` never loads TLS roots.
#[derive(Default)]
pub struct Runner {
    /// For loopback targets: never through a proxy, so local servers (Ollama, tests) are
    /// reached directly even when HTTP(S)_PROXY is set.
    direct: OnceLock<Result<reqwest::Client, String>>,
    /// For everything else: honours the system proxy settings.
    system: OnceLock<Result<reqwest::Client, String>>,
}

impl std::fmt::Debug for Runner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Runner")
    }
}

fn is_loopback(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = u.host_str() else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl Runner {
    pub fn new() -> Self {
        Runner::default()
    }

    fn client(&self, url: &str) -> Result<&reqwest::Client, String> {
        let direct = is_loopback(url);
        let cell = if direct { &self.direct } else { &self.system };
        cell.get_or_init(|| {
            let mut b = reqwest::Client::builder()
                .user_agent(concat!("promptctl/", env!("CARGO_PKG_VERSION")))
                // Our own deadlines govern; a redirect would resend the key elsewhere.
                .redirect(reqwest::redirect::Policy::none());
            if direct {
                b = b.no_proxy();
            }
            b.build().map_err(|e| format!("cannot build the HTTP client: {e}"))
        })
        .as_ref()
        .map_err(Clone::clone)
    }
}

/// Counts run on a plain thread: a spawn_blocking task would make the runtime wait for it on
/// shutdown, adding the tokenizer's load time to process exit.
struct Counter {
    keys: Vec<(Encoding, u64)>,
    messages: Vec<crate::params::Message>,
    rx: Option<oneshot::Receiver<RawCounts>>,
    done: Option<RawCounts>,
}

impl Counter {
    fn start(&mut self) {
        if self.rx.is_some() || self.done.is_some() {
            return;
        }
        let (tx, rx) = oneshot::channel();
        let keys = self.keys.clone();
        let messages = self.messages.clone();
        std::thread::spawn(move || {
            let _ = tx.send(count_all(&keys, &messages));
        });
        self.rx = Some(rx);
    }

    async fn get(&mut self, t: &Target) -> Option<u64> {
        if self.done.is_none() {
            self.start();
            let counts = match self.rx.take() {
                Some(rx) => rx.await.unwrap_or_default(),
                None => RawCounts::new(),
            };
            self.done = Some(counts);
        }
        self.done.as_ref().and_then(|d| d.get(&(t.rule.encoding, t.rule.per_message)).copied().flatten())
    }
}

fn ms(d: Duration) -> u64 {
    d.as_millis().min(u64::MAX as u128) as u64
}

struct AttemptResult {
    result: Result<Completion, Failure>,
    status: Option<u16>,
    ttft: Option<Duration>,
    request_id: Option<String>,
}

impl DryRun {
    /// Sends the prompt through the route and reports every attempt. Never fails: provider
    /// trouble is in the report, and [`RunReport::exit_category`] says how it ended.
    pub async fn run(&self) -> RunReport {
        self.run_with(&Runner::new()).await
    }

    pub async fn run_with(&self, runner: &Runner) -> RunReport {
        let start = Instant::now();
        let st = &self.settings;
        let deadline = start + Duration::from_millis(st.latency_slo_ms);
        let budget = st.budget_usd;
        let red = &self.redactor;

        let mut keys: Vec<(Encoding, u64)> =
            self.targets.iter().map(|t| (t.rule.encoding, t.rule.per_message)).collect();
        keys.sort();
        keys.dedup();
        let mut counter = Counter { keys, messages: self.messages.clone(), rx: None, done: None };
        // Start counting at once only if the byte bound cannot settle some check; otherwise
        // the tokenizer is never loaded on the hot path.
        let needs_count = self.targets.iter().any(|t| {
            let b = t.rule.bound(&self.messages).tokens;
            t.context_window.is_some_and(|w| b > w)
                || match (budget, t.worst_case(b)) {
                    (Some(bud), Some(w)) => w > bud + USD_EPSILON,
                    _ => false,
                }
        });
        if needs_count {
            counter.start();
        }

        let mut attempts: Vec<Attempt> = vec![];
        let mut results: Vec<TargetResult> = vec![];
        let mut spent = 0.0_f64;
        let mut spent_known = true;
        let mut answer: Option<(usize, Completion, TokenCount)> = None;
        let mut stop: Option<SkipReason> = None;

        for (ti, t) in self.targets.iter().enumerate() {
            if let Some(s) = &stop {
                results.push(skip_result(t, s.clone(), TargetStatus::NotTried));
                continue;
            }
            if answer.is_some() {
                results.push(TargetResult {
                    target: t.id.clone(),
                    status: TargetStatus::NotTried,
                    attempts: 0,
                    skip: None,
                    reason: Some("an earlier target answered".into()),
                });
                continue;
            }
            if let Some(s) = t.static_skip(budget) {
                let status = if s.is_misconfigured() { TargetStatus::Misconfigured } else { TargetStatus::Skipped };
                results.push(skip_result(t, s, status));
                continue;
            }
            let wire = match &t.wire {
                Ok(w) => w,
                Err(_) => continue, // covered by static_skip
            };
            let mut input = t.rule.bound(&self.messages);
            let mut tries = 0u32;
            let mut last: Option<(TargetStatus, String)> = None;
            let mut skipped: Option<SkipReason> = None;
            loop {
                let now = Instant::now();
                if now >= deadline {
                    skipped = Some(SkipReason::DeadlinePassed);
                    break;
                }
                // Context window: refused before sending; the exact count only if the bound says no.
                if let Some(w) = t.context_window {
                    if input.tokens > w && input.method == CountMethod::ByteUpperBound {
                        if let Some(raw) = counter.get(t).await {
                            input = t.rule.count(raw);
                        }
                    }
                    if input.tokens > w {
                        skipped =
                            Some(SkipReason::ContextWindowExceeded { input_tokens: input.tokens, context_window: w });
                        break;
                    }
                }
                // Budget: reserve the worst case before every attempt, retries included.
                let mut worst = t.worst_case(input.tokens);
                if let Some(b) = budget {
                    let remaining = b - spent;
                    if !spent_known || remaining < -USD_EPSILON {
                        stop = Some(SkipReason::BudgetExhausted { spent_usd: usd(spent), budget_usd: b });
                        break;
                    }
                    if worst.is_some_and(|w| w > remaining + USD_EPSILON) && input.method == CountMethod::ByteUpperBound
                    {
                        if let Some(raw) = counter.get(t).await {
                            input = t.rule.count(raw);
                            worst = t.worst_case(input.tokens);
                        }
                    }
                    match worst {
                        Some(w) if w <= remaining + USD_EPSILON => {}
                        Some(w) => {
                            skipped = Some(SkipReason::OverBudget {
                                worst_case_usd: w,
                                remaining_usd: usd(remaining.max(0.0)),
                            });
                            break;
                        }
                        None => {
                            skipped = Some(SkipReason::UnknownPrice);
                            break;
                        }
                    }
                }
                // The deadline is shared: this attempt gets an even share of what is left
                // among the targets still able to run, so one silent server cannot starve
                // the fallbacks, and time a fast failure saves goes to the next ones.
                let now = Instant::now();
                let left = deadline.saturating_duration_since(now);
                let later = self.targets[ti + 1..].iter().filter(|x| x.static_skip(budget).is_none()).count() as u32;
                let mut slot = left / (later + 1);
                if let Some(cap) = st.attempt_timeout_ms {
                    slot = slot.min(Duration::from_millis(cap));
                }
                let attempt_deadline = now + slot;
                let ttft_deadline = if wire.stream {
                    st.first_token_timeout_ms.map(|t| now + Duration::from_millis(t)).filter(|t| *t < attempt_deadline)
                } else {
                    None
                };
                tries += 1;
                let sent_at = Instant::now();
                let r = if t.kind == ProviderKind::Echo {
                    echo(t, wire)
                } else {
                    match runner.client(&wire.url) {
                        Ok(c) => http_attempt(c, t, wire, attempt_deadline, ttft_deadline).await,
                        Err(e) => AttemptResult {
                            result: Err(Failure::new(FailureKind::ConnectionFailed, e)),
                            status: None,
                            ttft: None,
                            request_id: None,
                        },
                    }
                };
                let latency = sent_at.elapsed();
                let mut rec = Attempt {
                    target: t.id.clone(),
                    attempt: tries,
                    outcome: String::new(),
                    misconfigured: false,
                    status: r.status,
                    latency_ms: ms(latency),
                    time_to_first_token_ms: r.ttft.map(ms),
                    retry_wait_ms: None,
                    error: None,
                    code: None,
                    request_id: r.request_id.map(|x| red.clean(&x)),
                    input_tokens_checked: input.clone(),
                    worst_case_cost_usd: worst,
                    charged_usd: None,
                    note: None,
                };
                let mut result = r.result;
                // Ollama truncates an over-long prompt silently: compare what it evaluated
                // with our own count.
                if let (Ok(c), ProviderKind::Ollama) = (&result, t.kind) {
                    if let Some(evaluated) = c.usage.map(|u| u.input_tokens) {
                        if let Some(raw) = counter.get(t).await {
                            if let Some(f) = ollama_truncation(t, evaluated, raw) {
                                match f {
                                    Ok(failure) => {
                                        let u = c.usage.unwrap_or(ECHO_USAGE);
                                        result =
                                            Err(failure.charge(Charge::Partial { output_tokens: u.output_tokens }));
                                    }
                                    Err(note) => rec.note = Some(note),
                                }
                            }
                        }
                    }
                }
                match result {
                    Ok(c) => {
                        rec.outcome = "success".into();
                        if let Some(u) = c.usage.filter(|u| u.output_tokens > t.max_tokens) {
                            // Not ours to correct, but worth a look: the bill follows the report.
                            rec.note = Some(format!(
                                "{} reported {} output tokens, more than the max_tokens {} sent; cost uses the reported figure",
                                t.id, u.output_tokens, t.max_tokens
                            ));
                        }
                        rec.charged_usd = match c.usage {
                            Some(u) => t.cost(u.input_tokens, u.output_tokens),
                            // No usage: reserve the worst case, fail closed.
                            None => worst,
                        };
                        add_charge(&mut spent, &mut spent_known, rec.charged_usd);
                        attempts.push(rec);
                        answer = Some((ti, c, input.clone()));
                        last = Some((TargetStatus::Answered, String::new()));
                        break;
                    }
                    Err(f) => {
                        rec.outcome = f.kind.as_str().into();
                        rec.misconfigured = f.kind.misconfigured();
                        rec.status = f.status.or(rec.status);
                        rec.code = f.code.as_ref().map(|c| red.clean(c));
                        // The attempt's error names the target (it is read on its own); the
                        // target summary already does.
                        let msg = red.clean(&f.message);
                        rec.error = Some(format!("{}: {msg}", t.id));
                        rec.charged_usd = match f.charge {
                            Charge::Nothing => Some(0.0),
                            Charge::WorstCase => worst,
                            Charge::Partial { output_tokens } => t.cost(input.tokens, output_tokens),
                        };
                        add_charge(&mut spent, &mut spent_known, rec.charged_usd);
                        last = Some((
                            if f.kind.misconfigured() { TargetStatus::Misconfigured } else { TargetStatus::Failed },
                            msg,
                        ));
                        let timed_out = matches!(f.kind, FailureKind::Timeout | FailureKind::FirstTokenTimeout);
                        if timed_out || !f.kind.retryable() || tries > t.retries {
                            attempts.push(rec);
                            break;
                        }
                        let wait = f.retry_after.unwrap_or_else(|| {
                            let base = Duration::from_millis(st.retry_backoff_ms);
                            base.saturating_mul(1 << (tries - 1).min(16)).min(BACKOFF_CAP)
                        });
                        let resume = Instant::now() + wait;
                        if resume >= deadline {
                            rec.note = Some(format!(
                                "retry wait of {} ms would pass the deadline; falling over now",
                                ms(wait)
                            ));
                            attempts.push(rec);
                            break;
                        }
                        rec.retry_wait_ms = Some(ms(wait));
                        attempts.push(rec);
                        tokio::time::sleep_until(resume).await;
                    }
                }
            }
            let attempts_here = tries;
            if let Some(s) = stop.clone() {
                results.push(skip_result(t, s, TargetStatus::NotTried));
                continue;
            }
            match (skipped, last) {
                (Some(s), Some((status, msg))) => {
                    // Retried, then refused (e.g. budget now too small): keep the failure.
                    results.push(TargetResult {
                        target: t.id.clone(),
                        status,
                        attempts: attempts_here,
                        reason: Some(format!("{msg}; then {s}")),
                        skip: Some(s),
                    });
                }
                (Some(s), None) => results.push(skip_result(t, s, TargetStatus::Skipped)),
                (None, Some((status, msg))) => results.push(TargetResult {
                    target: t.id.clone(),
                    status,
                    attempts: attempts_here,
                    skip: None,
                    reason: if msg.is_empty() { None } else { Some(msg) },
                }),
                (None, None) => {}
            }
        }

        let budget_refused = results.iter().any(|r| r.skip.as_ref().is_some_and(SkipReason::is_budget));
        let outcome = match (&answer, budget_refused) {
            (Some(_), _) => ExitCategory::Success,
            (None, true) => ExitCategory::BudgetRefused,
            (None, false) => ExitCategory::AllTargetsFailed,
        };

        let mut tokens = None;
        let mut cost_usd = None;
        let mut cost_source = None;
        let mut answer_out = None;
        if let Some((ti, c, input)) = answer {
            let t = &self.targets[ti];
            match c.usage {
                Some(u) => {
                    tokens = Some(TokenReport {
                        input_tokens: u.input_tokens,
                        output_tokens: u.output_tokens,
                        source: Source::Reported,
                        method: None,
                    });
                    cost_usd = t.cost(u.input_tokens, u.output_tokens);
                    cost_source = cost_usd.map(|_| Source::Reported);
                }
                None => {
                    // No usage: count it ourselves and say so.
                    let input = if input.method == CountMethod::ByteUpperBound {
                        match counter.get(t).await {
                            Some(raw) => t.rule.count(raw),
                            None => input,
                        }
                    } else {
                        input
                    };
                    let enc = t.rule.encoding;
                    let text = c.text.clone();
                    let out = tokio::task::spawn_blocking(move || count_text(enc, &text))
                        .await
                        .ok()
                        .flatten()
                        .map(|n| t.rule.apply(n))
                        .unwrap_or(t.max_tokens);
                    tokens = Some(TokenReport {
                        input_tokens: input.tokens,
                        output_tokens: out,
                        source: Source::Estimated,
                        method: Some(input.label()),
                    });
                    cost_usd = t.cost(input.tokens, out);
                    cost_source = cost_usd.map(|_| Source::Estimated);
                }
            }
            let mut notes: Vec<String> = c.notes.iter().map(|n| red.clean(n)).collect();
            if c.finish_reason.as_deref() == Some("length") || c.finish_reason.as_deref() == Some("max_tokens") {
                notes.push(format!("the answer was cut at max_tokens ({})", t.max_tokens));
            }
            answer_out = Some(Answer {
                target: t.id.clone(),
                model: red.clean(c.model.as_deref().unwrap_or(&t.model)),
                text: red.clean(&c.text),
                finish_reason: c.finish_reason.map(|f| red.clean(&f)),
                notes,
            });
        }

        let total = start.elapsed();
        RunReport {
            mode: "live".into(),
            outcome,
            selection: self.selection.clone(),
            settings: self.settings.clone(),
            answered_by: answer_out.as_ref().map(|a| a.target.clone()),
            answer: answer_out,
            attempts,
            targets: results,
            tokens,
            cost_usd,
            cost_source,
            spent_usd: spent_known.then(|| usd(spent)),
            total_ms: ms(total),
            within_slo: total <= Duration::from_millis(st.latency_slo_ms),
            warnings: self.warnings.iter().map(|w| red.clean(w)).collect(),
        }
    }
}

fn add_charge(spent: &mut f64, known: &mut bool, c: Option<f64>) {
    match c {
        Some(x) => *spent += x,
        None => *known = false,
    }
}

fn skip_result(t: &Target, s: SkipReason, status: TargetStatus) -> TargetResult {
    TargetResult { target: t.id.clone(), status, attempts: 0, reason: Some(s.to_string()), skip: Some(s) }
}

/// `Some(Ok(failure))`: truncated. `Some(Err(note))`: suspicious but explainable.
///
/// Ollama reports only the tokens it evaluated; with a cached prompt prefix that is fewer than
/// the prompt, so a low figure is only called truncation when we did not send `num_ctx`
/// (the server's small default applied — the classic silent cut); otherwise it is a note.
fn ollama_truncation(t: &Target, evaluated: u64, raw_o200k: u64) -> Option<Result<Failure, String>> {
    // Tokenizers differ, but not by half; tiny prompts are dominated by template tokens.
    if raw_o200k < 64 || evaluated.saturating_mul(2) >= raw_o200k {
        return None;
    }
    let msg = format!("Ollama evaluated {evaluated} prompt tokens but the prompt is about {raw_o200k} (o200k count)");
    Some(match t.context_window {
        None => Ok(Failure::new(
            FailureKind::ContextTruncated,
            format!("{msg}: the prompt was cut to the server's default context; set context_window for this provider (sent as options.num_ctx)"),
        )),
        Some(_) => Err(format!("{msg}; if the prompt was not cached by Ollama, it was truncated")),
    })
}

fn echo(t: &Target, wire: &WireRequest) -> AttemptResult {
    let bytes = serde_json::to_vec(&wire.body).unwrap_or_default();
    let digest = blake3::hash(&bytes);
    let n = wire.body.get("messages").and_then(|m| m.as_array()).map_or(0, Vec::len);
    AttemptResult {
        result: Ok(Completion {
            text: format!("echo: {n} message(s) for model {}, request blake3 {}", t.model, digest.to_hex()),
            finish_reason: Some("stop".into()),
            usage: Some(ECHO_USAGE),
            model: Some(t.model.clone()),
            notes: vec![],
        }),
        status: None,
        ttft: None,
        request_id: None,
    }
}

fn header<'a>(h: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Reads a body up to `limit` bytes or the deadline, whichever first.
async fn read_body(
    resp: &mut reqwest::Response,
    deadline: Instant,
    limit: usize,
) -> Result<Vec<u8>, (Vec<u8>, Failure)> {
    let mut out = vec![];
    loop {
        match timeout_at(deadline, resp.chunk()).await {
            Err(_) => {
                return Err((
                    out,
                    Failure::new(FailureKind::Timeout, "deadline passed while reading the body")
                        .charge(Charge::WorstCase),
                ))
            }
            Ok(Err(e)) => {
                return Err((
                    out,
                    Failure::new(FailureKind::TruncatedResponse, format!("the body was cut off: {e}"))
                        .charge(Charge::WorstCase),
                ))
            }
            Ok(Ok(None)) => return Ok(out),
            Ok(Ok(Some(b))) => {
                out.extend_from_slice(&b);
                if out.len() >= limit {
                    out.truncate(limit);
                    return Ok(out);
                }
            }
        }
    }
}

async fn http_attempt(
    client: &reqwest::Client,
    t: &Target,
    wire: &WireRequest,
    attempt_deadline: Instant,
    ttft_deadline: Option<Instant>,
) -> AttemptResult {
    let started = Instant::now();
    let mut rb = client.post(&wire.url);
    for (name, v) in &wire.headers {
        match v {
            HeaderVal::Plain(s) => rb = rb.header(*name, s.as_str()),
            HeaderVal::Secret { prefix, key: Some(k) } => {
                match reqwest::header::HeaderValue::from_str(&format!("{prefix}{}", k.expose())) {
                    Ok(mut hv) => {
                        // Keeps it out of hyper's and reqwest's own debug output.
                        hv.set_sensitive(true);
                        rb = rb.header(*name, hv);
                    }
                    Err(_) => {
                        return AttemptResult {
                            result: Err(Failure::new(
                                FailureKind::Unauthorized,
                                "the API key holds characters not allowed in an HTTP header",
                            )),
                            status: None,
                            ttft: None,
                            request_id: None,
                        }
                    }
                }
            }
            HeaderVal::Secret { key: None, .. } => {}
        }
    }
    let body = serde_json::to_vec(&wire.body).unwrap_or_default();
    let first_deadline = ttft_deadline.unwrap_or(attempt_deadline);
    let fail = |f: Failure, status: Option<u16>, rid: Option<String>, ttft| AttemptResult {
        result: Err(f),
        status,
        ttft,
        request_id: rid,
    };
    let timeout_failure = |got_content: bool| {
        if ttft_deadline.is_some() && !got_content {
            Failure::new(
                FailureKind::FirstTokenTimeout,
                format!(
                    "no content within the first-token limit of {} ms",
                    ms(first_deadline.saturating_duration_since(started))
                ),
            )
            .charge(Charge::WorstCase)
        } else {
            Failure::new(
                FailureKind::Timeout,
                format!(
                    "no complete answer within this attempt's {} ms share of the deadline",
                    ms(attempt_deadline.saturating_duration_since(started))
                ),
            )
            .charge(Charge::WorstCase)
        }
    };
    let mut resp = match timeout_at(first_deadline, rb.body(body).send()).await {
        Err(_) => return fail(timeout_failure(false), None, None, None),
        Ok(Err(e)) => {
            // Refused or unreachable: nothing was sent. Any other send error happened with the
            // request possibly out, so reserve the worst case.
            let charge = if e.is_connect() { Charge::Nothing } else { Charge::WorstCase };
            let f = Failure::new(
                FailureKind::ConnectionFailed,
                format!("request to {} failed: {}", wire.url, error_chain(&e)),
            )
            .charge(charge);
            return fail(f, None, None, None);
        }
        Ok(Ok(r)) => r,
    };
    let status = resp.status().as_u16();
    let h = resp.headers();
    let rid = header(h, "x-request-id").or_else(|| header(h, "request-id")).map(str::to_string);
    let retry_after = parse_retry_after(header(h, "retry-after-ms"), header(h, "retry-after"));
    let ctype = header(h, "content-type").unwrap_or("").to_ascii_lowercase();

    if !resp.status().is_success() {
        let body = match read_body(&mut resp, attempt_deadline, ERROR_BODY_LIMIT).await {
            Ok(b) => b,
            Err((b, _)) => b, // the status is what counts; classify with what arrived
        };
        let f = classify_status(status, &ctype, &body, retry_after);
        return fail(f, Some(status), rid, None);
    }

    let streamed =
        wire.stream && (t.kind == ProviderKind::Ollama || ctype.contains("event-stream") || ctype.contains("ndjson"));
    if !streamed {
        return match read_body(&mut resp, attempt_deadline, BODY_LIMIT).await {
            Ok(b) => AttemptResult {
                result: parse_body(t.kind, &ctype, &b),
                status: Some(status),
                ttft: None,
                request_id: rid,
            },
            Err((_, f)) => {
                let f = if f.kind == FailureKind::Timeout { timeout_failure(true) } else { f };
                fail(f, Some(status), rid, None)
            }
        };
    }

    let mut stream = StreamState::new(t.kind);
    let mut ttft = None;
    let mut received = 0usize;
    loop {
        let dl = if stream.got_content { attempt_deadline } else { first_deadline };
        match timeout_at(dl, resp.chunk()).await {
            Err(_) => {
                let mut f = timeout_failure(stream.got_content);
                if stream.got_content {
                    f.message = format!("{} (stream stalled after content began)", f.message);
                }
                return fail(f, Some(status), rid, ttft);
            }
            Ok(Err(e)) => {
                // Connection dropped mid-stream: whatever finish() says (usually truncated).
                let r = stream.finish();
                let f = match r {
                    Ok(c) => return AttemptResult { result: Ok(c), status: Some(status), ttft, request_id: rid },
                    Err(mut f) => {
                        f.message = format!("{} ({})", f.message, error_chain(&e));
                        f
                    }
                };
                return fail(f, Some(status), rid, ttft);
            }
            Ok(Ok(None)) => {
                return AttemptResult { result: stream.finish(), status: Some(status), ttft, request_id: rid }
            }
            Ok(Ok(Some(bytes))) => {
                received += bytes.len();
                if let Err(f) = stream.feed(&bytes) {
                    return fail(f, Some(status), rid, ttft);
                }
                if stream.got_content && ttft.is_none() {
                    ttft = Some(started.elapsed());
                }
                if received > BODY_LIMIT {
                    let f = Failure::new(FailureKind::MalformedResponse, format!("stream exceeded {BODY_LIMIT} bytes"))
                        .charge(Charge::WorstCase);
                    return fail(f, Some(status), rid, ttft);
                }
            }
        }
    }
}

/// reqwest's Display hides the cause ("error sending request"); show the chain.
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let m = c.to_string();
        if !s.contains(&m) {
            s.push_str(": ");
            s.push_str(&m);
        }
        cur = c.source();
    }
    s
}
