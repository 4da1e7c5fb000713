//! `promptctl diff`: a unified line diff between two revisions (two prompt versions, or two
//! commits prompt by prompt), with word-level highlights on a terminal, a token-count summary
//! (`--stat`), the rendered text instead of the source (`--rendered`), notes when the sides
//! differ only invisibly, and, for native prompts, model settings and variable schema changes
//! stated as such.

use promptctl_core::{FileKind, ObjectId, PromptName};
use promptctl_provider::{count_text, Encoding};
use promptctl_repo::{tree_changes, Repo, Resolved};
use serde_json::{json, Value};
use similar::{ChangeTag, TextDiff};
use unicode_normalization::UnicodeNormalization;

use crate::cli::DiffArgs;
use crate::commands::render::{read_vars, render_prompt};
use crate::commands::{parse_names, resolve, PromptRef};
use crate::context::Ctx;
use crate::error::{CliError, CliResult};
use crate::printer::{Printer, Style};

/// One prompt's two sides.
struct Side {
    name: PromptName,
    version: ObjectId,
    kind: FileKind,
    commit: Option<ObjectId>,
}

struct Pair {
    name: String,
    status: &'static str,
    old: Option<Side>,
    new: Option<Side>,
}

fn side_of(pr: &PromptRef) -> CliResult<Side> {
    let name = pr.name.clone().ok_or_else(|| {
        CliError::usage(format!(
            "version {} has no prompt name here; compare it as NAME@{}",
            pr.version.short(),
            pr.version.short()
        ))
    })?;
    Ok(Side { name, version: pr.version, kind: pr.kind, commit: pr.commit })
}

fn pairs(repo: &Repo, args: &DiffArgs) -> CliResult<Vec<Pair>> {
    let a = resolve(repo, &args.from)?;
    let b = resolve(repo, &args.to)?;
    Ok(match (a, b) {
        (
            Resolved::Prompt { name: na, version: va, kind: ka, commit: ca, via: wa },
            Resolved::Prompt { name: nb, version: vb, kind: kb, commit: cb, via: wb },
        ) => {
            let old = side_of(&PromptRef { name: na.or(nb.clone()), version: va, kind: ka, commit: ca, via: wa })?;
            let new = side_of(&PromptRef {
                name: nb.or(Some(old.name.clone())),
                version: vb,
                kind: kb,
                commit: cb,
                via: wb,
            })?;
            let name = new.name.to_string();
            vec![Pair { name, status: "modified", old: Some(old), new: Some(new) }]
        }
        (Resolved::Commit { id: ca, .. }, Resolved::Commit { id: cb, .. }) => {
            let names: Vec<PromptName> = parse_names(&args.names)?;
            let (ta, tb) = (repo.commit_tree(&ca)?, repo.commit_tree(&cb)?);
            let side = |t: &promptctl_core::Tree, n: &PromptName, c| {
                t.get(n).map(|e| Side { name: n.clone(), version: e.id, kind: e.kind, commit: Some(c) })
            };
            let changes = if args.rendered {
                // A prompt whose own bytes are unchanged can still render differently when a
                // template it includes changed, so compare every prompt present on both sides.
                let mut all: Vec<PromptName> = ta.entries().keys().chain(tb.entries().keys()).cloned().collect();
                all.sort();
                all.dedup();
                all
            } else {
                tree_changes(&ta, &tb).into_iter().map(|c| c.name).collect()
            };
            changes
                .into_iter()
                .filter(|n| names.is_empty() || names.contains(n))
                .map(|n| {
                    let (old, new) = (side(&ta, &n, ca), side(&tb, &n, cb));
                    let status = match (&old, &new) {
                        (None, _) => "added",
                        (_, None) => "deleted",
                        _ => "modified",
                    };
                    Pair { name: n.to_string(), status, old, new }
                })
                .collect()
        }
        _ => {
            return Err(CliError::usage(format!(
                "`{}` and `{}` are not the same kind: compare two prompts (name@rev) or two commits",
                args.from, args.to
            )))
        }
    })
}

