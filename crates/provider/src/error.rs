//! Errors that stop a dry-run before any target is tried. Provider failures are not errors:
//! they are attempts in the [`crate::RunReport`].

use serde::Serialize;

/// What went wrong before routing started. None of these messages can hold a key: they are
/// built from the policy, the prompt's `model:` block and the messages, never from the env.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// promptctl.yaml did not parse (serde_yaml's message names the field, line and column).
    #[error("promptctl.yaml: {0}")]
    ConfigParse(String),
    /// A policy field holds a value that parses but cannot be used.
    #[error("promptctl.yaml: {field}: {message}")]
    Config { field: String, message: String },
    /// The prompt's `model:` block holds an unusable value.
    #[error("prompt model block: {field}: {message}")]
    ModelBlock { field: String, message: String },
    /// The rendered messages cannot be sent to any provider.
    #[error("rendered prompt: {field}: {message}")]
    Messages { field: String, message: String },
    #[error("unknown route `{name}` (from {source_of}); routes defined: {known}")]
    UnknownRoute { name: String, source_of: String, known: String },
    #[error("unknown provider `{id}` (from {source_of}); providers defined: {known}")]
    UnknownProvider { id: String, source_of: String, known: String },
    #[error("no route or provider chosen: the prompt's model block names neither, no --route or --provider was given, and promptctl.yaml has no route named `default`")]
    NoTarget,
    #[error("--route and --provider cannot be used together")]
    ConflictingOverrides,
}

impl Error {
    /// Always [`ExitCategory::Invalid`]: every error here is about the input, nothing was sent.
    pub fn category(&self) -> ExitCategory {
        ExitCategory::Invalid
    }
}

/// How a dry-run ended, for the CLI's exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExitCategory {
    /// A target answered.
    Success,
    /// Every target failed, was misconfigured, timed out, or the deadline passed.
    AllTargetsFailed,
    /// No answer, and the budget refused at least one target (or the budget was spent).
    BudgetRefused,
    /// Invalid prompt, variables, model block or policy: nothing was sent.
    Invalid,
}

impl ExitCategory {
    /// Suggested process exit codes (SPEC §5: 0 success, 1 user-actionable, 2 usage — clap's;
    /// distinct codes so CI can tell a provider outage from a budget stop).
    pub fn suggested_exit_code(self) -> i32 {
        match self {
            ExitCategory::Success => 0,
            ExitCategory::Invalid => 1,
            ExitCategory::AllTargetsFailed => 3,
            ExitCategory::BudgetRefused => 4,
        }
    }
}
