//! Every operation that moves a ref. Each one builds a single transaction: new objects, index
//! entries and a compare-and-swap on the ref with its reflog entry, so it lands whole or not at
//! all, and a concurrent move of the same ref turns into a conflict instead of a lost update.

use std::collections::BTreeMap;

use promptctl_core::{Action, ObjectId, PromptName, RefName, Tree, TreeEntry};
use promptctl_store::{RefValue, Space};

use crate::error::{display_ref, RepoError, Result};
use crate::repo::{RefKind, Repo, Tx};

/// A prompt file to snapshot: its name, kind and exact bytes.
#[derive(Debug, Clone)]
pub struct NewVersion {
    pub name: PromptName,
    pub entry: TreeEntry,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing changed; the ref did not move.
    Unchanged { at: Option<ObjectId> },
    /// The ref moved from `old` to `new`; `created` is a commit made by this operation.
    Moved { old: Option<ObjectId>, new: ObjectId, created: bool },
}

fn short(v: &RefValue) -> String {
    v.map(|i| i.short()).unwrap_or_else(|| "(none)".into())
}

impl Repo {
    /// The branch's value, or a conflict if the caller's `--expect` no longer holds. The same
    /// value is then the compare-and-swap's expected value, so a move between this read and the
    /// write is a conflict too.
    fn branch_expecting(&self, branch: &RefName, expect: Option<RefValue>) -> Result<RefValue> {
        let old = self.branch_value(branch)?;
        match expect {
            Some(e) if e != old => Err(RepoError::Conflict(format!(
                "`{branch}` is at {}, not at {} as --expect said; nothing was changed",
                short(&old),
                short(&e)
            ))),
            _ => Ok(old),
        }
    }

    /// Creates `staging` and `production` unborn, as `git init` leaves its branch unborn.
    pub fn init_refs(&self, branches: &[RefName]) -> Result<bool> {
        let mut tx = Tx::default();
        let mut any = false;
        for b in branches {
            if self.get_ref(RefKind::Branch, b)?.is_none() {
                self.stage_ref_move(&mut tx, (RefKind::Branch, b), None, Some(None), Action::Create, "init".into())?;
                any = true;
            }
        }
        if any {
            self.apply(tx)?;
        }
        Ok(any)
    }

    /// Snapshots a tree onto `branch`. `changes` replaces or adds prompts; `deletions` removes
    /// them; with `replace_all` the tree is exactly `changes` (a full snapshot of `prompts/`).
    pub fn commit_snapshot(
        &self,
        branch: &RefName,
        changes: Vec<NewVersion>,
        deletions: &[PromptName],
        replace_all: bool,
        message: &str,
    ) -> Result<Outcome> {
        if self.is_protected(branch) {
            return Err(RepoError::Protected(branch.clone()));
        }
        let old = self.branch_value(branch)?;
        let base = match old {
            Some(c) => self.commit_tree(&c)?,
            None => Tree::new(),
        };
        let mut tree = if replace_all { Tree::new() } else { base.clone() };
        for d in deletions {
            tree.remove(d);
        }
        let mut tx = Tx::default();
        for v in &changes {
            tree.insert(v.name.clone(), v.entry);
            // Identical bytes are one object: writing a blob that exists is skipped.
            if !self.has_blob(&v.entry.id)? {
                tx.put(Space::Blobs, v.entry.id.as_bytes().to_vec(), v.bytes.clone());
            }
        }
        if tree == base && old.is_some() {
            return Ok(Outcome::Unchanged { at: old });
        }
        if tree.is_empty() && old.is_none() {
            return Ok(Outcome::Unchanged { at: None });
        }
        let id = self.stage_commit(&mut tx, &tree, old.into_iter().collect(), message)?;
        let msg =
            format!("commit: {}", promptctl_core::object::normalize_message(message).lines().next().unwrap_or(""));
        self.stage_ref_move(&mut tx, (RefKind::Branch, branch), Some(old), Some(Some(id)), Action::Commit, msg)?;
        self.apply(tx)?;
        Ok(Outcome::Moved { old, new: id, created: true })
    }

