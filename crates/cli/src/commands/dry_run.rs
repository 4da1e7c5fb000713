//! `promptctl dry-run`: render a prompt, then send it through the routing policy, or with
//! `--offline` show exactly what would be sent. Reads the store; never writes it.

use std::io::IsTerminal;

use promptctl_provider::{DryRun, DryRunInput, ExitCategory, Message, Overrides, PolicyConfig};

use crate::cli::DryRunArgs;
use crate::commands::render::{read_vars, render_prompt};
use crate::commands::resolve_prompt;
use crate::context::Ctx;
use crate::error::{CliError, CliResult, Kind};

/// The `providers` and `routing` sections of promptctl.yaml, validated by the provider crate.
/// It is handed the file's own text with every other top-level section blanked out line for
/// line, so the line and column in its errors are those of the real file.
pub fn policy(ctx: &Ctx) -> CliResult<PolicyConfig> {
    let Some(path) = ctx.project.config_path.as_ref() else {
        return PolicyConfig::from_yaml_str("{}").map_err(|e| CliError::invalid(e.to_string()));
    };
    let text = std::fs::read_to_string(path).map_err(|e| CliError::failure(format!("{}: {e}", path.display())))?;
    let mut keep = false;
    let only_policy: String = text
        .lines()
        .map(|line| {
            let top_level = !line.is_empty() && !line.starts_with([' ', '\t', '#', '-']);
            if top_level {
                keep = line.starts_with("providers:") || line.starts_with("routing:");
            }
            if keep {
                format!("{line}\n")
            } else {
                "\n".to_string()
            }
        })
        .collect();
    PolicyConfig::from_yaml_str(&only_policy).map_err(|e| {
        let msg = e.to_string();
        let msg = msg.strip_prefix("promptctl.yaml: ").unwrap_or(&msg).to_string();
        CliError::invalid(format!("{}: {msg}", path.display()))
    })
}

/// Takes the context by value so the store can be closed before anything is sent: a slow
/// provider must not hold the store's lock and block other commands.
pub fn run(ctx: Ctx, args: &DryRunArgs) -> CliResult {
    let p = &ctx.printer;
    let pr = resolve_prompt(&ctx.repo, &args.rev)?;
    let vars = read_vars(&args.vars)?;
    let rendered = render_prompt(&ctx.repo, &pr, &vars)?;
    for w in &rendered.warnings {
        p.warn(w);
    }
    let messages: Vec<Message> = match &rendered.messages {
        Some(ms) => ms.iter().map(|m| Message::new(m.role.clone(), m.content.clone())).collect(),
        // A plain template renders one text: it is sent as one user message.
        None => vec![Message::new("user", rendered.text.clone())],
    };
    let model = model_block(&ctx, &pr)?;
    let policy = policy(&ctx)?;
    let Ctx { repo, printer, .. } = ctx;
    drop(repo);
    let p = &printer;
    let input = DryRunInput {
        policy: &policy,
        messages,
        model: &model,
        overrides: Overrides { route: args.route.clone(), provider: args.provider.clone() },
        env: &promptctl_provider::process_env,
    };
    let dr = DryRun::prepare(input).map_err(|e| CliError::invalid(e.to_string()))?;
    if args.offline {
        let plan = dr.plan_offline();
        if p.json {
            p.json(&plan);
        } else {
            p.out(&format!("{plan}"));
        }
        return Ok(());
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::failure(format!("cannot start the async runtime: {e}")))?;
    // Progress only on a terminal's stderr, never in JSON or pipes.
    let show_progress = !p.json && std::io::stderr().is_terminal();
    if show_progress {
        eprint!(
            "dry-run: sending {} via {} …\r",
            pr.name.as_ref().map(|n| n.as_str()).unwrap_or("prompt"),
            dr.target_ids().join(" → ")
        );
    }
    let report = rt.block_on(dr.run());
    if show_progress {
        eprint!("\x1b[2K\r");
    }
    if p.json {
        p.json(&report);
    } else {
        p.out(&format!("{report}"));
    }
    match report.exit_category() {
        ExitCategory::Success => Ok(()),
        ExitCategory::AllTargetsFailed => Err(CliError::new(Kind::AllTargetsFailed, "every target failed")),
        ExitCategory::BudgetRefused => Err(CliError::new(Kind::BudgetRefused, "refused by the cost ceiling")),
        ExitCategory::Invalid => Err(CliError::invalid("invalid prompt or policy; nothing was sent")),
    }
}

/// The prompt's `model:` block (route, provider, parameters), or null.
fn model_block(ctx: &Ctx, pr: &crate::commands::PromptRef) -> CliResult<serde_json::Value> {
    let Some(name) = pr.name.clone() else { return Ok(serde_json::Value::Null) };
    let bytes = ctx.repo.read_blob(&pr.version)?;
    let src = promptctl_render::Source { name, kind: pr.kind, id: pr.version, bytes };
    Ok(promptctl_render::parse(&src).ok().and_then(|m| m.model().cloned()).unwrap_or(serde_json::Value::Null))
}