/// The text compared for one side: the stored bytes, or (`--rendered`) the render.
fn text_of(repo: &Repo, side: Option<&Side>, args: &DiffArgs) -> CliResult<(String, Vec<u8>)> {
    let Some(s) = side else { return Ok((String::new(), Vec::new())) };
    let bytes = repo.read_blob(&s.version)?;
    if !args.rendered {
        return Ok((String::from_utf8_lossy(&bytes).into_owned(), bytes));
    }
    let vars = read_vars(&args.vars)?;
    let pr = PromptRef { name: Some(s.name.clone()), version: s.version, kind: s.kind, commit: s.commit, via: None };
    let out = render_prompt(repo, &pr, &vars)?;
    Ok((out.text, bytes))
}

pub fn run(ctx: &Ctx, args: &DiffArgs) -> CliResult {
    let repo = &ctx.repo;
    let p = &ctx.printer;
    let mut files = Vec::new();
    let mut text = String::new();
    let mut differ = 0usize;
    let explicit = !args.names.is_empty() || !matches!(resolve(repo, &args.from)?, Resolved::Commit { .. });
    for pair in pairs(repo, args)? {
        let sides =
            text_of(repo, pair.old.as_ref(), args).and_then(|o| Ok((o, text_of(repo, pair.new.as_ref(), args)?)));
        let ((old_s, old_b), (new_s, new_b)) = match sides {
            Ok(s) => s,
            // Comparing renders of whole commits: a prompt that cannot render with these
            // variables is reported and skipped, not fatal. A prompt named explicitly must render.
            Err(e) if args.rendered && !explicit => {
                p.warn(&format!("{}: not compared: {}", pair.name, e.message));
                continue;
            }
            Err(e) => return Err(e),
        };
        if old_s == new_s && (args.rendered || old_b == new_b) {
            continue;
        }
        differ += 1;
        let diff = TextDiff::from_lines(old_s.as_str(), new_s.as_str());
        let (mut added, mut removed) = (0usize, 0usize);
        for c in diff.iter_all_changes() {
            match c.tag() {
                ChangeTag::Insert => added += 1,
                ChangeTag::Delete => removed += 1,
                ChangeTag::Equal => {}
            }
        }
        // Loading the tokenizer costs ~0.2 s, so count only where the count is shown.
        let tokens = |s: &str| if p.json || args.stat { count_text(Encoding::O200kBase, s) } else { None };
        let (tok_old, tok_new) = (tokens(&old_s), tokens(&new_s));
        let note = invisible_note(&old_s, &new_s);
        let semantic = if args.rendered { Vec::new() } else { semantic_changes(&pair, &old_b, &new_b) };
        if p.json {
            files.push(json!({
                "name": pair.name, "status": pair.status,
                "old_name": pair.old.as_ref().map(|s| s.name.as_str()),
                "new_name": pair.new.as_ref().map(|s| s.name.as_str()),
                "old": super::opt_id(pair.old.as_ref().map(|s| s.version)),
                "new": super::opt_id(pair.new.as_ref().map(|s| s.version)),
                "added": added, "removed": removed,
                "tokens_old": tok_old, "tokens_new": tok_new,
                "note": note,
                "settings": semantic.iter().map(|c| json!({"field": c.field, "key": c.key, "old": c.old, "new": c.new})).collect::<Vec<_>>(),
                "hunks": hunks_json(&diff, args.unified),
            }));
        } else if args.stat {
            let delta = match (tok_old, tok_new) {
                (Some(a), Some(b)) => format!("{:+} tokens ({a} -> {b})", b as i64 - a as i64),
                _ => "tokens unknown".into(),
            };
            text.push_str(&format!(
                " {} | {} {} | {delta}\n",
                pair.name,
                p.paint(Style::Added, &format!("+{added}")),
                p.paint(Style::Removed, &format!("-{removed}")),
            ));
        } else {
            text.push_str(&patch(p, &pair, &diff, args.unified, args.rendered));
            for c in &semantic {
                let what = if c.key.is_empty() { c.field.to_string() } else { format!("{}: {}", c.field, c.key) };
                text.push_str(&format!(
                    "{} {what}: {} -> {}\n",
                    p.paint(Style::Hint, "~"),
                    short_json(&c.old),
                    short_json(&c.new)
                ));
            }
            if let Some(n) = note {
                text.push_str(&format!("{}\n", p.paint(Style::Dim, &format!("note: {n}"))));
            }
        }
    }
    if p.json {
        p.json(&json!({"from": args.from, "to": args.to, "rendered": args.rendered, "files": files}));
    } else {
        if args.stat && differ > 0 {
            text.push_str(&format!(" {differ} prompt(s) changed\n"));
        }
        p.out(&text);
    }
    if args.exit_code && differ > 0 {
        // Like `git diff --exit-code`: 1 means "there are differences", with no message.
        return Err(CliError::failure(String::new()));
    }
    Ok(())
}

