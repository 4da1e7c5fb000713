//! One file per subcommand. Shared helpers for resolving revisions and shaping output live here.

pub mod branch;
pub mod commit;
pub mod diff;
pub mod dry_run;
pub mod fsck;
pub mod import;
pub mod init;
pub mod log;
pub mod promote;
pub mod reflog;
pub mod render;
pub mod show;
pub mod status;
pub mod tag;

use std::collections::HashMap;

use promptctl_core::{FileKind, ObjectId, PromptName, RefName, RevSpec};
use promptctl_repo::{display_ref, RefKind, Repo, Resolved};

use crate::error::{CliError, CliResult};

pub fn parse_ref(s: &str) -> CliResult<RefName> {
    Ok(s.parse::<RefName>()?)
}

pub fn parse_names(list: &[String]) -> CliResult<Vec<PromptName>> {
    list.iter().map(|s| s.parse::<PromptName>().map_err(CliError::from)).collect()
}

pub fn resolve(repo: &Repo, rev: &str) -> CliResult<Resolved> {
    let spec = RevSpec::parse(rev)?;
    Ok(repo.resolve(&spec)?)
}

/// A revision that must name a commit.
pub fn resolve_commit(repo: &Repo, rev: &str) -> CliResult<(ObjectId, Option<(RefKind, RefName)>)> {
    match resolve(repo, rev)? {
        Resolved::Commit { id, via } => Ok((id, via)),
        Resolved::Prompt { name, .. } => Err(CliError::failure(format!(
            "`{rev}` names a prompt{}, not a commit",
            name.map(|n| format!(" (`{n}`)")).unwrap_or_default()
        ))
        .hint("name a branch, a tag, `branch~N`, `branch@{N}` or a commit id prefix")),
    }
}

/// A resolved prompt version with everything needed to show, cat or render it.
pub struct PromptRef {
    pub name: Option<PromptName>,
    pub version: ObjectId,
    pub kind: FileKind,
    pub commit: Option<ObjectId>,
    pub via: Option<(RefKind, RefName)>,
}

pub fn resolve_prompt(repo: &Repo, rev: &str) -> CliResult<PromptRef> {
    match resolve(repo, rev)? {
        Resolved::Prompt { name, version, kind, commit, via } => Ok(PromptRef { name, version, kind, commit, via }),
        Resolved::Commit { id, .. } => {
            let tree = repo.commit_tree(&id)?;
            let names: Vec<_> = tree.entries().keys().take(3).map(|n| format!("{n}@{rev}")).collect();
            let mut err = CliError::failure(format!("`{rev}` is a commit ({}), not a prompt", id.short()));
            if !names.is_empty() {
                err = err.hint(format!("name a prompt in it, e.g. {}", names.join(", ")));
            }
            Err(err)
        }
    }
}

/// Commit id → the refs pointing at it, for `log` decorations.
pub fn decorations(repo: &Repo) -> CliResult<HashMap<ObjectId, Vec<String>>> {
    let mut map: HashMap<ObjectId, Vec<String>> = HashMap::new();
    for kind in [RefKind::Branch, RefKind::Tag] {
        for (name, v) in repo.list_refs(kind)? {
            if let Some(id) = v {
                let label = match kind {
                    RefKind::Tag => format!("tag: {name}"),
                    RefKind::Branch => name.to_string(),
                };
                map.entry(id).or_default().push(label);
            }
        }
    }
    Ok(map)
}

pub fn via_json(via: &Option<(RefKind, RefName)>) -> serde_json::Value {
    match via {
        Some((_, r)) => serde_json::Value::String(display_ref(r).to_string()),
        None => serde_json::Value::Null,
    }
}

pub fn opt_id(id: Option<ObjectId>) -> serde_json::Value {
    match id {
        Some(i) => serde_json::Value::String(i.to_hex()),
        None => serde_json::Value::Null,
    }
}

pub fn short_opt(id: Option<ObjectId>) -> String {
    id.map(|i| i.short()).unwrap_or_else(|| "(none)".into())
}

/// `--expect ID`: a commit id (prefix) or `none` for an unborn branch.
pub fn parse_expect(repo: &Repo, s: Option<&str>) -> CliResult<Option<Option<ObjectId>>> {
    match s {
        None => Ok(None),
        Some("none") | Some("-") => Ok(Some(None)),
        Some(p) => {
            let prefix: promptctl_core::IdPrefix =
                p.parse().map_err(|e: promptctl_core::ParseIdError| CliError::usage(format!("--expect: {e}")))?;
            let spec =
                RevSpec::Commit(promptctl_core::CommitRev::Word(promptctl_core::revision::CommitWord::Id(prefix)));
            match repo.resolve(&spec) {
                Ok(r) => Ok(Some(r.commit())),
                // An id that is not in the store cannot be where the branch is: that is a conflict.
                Err(promptctl_repo::RepoError::NotFound(_)) => Err(CliError::new(
                    crate::error::Kind::Conflict,
                    format!(
                        "--expect {p}: no such commit in the store, so the branch cannot be there; nothing was changed"
                    ),
                )),
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// Runs one parsed command line.
pub fn dispatch(args: crate::cli::Cli) -> CliResult {
    use crate::cli::Command as C;
    use crate::context::{Access, Ctx};
    let printer = crate::printer::Printer::new(args.color, args.json);
    let store = args.store.clone();
    let access = match &args.command {
        C::Commit(_) | C::Promote(_) | C::Rollback(_) => Access::Write,
        C::Branch(b) if b.name.is_some() || b.delete.is_some() => Access::Write,
        C::Tag(t) if t.name.is_some() => Access::Write,
        _ => Access::Read,
    };
    if let C::Init(a) = &args.command {
        return init::run(a, store, &printer);
    }
    if let C::ImportChatTemplate(a) = &args.command {
        return import::run(a, store, &printer);
    }
    let ctx = Ctx::open(store, printer, access)?;
    if let C::DryRun(a) = &args.command {
        return dry_run::run(ctx, a);
    }
    match &args.command {
        C::Init(_) | C::ImportChatTemplate(_) => Ok(()),
        C::Status(a) => status::run(&ctx, a),
        C::Commit(a) => commit::run(&ctx, a),
        C::Log(a) => log::run(&ctx, a),
        C::Show(a) => show::show(&ctx, a),
        C::Cat(a) => show::cat(&ctx, a),
        C::Get(a) => show::get(&ctx, a),
        C::Render(a) => render::run(&ctx, a),
        C::Diff(a) => diff::run(&ctx, a),
        C::Branch(a) => branch::run(&ctx, a),
        C::Tag(a) => tag::run(&ctx, a),
        C::Promote(a) => promote::promote(&ctx, a),
        C::Rollback(a) => promote::rollback(&ctx, a),
        C::Reflog(a) => reflog::reflog(&ctx, a),
        C::Audit(a) => reflog::audit(&ctx, a),
        C::Fsck => fsck::run(&ctx),
        C::DryRun(_) => Ok(()),
    }
}
