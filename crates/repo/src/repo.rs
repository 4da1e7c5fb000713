//! The repository: a backend plus who is acting and when. Reads verify hashes; writes go through
//! one transaction each, so a command's effect lands whole or not at all.

use promptctl_core::{Action, Actor, Commit, ObjectId, PromptName, RefName, ReflogEntry, Timestamp, Tree};
use promptctl_store::{Backend, RefUpdate, RefValue, Space, Transaction};

use crate::error::{display_ref, RepoError, Result};

/// Branches move; tags are written once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefKind {
    Branch,
    Tag,
}

impl RefKind {
    fn prefix(&self) -> &'static str {
        match self {
            RefKind::Branch => "heads/",
            RefKind::Tag => "tags/",
        }
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            RefKind::Branch => "branch",
            RefKind::Tag => "tag",
        }
    }
}

/// Derived, rebuildable facts about a commit kept beside it: its depth along first parents and a
/// skip pointer (Myers' skew-binary jump), so that "the ancestor at depth g" takes O(log n) reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitMeta {
    pub gen: u64,
    pub parent: Option<ObjectId>,
    pub jump: Option<ObjectId>,
}

impl CommitMeta {
    fn encode(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(74);
        v.extend_from_slice(&self.gen.to_be_bytes());
        for id in [self.parent, self.jump] {
            match id {
                Some(id) => {
                    v.push(1);
                    v.extend_from_slice(id.as_bytes());
                }
                None => v.push(0),
            }
        }
        v
    }

    fn decode(b: &[u8]) -> Option<Self> {
        let gen = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
        let mut rest = &b[8..];
        let mut take = || -> Option<Option<ObjectId>> {
            let (flag, tail) = rest.split_first()?;
            if *flag == 0 {
                rest = tail;
                Some(None)
            } else {
                let id = ObjectId::from_slice(tail.get(..32)?)?;
                rest = &tail[32..];
                Some(Some(id))
            }
        };
        let parent = take()?;
        let jump = take()?;
        Some(CommitMeta { gen, parent, jump })
    }
}

/// Builds one atomic write.
#[derive(Default)]
pub struct Tx {
    inner: Transaction,
}

impl Tx {
    pub fn put(&mut self, space: Space, key: Vec<u8>, value: Vec<u8>) {
        self.inner.puts.push((space, key, value));
    }
}

pub struct Repo {
    backend: Box<dyn Backend>,
    pub actor: Actor,
    now: Option<Timestamp>,
    /// Branches that only `promote` and `rollback` may move.
    pub protected: Vec<RefName>,
    pub default_branch: RefName,
}

pub fn full_ref(kind: RefKind, name: &RefName) -> Result<RefName> {
    format!("{}{}", kind.prefix(), name)
        .parse()
        .map_err(|e: promptctl_core::NameError| RepoError::Refused(e.to_string()))
}

impl Repo {
    /// `default_branch` is where `commit` lands and what a bare prompt name reads (`staging`);
    /// `protected` branches move only by promote and rollback (`production`).
    pub fn new(
        backend: Box<dyn Backend>,
        actor: Actor,
        now: Option<Timestamp>,
        default_branch: RefName,
        protected: Vec<RefName>,
    ) -> Self {
        Repo { backend, actor, now, protected, default_branch }
    }

    pub fn backend(&self) -> &dyn Backend {
        self.backend.as_ref()
    }

    pub fn now(&self) -> Timestamp {
        self.now.unwrap_or_else(Timestamp::now)
    }

    pub fn is_protected(&self, branch: &RefName) -> bool {
        self.protected.contains(branch)
    }

    // ---- objects -------------------------------------------------------------------------

    /// The exact bytes of a prompt version, refused if they no longer hash to their id.
    pub fn read_blob(&self, id: &ObjectId) -> Result<Vec<u8>> {
        let bytes = self
            .backend
            .get(Space::Blobs, id.as_bytes())?
            // Every id we look up comes from a tree or a prefix match, so a missing blob is damage.
            .ok_or_else(|| RepoError::Damaged {
                id: *id,
                why: "the prompt version is missing from the store".into(),
            })?;
        let actual = ObjectId::of_blob(&bytes);
        if actual != *id {
            return Err(RepoError::Damaged { id: *id, why: format!("its bytes hash to {}", actual.short()) });
        }
        Ok(bytes)
    }

