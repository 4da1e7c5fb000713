//! `promptctl import-chat-template`: a model's chat template(s) from its tokenizer_config.json
//! into prompts/, so they are reviewed, committed and rendered like any prompt.

use std::path::PathBuf;

use promptctl_core::PromptName;
use promptctl_repo::config::Project;

use crate::cli::ImportArgs;
use crate::error::{CliError, CliResult};
use crate::printer::Printer;

pub fn run(args: &ImportArgs, store: Option<PathBuf>, printer: &Printer) -> CliResult {
    let bytes = std::fs::read(&args.file).map_err(|e| CliError::usage(format!("{}: {e}", args.file.display())))?;
    let templates = promptctl_render::chat_templates_from_tokenizer_config(&bytes)
        .map_err(|e| CliError::invalid(format!("{}: {e}", args.file.display())))?;
    let project = Project::discover(&std::env::current_dir()?, store)?;
    let base = match &args.name {
        Some(n) => n.clone(),
        None => {
            let folder = args
                .file
                .canonicalize()
                .ok()
                .and_then(|p| p.parent().and_then(|d| d.file_name()).map(|f| f.to_string_lossy().into_owned()))
                .unwrap_or_else(|| "model".into());
            format!("chat/{folder}")
        }
    };
    // One string: `<base>.jinja`. A list of named templates: `<base>/<name>.jinja` each.
    if templates.is_empty() {
        return Err(CliError::invalid(format!("{}: has no `chat_template`", args.file.display())));
    }
    let single = templates.len() == 1 && templates[0].0 == "default";
    let mut planned = Vec::new();
    for (name, text) in &templates {
        let prompt = if single { base.clone() } else { format!("{base}/{name}") };
        let prompt: PromptName =
            prompt.parse().map_err(|e| CliError::usage(format!("cannot name the template `{name}`: {e}")))?;
        let path = project.prompts_path().join(prompt.to_path(promptctl_core::FileKind::Jinja));
        if path.exists() && !args.force {
            return Err(CliError::failure(format!("{} exists; nothing was written", path.display()))
                .hint("pass --force to overwrite, or --name to choose another name"));
        }
        planned.push((prompt, path, text.clone()));
    }
    for (_, path, text) in &planned {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, text.as_bytes())?;
    }
    if printer.json {
        printer.json(
            &planned
                .iter()
                .map(|(n, p, t)| {
                    serde_json::json!({
                        "name": n.as_str(), "path": p.display().to_string(),
                        "version": promptctl_core::ObjectId::of_blob(t.as_bytes()).to_hex(),
                    })
                })
                .collect::<Vec<_>>(),
        );
    } else {
        for (n, p, _) in &planned {
            printer.line(&format!("wrote {} ({n})", p.display()));
        }
        printer.info("review and `promptctl commit` them like any prompt");
    }
    Ok(())
}
