//! `promptctl diff`: a unified line diff between two revisions (two prompt versions, or two
//! commits prompt by prompt).

use promptctl_core::{ObjectId, PromptName};
use promptctl_repo::{tree_changes, Resolved};
use similar::{ChangeTag, TextDiff};

use crate::cli::DiffArgs;
use crate::commands::{parse_names, resolve};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::printer::{Printer, Style};

/// One prompt's two sides.
struct Pair {
    name: String,
    status: &'static str,
    old: Option<ObjectId>,
    new: Option<ObjectId>,
}

pub fn run(ctx: &Ctx, args: &DiffArgs) -> CliResult {
    let repo = &ctx.repo;
    let a = resolve(repo, &args.from)?;
    let b = resolve(repo, &args.to)?;
    let pairs: Vec<Pair> = match (&a, &b) {
        (Resolved::Prompt { name: na, version: va, .. }, Resolved::Prompt { name: nb, version: vb, .. }) => {
            let name = nb.as_ref().or(na.as_ref()).map(|n| n.to_string()).unwrap_or_else(|| vb.short());
            if va == vb {
                vec![]
            } else {
                vec![Pair { name, status: "modified", old: Some(*va), new: Some(*vb) }]
            }
        }
        (Resolved::Commit { id: ca, .. }, Resolved::Commit { id: cb, .. }) => {
            let names: Vec<PromptName> = parse_names(&args.names)?;
            tree_changes(&repo.commit_tree(ca)?, &repo.commit_tree(cb)?)
                .into_iter()
                .filter(|c| names.is_empty() || names.contains(&c.name))
                .map(|c| Pair { name: c.name.to_string(), status: c.status, old: c.old, new: c.new })
                .collect()
        }
        _ => {
            return Err(CliError::usage(format!(
                "`{}` and `{}` are not the same kind: compare two prompts (name@rev) or two commits",
                args.from, args.to
            )))
        }
    };
    let p = &ctx.printer;
    let mut files = Vec::new();
    let mut text = String::new();
    for pair in &pairs {
        let old = match pair.old {
            Some(id) => repo.read_blob(&id)?,
            None => Vec::new(),
        };
        let new = match pair.new {
            Some(id) => repo.read_blob(&id)?,
            None => Vec::new(),
        };
        let old_s = String::from_utf8_lossy(&old);
        let new_s = String::from_utf8_lossy(&new);
        let diff = TextDiff::from_lines(old_s.as_ref(), new_s.as_ref());
        let (mut added, mut removed) = (0usize, 0usize);
        for c in diff.iter_all_changes() {
            match c.tag() {
                ChangeTag::Insert => added += 1,
                ChangeTag::Delete => removed += 1,
                ChangeTag::Equal => {}
            }
        }
        let note = whitespace_note(&old_s, &new_s);
        if p.json {
            let hunks: Vec<_> = diff
                .grouped_ops(args.unified)
                .iter()
                .map(|group| {
                    let (first, last) = (&group[0], &group[group.len() - 1]);
                    let lines: Vec<_> = group
                        .iter()
                        .flat_map(|op| diff.iter_changes(op))
                        .map(|c| {
                            let op = match c.tag() {
                                ChangeTag::Insert => "+",
                                ChangeTag::Delete => "-",
                                ChangeTag::Equal => " ",
                            };
                            serde_json::json!({"op": op, "text": c.value()})
                        })
                        .collect();
                    serde_json::json!({
                        "old_start": first.old_range().start + 1,
                        "old_lines": last.old_range().end - first.old_range().start,
                        "new_start": first.new_range().start + 1,
                        "new_lines": last.new_range().end - first.new_range().start,
                        "lines": lines,
                    })
                })
                .collect();
            files.push(serde_json::json!({
                "name": pair.name, "status": pair.status,
                "old": super::opt_id(pair.old), "new": super::opt_id(pair.new),
                "added": added, "removed": removed, "note": note, "hunks": hunks,
            }));
        } else if args.stat {
            text.push_str(&format!(
                " {} | {} {}\n",
                pair.name,
                p.paint(Style::Added, &format!("+{added}")),
                p.paint(Style::Removed, &format!("-{removed}"))
            ));
        } else {
            text.push_str(&patch(p, pair, &diff, args.unified));
            if let Some(n) = note {
                text.push_str(&format!("{}\n", p.paint(Style::Dim, &format!("note: {n}"))));
            }
        }
    }
    if p.json {
        p.json(&serde_json::json!({"from": args.from, "to": args.to, "files": files}));
    } else {
        if args.stat && !pairs.is_empty() {
            text.push_str(&format!(" {} prompt(s) changed\n", pairs.len()));
        }
        p.out(&text);
    }
    if args.exit_code && !pairs.is_empty() {
        return Err(CliError::failure(String::new()));
    }
    Ok(())
}

fn patch<'a>(p: &Printer, pair: &Pair, diff: &'a TextDiff<'a, 'a, 'a, str>, context: usize) -> String {
    let mut s = String::new();
    let old_label = if pair.old.is_some() { format!("a/{}", pair.name) } else { "/dev/null".into() };
    let new_label = if pair.new.is_some() { format!("b/{}", pair.name) } else { "/dev/null".into() };
    s.push_str(&p.paint(
        Style::Header,
        &format!(
            "diff {} {}\n--- {old_label}\n+++ {new_label}",
            pair.old.map(|i| i.short()).unwrap_or_else(|| "000000000000".into()),
            pair.new.map(|i| i.short()).unwrap_or_else(|| "000000000000".into())
        ),
    ));
    s.push('\n');
    for hunk in diff.unified_diff().context_radius(context).iter_hunks() {
        s.push_str(&p.paint(Style::Hint, &hunk.header().to_string()));
        s.push('\n');
        for c in hunk.iter_changes() {
            let (sign, style) = match c.tag() {
                ChangeTag::Insert => ("+", Some(Style::Added)),
                ChangeTag::Delete => ("-", Some(Style::Removed)),
                ChangeTag::Equal => (" ", None),
            };
            let body = c.value();
            let line = format!("{sign}{}", body.strip_suffix('\n').unwrap_or(body));
            match style {
                Some(st) => s.push_str(&p.paint(st, &line)),
                None => s.push_str(&line),
            }
            s.push('\n');
            if c.missing_newline() {
                s.push_str("\\ No newline at end of file\n");
            }
        }
    }
    s
}

/// Says when two texts differ only in ways that are invisible in most editors.
pub fn whitespace_note(a: &str, b: &str) -> Option<&'static str> {
    if a == b {
        return None;
    }
    let lf = |s: &str| s.replace("\r\n", "\n").replace('\r', "\n");
    if lf(a) == lf(b) {
        return Some("the two sides differ only in line endings (CRLF/LF)");
    }
    let trail = |s: &str| lf(s).lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n");
    if trail(a) == trail(b) {
        return Some("the two sides differ only in trailing white space");
    }
    None
}