    /// `promote SRC DST`: fast-forward DST to `src`, or with `only` build one commit on DST
    /// taking just those prompts from `src`. `expect` is the value the caller last saw.
    pub fn promote(
        &self,
        src: ObjectId,
        src_label: &str,
        dst: &RefName,
        only: Option<&[PromptName]>,
        expect: Option<RefValue>,
    ) -> Result<Outcome> {
        let old = self.branch_expecting(dst, expect)?;
        let mut tx = Tx::default();
        let new = match only {
            None => {
                if old == Some(src) {
                    return Ok(Outcome::Unchanged { at: old });
                }
                if let Some(o) = old {
                    if !self.is_ancestor(&o, &src)? {
                        if self.is_ancestor(&src, &o)? {
                            return Err(RepoError::Refused(format!(
                                "`{dst}` ({}) already contains {src_label} ({}); to move it back use `promptctl rollback {dst} --to {src_label}`",
                                o.short(),
                                src.short()
                            )));
                        }
                        return Err(RepoError::Refused(format!(
                            "cannot fast-forward `{dst}` ({}) to {src_label} ({}): `{dst}` is not an ancestor of it; \
                             promote chosen prompts with `--only NAMES`, or move it with `promptctl rollback {dst} --to {src_label}`",
                            o.short(),
                            src.short()
                        )));
                    }
                }
                (src, false)
            }
            Some(names) => {
                let src_tree = self.commit_tree(&src)?;
                let mut tree = match old {
                    Some(o) => self.commit_tree(&o)?,
                    None => Tree::new(),
                };
                let before = tree.clone();
                take_prompts(&mut tree, &src_tree, &before, names, src_label)?;
                if tree == before && old.is_some() {
                    return Ok(Outcome::Unchanged { at: old });
                }
                let list = names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ");
                let msg = format!("Promote {list} from {src_label} ({})", src.short());
                (self.stage_commit(&mut tx, &tree, old.into_iter().collect(), &msg)?, true)
            }
        };
        let (new_id, created) = new;
        let what = match only {
            Some(names) => format!(" (only {})", names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ")),
            None => String::new(),
        };
        let msg = format!("promote {src_label} ({}){what} to {dst}", src.short());
        self.stage_ref_move(&mut tx, (RefKind::Branch, dst), Some(old), Some(Some(new_id)), Action::Promote, msg)?;
        self.apply(tx)?;
        Ok(Outcome::Moved { old, new: new_id, created })
    }

    /// Where `rollback BRANCH` goes without `--to`: the value before the branch's last move.
    /// Rolling back a rollback therefore rolls forward.
    pub fn previous_position(&self, branch: &RefName) -> Result<ObjectId> {
        let log = self.reflog(RefKind::Branch, branch)?;
        let last = log
            .first()
            .ok_or_else(|| RepoError::NotFound(format!("`{branch}` has no reflog; nothing to roll back")))?;
        last.old.ok_or_else(|| {
            RepoError::Refused(format!(
                "`{branch}` pointed nowhere before its last move ({}); nothing to roll back to",
                last.action
            ))
        })
    }

    /// `rollback BRANCH [--to REV] [--only NAMES]`: a new reflog entry (and with `only` a new
    /// commit restoring those prompts). Nothing is deleted.
    pub fn rollback(
        &self,
        branch: &RefName,
        target: ObjectId,
        target_label: &str,
        only: Option<&[PromptName]>,
        expect: Option<RefValue>,
    ) -> Result<Outcome> {
        let old = self.branch_expecting(branch, expect)?;
        let mut tx = Tx::default();
        let (new_id, created) = match only {
            None => {
                if old == Some(target) {
                    return Ok(Outcome::Unchanged { at: old });
                }
                (target, false)
            }
            Some(names) => {
                let cur = old.ok_or_else(|| {
                    RepoError::Refused(format!("`{branch}` has no commits; there is nothing to restore into"))
                })?;
                let mut tree = self.commit_tree(&cur)?;
                let before = tree.clone();
                let target_tree = self.commit_tree(&target)?;
                take_prompts(&mut tree, &target_tree, &before, names, target_label)?;
                if tree == before {
                    return Ok(Outcome::Unchanged { at: old });
                }
                let list = names.iter().map(|n| n.as_str()).collect::<Vec<_>>().join(", ");
                let msg = format!("Roll back {list} to {target_label} ({})", target.short());
                (self.stage_commit(&mut tx, &tree, vec![cur], &msg)?, true)
            }
        };
        let msg = format!("rollback {branch} to {target_label} ({})", target.short());
        self.stage_ref_move(&mut tx, (RefKind::Branch, branch), Some(old), Some(Some(new_id)), Action::Rollback, msg)?;
        self.apply(tx)?;
        Ok(Outcome::Moved { old, new: new_id, created })
    }

    /// Creates a write-once tag. A second tag of the same name fails, whatever it would point at.
    pub fn create_tag(&self, name: &RefName, target: ObjectId, message: &str) -> Result<()> {
        if let Some((kind, v)) = self.ref_kind(name)? {
            return Err(RepoError::Refused(match kind {
                RefKind::Tag => {
                    format!("tag `{name}` already exists (at {}); tags are write-once — choose a new name", short(&v))
                }
                RefKind::Branch => format!("`{name}` is already a branch; branches and tags share one namespace"),
            }));
        }
        let mut tx = Tx::default();
        let msg = if message.is_empty() { format!("tag {name} at {}", target.short()) } else { message.to_string() };
        self.stage_ref_move(&mut tx, (RefKind::Tag, name), None, Some(Some(target)), Action::Tag, msg)?;
        self.apply(tx)?;
        Ok(())
    }

    pub fn create_branch(&self, name: &RefName, target: Option<ObjectId>) -> Result<()> {
        if let Some((kind, _)) = self.ref_kind(name)? {
            return Err(RepoError::Refused(format!("a {} named `{name}` already exists", kind.as_str())));
        }
        let mut tx = Tx::default();
        let msg = match target {
            Some(t) => format!("branch {name} at {}", t.short()),
            None => format!("branch {name} (unborn)"),
        };
        self.stage_ref_move(&mut tx, (RefKind::Branch, name), None, Some(target), Action::Create, msg)?;
        self.apply(tx)
    }

    pub fn delete_branch(&self, name: &RefName) -> Result<RefValue> {
        if self.is_protected(name) || *name == self.default_branch {
            return Err(RepoError::Refused(format!(
                "`{name}` cannot be deleted (it is protected or the default branch)"
            )));
        }
        let old = self.branch_value(name)?;
        let mut tx = Tx::default();
        let msg = format!("delete branch {name} (was {})", short(&old));
        self.stage_ref_move(&mut tx, (RefKind::Branch, name), Some(old), None, Action::Delete, msg)?;
        self.apply(tx)?;
        // The commits stay in the store and the reflog keeps the old value: nothing is lost.
        Ok(old)
    }

    pub fn display_ref_name(name: &RefName) -> &str {
        display_ref(name)
    }
}

/// Copies `names` from `from` into `tree` (removing those absent in `from`); a name in neither
/// is an error naming it.
fn take_prompts(tree: &mut Tree, from: &Tree, current: &Tree, names: &[PromptName], label: &str) -> Result<()> {
    let mut missing = Vec::new();
    let mut plan: BTreeMap<PromptName, Option<TreeEntry>> = BTreeMap::new();
    for n in names {
        match from.get(n) {
            Some(e) => {
                plan.insert(n.clone(), Some(*e));
            }
            None if current.get(n).is_some() => {
                plan.insert(n.clone(), None);
            }
            None => missing.push(n.as_str().to_string()),
        }
    }
    if !missing.is_empty() {
        return Err(RepoError::NotFound(format!("no prompt {} in {label} or the target branch", missing.join(", "))));
    }
    for (n, e) in plan {
        match e {
            Some(e) => tree.insert(n, e),
            None => {
                tree.remove(&n);
            }
        }
    }
    Ok(())
}
