//! Turning a parsed [`RevSpec`] into objects, with errors that name what was not found and
//! list the candidates when an id prefix is ambiguous.

use promptctl_core::revision::CommitWord;
use promptctl_core::{CommitRev, FileKind, IdPrefix, ObjectId, PromptName, RefName, RevSpec};
use promptctl_store::Space;

use crate::error::{RepoError, Result};
use crate::repo::{RefKind, Repo};

/// What a revision names.
#[derive(Debug, Clone)]
pub enum Resolved {
    Commit {
        id: ObjectId,
        /// The ref the revision went through (`production`, `v1.4.0`), if any.
        via: Option<(RefKind, RefName)>,
    },
    Prompt {
        name: Option<PromptName>,
        version: ObjectId,
        kind: FileKind,
        /// The commit the prompt was read from (absent for a bare version id).
        commit: Option<ObjectId>,
        via: Option<(RefKind, RefName)>,
    },
}

impl Resolved {
    pub fn commit(&self) -> Option<ObjectId> {
        match self {
            Resolved::Commit { id, .. } => Some(*id),
            Resolved::Prompt { commit, .. } => *commit,
        }
    }
}

/// Matches of an id prefix among commits and prompt versions.
fn prefix_matches(repo: &Repo, p: &IdPrefix) -> Result<Vec<(Space, ObjectId)>> {
    let mut out = Vec::new();
    for space in [Space::Commits, Space::Blobs] {
        for (k, _) in repo.backend().scan_prefix(space, &p.byte_prefix(), 64)? {
            if let Some(id) = ObjectId::from_slice(&k) {
                if p.matches(&id) {
                    out.push((space, id));
                }
            }
        }
    }
    Ok(out)
}

fn describe(space: Space, id: &ObjectId) -> String {
    let what = if space == Space::Commits { "commit" } else { "prompt version" };
    format!("{} {what}", id.short())
}

impl Repo {
    pub fn resolve_commit_rev(&self, rev: &CommitRev) -> Result<(ObjectId, Option<(RefKind, RefName)>)> {
        match rev {
            CommitRev::Word(CommitWord::Ref(name)) => match self.ref_kind(name)? {
                Some((kind, Some(id))) => Ok((id, Some((kind, name.clone())))),
                Some((_, None)) => Err(RepoError::NotFound(format!(
                    "branch `{name}` has no commits yet; commit to it or promote into it first"
                ))),
                None => Err(RepoError::NotFound(format!(
                    "unknown revision `{name}`: no branch or tag has that name (see `promptctl branch` and `promptctl tag`)"
                ))),
            },
            CommitRev::Word(CommitWord::Id(p)) => {
                let all = prefix_matches(self, p)?;
                let commits: Vec<_> = all.iter().filter(|(s, _)| *s == Space::Commits).collect();
                match commits.as_slice() {
                    [(_, id)] => Ok((*id, None)),
                    [] if !all.is_empty() => Err(RepoError::NotFound(format!(
                        "`{p}` is a prompt version, not a commit; name a commit or use it as a prompt revision"
                    ))),
                    [] => Err(RepoError::NotFound(format!("no commit has an id starting with `{p}`"))),
                    many => Err(RepoError::Ambiguous {
                        prefix: p.to_string(),
                        matches: many.iter().map(|(s, id)| describe(*s, id)).collect(),
                    }),
                }
            }
            CommitRev::Reflog { branch, n } => {
                let kind = match self.ref_kind(branch)? {
                    Some((k, _)) => k,
                    None => return Err(RepoError::NotFound(format!("unknown branch `{branch}` in `{rev}`"))),
                };
                let log = self.reflog(kind, branch)?;
                let entry = log.get(*n).ok_or_else(|| {
                    RepoError::NotFound(format!("`{rev}`: `{branch}` has only {} reflog entries", log.len()))
                })?;
                let id = entry
                    .new
                    .ok_or_else(|| RepoError::NotFound(format!("`{rev}`: `{branch}` pointed nowhere then")))?;
                Ok((id, None))
            }
            CommitRev::Ancestor { base, n } => {
                let (mut id, _) = self.resolve_commit_rev(base)?;
                for i in 0..*n {
                    id = self.read_commit(&id)?.first_parent().ok_or_else(|| {
                        RepoError::NotFound(format!("`{rev}`: history has only {i} ancestor(s) before the first commit"))
                    })?;
                }
                Ok((id, None))
            }
        }
    }

    fn prompt_in(
        &self,
        name: &PromptName,
        commit: ObjectId,
        via: Option<(RefKind, RefName)>,
        rev: &str,
    ) -> Result<Resolved> {
        let tree = self.commit_tree(&commit)?;
        let e = tree.get(name).ok_or_else(|| {
            RepoError::NotFound(format!("prompt `{name}` does not exist in `{rev}` (commit {})", commit.short()))
        })?;
        Ok(Resolved::Prompt { name: Some(name.clone()), version: e.id, kind: e.kind, commit: Some(commit), via })
    }