    pub fn has_blob(&self, id: &ObjectId) -> Result<bool> {
        Ok(self.backend.get(Space::Blobs, id.as_bytes())?.is_some())
    }

    pub fn read_tree(&self, id: &ObjectId) -> Result<Tree> {
        use crate::treestore::{decode, Record};
        // Follow deltas back to a full tree, then apply them forward.
        let mut chain = Vec::new();
        let mut cur = *id;
        let mut tree = loop {
            let bytes = self
                .backend
                .get(Space::Trees, cur.as_bytes())?
                .ok_or_else(|| RepoError::Damaged { id: cur, why: "the tree is missing".into() })?;
            match decode(&bytes).map_err(|why| RepoError::Damaged { id: cur, why })? {
                Record::Full(t) => break t,
                Record::Delta { base, changes, .. } => {
                    if chain.len() > usize::from(crate::treestore::MAX_CHAIN) {
                        return Err(RepoError::Damaged { id: *id, why: "its delta chain does not end".into() });
                    }
                    chain.push(changes);
                    cur = base;
                }
            }
        };
        for changes in chain.into_iter().rev() {
            for (name, entry) in changes {
                match entry {
                    Some(e) => tree.insert(name, e),
                    None => {
                        tree.remove(&name);
                    }
                }
            }
        }
        if tree.id() != *id {
            return Err(RepoError::Damaged { id: *id, why: "the tree's encoding does not hash to its id".into() });
        }
        Ok(tree)
    }

    /// Queues a tree for storage: nothing if it is already stored (a record is never replaced,
    /// so delta chains cannot form cycles), else a delta against `parent` while the chain is
    /// short, else the full tree.
    fn stage_tree(&self, tx: &mut Tx, tree: &Tree, parent: Option<(&ObjectId, &Tree)>) -> Result<()> {
        use crate::treestore::{depth, encode_delta, encode_full, MAX_CHAIN};
        let id = tree.id();
        if self.backend.get(Space::Trees, id.as_bytes())?.is_some() {
            return Ok(());
        }
        let record = match parent {
            Some((pid, ptree)) if *pid != id => {
                let pdepth = self.backend.get(Space::Trees, pid.as_bytes())?.as_deref().and_then(depth);
                match pdepth {
                    Some(d) if d + 1 < MAX_CHAIN => encode_delta(d + 1, pid, ptree, tree),
                    _ => encode_full(tree),
                }
            }
            _ => encode_full(tree),
        };
        tx.put(Space::Trees, id.as_bytes().to_vec(), record);
        Ok(())
    }

    pub fn read_commit(&self, id: &ObjectId) -> Result<Commit> {
        let bytes = self
            .backend
            .get(Space::Commits, id.as_bytes())?
            .ok_or_else(|| RepoError::NotFound(format!("commit {} is not in the store", id.short())))?;
        let commit = Commit::decode(&bytes).map_err(|e| RepoError::Damaged { id: *id, why: e.to_string() })?;
        if commit.id() != *id {
            return Err(RepoError::Damaged { id: *id, why: "the commit's encoding does not hash to its id".into() });
        }
        Ok(commit)
    }

    pub fn commit_tree(&self, commit: &ObjectId) -> Result<Tree> {
        let c = self.read_commit(commit)?;
        self.read_tree(&c.tree)
    }

    pub fn meta(&self, id: &ObjectId) -> Result<CommitMeta> {
        let bytes = self
            .backend
            .get(Space::CommitMeta, id.as_bytes())?
            .ok_or_else(|| RepoError::Damaged { id: *id, why: "commit metadata is missing".into() })?;
        CommitMeta::decode(&bytes)
            .ok_or_else(|| RepoError::Damaged { id: *id, why: "commit metadata is unreadable".into() })
    }

