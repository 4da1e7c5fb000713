//! `show`, `cat` and `get`: a revision with metadata, its exact bytes, or the JSON an
//! application pins.

use base64::Engine as _;
use promptctl_core::ObjectId;
use promptctl_repo::{changed_names_between, Resolved};

use crate::cli::RevArgs;
use crate::commands::{opt_id, resolve, resolve_prompt, via_json, PromptRef};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::printer::Style;

/// `cat`: the exact stored bytes, nothing else. For a commit, its canonical encoding.
pub fn cat(ctx: &Ctx, args: &RevArgs) -> CliResult {
    match resolve(&ctx.repo, &args.rev)? {
        Resolved::Prompt { version, .. } => {
            let bytes = ctx.repo.read_blob(&version)?;
            ctx.printer.out_bytes(&bytes);
        }
        Resolved::Commit { id, .. } => {
            let c = ctx.repo.read_commit(&id)?;
            ctx.printer.out_bytes(&c.encode());
        }
    }
    Ok(())
}

/// Parsed metadata of a prompt version (description, model settings), when its kind has any.
fn metadata(pr: &PromptRef, bytes: &[u8]) -> Option<promptctl_render::Prompt> {
    let name = pr.name.clone()?;
    let src = promptctl_render::Source { name, kind: pr.kind, id: pr.version, bytes: bytes.to_vec() };
    promptctl_render::parse(&src).ok()
}

fn content_fields(obj: &mut serde_json::Value, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => obj["content"] = serde_json::Value::String(s.to_string()),
        Err(_) => {
            obj["content_base64"] = serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(bytes))
        }
    }
}

/// Every template a prompt can pull in from its commit (string-literal include, import and
/// extends, followed transitively), with its version id; and the names that are not there.
fn closure(ctx: &Ctx, pr: &PromptRef, bytes: &[u8]) -> CliResult<(Vec<serde_json::Value>, Vec<String>)> {
    use promptctl_render::Loader as _;
    let tree = match pr.commit {
        Some(c) => ctx.repo.commit_tree(&c)?,
        None => promptctl_core::Tree::new(),
    };
    let loader = crate::commands::render::TreeLoader::new(&ctx.repo, tree, pr.name.as_ref());
    let mut seen = vec![pr.version];
    let mut used =
        vec![serde_json::json!({"name": pr.name.as_ref().map(|n| n.as_str()), "version": pr.version.to_hex()})];
    let mut missing = Vec::new();
    let mut queue = vec![bytes.to_vec()];
    while let Some(text) = queue.pop() {
        for r in promptctl_render::template_references(&String::from_utf8_lossy(&text)) {
            match loader.load(&r) {
                Some(src) if !seen.contains(&src.id) => {
                    seen.push(src.id);
                    used.push(serde_json::json!({"name": src.name.as_str(), "version": src.id.to_hex()}));
                    queue.push(src.bytes);
                }
                Some(_) => {}
                None if !missing.contains(&r) => missing.push(r),
                None => {}
            }
        }
    }
    if let Some(damage) = loader.take_damage() {
        return Err(damage.into());
    }
    Ok((used, missing))
}

pub fn get(ctx: &Ctx, args: &RevArgs) -> CliResult {
    let pr = resolve_prompt(&ctx.repo, &args.rev)?;
    let bytes = ctx.repo.read_blob(&pr.version)?;
    let meta = metadata(&pr, &bytes);
    let (templates, missing) = closure(ctx, &pr, &bytes)?;
    let mut obj = serde_json::json!({
        "name": pr.name.as_ref().map(|n| n.as_str()),
        "version": pr.version.to_hex(),
        "commit": opt_id(pr.commit),
        "ref": via_json(&pr.via),
        "kind": pr.kind.as_str(),
        "path": pr.name.as_ref().map(|n| n.to_path(pr.kind)),
        "size": bytes.len(),
        "templates": templates,
        "missing_templates": missing,
    });
    content_fields(&mut obj, &bytes);
    if let Some(m) = &meta {
        if let Some(model) = m.model() {
            obj["model"] = model.clone();
        }
        if let Some(d) = m.description() {
            obj["description"] = serde_json::Value::String(d.to_string());
        }
    }
    let p = &ctx.printer;
    if p.json {
        p.json(&obj);
    } else {
        let mut s = String::new();
        if let Some(n) = &pr.name {
            s.push_str(&format!("name:    {n}\n"));
        }
        s.push_str(&format!("version: {}\n", pr.version));
        if let Some(c) = pr.commit {
            s.push_str(&format!("commit:  {c}\n"));
        }
        if let Some((_, r)) = &pr.via {
            s.push_str(&format!("ref:     {}\n", promptctl_repo::display_ref(r)));
        }
        if let Some(model) = obj.get("model") {
            s.push_str(&format!("model:   {model}\n"));
        }
        p.out(&s);
    }
    Ok(())
}

