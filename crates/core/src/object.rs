//! Trees and commits, and their canonical encodings (format version 1).
//!
//! Both encodings are line-oriented UTF-8 text so that they can be read with `promptctl cat` and
//! re-derived by hand. The id of each is `BLAKE3(header ‖ encoding)` where the header is
//! `promptctl-tree-v1\0` or `promptctl-commit-v1\0`. The golden tests at the bottom fail if
//! either encoding ever changes; a change needs a new version tag, never an edit in place.
//!
//! Tree v1:
//! ```text
//! <64 hex version id> <path>\n      one line per prompt, sorted by prompt name (bytewise)
//! ```
//! where `<path>` is the file's path under `prompts/`: the prompt name plus the format's
//! extension (see [`crate::name::FileKind`]), so the tree also says how to render each version.
//! Commit v1:
//! ```text
//! tree <64 hex>\n
//! parent <64 hex>\n          zero or more, in order (first parent first)
//! author <actor>\n
//! time <RFC 3339 UTC, seconds>\n
//! \n
//! <message>                   UTF-8, no NUL, trailing white space removed
//! ```

use std::collections::BTreeMap;

use crate::id::ObjectId;
use crate::name::{FileKind, PromptName};
use crate::signature::{Actor, Timestamp};

pub const TREE_HEADER: &[u8] = b"promptctl-tree-v1\0";
pub const COMMIT_HEADER: &[u8] = b"promptctl-commit-v1\0";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("{kind} object is damaged: {why}")]
    Damaged { kind: &'static str, why: String },
}

fn damaged(kind: &'static str, why: impl Into<String>) -> DecodeError {
    DecodeError::Damaged { kind, why: why.into() }
}

/// One prompt in a tree: its version id and the kind of file it was committed as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TreeEntry {
    pub id: ObjectId,
    pub kind: FileKind,
}

/// The sorted set of (prompt name → prompt version id) in one snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tree {
    entries: BTreeMap<PromptName, TreeEntry>,
}

impl Tree {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn from_entries(entries: BTreeMap<PromptName, TreeEntry>) -> Self {
        Tree { entries }
    }
    pub fn entries(&self) -> &BTreeMap<PromptName, TreeEntry> {
        &self.entries
    }
    pub fn get(&self, name: &PromptName) -> Option<&TreeEntry> {
        self.entries.get(name)
    }
    pub fn insert(&mut self, name: PromptName, entry: TreeEntry) {
        self.entries.insert(name, entry);
    }
    pub fn remove(&mut self, name: &PromptName) -> Option<TreeEntry> {
        self.entries.remove(name)
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn encode(&self) -> Vec<u8> {
        // BTreeMap<PromptName> orders by the name's bytes, which is the documented order.
        let mut out = Vec::with_capacity(self.entries.len() * 80);
        for (name, e) in &self.entries {
            out.extend_from_slice(e.id.to_hex().as_bytes());
            out.push(b' ');
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(e.kind.ext().as_bytes());
            out.push(b'\n');
        }
        out
    }

    pub fn id(&self) -> ObjectId {
        ObjectId::of_structured(TREE_HEADER, &self.encode())
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let text = std::str::from_utf8(bytes).map_err(|_| damaged("tree", "not UTF-8"))?;
        let mut entries = BTreeMap::new();
        let mut last: Option<PromptName> = None;
        if !text.is_empty() && !text.ends_with('\n') {
            return Err(damaged("tree", "missing final newline"));
        }
        for line in text.lines() {
            let (hex, path) = line.split_once(' ').ok_or_else(|| damaged("tree", format!("bad line {line:?}")))?;
            let id: ObjectId = hex.parse().map_err(|_| damaged("tree", format!("bad id {hex:?}")))?;
            let (name, kind) =
                PromptName::from_path(path).map_err(|_| damaged("tree", format!("bad path {path:?}")))?;
            if last.as_ref().is_some_and(|l| *l >= name) {
                return Err(damaged("tree", "entries are not sorted"));
            }
            last = Some(name.clone());
            entries.insert(name, TreeEntry { id, kind });
        }
        Ok(Tree { entries })
    }
}

/// A snapshot: a tree, its parents, who made it, when and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    pub tree: ObjectId,
    pub parents: Vec<ObjectId>,
    pub author: Actor,
    pub time: Timestamp,
    pub message: String,
}

/// Commit messages are stored without trailing white space (as git does), and may not hold NUL.
pub fn normalize_message(msg: &str) -> String {
    msg.replace('\0', "").trim_end().to_string()
}

impl Commit {
    pub fn encode(&self) -> Vec<u8> {
        let mut s = String::with_capacity(200 + self.message.len());
        s.push_str("tree ");
        s.push_str(&self.tree.to_hex());
        s.push('\n');
        for p in &self.parents {
            s.push_str("parent ");
            s.push_str(&p.to_hex());
            s.push('\n');
        }
        s.push_str("author ");
        s.push_str(self.author.as_str());
        s.push('\n');
        s.push_str("time ");
        s.push_str(&self.time.to_rfc3339());
        s.push_str("\n\n");
        s.push_str(&normalize_message(&self.message));
        s.into_bytes()
    }

