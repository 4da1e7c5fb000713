//! The CLI's one error type: a kind (which decides the exit code), a message, and hints.
//! Library errors are mapped here and nowhere else.

use std::fmt;

use promptctl_repo::RepoError;
use promptctl_store::BackendError;

/// Exit codes, documented in the README. CI scripts depend on them: never renumber.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// 1: a failure the user can act on (not found, refused, differences with --exit-code).
    Failure = 1,
    /// 2: bad usage (also what clap exits with).
    Usage = 2,
    /// 3: a compare-and-swap conflict: the ref moved (`--expect`, concurrent promote).
    Conflict = 3,
    /// 4: invalid prompt files, templates or variables.
    Invalid = 4,
    /// 5: the store is locked by another process.
    Locked = 5,
    /// 6: the store is damaged (fsck found problems; an object's bytes do not match its id).
    Damaged = 6,
    /// 7: dry-run: every target failed (errors, timeouts, misconfigured providers).
    AllTargetsFailed = 7,
    /// 8: dry-run: no answer because the cost ceiling refused the targets.
    BudgetRefused = 8,
}

#[derive(Debug)]
pub struct CliError {
    pub kind: Kind,
    pub message: String,
    pub hints: Vec<String>,
}

impl CliError {
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        CliError { kind, message: message.into(), hints: Vec::new() }
    }
    pub fn failure(message: impl Into<String>) -> Self {
        Self::new(Kind::Failure, message)
    }
    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(Kind::Usage, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Kind::Invalid, message)
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hints.push(h.into());
        self
    }
    pub fn code(&self) -> i32 {
        self.kind as i32
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<RepoError> for CliError {
    fn from(e: RepoError) -> Self {
        let hint = e.hint();
        let kind = match &e {
            RepoError::Conflict(_) => Kind::Conflict,
            RepoError::Invalid { .. } | RepoError::Config(_) => Kind::Invalid,
            RepoError::Damaged { .. } => Kind::Damaged,
            RepoError::Backend(BackendError::Locked { .. }) => Kind::Locked,
            RepoError::Backend(BackendError::Corrupt(_)) => Kind::Damaged,
            _ => Kind::Failure,
        };
        let mut err = CliError::new(kind, e.to_string());
        if let Some(h) = hint {
            err.hints.push(h);
        }
        err
    }
}

impl From<BackendError> for CliError {
    fn from(e: BackendError) -> Self {
        RepoError::from(e).into()
    }
}

impl From<promptctl_core::RevisionError> for CliError {
    fn from(e: promptctl_core::RevisionError) -> Self {
        CliError::usage(e.to_string())
            .hint("revisions look like `name@production`, `production~1`, `staging@{2}`, or an id prefix")
    }
}

impl From<promptctl_core::NameError> for CliError {
    fn from(e: promptctl_core::NameError) -> Self {
        CliError::usage(e.to_string())
    }
}

impl From<std::io::Error> for CliError {
    fn from(e: std::io::Error) -> Self {
        CliError::failure(format!("I/O error: {e}"))
    }
}

pub type CliResult<T = ()> = Result<T, CliError>;