fn hunks_json(diff: &TextDiff<'_, '_, '_, str>, context: usize) -> Vec<Value> {
    diff.grouped_ops(context)
        .iter()
        .filter_map(|group| {
            let (first, last) = (group.first()?, group.last()?);
            let lines: Vec<_> = group
                .iter()
                .flat_map(|op| diff.iter_changes(op))
                .map(|c| {
                    let op = match c.tag() {
                        ChangeTag::Insert => "+",
                        ChangeTag::Delete => "-",
                        ChangeTag::Equal => " ",
                    };
                    json!({"op": op, "text": c.value()})
                })
                .collect();
            Some(json!({
                "old_start": first.old_range().start + 1,
                "old_lines": last.old_range().end - first.old_range().start,
                "new_start": first.new_range().start + 1,
                "new_lines": last.new_range().end - first.new_range().start,
                "lines": lines,
            }))
        })
        .collect()
}

fn patch<'a>(p: &Printer, pair: &Pair, diff: &'a TextDiff<'a, 'a, 'a, str>, context: usize, rendered: bool) -> String {
    let mut s = String::new();
    // Each side is labelled with its own prompt name (two different prompts can be compared).
    let label = |side: &Option<Side>, prefix: &str| match side {
        Some(s) if rendered => format!("{prefix}/{} (rendered)", s.name),
        Some(s) => format!("{prefix}/{}", s.name),
        None => "/dev/null".into(),
    };
    let id = |side: &Option<Side>| side.as_ref().map(|s| s.version.short()).unwrap_or_else(|| "000000000000".into());
    s.push_str(&p.paint(
        Style::Header,
        &format!(
            "diff {} {}\n--- {}\n+++ {}",
            id(&pair.old),
            id(&pair.new),
            label(&pair.old, "a"),
            label(&pair.new, "b")
        ),
    ));
    s.push('\n');
    for group in diff.grouped_ops(context) {
        let (Some(first), Some(last)) = (group.first(), group.last()) else { continue };
        let (os, oe) = (first.old_range().start, last.old_range().end);
        let (ns, ne) = (first.new_range().start, last.new_range().end);
        let range = |start: usize, len: usize| {
            if len == 1 {
                format!("{}", start + 1)
            } else {
                format!("{},{len}", if len == 0 { start } else { start + 1 })
            }
        };
        s.push_str(&p.paint(Style::Hint, &format!("@@ -{} +{} @@", range(os, oe - os), range(ns, ne - ns))));
        s.push('\n');
        for op in &group {
            for change in diff.iter_inline_changes(op) {
                let (sign, style, strong) = match change.tag() {
                    ChangeTag::Insert => ("+", Some(Style::Added), Style::AddedStrong),
                    ChangeTag::Delete => ("-", Some(Style::Removed), Style::RemovedStrong),
                    ChangeTag::Equal => (" ", None, Style::Dim),
                };
                let mut line = String::new();
                let mut body = String::new();
                for (emph, value) in change.iter_strings_lossy() {
                    body.push_str(&value);
                    let v = value.strip_suffix('\n').unwrap_or(&value).to_string();
                    // Word-level highlight: the changed words of a changed line, in bold colour.
                    match style {
                        Some(_) if emph => line.push_str(&p.paint(strong, &v)),
                        Some(st) => line.push_str(&p.paint(st, &v)),
                        None => line.push_str(&v),
                    }
                }
                s.push_str(&match style {
                    Some(st) => p.paint(st, sign),
                    None => sign.to_string(),
                });
                s.push_str(&line);
                s.push('\n');
                if !body.ends_with('\n') {
                    s.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
    s
}

/// Says when two texts differ only in ways most editors do not show.
pub fn invisible_note(a: &str, b: &str) -> Option<&'static str> {
    if a == b {
        return None;
    }
    let lf = |s: &str| s.replace("\r\n", "\n").replace('\r', "\n");
    if lf(a) == lf(b) {
        return Some("the two sides differ only in line endings (CRLF/LF)");
    }
    let bom = |s: &str| s.strip_prefix('\u{feff}').unwrap_or(s).to_string();
    if bom(a) == bom(b) {
        return Some("the two sides differ only by a byte-order mark (BOM)");
    }
    if a.nfc().collect::<String>() == b.nfc().collect::<String>() {
        return Some("the two sides differ only in Unicode normalisation (NFC vs NFD); they look identical");
    }
    let trail = |s: &str| lf(&bom(s)).lines().map(|l| l.trim_end().to_string()).collect::<Vec<_>>().join("\n");
    if trail(a) == trail(b) {
        return Some("the two sides differ only in trailing white space");
    }
    None
}

struct Setting {
    field: &'static str,
    key: String,
    old: Value,
    new: Value,
}

/// Model settings, description and variable schema changes of native (and Prompty) prompts.
fn semantic_changes(pair: &Pair, old: &[u8], new: &[u8]) -> Vec<Setting> {
    let parse = |side: &Option<Side>, bytes: &[u8]| {
        let s = side.as_ref()?;
        if !matches!(s.kind, FileKind::Native | FileKind::Prompty) {
            return None;
        }
        promptctl_render::parse(&promptctl_render::Source {
            name: s.name.clone(),
            kind: s.kind,
            id: s.version,
            bytes: bytes.to_vec(),
        })
        .ok()
    };
    let (Some(a), Some(b)) = (parse(&pair.old, old), parse(&pair.new, new)) else { return Vec::new() };
    let mut out = Vec::new();
    let obj = |v: Option<&Value>| v.and_then(Value::as_object).cloned().unwrap_or_default();
    let (ma, mb) = (obj(a.model()), obj(b.model()));
    let mut keys: Vec<&String> = ma.keys().chain(mb.keys()).collect();
    keys.sort();
    keys.dedup();
    for k in keys {
        let (x, y) = (ma.get(k).cloned().unwrap_or(Value::Null), mb.get(k).cloned().unwrap_or(Value::Null));
        if x != y {
            out.push(Setting { field: "model", key: k.clone(), old: x, new: y });
        }
    }
    if a.description() != b.description() {
        out.push(Setting {
            field: "description",
            key: String::new(),
            old: json!(a.description()),
            new: json!(b.description()),
        });
    }
    let schema = |v: &promptctl_render::Variable| {
        let mut m = serde_json::Map::new();
        m.insert("type".into(), json!(v.ty.map(|t| t.as_str())));
        m.insert("required".into(), json!(v.required));
        m.insert("default".into(), json!(v.default));
        m.insert("enum".into(), json!(v.enum_values));
        m.insert("description".into(), json!(v.description));
        m
    };
    let va: Vec<_> = a.variables().iter().filter(|v| v.declared).collect();
    let vb: Vec<_> = b.variables().iter().filter(|v| v.declared).collect();
    let mut names: Vec<&String> = va.iter().chain(vb.iter()).map(|v| &v.name).collect();
    names.sort();
    names.dedup();
    for n in names {
        let x = va.iter().find(|v| &v.name == n).map(|v| schema(v));
        let y = vb.iter().find(|v| &v.name == n).map(|v| schema(v));
        match (x, y) {
            (Some(x), Some(y)) => {
                // Name the field of the variable that changed, not the whole declaration.
                for (field, xv) in &x {
                    let yv = y.get(field).cloned().unwrap_or(Value::Null);
                    if *xv != yv {
                        out.push(Setting { field: "variable", key: format!("{n}.{field}"), old: xv.clone(), new: yv });
                    }
                }
            }
            // An added or removed variable: its declaration, without the fields it leaves unset.
            (x, y) => {
                let shown = |m: Option<serde_json::Map<String, Value>>| {
                    m.map(|m| Value::Object(m.into_iter().filter(|(_, v)| !v.is_null()).collect()))
                        .unwrap_or(Value::Null)
                };
                out.push(Setting { field: "variable", key: n.clone(), old: shown(x), new: shown(y) })
            }
        }
    }
    out
}

fn short_json(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        other => {
            let s = other.to_string();
            if s.len() > 120 {
                format!("{}…", &s[..s.char_indices().nth(117).map(|(i, _)| i).unwrap_or(s.len())])
            } else {
                s
            }
        }
    }
}
