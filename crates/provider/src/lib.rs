//! promptctl-provider: LLM providers and the routing policy behind `promptctl dry-run`.
//!
//! The CLI's whole job:
//!
//! ```no_run
//! # async fn demo(policy: promptctl_provider::PolicyConfig, messages: Vec<promptctl_provider::Message>) -> Result<(), promptctl_provider::Error> {
//! use promptctl_provider::{DryRun, DryRunInput, Overrides, process_env};
//! let model = serde_json::json!({"route": "default", "max_tokens": 400});
//! let dr = DryRun::prepare(DryRunInput {
//!     policy: &policy,
//!     messages,
//!     model: &model,
//!     overrides: Overrides::default(),
//!     env: &process_env,
//! })?; // Err => invalid prompt/policy: exit code 1
//! let plan = dr.plan_offline(); // --offline: print `plan` or serde_json::to_string(&plan)
//! let report = dr.run().await;  // otherwise
//! println!("{report}");
//! std::process::exit(report.exit_category().suggested_exit_code());
//! # }
//! ```
//!
//! Semantics (PROVIDERS.md): one overall deadline from `latency_slo_ms` shared by every
//! attempt; each attempt gets an even share of the time left among the targets left; a timed
//! out target is not retried; exactly one retry loop (`retries_per_target`, default 1) for
//! retryable errors only, honouring `retry-after-ms` / `Retry-After`, and falling over at once
//! when the wait would pass the deadline; the worst case is reserved against the budget before
//! every attempt; unknown prices and unknown outcomes fail closed.

#![forbid(unsafe_code)]

mod classify;
mod config;
mod error;
mod params;
mod plan;
mod report;
mod run;
mod secret;
mod tokens;
mod wire;

pub use classify::FailureKind;
pub use config::{MaxTokensParam, PolicyConfig, Price, ProviderConfig, ProviderKind, RouteConfig, BUILTIN_ECHO};
pub use error::{Error, ExitCategory};
pub use params::{Message, ModelParams};
pub use plan::{
    process_env, DryRun, DryRunInput, Overrides, Selection, Settings, DEFAULT_BACKOFF_MS, DEFAULT_MAX_TOKENS,
    DEFAULT_RETRIES, DEFAULT_SLO_MS,
};
pub use report::{
    Answer, Attempt, OfflinePlan, RunReport, SkipReason, Source, TargetPlan, TargetResult, TargetStatus, TokenReport,
};
pub use run::{Runner, ECHO_USAGE};
pub use secret::{ApiKey, Redactor, REDACTED};
pub use tokens::{count_messages, count_text, CountMethod, Encoding, TokenCount, DEFAULT_ESTIMATE_MARGIN};
pub use wire::{max_tokens_param_for, HeaderPreview, RequestPreview, Usage, ANTHROPIC_VERSION, ECHO_URL};
