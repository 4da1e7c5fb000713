//! `fsck`: re-hash every object, check that every reference between objects resolves, that every
//! ref points at a commit in the store, and that every reflog chain is intact and ends where
//! its ref is.

use promptctl_core::{Commit, ObjectId};
use promptctl_store::Space;

use crate::error::{display_ref, Result};
use crate::repo::Repo;

#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct FsckReport {
    pub blobs: usize,
    pub trees: usize,
    pub commits: usize,
    pub refs: usize,
    pub reflog_entries: usize,
    pub problems: Vec<String>,
}

impl Repo {
    pub fn fsck(&self) -> Result<FsckReport> {
        let mut r = FsckReport::default();
        let b = self.backend();
        for (k, v) in b.scan_prefix(Space::Blobs, &[], usize::MAX)? {
            r.blobs += 1;
            let actual = ObjectId::of_blob(&v);
            match ObjectId::from_slice(&k) {
                Some(id) if id == actual => {}
                Some(id) => r.problems.push(format!("prompt version {id}: bytes hash to {actual}")),
                None => r.problems.push(format!("prompt version with a malformed key ({} bytes)", k.len())),
            }
        }
        let mut trees = Vec::new();
        for (k, _) in b.scan_prefix(Space::Trees, &[], usize::MAX)? {
            r.trees += 1;
            let Some(id) = ObjectId::from_slice(&k) else {
                r.problems.push(format!("tree with a malformed key ({} bytes)", k.len()));
                continue;
            };
            // Rebuilding from its record (full or delta) and re-hashing checks the whole chain.
            match self.read_tree(&id) {
                Ok(t) => trees.push((id, t)),
                Err(e) => r.problems.push(format!("tree {id}: {e}")),
            }
        }
        for (id, t) in &trees {
            for (name, e) in t.entries() {
                if b.get(Space::Blobs, e.id.as_bytes())?.is_none() {
                    r.problems.push(format!("tree {id}: prompt `{name}` version {} is missing", e.id));
                }
            }
        }
        for (k, v) in b.scan_prefix(Space::Commits, &[], usize::MAX)? {
            r.commits += 1;
            let Some(id) = ObjectId::from_slice(&k) else { continue };
            match Commit::decode(&v) {
                Ok(c) if c.id() == id => {
                    if b.get(Space::Trees, c.tree.as_bytes())?.is_none() {
                        r.problems.push(format!("commit {id}: tree {} is missing", c.tree));
                    }
                    for p in &c.parents {
                        if b.get(Space::Commits, p.as_bytes())?.is_none() {
                            r.problems.push(format!("commit {id}: parent {p} is missing"));
                        }
                    }
                    if b.get(Space::CommitMeta, id.as_bytes())?.is_none() {
                        r.problems.push(format!("commit {id}: metadata (generation index) is missing"));
                    }
                }
                Ok(_) => r.problems.push(format!("commit {id}: encoding does not hash to its id")),
                Err(e) => r.problems.push(format!("commit {id}: {e}")),
            }
        }
        let refs = b.list_refs()?;
        r.refs = refs.len();
        for (name, v) in &refs {
            if let Some(id) = v {
                if b.get(Space::Commits, id.as_bytes())?.is_none() {
                    r.problems.push(format!(
                        "ref `{}` points at {id}, which is not a commit in the store",
                        display_ref(name)
                    ));
                }
            }
        }
        let logged = b.reflog_names()?;
        for (name, _) in &refs {
            if !logged.contains(name) {
                r.problems.push(format!("ref `{}` has no reflog (its history was removed)", display_ref(name)));
            }
        }
        for name in logged {
            let log = b.reflog(&name)?;
            r.reflog_entries += log.len();
            let mut prev: Option<ObjectId> = None;
            for (i, e) in log.iter().enumerate() {
                if e.prev != prev {
                    r.problems.push(format!(
                        "reflog of `{}`: entry {i} does not chain to the entry before it (edited or removed history)",
                        display_ref(&name)
                    ));
                }
                if i > 0 && log[i - 1].new != e.old {
                    r.problems.push(format!(
                        "reflog of `{}`: entry {i} starts at {} but the entry before ended at {}",
                        display_ref(&name),
                        e.old.map(|x| x.short()).unwrap_or_else(|| "-".into()),
                        log[i - 1].new.map(|x| x.short()).unwrap_or_else(|| "-".into())
                    ));
                }
                prev = Some(e.hash());
            }
            let current = refs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v);
            if let (Some(last), Some(cur)) = (log.last(), current) {
                if last.new != cur {
                    r.problems
                        .push(format!("ref `{}` does not match the last entry of its reflog", display_ref(&name)));
                }
            }
        }
        Ok(r)
    }
}
