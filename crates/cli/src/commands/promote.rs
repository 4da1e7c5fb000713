//! `promote` and `rollback`: the only ways a protected branch moves. Both are one
//! compare-and-swap with a reflog entry; `--expect` makes the caller's view part of the swap.

use promptctl_repo::ops::Outcome;

use crate::cli::{PromoteArgs, RollbackArgs};
use crate::commands::{opt_id, parse_expect, parse_names, parse_ref, resolve_commit};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::printer::Style;

fn report(ctx: &Ctx, verb: &str, branch: &str, outcome: &Outcome) {
    let p = &ctx.printer;
    match outcome {
        Outcome::Unchanged { at } => {
            if p.json {
                p.json(&serde_json::json!({"action": verb, "branch": branch, "changed": false, "commit": opt_id(*at)}));
            } else {
                p.info(&format!("`{branch}` is already at {}; nothing to do", super::short_opt(*at)));
            }
        }
        Outcome::Moved { old, new, created } => {
            if p.json {
                p.json(&serde_json::json!({
                    "action": verb, "branch": branch, "changed": true,
                    "old": opt_id(*old), "new": new.to_hex(), "created_commit": created,
                }));
            } else {
                let how = if *created { " (new commit)" } else { "" };
                p.line(&format!("{branch}: {} -> {}{how}", super::short_opt(*old), p.paint(Style::Id, &new.short())));
            }
        }
    }
}

pub fn promote(ctx: &Ctx, args: &PromoteArgs) -> CliResult {
    let repo = &ctx.repo;
    let (src, _) = resolve_commit(repo, &args.src)?;
    let dst = parse_ref(&args.dst)?;
    let only = parse_names(&args.only)?;
    let expect = parse_expect(repo, args.expect.as_deref())?;
    let outcome = repo.promote(src, &args.src, &dst, (!only.is_empty()).then_some(only.as_slice()), expect)?;
    report(ctx, "promote", dst.as_str(), &outcome);
    Ok(())
}

pub fn rollback(ctx: &Ctx, args: &RollbackArgs) -> CliResult {
    let repo = &ctx.repo;
    let branch = parse_ref(&args.branch)?;
    repo.branch_value(&branch)?;
    let (target, label) = match &args.to {
        Some(rev) => (resolve_commit(repo, rev)?.0, rev.clone()),
        None => (repo.previous_position(&branch)?, format!("{branch}@{{1}}")),
    };
    let only = parse_names(&args.only)?;
    let expect = parse_expect(repo, args.expect.as_deref())?;
    let outcome = repo.rollback(&branch, target, &label, (!only.is_empty()).then_some(only.as_slice()), expect)?;
    report(ctx, "rollback", branch.as_str(), &outcome);
    Ok(())
}
