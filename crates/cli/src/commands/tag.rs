//! `promptctl tag`: write-once release tags.

use crate::cli::TagArgs;
use crate::commands::{opt_id, parse_ref, resolve_commit};
use crate::context::Ctx;
use crate::error::CliResult;
use crate::printer::Style;
use promptctl_repo::RefKind;

pub fn run(ctx: &Ctx, args: &TagArgs) -> CliResult {
    let repo = &ctx.repo;
    let p = &ctx.printer;
    if let Some(n) = &args.name {
        let name = parse_ref(n)?;
        let rev = args.rev.clone().unwrap_or_else(|| repo.default_branch.to_string());
        let (target, _) = resolve_commit(repo, &rev)?;
        repo.create_tag(&name, target, args.message.as_deref().unwrap_or(""))?;
        if p.json {
            p.json(&serde_json::json!({"tag": name.as_str(), "commit": target.to_hex()}));
        } else {
            p.info(&format!("Tagged {} as {name}", target.short()));
        }
        return Ok(());
    }
    let tags = repo.list_refs(RefKind::Tag)?;
    if p.json {
        p.json(
            &tags
                .iter()
                .map(|(n, v)| serde_json::json!({"name": n.as_str(), "commit": opt_id(*v)}))
                .collect::<Vec<_>>(),
        );
        return Ok(());
    }
    let mut s = String::new();
    for (n, v) in &tags {
        s.push_str(&format!("{:<20} {}\n", p.paint(Style::Ref, n.as_str()), super::short_opt(*v)));
    }
    p.out(&s);
    Ok(())
}
