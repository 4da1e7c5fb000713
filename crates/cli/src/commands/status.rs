//! `promptctl status`: what `commit` would record.

use promptctl_core::ObjectId;
use promptctl_repo::worktree;

use crate::cli::StatusArgs;
use crate::commands::{opt_id, parse_ref};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::printer::Style;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    New,
    Modified,
    Deleted,
}

impl Change {
    pub fn as_str(&self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Modified => "modified",
            Change::Deleted => "deleted",
        }
    }
}

pub fn run(ctx: &Ctx, args: &StatusArgs) -> CliResult {
    let branch = match &args.branch {
        Some(b) => parse_ref(b)?,
        None => ctx.repo.default_branch.clone(),
    };
    let head = ctx.repo.branch_value(&branch)?;
    let tree = match head {
        Some(h) => ctx.repo.commit_tree(&h)?,
        None => promptctl_core::Tree::new(),
    };
    let label = ctx.project.config.prompts_dir.clone();
    let prompts = ctx.project.prompts_path();
    if !prompts.is_dir() {
        return Err(crate::error::CliError::failure(format!("no prompts folder at {}", prompts.display()))
            .hint("run promptctl in the project, or set `prompts_dir` in promptctl.yaml"));
    }
    let mut scan = worktree::scan(&prompts, &label, ctx.project.config.max_file_bytes);
    // What `commit` would refuse: template, YAML and schema errors of new and modified files.
    let invalid: Vec<_> = scan
        .files
        .iter()
        .filter(|(name, f)| tree.get(name) != Some(&promptctl_core::TreeEntry { id: f.id, kind: f.kind }))
        .filter_map(|(_, f)| super::commit::validate(&label, f).err())
        .collect();
    scan.errors.extend(invalid.into_iter().map(|message| worktree::FileError { path: None, message }));
    // (name, path, change, old version, new version)
    type Row = (String, String, Change, Option<ObjectId>, Option<ObjectId>);
    let mut changes: Vec<Row> = Vec::new();
    for (name, f) in &scan.files {
        match tree.get(name) {
            None => changes.push((name.to_string(), f.path.clone(), Change::New, None, Some(f.id))),
            Some(e) if e.id != f.id || e.kind != f.kind => {
                changes.push((name.to_string(), f.path.clone(), Change::Modified, Some(e.id), Some(f.id)))
            }
            _ => {}
        }
    }
    for (name, e) in tree.entries() {
        if !scan.files.contains_key(name) {
            changes.push((name.to_string(), name.to_path(e.kind), Change::Deleted, Some(e.id), None));
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0));
    let p = &ctx.printer;
    if p.json {
        p.json(&serde_json::json!({
            "branch": branch.as_str(),
            "head": opt_id(head),
            "clean": changes.is_empty() && scan.errors.is_empty(),
            "changes": changes.iter().map(|(n, path, c, old, new)| serde_json::json!({
                "name": n, "path": format!("{label}/{path}"), "status": c.as_str(), "old": opt_id(*old), "new": opt_id(*new),
            })).collect::<Vec<_>>(),
            "errors": scan.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>(),
            "warnings": scan.warnings,
        }));
        return Ok(());
    }
    for w in &scan.warnings {
        p.warn(w);
    }
    let at = head.map(|h| h.short()).unwrap_or_else(|| "no commits yet".into());
    p.line(&format!("On branch {} ({})", p.paint(Style::Ref, branch.as_str()), at));
    if changes.is_empty() && scan.errors.is_empty() {
        p.line("nothing to commit: prompts/ matches the branch");
    }
    for (_, path, c, _, _) in &changes {
        let style = match c {
            Change::New => Style::Added,
            Change::Modified => Style::Id,
            Change::Deleted => Style::Removed,
        };
        p.line(&format!("  {:<9} {}", p.paint(style, &format!("{}:", c.as_str())), format_args!("{label}/{path}")));
    }
    for e in &scan.errors {
        p.line(&format!("  {} {e}", p.paint(Style::Error, "invalid:")));
    }
    Ok(())
}
