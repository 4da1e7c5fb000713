//! What a dry-run prints: [`OfflinePlan`] and [`RunReport`]. Both serialize into the JSON
//! document (stable snake_case field names) and implement `Display` for the text form.
//! Every string in them has already been redacted.

use std::fmt;

use serde::Serialize;

use crate::config::{Price, ProviderKind};
use crate::error::ExitCategory;
use crate::plan::{Selection, Settings};
use crate::tokens::TokenCount;
use crate::wire::RequestPreview;

/// Rounds dollars so f64 noise (0.015000000000000001) does not reach reports.
pub(crate) fn usd(x: f64) -> f64 {
    (x * 1e10).round() / 1e10
}

fn money(x: f64) -> String {
    if x != 0.0 && x.abs() < 0.0001 {
        format!("${x:.6}")
    } else {
        format!("${x:.4}")
    }
}

fn opt_money(x: Option<f64>) -> String {
    x.map(money).unwrap_or_else(|| "unknown".into())
}

/// Why a target was not sent anything.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum SkipReason {
    /// `api_key_env` names a variable that is not set (misconfigured).
    MissingApiKey { env: String },
    /// These messages cannot be expressed for this provider kind (misconfigured).
    Unsupported { message: String },
    /// Input longer than the target's context window: refused before sending.
    ContextWindowExceeded { input_tokens: u64, context_window: u64 },
    /// A budget is set and this provider has no price: fail closed.
    UnknownPrice,
    /// The worst case does not fit what is left of the budget.
    OverBudget { worst_case_usd: f64, remaining_usd: f64 },
    /// Earlier attempts used up the budget: the run stops here, it does not fall over.
    BudgetExhausted { spent_usd: f64, budget_usd: f64 },
    /// The overall deadline passed before this target's turn.
    DeadlinePassed,
}

impl SkipReason {
    pub fn is_budget(&self) -> bool {
        matches!(self, SkipReason::UnknownPrice | SkipReason::OverBudget { .. } | SkipReason::BudgetExhausted { .. })
    }

    pub fn is_misconfigured(&self) -> bool {
        matches!(self, SkipReason::MissingApiKey { .. } | SkipReason::Unsupported { .. })
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SkipReason::MissingApiKey { env } => {
                write!(f, "misconfigured: environment variable {env} is not set")
            }
            SkipReason::Unsupported { message } => write!(f, "misconfigured: {message}"),
            SkipReason::ContextWindowExceeded { input_tokens, context_window } => {
                write!(f, "input of {input_tokens} tokens exceeds the context window of {context_window}; not sent")
            }
            SkipReason::UnknownPrice => {
                write!(f, "no price_per_mtok for this provider: cost unknown, refused by the budget (fail closed)")
            }
            SkipReason::OverBudget { worst_case_usd, remaining_usd } => write!(
                f,
                "worst-case cost {} exceeds the remaining budget {}",
                money(*worst_case_usd),
                money(*remaining_usd)
            ),
            SkipReason::BudgetExhausted { spent_usd, budget_usd } => {
                write!(f, "budget used up ({} of {}); stopping", money(*spent_usd), money(*budget_usd))
            }
            SkipReason::DeadlinePassed => write!(f, "overall deadline passed before its turn"),
        }
    }
}

/// One target in an offline plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetPlan {
    pub target: String,
    pub kind: ProviderKind,
    pub model: String,
    /// `None` when the messages cannot be expressed for this kind (see `would_skip`).
    pub request: Option<RequestPreview>,
    pub input_tokens: TokenCount,
    pub max_tokens: u64,
    pub context_window: Option<u64>,
    pub price_per_mtok: Option<Price>,
    /// input × input price + max_tokens × output price; `None` = unknown (no price).
    pub worst_case_cost_usd: Option<f64>,
    /// Against the whole budget, as for a first attempt. `None` when there is no budget.
    pub within_budget: Option<bool>,
    pub would_skip: Option<SkipReason>,
    pub retries: u32,
    pub notes: Vec<String>,
}

/// `dry-run --offline`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfflinePlan {
    /// Always "offline".
    pub mode: String,
    pub selection: Selection,
    pub settings: Settings,
    pub targets: Vec<TargetPlan>,
    pub warnings: Vec<String>,
}

