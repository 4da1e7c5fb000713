//! `promptctl fsck`: exit 0 when every object, ref and reflog chain checks out, 6 otherwise.

use crate::context::Ctx;
use crate::error::{CliError, CliResult, Kind};

pub fn run(ctx: &Ctx) -> CliResult {
    let r = ctx.repo.fsck()?;
    let p = &ctx.printer;
    if p.json {
        p.json(&serde_json::json!({
            "ok": r.problems.is_empty(),
            "blobs": r.blobs, "trees": r.trees, "commits": r.commits, "refs": r.refs,
            "reflog_entries": r.reflog_entries, "problems": r.problems,
        }));
    } else {
        p.line(&format!(
            "checked {} prompt versions, {} trees, {} commits, {} refs, {} reflog entries",
            r.blobs, r.trees, r.commits, r.refs, r.reflog_entries
        ));
        for pr in &r.problems {
            p.line(&format!("problem: {pr}"));
        }
    }
    if r.problems.is_empty() {
        Ok(())
    } else {
        Err(CliError::new(Kind::Damaged, format!("fsck found {} problem(s)", r.problems.len())))
    }
}
