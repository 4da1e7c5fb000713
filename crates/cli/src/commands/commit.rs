//! `promptctl commit`: validate prompts/ and snapshot it onto a branch. Any invalid file stops
//! the whole commit (nothing is written), and every error is listed, not just the first.

use std::collections::BTreeSet;
use std::path::Path;

use promptctl_core::{PromptName, TreeEntry};
use promptctl_repo::ops::{NewVersion, Outcome};
use promptctl_repo::worktree::{self, WorkFile};

use crate::cli::CommitArgs;
use crate::commands::{opt_id, parse_ref};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::printer::Style;

/// Validation that needs the template engine: YAML shape, template syntax, variable schema.
pub fn validate(label: &str, f: &WorkFile) -> Result<(), String> {
    let src = promptctl_render::Source { name: f.name.clone(), kind: f.kind, id: f.id, bytes: f.bytes.clone() };
    promptctl_render::parse(&src).map(|_| ()).map_err(|e| format!("{label}/{}: {e}", f.path))
}

/// What a command-line PATH selects: one prompt (a file path or a prompt name), or every prompt
/// under a folder of prompts/, in the working tree or on the branch (so deleted files go too).
enum Selection {
    Prompt(PromptName),
    Folder(String),
}

fn select(ctx: &Ctx, arg: &str) -> CliResult<Selection> {
    let prompts = ctx.project.prompts_path();
    let as_path = Path::new(arg);
    if as_path.exists() {
        let full = as_path.canonicalize()?;
        let root = prompts.canonicalize()?;
        let rel = full
            .strip_prefix(&root)
            .map_err(|_| CliError::usage(format!("{arg}: not inside the prompts folder ({})", prompts.display())))?;
        let rel = rel.to_string_lossy().replace('\\', "/");
        if full.is_dir() {
            return Ok(Selection::Folder(rel));
        }
        return Ok(Selection::Prompt(PromptName::from_path(&rel)?.0));
    }
    let label = &ctx.project.config.prompts_dir;
    let stripped = arg.strip_prefix(&format!("{label}/")).unwrap_or(arg);
    if let Ok((n, _)) = PromptName::from_path(stripped) {
        return Ok(Selection::Prompt(n));
    }
    Ok(Selection::Prompt(arg.parse::<PromptName>()?))
}

fn in_folder(name: &PromptName, folder: &str) -> bool {
    folder.is_empty() || name.as_str().strip_prefix(folder).is_some_and(|rest| rest.starts_with('/'))
}

