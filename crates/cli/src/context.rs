//! Opening the project: finding it, reading its config, opening (and waiting for) the store,
//! and knowing who acts and when.

use std::path::PathBuf;
use std::time::Duration;

use promptctl_core::{Actor, Timestamp};
use promptctl_repo::config::Project;
use promptctl_repo::Repo;
use promptctl_store::{OpenOptions, SledBackend};

use crate::env;
use crate::error::{CliError, CliResult};
use crate::printer::Printer;

pub struct Ctx {
    pub project: Project,
    pub repo: Repo,
    pub printer: Printer,
}

pub fn now() -> CliResult<Option<Timestamp>> {
    match env::get(env::NOW) {
        Some(s) => Timestamp::parse(&s).map(Some).map_err(|e| CliError::usage(format!("{}: {e}", env::NOW))),
        None => Ok(None),
    }
}

/// `PROMPTCTL_ACTOR`, else git's `user.name`, else `$USER`, else `unknown`.
pub fn actor() -> CliResult<Actor> {
    if let Some(a) = env::get(env::ACTOR) {
        return Actor::new(&a).map_err(|e| CliError::usage(format!("{}: {e}", env::ACTOR)));
    }
    let from_git = std::process::Command::new("git")
        .args(["config", "user.name"])
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| Actor::new(&s).ok());
    if let Some(a) = from_git {
        return Ok(a);
    }
    let user = env::get(env::USER).unwrap_or_else(|| "unknown".into());
    Actor::new(&user).or_else(|_| Actor::new("unknown")).map_err(|e| CliError::failure(e.to_string()))
}

pub fn lock_timeout() -> CliResult<Duration> {
    match env::get(env::LOCK_TIMEOUT_MS) {
        None => Ok(Duration::from_millis(10_000)),
        Some(s) => s.parse().map(Duration::from_millis).map_err(|_| {
            CliError::usage(format!("{}={s:?}: use a whole number of milliseconds", env::LOCK_TIMEOUT_MS))
        }),
    }
}

/// Whether the command writes (and so needs an actor). Reading commands skip the `git config`
/// call, which costs a process spawn.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

impl Ctx {
    pub fn open(store: Option<PathBuf>, printer: Printer, access: Access) -> CliResult<Ctx> {
        let cwd = std::env::current_dir()?;
        let project = Project::discover(&cwd, store)?;
        if !project.store_dir.is_dir() {
            return Err(CliError::failure(format!("no store at {}", project.store_dir.display()))
                .hint("run `promptctl init` to create one, or point --store / PROMPTCTL_DIR at it"));
        }
        let backend =
            SledBackend::open(&project.store_dir, OpenOptions { create: false, lock_timeout: lock_timeout()? })?;
        let actor = match access {
            Access::Write => actor()?,
            Access::Read => Actor::new("reader").map_err(|e| CliError::failure(e.to_string()))?,
        };
        let repo = Repo::new(
            Box::new(backend),
            actor,
            now()?,
            project.config.default_branch.clone(),
            project.config.protected.clone(),
        );
        Ok(Ctx { project, repo, printer })
    }
}
