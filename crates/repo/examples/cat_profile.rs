//! Where the time of a `promptctl cat REV` goes inside the process: the same steps as the CLI
//! (`Ctx::open` for a reading command, then `commands::show::cat`), each timed.
//!
//! ```text
//! cargo run --release -p promptctl-repo --example cat_profile -- PROJECT_DIR REV [--repeat N] [--no-drop]
//! ```
//!
//! Prints one line per round, `phase=microseconds` (stdout gets nothing else; the blob goes to
//! /dev/null). With `--repeat N` the store is opened N times in this one process: the first open
//! pays sled's one-time thread-pool start, later ones do not. `--no-drop` leaks the store at the
//! end instead of dropping it (what a read-only command could do to skip sled's fsync on drop).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use promptctl_core::{Actor, RevSpec};
use promptctl_repo::config::Project;
use promptctl_repo::{Repo, Resolved};
use promptctl_store::{OpenOptions, SledBackend};

type AnyResult<T> = Result<T, Box<dyn std::error::Error>>;

fn main() -> AnyResult<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: cat_profile PROJECT_DIR REV [--repeat N] [--no-drop]";
    let dir = PathBuf::from(args.next().ok_or(usage)?);
    let rev = args.next().ok_or(usage)?;
    let mut repeat = 1usize;
    let mut leak = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--repeat" => repeat = args.next().and_then(|n| n.parse().ok()).ok_or(usage)?,
            "--no-drop" => leak = true,
            _ => return Err(usage.into()),
        }
    }
    let mut sink = std::fs::OpenOptions::new().write(true).open("/dev/null")?;
    for round in 0..repeat {
        let t0 = Instant::now();
        let project = Project::discover(&dir, None)?;
        let t_discover = t0.elapsed();

        let t = Instant::now();
        let backend = SledBackend::open(&project.store_dir, OpenOptions::default())?;
        let t_open = t.elapsed();

        let t = Instant::now();
        let repo = Repo::new(
            Box::new(backend),
            Actor::new("reader")?,
            None,
            project.config.default_branch.clone(),
            project.config.protected.clone(),
        );
        let resolved = repo.resolve(&RevSpec::parse(&rev)?)?;
        let t_resolve = t.elapsed();

        let t = Instant::now();
        let bytes = match resolved {
            Resolved::Prompt { version, .. } => repo.read_blob(&version)?,
            Resolved::Commit { id, .. } => repo.read_commit(&id)?.encode(),
        };
        let t_read = t.elapsed();

        let t = Instant::now();
        sink.write_all(&bytes)?;
        let t_write = t.elapsed();

        let t = Instant::now();
        if leak {
            std::mem::forget(repo);
        } else {
            drop(repo);
        }
        let t_drop = t.elapsed();
        let total = t0.elapsed();
        println!(
            "round={round} discover_us={} open_us={} resolve_us={} read_us={} write_us={} drop_us={} total_us={}",
            t_discover.as_micros(),
            t_open.as_micros(),
            t_resolve.as_micros(),
            t_read.as_micros(),
            t_write.as_micros(),
            t_drop.as_micros(),
            total.as_micros()
        );
        if leak {
            // A leaked store keeps its lock; a second open in this process would wait for it.
            break;
        }
    }
    Ok(())
}