    /// The first-parent ancestor of `id` at depth `gen` (None if `gen` is deeper than `id`).
    pub fn ancestor_at(&self, id: &ObjectId, gen: u64) -> Result<Option<ObjectId>> {
        let mut cur = *id;
        let mut m = self.meta(&cur)?;
        if m.gen < gen {
            return Ok(None);
        }
        while m.gen > gen {
            let next = match m.jump {
                Some(j) if self.meta(&j)?.gen >= gen => j,
                _ => match m.parent {
                    Some(p) => p,
                    None => return Ok(None),
                },
            };
            cur = next;
            m = self.meta(&cur)?;
        }
        Ok(Some(cur))
    }

    /// Is `anc` reachable from `desc` by parent links (any parent)? Uses generation numbers to
    /// stop early; our own operations only make single-parent commits, so this is usually one
    /// `ancestor_at` lookup.
    pub fn is_ancestor(&self, anc: &ObjectId, desc: &ObjectId) -> Result<bool> {
        let ga = self.meta(anc)?.gen;
        if self.ancestor_at(desc, ga)? == Some(*anc) {
            return Ok(true);
        }
        let mut stack = vec![*desc];
        let mut seen = std::collections::HashSet::new();
        while let Some(c) = stack.pop() {
            if c == *anc {
                return Ok(true);
            }
            if !seen.insert(c) || self.meta(&c)?.gen <= ga {
                continue;
            }
            stack.extend(self.read_commit(&c)?.parents);
        }
        Ok(false)
    }

    /// Adds a commit (and its tree and new blobs, already in `tx`) plus its derived index
    /// entries to `tx`. Returns the commit id.
    pub fn stage_commit(&self, tx: &mut Tx, tree: &Tree, parents: Vec<ObjectId>, message: &str) -> Result<ObjectId> {
        let commit = Commit {
            tree: tree.id(),
            parents,
            author: self.actor.clone(),
            time: self.now(),
            message: message.to_string(),
        };
        let id = commit.id();
        tx.put(Space::Commits, id.as_bytes().to_vec(), commit.encode());
        let parent = commit.first_parent();
        let (meta, parent_tree) = match parent {
            None => (CommitMeta { gen: 0, parent: None, jump: None }, Tree::new()),
            Some(p) => {
                let pm = self.meta(&p)?;
                // Skew-binary jump: if p's jump spans as far as p's jump's jump, skip both.
                let jump = match pm.jump {
                    Some(j) => {
                        let jm = self.meta(&j)?;
                        match jm.jump {
                            Some(jj) if pm.gen - jm.gen == jm.gen - self.meta(&jj)?.gen => Some(jj),
                            _ => Some(p),
                        }
                    }
                    None => Some(p),
                };
                (CommitMeta { gen: pm.gen + 1, parent: Some(p), jump }, self.commit_tree(&p)?)
            }
        };
        let parent_tree_id = parent.map(|_| parent_tree.id());
        self.stage_tree(tx, tree, parent_tree_id.as_ref().map(|pid| (pid, &parent_tree)))?;
        tx.put(Space::CommitMeta, id.as_bytes().to_vec(), meta.encode());
        for name in changed_names(&parent_tree, tree) {
            // The value is the prompt's new version (`[1] ‖ id`), or `[0]` where it was deleted,
            // so `log NAME` never has to read a tree.
            let value = match tree.get(&name) {
                Some(e) => [&[1u8][..], e.id.as_bytes()].concat(),
                None => vec![0],
            };
            tx.put(Space::PromptIndex, index_key(&name, meta.gen, &id), value);
        }
        Ok(id)
    }

    // ---- refs ----------------------------------------------------------------------------

    pub fn get_ref(&self, kind: RefKind, name: &RefName) -> Result<Option<RefValue>> {
        Ok(self.backend.get_ref(&full_ref(kind, name)?)?)
    }

    /// Which kind of ref `name` is, if any.
    pub fn ref_kind(&self, name: &RefName) -> Result<Option<(RefKind, RefValue)>> {
        for kind in [RefKind::Branch, RefKind::Tag] {
            if let Some(v) = self.get_ref(kind, name)? {
                return Ok(Some((kind, v)));
            }
        }
        Ok(None)
    }