    pub fn resolve(&self, spec: &RevSpec) -> Result<Resolved> {
        match spec {
            RevSpec::Commit(rev) => {
                let (id, via) = self.resolve_commit_rev(rev)?;
                Ok(Resolved::Commit { id, via })
            }
            RevSpec::Prompt { name, at } => {
                // `name@<prefix>`: a commit prefix, or else a version id of that prompt.
                if let CommitRev::Word(CommitWord::Id(p)) = at {
                    let all = prefix_matches(self, p)?;
                    let commits: Vec<_> = all.iter().filter(|(s, _)| *s == Space::Commits).collect();
                    if let [(_, c)] = commits.as_slice() {
                        return self.prompt_in(name, *c, None, &format!("{name}@{p}"));
                    }
                    let blobs: Vec<_> = all.iter().filter(|(s, _)| *s == Space::Blobs).collect();
                    return match (commits.len(), blobs.as_slice()) {
                        (0, [(_, v)]) => match self.kind_of_version(name, v)? {
                            Some((kind, commit)) => Ok(Resolved::Prompt {
                                name: Some(name.clone()),
                                version: *v,
                                kind,
                                commit: Some(commit),
                                via: None,
                            }),
                            None => Err(RepoError::NotFound(format!(
                                "version {} was never committed as prompt `{name}`",
                                v.short()
                            ))),
                        },
                        (0, []) => Err(RepoError::NotFound(format!(
                            "no commit or prompt version has an id starting with `{p}`"
                        ))),
                        _ => Err(RepoError::Ambiguous {
                            prefix: p.to_string(),
                            matches: all.iter().map(|(s, id)| describe(*s, id)).collect(),
                        }),
                    };
                }
                let (commit, via) = self.resolve_commit_rev(at)?;
                self.prompt_in(name, commit, via, &format!("{name}@{at}"))
            }
            RevSpec::Bare { word, as_ref, as_id, as_prompt } => {
                if let Some(r) = as_ref {
                    if self.ref_kind(r)?.is_some() {
                        let (id, via) = self.resolve_commit_rev(&CommitRev::Word(CommitWord::Ref(r.clone())))?;
                        return Ok(Resolved::Commit { id, via });
                    }
                }
                let ids = match as_id {
                    Some(p) => prefix_matches(self, p)?,
                    None => Vec::new(),
                };
                let staging = self.default_branch.clone();
                let on_staging = match (as_prompt, self.get_ref(RefKind::Branch, &staging)?) {
                    (Some(name), Some(Some(head))) if self.commit_tree(&head)?.get(name).is_some() => {
                        Some((name, head))
                    }
                    _ => None,
                };
                // A word that is both an id prefix and a prompt on staging is two things: say so.
                if !ids.is_empty() && on_staging.is_some() {
                    let mut matches: Vec<String> = ids.iter().map(|(s, id)| describe(*s, id)).collect();
                    matches.push(format!("prompt `{word}` on `{staging}` (write `{word}@{staging}`)"));
                    return Err(RepoError::Ambiguous { prefix: word.clone(), matches });
                }
                match ids.as_slice() {
                    [(Space::Commits, id)] => return Ok(Resolved::Commit { id: *id, via: None }),
                    [(_, v)] => {
                        let (name, kind, commit) = match self.name_of_version(v)? {
                            Some((n, k, c)) => (Some(n), k, Some(c)),
                            None => (None, FileKind::Other, None),
                        };
                        return Ok(Resolved::Prompt { name, version: *v, kind, commit, via: None });
                    }
                    [] => {}
                    many => {
                        return Err(RepoError::Ambiguous {
                            prefix: word.clone(),
                            matches: many.iter().map(|(s, id)| describe(*s, id)).collect(),
                        })
                    }
                }
                if let Some((name, head)) = on_staging {
                    return self.prompt_in(name, head, Some((RefKind::Branch, staging)), word);
                }
                Err(RepoError::NotFound(format!(
                    "unknown revision `{word}`: not a branch, a tag, an id prefix, or a prompt on `{}`",
                    self.default_branch
                )))
            }
        }
    }

    /// The file kind a version was committed as under `name`, and the newest commit that
    /// introduced it, from the prompt's change index; `None` if it never was. That commit is
    /// the snapshot the version's includes are read from.
    fn kind_of_version(&self, name: &PromptName, v: &ObjectId) -> Result<Option<(FileKind, ObjectId)>> {
        let mut prefix = name.as_str().as_bytes().to_vec();
        prefix.push(0);
        for (k, val) in self.backend().scan_prefix_rev(Space::PromptIndex, &prefix, usize::MAX)? {
            let recorded = val.strip_prefix(&[1u8][..]).and_then(ObjectId::from_slice);
            if recorded.is_some() && recorded != Some(*v) {
                continue;
            }
            if let Some(c) = k.get(prefix.len() + 8..).and_then(ObjectId::from_slice) {
                if let Some(e) = self.commit_tree(&c)?.get(name) {
                    if e.id == *v {
                        return Ok(Some((e.kind, c)));
                    }
                }
            }
        }
        Ok(None)
    }

    /// A name (and kind, and introducing commit) a bare version id was committed under.
    fn name_of_version(&self, v: &ObjectId) -> Result<Option<(PromptName, FileKind, ObjectId)>> {
        let wanted = [&[1u8][..], v.as_bytes()].concat();
        for (k, val) in self.backend().scan_prefix(Space::PromptIndex, &[], usize::MAX)? {
            if val != wanted {
                continue;
            }
            let Some(nul) = k.iter().position(|b| *b == 0) else { continue };
            let Ok(name) = std::str::from_utf8(&k[..nul]).unwrap_or("").parse::<PromptName>() else { continue };
            if let Some((kind, commit)) = self.kind_of_version(&name, v)? {
                return Ok(Some((name, kind, commit)));
            }
        }
        Ok(None)
    }
}