fn selection_line(s: &Selection, st: &Settings) -> String {
    // With a single provider the route only lends its budget and SLO: say so, not "route X".
    let single = s.chosen_by.contains("provider");
    let what = match (&s.route, single) {
        (Some(r), true) => format!("one provider (chosen by {}), budget and SLO from route {r}", s.chosen_by),
        (None, true) => format!("one provider (chosen by {}), no route", s.chosen_by),
        (Some(r), false) => format!("route {r} (chosen by {})", s.chosen_by),
        (None, false) => format!("no route (chosen by {})", s.chosen_by),
    };
    let budget = st.budget_usd.map(|b| format!("budget {}", money(b))).unwrap_or_else(|| "no budget".into());
    let slo = if st.latency_slo_from_policy {
        format!("SLO {} ms", st.latency_slo_ms)
    } else {
        format!("deadline {} ms (default; no latency_slo_ms)", st.latency_slo_ms)
    };
    let stream = if st.stream {
        match st.first_token_timeout_ms {
            Some(t) => format!("streaming, first token within {t} ms"),
            None => "streaming".into(),
        }
    } else {
        "not streaming".into()
    };
    format!(
        "{what}, {budget}, {slo}, {} retr{} per target, {stream}",
        st.retries_per_target,
        if st.retries_per_target == 1 { "y" } else { "ies" }
    )
}

impl fmt::Display for OfflinePlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "dry-run (offline, nothing sent): {}", selection_line(&self.selection, &self.settings))?;
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        for (i, t) in self.targets.iter().enumerate() {
            writeln!(f)?;
            writeln!(f, "{}. {} ({}, model {})", i + 1, t.target, t.kind.as_str(), t.model)?;
            if let Some(r) = &t.request {
                writeln!(f, "   {} {}", r.method, r.url)?;
                for h in &r.headers {
                    writeln!(f, "   {}: {}", h.name, h.value)?;
                }
                let body = serde_json::to_string_pretty(&r.body).unwrap_or_default();
                for line in body.lines() {
                    writeln!(f, "   {line}")?;
                }
            }
            let window = t.context_window.map(|w| format!(", context window {w}")).unwrap_or_default();
            writeln!(
                f,
                "   input tokens: {} ({}), max_tokens {}{window}",
                t.input_tokens.tokens,
                t.input_tokens.label(),
                t.max_tokens
            )?;
            let verdict = match (&t.would_skip, t.within_budget) {
                (Some(s), _) => format!("would be skipped: {s}"),
                (None, Some(true)) => "within budget".into(),
                (None, _) => "no budget check".into(),
            };
            let budget = self.settings.budget_usd.map(|b| format!(" of {} budget", money(b))).unwrap_or_default();
            writeln!(f, "   worst-case cost: {}{budget} — {verdict}", opt_money(t.worst_case_cost_usd))?;
            for n in &t.notes {
                writeln!(f, "   note: {n}")?;
            }
        }
        Ok(())
    }
}