    pub fn list_refs(&self, kind: RefKind) -> Result<Vec<(RefName, RefValue)>> {
        let mut out = Vec::new();
        for (full, v) in self.backend.list_refs()? {
            if let Some(short) = full.as_str().strip_prefix(kind.prefix()) {
                if let Ok(n) = short.parse() {
                    out.push((n, v));
                }
            }
        }
        Ok(out)
    }

    /// The reflog of a ref, newest first.
    pub fn reflog(&self, kind: RefKind, name: &RefName) -> Result<Vec<ReflogEntry>> {
        let mut v = self.backend.reflog(&full_ref(kind, name)?)?;
        v.reverse();
        Ok(v)
    }

    /// Every reflog entry of every ref, newest first (by time, then by ref order).
    pub fn audit(&self) -> Result<Vec<ReflogEntry>> {
        let mut all = Vec::new();
        for name in self.backend.reflog_names()? {
            all.extend(self.backend.reflog(&name)?);
        }
        // Each reflog is oldest first: reversed, each ref's moves are newest first, and the stable
        // sort by time keeps that order for moves within the same second.
        all.reverse();
        all.sort_by_key(|e| std::cmp::Reverse(e.time));
        Ok(all)
    }

    /// Queues a compare-and-swap move of a ref with its reflog entry.
    pub fn stage_ref_move(
        &self,
        tx: &mut Tx,
        (kind, name): (RefKind, &RefName),
        expected: Option<RefValue>,
        new: Option<RefValue>,
        action: Action,
        message: String,
    ) -> Result<()> {
        let full = full_ref(kind, name)?;
        let entry = ReflogEntry {
            refname: full.clone(),
            old: expected.flatten(),
            new: new.flatten(),
            action,
            actor: self.actor.clone(),
            time: self.now(),
            message,
            prev: None,
        };
        tx.inner.refs.push(RefUpdate { name: full, expected, new, entry });
        Ok(())
    }

    pub fn apply(&self, tx: Tx) -> Result<()> {
        self.backend.commit_tx(tx.inner)?;
        Ok(())
    }

    /// A branch's current value, with errors that say what to do.
    pub fn branch_value(&self, name: &RefName) -> Result<RefValue> {
        match self.get_ref(RefKind::Branch, name)? {
            Some(v) => Ok(v),
            None => {
                if self.get_ref(RefKind::Tag, name)?.is_some() {
                    Err(RepoError::Refused(format!("`{name}` is a tag, and tags never move; name a branch")))
                } else {
                    Err(RepoError::NotFound(format!(
                        "no branch `{name}`; create it with `promptctl branch {name}` (branches: {})",
                        self.list_refs(RefKind::Branch)?.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
                    )))
                }
            }
        }
    }

    pub fn display(full: &RefName) -> &str {
        display_ref(full)
    }
}

/// Index key of "commit `id` at depth `gen` changed prompt `name`". Prompt names never contain
/// NUL, so `name ‖ 0` is an exact prefix; the big-endian depth sorts a prompt's changes by depth.
pub fn index_key(name: &PromptName, gen: u64, id: &ObjectId) -> Vec<u8> {
    let mut k = Vec::with_capacity(name.as_str().len() + 41);
    k.extend_from_slice(name.as_str().as_bytes());
    k.push(0);
    k.extend_from_slice(&gen.to_be_bytes());
    k.extend_from_slice(id.as_bytes());
    k
}

/// Names added, removed or changed (version or file kind) between two trees.
pub fn changed_names(old: &Tree, new: &Tree) -> Vec<PromptName> {
    let mut out = Vec::new();
    for (n, e) in new.entries() {
        if old.get(n) != Some(e) {
            out.push(n.clone());
        }
    }
    for n in old.entries().keys() {
        if new.get(n).is_none() {
            out.push(n.clone());
        }
    }
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_round_trip() {
        let m = CommitMeta { gen: 7, parent: Some(ObjectId::of_blob(b"p")), jump: None };
        assert_eq!(CommitMeta::decode(&m.encode()), Some(m));
    }
}
