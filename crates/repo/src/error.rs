//! The one error type of repository operations. Each variant carries what the user needs to act:
//! the ref, id, prompt or file at fault, and (through `hint`) what to do next.

use promptctl_core::{ObjectId, RefName};
use promptctl_store::BackendError;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("{0}")]
    NotFound(String),
    #[error("id prefix `{prefix}` is ambiguous; it matches:\n{}", .matches.iter().map(|m| format!("  {m}")).collect::<Vec<_>>().join("\n"))]
    Ambiguous { prefix: String, matches: Vec<String> },
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("branch `{0}` is protected: it moves only by `promote` or `rollback`")]
    Protected(RefName),
    #[error("{0}")]
    Refused(String),
    #[error("{count} invalid prompt file(s):\n{}", .errors.iter().map(|e| format!("  {e}")).collect::<Vec<_>>().join("\n"))]
    Invalid { count: usize, errors: Vec<String> },
    #[error("object {id} is damaged: {why}; run `promptctl fsck`")]
    Damaged { id: ObjectId, why: String },
    #[error(transparent)]
    Backend(BackendError),
    #[error("{path}: {message}")]
    Io { path: String, message: String },
    #[error("{0}")]
    Config(String),
}

impl From<BackendError> for RepoError {
    fn from(e: BackendError) -> Self {
        match e {
            BackendError::Conflict { name, expected, actual } => RepoError::Conflict(format!(
                "`{}` moved while this command ran (expected {expected}, found {actual}); nothing was changed",
                display_ref(&name)
            )),
            other => RepoError::Backend(other),
        }
    }
}

/// Refs are stored as `heads/NAME` and `tags/NAME`; users see NAME.
pub fn display_ref(full: &RefName) -> &str {
    let s = full.as_str();
    s.strip_prefix("heads/").or_else(|| s.strip_prefix("tags/")).unwrap_or(s)
}

impl RepoError {
    /// A next step for the user, printed as `hint:` lines by the CLI.
    pub fn hint(&self) -> Option<String> {
        match self {
            RepoError::Protected(b) => {
                Some(format!("commit to `staging` and run `promptctl promote staging {}`", display_ref(b)))
            }
            RepoError::Conflict(_) => {
                Some("re-read the ref (`promptctl branch`) and retry with the new `--expect`".into())
            }
            RepoError::Damaged { .. } => Some("`promptctl fsck` lists every damaged object".into()),
            RepoError::Ambiguous { .. } => Some("use a longer prefix".into()),
            _ => None,
        }
    }
}

pub type Result<T, E = RepoError> = std::result::Result<T, E>;
