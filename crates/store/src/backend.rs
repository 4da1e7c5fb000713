//! The storage contract. A backend is a set of named, sorted key-value spaces plus refs and
//! per-ref reflogs, with one atomic write operation ([`Backend::commit_tx`]). Everything above
//! (objects, indexes, promote, rollback) is written once against this trait, so the sled store and
//! the in-memory store behave identically; `tests/conformance.rs` runs one suite on both.

use promptctl_core::{ObjectId, RefName, ReflogEntry};

/// The key spaces a backend keeps. Objects are keyed by their 32-byte id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Space {
    /// Prompt versions: the exact file bytes.
    Blobs,
    /// Encoded trees.
    Trees,
    /// Encoded commits.
    Commits,
    /// Derived data about commits (generation number, skip pointer): rebuildable, not hashed.
    CommitMeta,
    /// Derived per-prompt change index: key = name ‖ 0 ‖ generation(BE) ‖ commit id.
    PromptIndex,
}

impl Space {
    pub const ALL: [Space; 5] = [Space::Blobs, Space::Trees, Space::Commits, Space::CommitMeta, Space::PromptIndex];
    pub fn as_str(&self) -> &'static str {
        match self {
            Space::Blobs => "blobs",
            Space::Trees => "trees",
            Space::Commits => "commits",
            Space::CommitMeta => "commit-meta",
            Space::PromptIndex => "prompt-index",
        }
    }
}

/// What a ref holds: `None` is an unborn branch (exists, points nowhere yet, as a new git branch).
pub type RefValue = Option<ObjectId>;

/// One compare-and-swap on a ref.
#[derive(Debug, Clone)]
pub struct RefUpdate {
    pub name: RefName,
    /// The state the caller saw: `None` = the ref must not exist; `Some(v)` = it must hold `v`.
    pub expected: Option<RefValue>,
    /// The new state: `None` deletes the ref; `Some(v)` sets it.
    pub new: Option<RefValue>,
    /// The reflog entry to append. Its `prev` field is ignored and set by the backend to the
    /// hash of the ref's last entry, inside the same atomic write, so the chain never forks.
    pub entry: ReflogEntry,
}

/// One atomic write: all puts and all ref updates land together, or none does.
#[derive(Debug, Clone, Default)]
pub struct Transaction {
    pub puts: Vec<(Space, Vec<u8>, Vec<u8>)>,
    pub refs: Vec<RefUpdate>,
}

#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// A ref was not where the caller expected: nothing was written.
    #[error("ref `{name}` moved: expected {expected}, found {actual}")]
    Conflict { name: RefName, expected: String, actual: String },
    /// Another process holds the store.
    #[error(
        "the store at {path} is locked by another promptctl process (waited {waited_ms} ms); retry when it finishes"
    )]
    Locked { path: String, waited_ms: u64 },
    #[error("store I/O error at {path}: {message}")]
    Io { path: String, message: String },
    #[error("the store is damaged: {0}")]
    Corrupt(String),
}

pub type Result<T, E = BackendError> = std::result::Result<T, E>;

impl BackendError {
    /// The `Conflict` error for a ref whose state was `actual` where the caller expected
    /// `expected`. States print as full hex so a user can paste the one found into `--expect`.
    pub(crate) fn conflict(name: &RefName, expected: Option<RefValue>, actual: Option<RefValue>) -> Self {
        fn show(state: Option<RefValue>) -> String {
            match state {
                None => "no such ref".into(),
                Some(None) => "an unborn ref".into(),
                Some(Some(id)) => id.to_hex(),
            }
        }
        BackendError::Conflict { name: name.clone(), expected: show(expected), actual: show(actual) }
    }
}

pub trait Backend: Send + Sync {
    fn get(&self, space: Space, key: &[u8]) -> Result<Option<Vec<u8>>>;

    /// All (key, value) pairs whose key starts with `prefix`, in key order, at most `limit`.
    fn scan_prefix(&self, space: Space, prefix: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// Like `scan_prefix` but newest-first (descending key order).
    fn scan_prefix_rev(&self, space: Space, prefix: &[u8], limit: usize) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;

    /// `None` if the ref does not exist; `Some(None)` if it is unborn.
    fn get_ref(&self, name: &RefName) -> Result<Option<RefValue>>;

    fn list_refs(&self) -> Result<Vec<(RefName, RefValue)>>;

    /// The ref's reflog, oldest first. A deleted ref keeps its reflog.
    fn reflog(&self, name: &RefName) -> Result<Vec<ReflogEntry>>;

    /// Every ref name that has a reflog (including deleted refs).
    fn reflog_names(&self) -> Result<Vec<RefName>>;

    /// Applies the transaction atomically, checking every ref's expected state first.
    ///
    /// Ref updates apply in order, so a later update of the same ref in one transaction is
    /// checked against the state the earlier one left. On any error (a [`BackendError::Conflict`]
    /// above all) nothing of the transaction is written, neither its puts nor its refs.
    fn commit_tx(&self, tx: Transaction) -> Result<()>;

    /// Makes everything committed so far durable.
    fn flush(&self) -> Result<()>;

    /// Test/fsck hook: overwrite raw bytes, bypassing all checks (used to simulate damage).
    fn raw_put(&self, space: Space, key: &[u8], value: &[u8]) -> Result<()>;

    /// Test/fsck hook: remove raw bytes, bypassing all checks (used to simulate a lost object).
    fn raw_remove(&self, space: Space, key: &[u8]) -> Result<()>;
}