    pub fn id(&self) -> ObjectId {
        ObjectId::of_structured(COMMIT_HEADER, &self.encode())
    }

    pub fn first_parent(&self) -> Option<ObjectId> {
        self.parents.first().copied()
    }

    /// The first line of the message.
    pub fn summary(&self) -> &str {
        self.message.lines().next().unwrap_or("")
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let text = std::str::from_utf8(bytes).map_err(|_| damaged("commit", "not UTF-8"))?;
        let (head, message) = text.split_once("\n\n").ok_or_else(|| damaged("commit", "no blank line"))?;
        let mut tree = None;
        let mut parents = Vec::new();
        let mut author = None;
        let mut time = None;
        for line in head.lines() {
            let (key, val) = line.split_once(' ').ok_or_else(|| damaged("commit", format!("bad line {line:?}")))?;
            match key {
                "tree" if tree.is_none() && parents.is_empty() => {
                    tree = Some(val.parse().map_err(|_| damaged("commit", "bad tree id"))?)
                }
                "parent" if tree.is_some() && author.is_none() => {
                    parents.push(val.parse().map_err(|_| damaged("commit", "bad parent id"))?)
                }
                "author" if author.is_none() => {
                    author = Some(Actor::new(val).map_err(|e| damaged("commit", e.to_string()))?)
                }
                "time" if author.is_some() && time.is_none() => {
                    time = Some(Timestamp::parse(val).map_err(|e| damaged("commit", e.to_string()))?)
                }
                _ => return Err(damaged("commit", format!("unexpected line {line:?}"))),
            }
        }
        let commit = Commit {
            tree: tree.ok_or_else(|| damaged("commit", "no tree"))?,
            parents,
            author: author.ok_or_else(|| damaged("commit", "no author"))?,
            time: time.ok_or_else(|| damaged("commit", "no time"))?,
            message: message.to_string(),
        };
        // Decoding must be the exact inverse of encoding, or two byte strings could name one commit.
        if commit.encode() != bytes {
            return Err(damaged("commit", "not in canonical form"));
        }
        Ok(commit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample_tree() -> Tree {
        let mut t = Tree::new();
        let e = |b: &[u8], kind| TreeEntry { id: ObjectId::of_blob(b), kind };
        t.insert("summarize".parse().expect("name"), e(b"hello\n", FileKind::Native));
        t.insert("support/triage".parse().expect("name"), e(b"triage\n", FileKind::Jinja));
        t
    }

    fn sample_commit() -> Commit {
        Commit {
            tree: sample_tree().id(),
            parents: vec![ObjectId::of_blob(b"parent")],
            author: Actor::new("Ada Lovelace").expect("actor"),
            time: Timestamp::parse("2026-01-02T03:04:05Z").expect("time"),
            message: "Add triage prompt\n\nLonger body.\n".into(),
        }
    }

    /// Golden hashes (computed independently with the Python `blake3` package): if these change, every stored id changes. Bump the version tag instead.
    #[test]
    fn golden_tree_encoding() {
        let t = sample_tree();
        assert_eq!(
            String::from_utf8(t.encode()).expect("utf8"),
            format!(
                "{} summarize.prompt.yaml\n{} support/triage.jinja\n",
                ObjectId::of_blob(b"hello\n"),
                ObjectId::of_blob(b"triage\n")
            )
        );
        assert_eq!(t.id().to_hex(), GOLDEN_TREE);
    }

    #[test]
    fn golden_commit_encoding() {
        let c = sample_commit();
        let text = String::from_utf8(c.encode()).expect("utf8");
        assert!(text.starts_with(&format!("tree {}\nparent ", sample_tree().id())));
        assert!(text.ends_with("author Ada Lovelace\ntime 2026-01-02T03:04:05Z\n\nAdd triage prompt\n\nLonger body."));
        assert_eq!(c.id().to_hex(), GOLDEN_COMMIT);
    }

    const GOLDEN_TREE: &str = "6350d256c77158776723aae828f8048c75bc61a2bce772f954b1a5ad2abd1404";
    const GOLDEN_COMMIT: &str = "89ffd75b475a2e71fc42c34b9a75c3f540e693f925cbedff1ae8ff591c90398e";

    #[test]
    fn round_trips() {
        let t = sample_tree();
        assert_eq!(Tree::decode(&t.encode()).expect("decode"), t);
        let c = sample_commit();
        let back = Commit::decode(&c.encode()).expect("decode");
        assert_eq!(back.id(), c.id());
        assert_eq!(back.parents, c.parents);
    }

    #[test]
    fn rejects_non_canonical() {
        let c = sample_commit();
        let mut bytes = c.encode();
        bytes.extend_from_slice(b"\n\n");
        assert!(Commit::decode(&bytes).is_err());
        assert!(Tree::decode(b"zz summarize\n").is_err());
        let t = sample_tree();
        let text = String::from_utf8(t.encode()).expect("utf8");
        let swapped: String = text.lines().rev().map(|l| format!("{l}\n")).collect();
        assert!(Tree::decode(swapped.as_bytes()).is_err());
    }

    #[test]
    fn structured_ids_are_domain_separated() {
        let t = sample_tree();
        assert_ne!(t.id(), ObjectId::of_blob(&t.encode()));
    }
}
