//! `promptctl branch`: list, create, delete.

use crate::cli::BranchArgs;
use crate::commands::{opt_id, parse_ref, resolve_commit};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::printer::Style;
use promptctl_repo::RefKind;

pub fn run(ctx: &Ctx, args: &BranchArgs) -> CliResult {
    let repo = &ctx.repo;
    let p = &ctx.printer;
    if let Some(d) = &args.delete {
        let name = parse_ref(d)?;
        let old = repo.delete_branch(&name)?;
        p.info(&format!("Deleted branch {name} (was {})", super::short_opt(old)));
        return Ok(());
    }
    if let Some(n) = &args.name {
        let name = parse_ref(n)?;
        let target = match &args.start {
            Some(rev) => Some(resolve_commit(repo, rev)?.0),
            None => repo.branch_value(&repo.default_branch)?,
        };
        repo.create_branch(&name, target)?;
        p.info(&format!("Created branch {name} at {}", super::short_opt(target)));
        return Ok(());
    }
    let branches = repo.list_refs(RefKind::Branch)?;
    if p.json {
        p.json(
            &branches
                .iter()
                .map(|(n, v)| serde_json::json!({"name": n.as_str(), "commit": opt_id(*v), "protected": repo.is_protected(n), "default": *n == repo.default_branch}))
                .collect::<Vec<_>>(),
        );
        return Ok(());
    }
    let mut s = String::new();
    for (n, v) in &branches {
        let mut flags = Vec::new();
        if *n == repo.default_branch {
            flags.push("default");
        }
        if repo.is_protected(n) {
            flags.push("protected");
        }
        let flags = if flags.is_empty() { String::new() } else { format!(" ({})", flags.join(", ")) };
        let at = v.map(|i| p.paint(Style::Id, &i.short())).unwrap_or_else(|| "(no commits)".into());
        s.push_str(&format!("{:<20} {at}{flags}\n", p.paint(Style::Ref, n.as_str())));
    }
    p.out(&s);
    Ok(())
}
