//! `reflog` and `audit`: who moved which ref, when, from what to what, and why.

use promptctl_core::ReflogEntry;
use promptctl_repo::{display_ref, RefKind};

use crate::cli::{AuditArgs, ReflogArgs};
use crate::commands::{opt_id, parse_ref};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::printer::Style;

fn emit(ctx: &Ctx, entries: &[ReflogEntry], with_ref: bool) {
    let p = &ctx.printer;
    if p.json {
        p.json(
            &entries
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "ref": display_ref(&e.refname),
                        "ref_kind": if e.refname.as_str().starts_with("tags/") { "tag" } else { "branch" },
                        "old": opt_id(e.old), "new": opt_id(e.new),
                        "action": e.action.as_str(), "actor": e.actor.as_str(),
                        "time": e.time.to_rfc3339(), "message": e.message,
                        "hash": e.hash().to_hex(), "prev": opt_id(e.prev),
                    })
                })
                .collect::<Vec<_>>(),
        );
        return;
    }
    let mut s = String::new();
    for (i, e) in entries.iter().enumerate() {
        let name = display_ref(&e.refname);
        let pos = if with_ref { format!("{name:<12}") } else { format!("{name}@{{{i}}}") };
        s.push_str(&format!(
            "{pos}  {} -> {}  {:<8}  {}  {}  {}\n",
            super::short_opt(e.old),
            p.paint(Style::Id, &super::short_opt(e.new)),
            e.action.as_str(),
            e.time,
            e.actor,
            e.message
        ));
    }
    p.out(&s);
}

pub fn reflog(ctx: &Ctx, args: &ReflogArgs) -> CliResult {
    let repo = &ctx.repo;
    let name = match &args.name {
        Some(n) => parse_ref(n)?,
        None => repo.default_branch.clone(),
    };
    // A deleted branch keeps its reflog, so look in both namespaces even without a live ref.
    let mut entries = repo.reflog(RefKind::Branch, &name)?;
    if entries.is_empty() {
        entries = repo.reflog(RefKind::Tag, &name)?;
    }
    if entries.is_empty() && repo.ref_kind(&name)?.is_none() {
        return Err(CliError::failure(format!("no branch or tag `{name}` (and no reflog for it)")));
    }
    entries.truncate(args.max_count.unwrap_or(usize::MAX));
    emit(ctx, &entries, false);
    Ok(())
}

pub fn audit(ctx: &Ctx, args: &AuditArgs) -> CliResult {
    let mut entries = ctx.repo.audit()?;
    entries.truncate(args.max_count.unwrap_or(usize::MAX));
    emit(ctx, &entries, true);
    Ok(())
}