pub fn run(ctx: &Ctx, args: &CommitArgs) -> CliResult {
    let p = &ctx.printer;
    let branch = match &args.branch {
        Some(b) => parse_ref(b)?,
        None => ctx.repo.default_branch.clone(),
    };
    if ctx.repo.is_protected(&branch) {
        return Err(promptctl_repo::RepoError::Protected(branch).into());
    }
    if args.message.trim().is_empty() {
        return Err(CliError::usage("empty commit message; say what changed with -m"));
    }
    let label = ctx.project.config.prompts_dir.clone();
    let prompts = ctx.project.prompts_path();
    if !prompts.is_dir() {
        return Err(CliError::failure(format!("no prompts folder at {}", prompts.display()))
            .hint("create it, or set `prompts_dir` in promptctl.yaml"));
    }
    let scan = worktree::scan(&prompts, &label, ctx.project.config.max_file_bytes);
    // The branch's current tree: what PATHS may name, and what need not be validated again.
    let head = match ctx.repo.branch_value(&branch)? {
        Some(h) => ctx.repo.commit_tree(&h)?,
        None => promptctl_core::Tree::new(),
    };
    let selected: Option<BTreeSet<PromptName>> = if args.paths.is_empty() {
        None
    } else {
        let mut names = BTreeSet::new();
        for a in &args.paths {
            match select(ctx, a)? {
                Selection::Prompt(n) => {
                    names.insert(n);
                }
                Selection::Folder(f) => {
                    let before = names.len();
                    names.extend(scan.files.keys().chain(head.entries().keys()).filter(|n| in_folder(n, &f)).cloned());
                    if names.len() == before {
                        return Err(CliError::failure(format!("{a}: no prompts in this folder or on `{branch}`")));
                    }
                }
            }
        }
        Some(names)
    };
    // A partial commit is stopped only by errors about the files it takes (or the folder itself).
    let mut errors: Vec<String> = scan
        .errors
        .iter()
        .filter(|e| match (&selected, &e.path) {
            (Some(sel), Some(path)) => PromptName::from_path(path).map(|(n, _)| sel.contains(&n)).unwrap_or(true),
            _ => true,
        })
        .map(|e| e.message.clone())
        .collect();
    // Files whose bytes and kind are already on the branch were validated when committed.
    let mut changes = Vec::new();
    for (name, f) in &scan.files {
        if selected.as_ref().is_some_and(|s| !s.contains(name)) {
            continue;
        }
        let unchanged = head.get(name) == Some(&TreeEntry { id: f.id, kind: f.kind });
        if !unchanged {
            if let Err(e) = validate(&label, f) {
                errors.push(e);
                continue;
            }
        }
        changes.push(NewVersion {
            name: name.clone(),
            entry: TreeEntry { id: f.id, kind: f.kind },
            bytes: f.bytes.clone(),
        });
    }
    if !errors.is_empty() {
        return Err(promptctl_repo::RepoError::Invalid { count: errors.len(), errors }.into());
    }
    for w in &scan.warnings {
        p.warn(w);
    }
    // A literal include of a template that is not in prompts/ would fail at render time; say so
    // now. A warning, not an error: `ignore missing` and conditional includes are legitimate.
    for v in &changes {
        let text = String::from_utf8_lossy(&v.bytes);
        for r in promptctl_render::template_references(&text) {
            let stripped = r.strip_prefix("./").unwrap_or(&r);
            let dir = v.name.as_str().rsplit_once('/').map(|(d, _)| d);
            let found = |cand: &str| {
                PromptName::from_path(cand).is_ok_and(|(n, _)| scan.files.contains_key(&n))
                    || cand.parse::<PromptName>().is_ok_and(|n| scan.files.contains_key(&n))
            };
            if !found(stripped) && !dir.is_some_and(|d| found(&format!("{d}/{stripped}"))) {
                p.warn(&format!("{label}/{}: includes `{r}`, which is not in {label}/", v.name.to_path(v.entry.kind)));
            }
        }
    }
    let deletions: Vec<PromptName> = match &selected {
        Some(sel) => sel.iter().filter(|n| !scan.files.contains_key(*n)).cloned().collect(),
        None => Vec::new(),
    };
    if let Some(sel) = &selected {
        // A named prompt must exist somewhere: in prompts/ or on the branch.
        for n in sel {
            if !scan.files.contains_key(n) && head.get(n).is_none() {
                return Err(CliError::failure(format!("`{n}`: no such prompt in {label}/ or on `{branch}`")));
            }
        }
    }
    let outcome = ctx.repo.commit_snapshot(&branch, changes, &deletions, selected.is_none(), &args.message)?;
    match outcome {
        Outcome::Unchanged { at } => {
            if p.json {
                p.json(&serde_json::json!({"branch": branch.as_str(), "changed": false, "commit": opt_id(at)}));
            } else {
                p.info(&format!("nothing to commit: `{branch}` already has these prompts"));
            }
        }
        Outcome::Moved { old, new, .. } => {
            if p.json {
                p.json(&serde_json::json!({"branch": branch.as_str(), "changed": true, "commit": new.to_hex(), "parent": opt_id(old)}));
            } else {
                let summary = args.message.lines().next().unwrap_or("");
                p.line(&format!(
                    "[{} {}] {summary}",
                    p.paint(Style::Ref, branch.as_str()),
                    p.paint(Style::Id, &new.short())
                ));
            }
        }
    }
    Ok(())
}