/// One request sent to one target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    pub target: String,
    /// 1 for the first try at this target, 2 for its first retry, ...
    pub attempt: u32,
    /// "success", or a [`crate::FailureKind`] name such as "rate_limited".
    pub outcome: String,
    /// The error says the target is set up wrong (key, model, parameters, quota).
    pub misconfigured: bool,
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// Streaming only: from sending to the first real content.
    pub time_to_first_token_ms: Option<u64>,
    /// Time waited before the next try at this same target (Retry-After or backoff).
    pub retry_wait_ms: Option<u64>,
    pub error: Option<String>,
    /// Provider's error code or type.
    pub code: Option<String>,
    pub request_id: Option<String>,
    /// The input figure the budget and context checks used before sending.
    pub input_tokens_checked: TokenCount,
    pub worst_case_cost_usd: Option<f64>,
    /// What this attempt counts against the budget (usage, streamed tokens, or the reserved
    /// worst case when the outcome is unknown). `None` = unknown (no price).
    pub charged_usd: Option<f64>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    Answered,
    Failed,
    /// 400/401/403/404/quota, or a missing key: fix the policy or the account.
    Misconfigured,
    /// Refused before sending (budget, context window, ...).
    Skipped,
    /// An earlier target answered, or the run stopped.
    NotTried,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetResult {
    pub target: String,
    pub status: TargetStatus,
    pub attempts: u32,
    pub skip: Option<SkipReason>,
    /// Last error, or the skip reason, in words.
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Answer {
    pub target: String,
    /// The model as the response names it, else as configured.
    pub model: String,
    pub text: String,
    pub finish_reason: Option<String>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// From the provider's usage.
    Reported,
    /// Counted or estimated by promptctl (see `method`).
    Estimated,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenReport {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub source: Source,
    /// How an estimated figure was obtained.
    pub method: Option<String>,
}

/// `dry-run` against the network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// Always "live".
    pub mode: String,
    pub outcome: ExitCategory,
    pub selection: Selection,
    pub settings: Settings,
    pub answered_by: Option<String>,
    pub answer: Option<Answer>,
    pub attempts: Vec<Attempt>,
    pub targets: Vec<TargetResult>,
    /// Tokens of the answer.
    pub tokens: Option<TokenReport>,
    /// Cost of the answer; `None` = unknown (no price).
    pub cost_usd: Option<f64>,
    pub cost_source: Option<Source>,
    /// Everything counted against the budget, all attempts; `None` if any part is unknown.
    pub spent_usd: Option<f64>,
    pub total_ms: u64,
    pub within_slo: bool,
    pub warnings: Vec<String>,
}

impl RunReport {
    pub fn exit_category(&self) -> ExitCategory {
        self.outcome
    }
}

impl fmt::Display for RunReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "dry-run: {}", selection_line(&self.selection, &self.settings))?;
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        writeln!(f)?;
        match &self.answer {
            Some(a) => {
                writeln!(
                    f,
                    "answer from {} (model {}, finish_reason {}):",
                    a.target,
                    a.model,
                    a.finish_reason.as_deref().unwrap_or("none")
                )?;
                for line in a.text.lines() {
                    writeln!(f, "  {line}")?;
                }
                for n in &a.notes {
                    writeln!(f, "note: {n}")?;
                }
            }
            None => {
                let why = match self.outcome {
                    ExitCategory::BudgetRefused => "refused by the budget",
                    _ => "every target failed",
                };
                writeln!(f, "no answer: {why}")?;
            }
        }
        writeln!(f)?;
        writeln!(f, "attempts:")?;
        if self.attempts.is_empty() {
            writeln!(f, "  (none sent)")?;
        }
        for (i, a) in self.attempts.iter().enumerate() {
            let status = a.status.map(|s| format!(" HTTP {s}")).unwrap_or_default();
            let ttft = a.time_to_first_token_ms.map(|t| format!(", first token {t} ms")).unwrap_or_default();
            let wait = a.retry_wait_ms.map(|w| format!(", retry in {w} ms")).unwrap_or_default();
            let mis = if a.misconfigured { " (misconfigured)" } else { "" };
            writeln!(
                f,
                "  {}. {} #{}: {}{mis}{status}, {} ms{ttft}{wait}",
                i + 1,
                a.target,
                a.attempt,
                a.outcome,
                a.latency_ms
            )?;
            if let Some(e) = &a.error {
                writeln!(f, "     {e}")?;
            }
            if let Some(n) = &a.note {
                writeln!(f, "     note: {n}")?;
            }
        }
        writeln!(f, "targets:")?;
        for t in &self.targets {
            let st = match t.status {
                TargetStatus::Answered => "answered",
                TargetStatus::Failed => "failed",
                TargetStatus::Misconfigured => "misconfigured",
                TargetStatus::Skipped => "skipped",
                TargetStatus::NotTried => "not tried",
            };
            match &t.reason {
                Some(r) => writeln!(f, "  {}: {st} — {r}", t.target)?,
                None => writeln!(f, "  {}: {st}", t.target)?,
            }
        }
        if let Some(tk) = &self.tokens {
            let src = match (tk.source, &tk.method) {
                (Source::Reported, _) => "reported by the provider".to_string(),
                (Source::Estimated, Some(m)) => format!("estimated: {m}"),
                (Source::Estimated, None) => "estimated".to_string(),
            };
            writeln!(f, "tokens: {} in, {} out ({src})", tk.input_tokens, tk.output_tokens)?;
        }
        if self.answer.is_some() {
            let src = match self.cost_source {
                Some(Source::Reported) => " (provider usage × price)",
                Some(Source::Estimated) => " (estimated)",
                None => "",
            };
            writeln!(f, "cost: {}{src}", opt_money(self.cost_usd))?;
        }
        let budget = self.settings.budget_usd.map(|b| format!(" of {} budget", money(b))).unwrap_or_default();
        writeln!(f, "spent: {}{budget}", opt_money(self.spent_usd))?;
        writeln!(
            f,
            "time: {} ms of {} ms {}",
            self.total_ms,
            self.settings.latency_slo_ms,
            if self.within_slo { "(within SLO)" } else { "(over SLO)" }
        )
    }
}
