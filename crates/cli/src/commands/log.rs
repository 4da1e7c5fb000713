//! `promptctl log [NAME] [--branch B]`: a branch's history, or one prompt's.

use promptctl_core::PromptName;
use promptctl_repo::history::LogEntry;

use crate::cli::LogArgs;
use crate::commands::{decorations, resolve_commit};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::printer::Style;

pub fn run(ctx: &Ctx, args: &LogArgs) -> CliResult {
    let repo = &ctx.repo;
    let from = args.branch.clone().unwrap_or_else(|| repo.default_branch.to_string());
    // An unborn branch has an empty history, not an error.
    if let Ok(b) = from.parse::<promptctl_core::RefName>() {
        if repo.get_ref(promptctl_repo::RefKind::Branch, &b)? == Some(None) {
            if ctx.printer.json {
                ctx.printer.line("[]");
            } else {
                ctx.printer.info(&format!("`{b}` has no commits yet"));
            }
            return Ok(());
        }
    }
    let (head, _) = resolve_commit(repo, &from)?;
    let limit = args.max_count.unwrap_or(usize::MAX);
    let name: Option<PromptName> = args.name.as_deref().map(str::parse).transpose()?;
    let entries = match &name {
        Some(n) => repo.log_prompt(head, n, limit)?,
        None => repo.log(head, limit)?,
    };
    print(ctx, &entries, name.is_some())
}

fn print(ctx: &Ctx, entries: &[LogEntry], per_prompt: bool) -> CliResult {
    let p = &ctx.printer;
    let decos = decorations(&ctx.repo)?;
    if p.json {
        let v: Vec<_> = entries
            .iter()
            .map(|e| {
                let mut o = serde_json::json!({
                    "commit": e.id.to_hex(),
                    "tree": e.commit.tree.to_hex(),
                    "parents": e.commit.parents.iter().map(|p| p.to_hex()).collect::<Vec<_>>(),
                    "author": e.commit.author.as_str(),
                    "time": e.commit.time.to_rfc3339(),
                    "message": e.commit.message,
                    "refs": decos.get(&e.id).cloned().unwrap_or_default(),
                });
                if per_prompt {
                    o["version"] = super::opt_id(e.version);
                }
                o
            })
            .collect();
        p.json(&v);
        return Ok(());
    }
    let mut out = String::new();
    for e in entries {
        let deco = decos.get(&e.id).map(|d| format!(" ({})", p.paint(Style::Ref, &d.join(", ")))).unwrap_or_default();
        out.push_str(&format!("{}{deco}\n", p.paint(Style::Id, &format!("commit {}", e.id.short()))));
        out.push_str(&format!("Author: {}\nDate:   {}\n", e.commit.author, e.commit.time));
        if per_prompt {
            match e.version {
                Some(v) => out.push_str(&format!("Version: {}\n", v.short())),
                None => out.push_str("Version: (deleted)\n"),
            }
        }
        out.push('\n');
        for l in e.commit.message.lines() {
            out.push_str(&format!("    {l}\n"));
        }
        out.push('\n');
    }
    p.out(&out);
    Ok(())
}