pub fn show(ctx: &Ctx, args: &RevArgs) -> CliResult {
    let p = &ctx.printer;
    match resolve(&ctx.repo, &args.rev)? {
        Resolved::Commit { id, via } => {
            let c = ctx.repo.read_commit(&id)?;
            let changes = changed_names_between(&ctx.repo, c.first_parent(), id)?;
            if p.json {
                p.json(&serde_json::json!({
                    "type": "commit",
                    "commit": id.to_hex(),
                    "ref": via_json(&via),
                    "tree": c.tree.to_hex(),
                    "parents": c.parents.iter().map(ObjectId::to_hex).collect::<Vec<_>>(),
                    "author": c.author.as_str(),
                    "time": c.time.to_rfc3339(),
                    "message": c.message,
                    "changes": changes.iter().map(|ch| serde_json::json!({
                        "name": ch.name.as_str(), "status": ch.status, "old": opt_id(ch.old), "new": opt_id(ch.new),
                    })).collect::<Vec<_>>(),
                }));
                return Ok(());
            }
            let mut s = format!("{}\n", p.paint(Style::Id, &format!("commit {id}")));
            for par in &c.parents {
                s.push_str(&format!("Parent: {}\n", par.short()));
            }
            s.push_str(&format!("Author: {}\nDate:   {}\n\n", c.author, c.time));
            for l in c.message.lines() {
                s.push_str(&format!("    {l}\n"));
            }
            s.push('\n');
            for ch in &changes {
                let (mark, style) = match ch.status {
                    "added" => ("A", Style::Added),
                    "deleted" => ("D", Style::Removed),
                    _ => ("M", Style::Id),
                };
                s.push_str(&format!("{} {}\n", p.paint(style, mark), ch.name));
            }
            p.out(&s);
        }
        Resolved::Prompt { name, version, kind, commit, via } => {
            let pr = PromptRef { name, version, kind, commit, via };
            let bytes = ctx.repo.read_blob(&pr.version)?;
            let meta = metadata(&pr, &bytes);
            if p.json {
                let mut obj = serde_json::json!({
                    "type": "prompt",
                    "name": pr.name.as_ref().map(|n| n.as_str()),
                    "version": pr.version.to_hex(),
                    "commit": opt_id(pr.commit),
                    "ref": via_json(&pr.via),
                    "kind": pr.kind.as_str(),
                    "size": bytes.len(),
                });
                if let Some(m) = meta.as_ref().and_then(|m| m.model()) {
                    obj["model"] = m.clone();
                }
                content_fields(&mut obj, &bytes);
                p.json(&obj);
                return Ok(());
            }
            let mut s = String::new();
            if let Some(n) = &pr.name {
                s.push_str(&format!("{} {n}\n", p.paint(Style::Header, "prompt")));
            }
            s.push_str(&format!("Version: {}\n", p.paint(Style::Id, &pr.version.to_hex())));
            if let Some(c) = pr.commit {
                s.push_str(&format!("Commit:  {}\n", c.short()));
            }
            s.push_str(&format!("Kind:    {} ({} bytes)\n", pr.kind.as_str(), bytes.len()));
            if let Some(d) = meta.as_ref().and_then(|m| m.description()) {
                s.push_str(&format!("About:   {d}\n"));
            }
            s.push('\n');
            s.push_str(&String::from_utf8_lossy(&bytes));
            if !s.ends_with('\n') {
                s.push('\n');
            }
            p.out(&s);
        }
    }
    Ok(())
}
