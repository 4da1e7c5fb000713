//! How long opening a store takes, the cost every promptctl command pays first.
//!
//! `cargo run --release -p promptctl-store --example open_timing [OBJECTS [DIR]]` builds an empty store
//! and one with OBJECTS small objects (default 10 000, written 10 per commit as the CLI would),
//! then times, for `SledBackend::open` and for a few raw sled configurations:
//! - open + close inside one process (median of 31 runs), and
//! - a whole child process that opens, reads a ref and exits (median of 31 runs),
//!   which is what a user waits for.
//!
//! Numbers are printed, never asserted: timing depends on the machine.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use promptctl_core::{Action, Actor, ObjectId, RefName, ReflogEntry, Timestamp};
use promptctl_store::{Backend, OpenOptions, RefUpdate, SledBackend, Space, Transaction};

const RUNS: usize = 31;

type Error = Box<dyn std::error::Error>;

fn opts(create: bool) -> OpenOptions {
    OpenOptions { create, lock_timeout: Duration::from_secs(5) }
}

fn populate(dir: &Path, objects: usize) -> Result<(), Error> {
    let store = SledBackend::open(dir, opts(true))?;
    let main: RefName = "heads/main".parse()?;
    let mut cur = None;
    for chunk in 0..objects.div_ceil(10) {
        let puts = (0..10)
            .map(|i| {
                let body = format!("prompt {chunk}-{i}: summarise the following text in one line\n").repeat(3);
                (Space::Blobs, ObjectId::of_blob(body.as_bytes()).as_bytes().to_vec(), body.into_bytes())
            })
            .collect();
        let next = Some(ObjectId::of_blob(format!("commit {chunk}").as_bytes()));
        let entry = ReflogEntry {
            refname: main.clone(),
            old: cur,
            new: next,
            action: Action::Commit,
            actor: Actor::new("bench")?,
            time: Timestamp::from_unix(1_700_000_000),
            message: format!("commit {chunk}"),
            prev: None,
        };
        let expected = if chunk == 0 { None } else { Some(cur) };
        let update = RefUpdate { name: main.clone(), expected, new: Some(next), entry };
        store.commit_tx(Transaction { puts, refs: vec![update] })?;
        cur = next;
    }
    Ok(())
}

/// The raw sled configurations compared against `SledBackend::open`.
fn sled_config(variant: &str, dir: &Path) -> Option<sled::Config> {
    let base = sled::Config::new().path(dir);
    Some(match variant {
        "sled-default" => base,
        "no-flusher" => base.flush_every_ms(None),
        "no-flusher+64MiB" => base.flush_every_ms(None).cache_capacity(64 << 20),
        "no-flusher+64MiB+fast" => base.flush_every_ms(None).cache_capacity(64 << 20).mode(sled::Mode::HighThroughput),
        _ => return None,
    })
}

/// `noop` starts the process and exits without opening anything: the floor under the others.
const VARIANTS: [&str; 6] =
    ["noop", "SledBackend", "sled-default", "no-flusher", "no-flusher+64MiB", "no-flusher+64MiB+fast"];

/// Opens the store with `variant`, reads one ref, closes it.
fn open_once(variant: &str, dir: &Path) -> Result<(Duration, Duration), Error> {
    let started = Instant::now();
    if variant == "noop" {
        return Ok((Duration::ZERO, Duration::ZERO));
    }
    if let Some(config) = sled_config(variant, dir) {
        let db = config.open()?;
        let refs = db.open_tree("refs")?;
        let _ = refs.get("heads/main")?;
        let opened = started.elapsed();
        drop(refs);
        drop(db);
        Ok((opened, started.elapsed() - opened))
    } else {
        let store = SledBackend::open(dir, opts(false))?;
        let _ = store.get_ref(&"heads/main".parse()?)?;
        let opened = started.elapsed();
        drop(store);
        Ok((opened, started.elapsed() - opened))
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Error> {
    let args: Vec<String> = std::env::args().collect();
    // Child mode: one open, as one CLI command would.
    if let [_, flag, variant, dir] = args.as_slice() {
        if flag == "--child" {
            let (open, close) = open_once(variant, Path::new(dir))?;
            if std::env::var_os("OPEN_TIMING_VERBOSE").is_some() {
                eprintln!("child {variant}: open {} close {}", ms(open), ms(close));
            }
            return Ok(());
        }
    }
    let objects: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(10_000);
    let tmp = tempfile::tempdir()?;
    // A second argument keeps the stores there (it must not exist yet) for inspection.
    let root = args.get(2).map(std::path::PathBuf::from).unwrap_or_else(|| tmp.path().to_path_buf());
    let exe = std::env::current_exe()?;

    for (label, n) in [("empty", 0), ("populated", objects)] {
        let dir = root.join(label);
        let started = Instant::now();
        populate(&dir, n)?;
        let size: u64 = std::fs::read_dir(&dir)?.filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
        println!("\n{label}: {n} objects, written in {}, {} KiB on disk", ms(started.elapsed()), size / 1024);
        for variant in VARIANTS {
            let mut opens = Vec::new();
            let mut closes = Vec::new();
            for _ in 0..RUNS {
                let (o, c) = open_once(variant, &dir)?;
                opens.push(o);
                closes.push(c);
            }
            let mut procs = Vec::new();
            for _ in 0..RUNS {
                let started = Instant::now();
                let status = Command::new(&exe).arg("--child").arg(variant).arg(&dir).status()?;
                procs.push(started.elapsed());
                if !status.success() {
                    return Err(format!("child for {variant} failed").into());
                }
            }
            println!(
                "  {variant:<24} open {:>9}  close {:>9}  whole process {:>9}",
                ms(median(opens)),
                ms(median(closes)),
                ms(median(procs))
            );
        }
    }
    Ok(())
}
