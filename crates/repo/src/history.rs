//! History: a branch's commits, and one prompt's changes. The per-prompt log reads the prompt's
//! change index (newest first) and keeps the commits that lie on the branch's first-parent
//! line, so its cost grows with how often the prompt changed, not with the length of history.

use promptctl_core::{Commit, ObjectId, PromptName};
use promptctl_store::Space;

use crate::error::Result;
use crate::repo::Repo;

#[derive(Debug, Clone)]
pub struct LogEntry {
    pub id: ObjectId,
    pub commit: Commit,
    /// For a per-prompt log: the prompt's version in this commit (None if it was deleted here).
    pub version: Option<ObjectId>,
}

impl Repo {
    /// Commits from `head` along first parents, newest first.
    pub fn log(&self, head: ObjectId, limit: usize) -> Result<Vec<LogEntry>> {
        let mut out = Vec::new();
        let mut cur = Some(head);
        while let Some(id) = cur {
            if out.len() >= limit {
                break;
            }
            let commit = self.read_commit(&id)?;
            cur = commit.first_parent();
            out.push(LogEntry { id, commit, version: None });
        }
        Ok(out)
    }

    /// The commits on `head`'s first-parent line that changed `name`, newest first.
    pub fn log_prompt(&self, head: ObjectId, name: &PromptName, limit: usize) -> Result<Vec<LogEntry>> {
        let mut prefix = name.as_str().as_bytes().to_vec();
        prefix.push(0);
        let head_gen = self.meta(&head)?.gen;
        let mut out = Vec::new();
        // The index is unbounded (other branches' changes are in it too), so read it in pages.
        let page = 256;
        let mut scanned = 0usize;
        loop {
            let want = scanned + page;
            let rows = self.backend().scan_prefix_rev(Space::PromptIndex, &prefix, want)?;
            for (k, v) in rows.iter().skip(scanned) {
                let Some(rest) = k.get(prefix.len()..) else { continue };
                let (Some(gen_b), Some(id)) = (rest.get(..8), rest.get(8..).and_then(ObjectId::from_slice)) else {
                    continue;
                };
                let gen = u64::from_be_bytes(gen_b.try_into().unwrap_or([0; 8]));
                if gen > head_gen || self.ancestor_at(&head, gen)? != Some(id) {
                    continue;
                }
                let commit = self.read_commit(&id)?;
                let version = match v.split_first() {
                    Some((1, rest)) => ObjectId::from_slice(rest),
                    Some((0, _)) => None,
                    // Not written by this version of promptctl: read it from the tree.
                    _ => self.read_tree(&commit.tree)?.get(name).map(|e| e.id),
                };
                out.push(LogEntry { id, commit, version });
                if out.len() >= limit {
                    return Ok(out);
                }
            }
            if rows.len() < want {
                break;
            }
            scanned = rows.len();
        }
        Ok(out)
    }
}

/// One prompt's change between two commits.
#[derive(Debug, Clone)]
pub struct PromptChange {
    pub name: PromptName,
    /// `added`, `modified` or `deleted`.
    pub status: &'static str,
    pub old: Option<ObjectId>,
    pub new: Option<ObjectId>,
}

/// The prompts that differ between `old` (None = empty) and `new`.
pub fn changed_names_between(repo: &Repo, old: Option<ObjectId>, new: ObjectId) -> crate::Result<Vec<PromptChange>> {
    let old_tree = match old {
        Some(o) => repo.commit_tree(&o)?,
        None => promptctl_core::Tree::new(),
    };
    let new_tree = repo.commit_tree(&new)?;
    Ok(tree_changes(&old_tree, &new_tree))
}

pub fn tree_changes(old: &promptctl_core::Tree, new: &promptctl_core::Tree) -> Vec<PromptChange> {
    crate::repo::changed_names(old, new)
        .into_iter()
        .map(|name| {
            let o = old.get(&name).map(|e| e.id);
            let n = new.get(&name).map(|e| e.id);
            let status = match (o, n) {
                (None, _) => "added",
                (_, None) => "deleted",
                _ => "modified",
            };
            PromptChange { name, status, old: o, new: n }
        })
        .collect()
}
