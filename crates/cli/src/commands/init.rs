//! `promptctl init`: the store, a commented config, and `prompts/` if missing. Safe to re-run.

use std::path::PathBuf;

use promptctl_repo::config::{Project, CONFIG_FILE};
use promptctl_repo::Repo;
use promptctl_store::{OpenOptions, SledBackend};

use crate::cli::InitArgs;
use crate::context;
use crate::error::{CliError, CliResult};
use crate::printer::Printer;

const CONFIG_TEMPLATE: &str = r#"# promptctl configuration. Every key is optional; the values shown are the defaults.

# Where prompt files live, relative to this file.
prompts_dir: prompts

# `commit` lands here, and a bare prompt name (`summarize`) means its version here.
default_branch: staging

# Branches that move only by `promote` or `rollback`, never by `commit`.
protected: [production]

# Prompt files larger than this many bytes are refused.
max_file_bytes: 1048576

# Providers for `promptctl dry-run`. API keys are read from the environment variable named by
# `api_key_env`; they are never stored or printed. `kind: echo` answers offline.
providers:
  offline-echo:
    kind: echo
    model: echo-1
    price_per_mtok: {input: 0, output: 0}

routing:
  default:
    primary: offline-echo
    max_token_budget_usd: 0.02
    latency_slo_ms: 1200
"#;

pub fn run(args: &InitArgs, store: Option<PathBuf>, printer: &Printer) -> CliResult {
    let root = match &args.dir {
        Some(d) => {
            std::fs::create_dir_all(d).map_err(|e| CliError::failure(format!("{}: {e}", d.display())))?;
            d.canonicalize()?
        }
        None => std::env::current_dir()?,
    };
    let config_path = root.join(CONFIG_FILE);
    let mut created = Vec::new();
    if !config_path.exists() {
        std::fs::write(&config_path, CONFIG_TEMPLATE)?;
        created.push(CONFIG_FILE.to_string());
    }
    let project = Project::at(&root, store)?;
    let prompts = project.prompts_path();
    if !prompts.exists() {
        std::fs::create_dir_all(&prompts)?;
        created.push(format!("{}/", project.config.prompts_dir));
    }
    let existed = project.store_dir.is_dir();
    // Never write a store into a folder that holds something else (git init does not clobber).
    if existed {
        let is_store = project.store_dir.join("db").is_file() && project.store_dir.join("conf").is_file();
        let empty = std::fs::read_dir(&project.store_dir).map(|mut d| d.next().is_none()).unwrap_or(false);
        if !is_store && !empty {
            return Err(CliError::failure(format!(
                "{} exists and is not a promptctl store; nothing was written",
                project.store_dir.display()
            ))
            .hint("point --store / PROMPTCTL_DIR at an empty or new folder"));
        }
    } else if project.store_dir.exists() {
        return Err(CliError::failure(format!("{} exists and is not a folder", project.store_dir.display())));
    }
    let backend =
        SledBackend::open(&project.store_dir, OpenOptions { create: true, lock_timeout: context::lock_timeout()? })?;
    let repo = Repo::new(
        Box::new(backend),
        context::actor()?,
        context::now()?,
        project.config.default_branch.clone(),
        project.config.protected.clone(),
    );
    let mut branches = vec![project.config.default_branch.clone()];
    branches.extend(project.config.protected.iter().cloned());
    let made_refs = repo.init_refs(&branches)?;
    if !existed {
        created.insert(0, project.store_dir.display().to_string());
    }
    if printer.json {
        printer.json(&serde_json::json!({
            "root": root.display().to_string(),
            "store": project.store_dir.display().to_string(),
            "created": created,
            "branches": branches.iter().map(|b| b.as_str()).collect::<Vec<_>>(),
            "already_initialized": existed && !made_refs,
        }));
    } else if existed && !made_refs && created.is_empty() {
        printer.info(&format!("promptctl project already initialized in {}", root.display()));
    } else {
        printer.info(&format!("Initialized promptctl in {} (store: {})", root.display(), project.store_dir.display()));
        for c in &created {
            printer.info(&format!("  created {c}"));
        }
        printer.info(&format!(
            "  branches: {} (empty until the first commit or promote)",
            branches.iter().map(|b| b.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(())
}
