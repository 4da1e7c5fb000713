//! Repository operations over a storage [`Backend`](promptctl_store::Backend): reading and
//! verifying objects, resolving revisions, committing snapshots, promoting, rolling back,
//! per-prompt history, and `fsck`. The CLI and the HTTP server are thin layers over this crate.

pub mod config;
pub mod error;
pub mod fsck;
pub mod history;
pub mod ops;
pub mod repo;
pub mod resolve;
pub mod treestore;
pub mod worktree;

pub use error::{display_ref, RepoError, Result};
pub use history::{changed_names_between, tree_changes, PromptChange};
pub use repo::{RefKind, Repo};
pub use resolve::Resolved;
