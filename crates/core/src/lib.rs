//! The promptctl object model: content ids, prompt and ref names, revisions, and the canonical,
//! versioned encodings of trees, commits and reflog entries. Nothing here does I/O, so every
//! rule about what a name or an id may be lives in one place and is parsed once at the edge.

pub mod id;
pub mod name;
pub mod object;
pub mod reflog;
pub mod revision;
pub mod signature;

pub use id::{IdPrefix, ObjectId, ParseIdError};
pub use name::{FileKind, NameError, PromptName, RefName};
pub use object::{Commit, DecodeError, Tree, TreeEntry};
pub use reflog::{Action, ReflogEntry};
pub use revision::{CommitRev, RevSpec, RevisionError};
pub use signature::{Actor, Timestamp};
