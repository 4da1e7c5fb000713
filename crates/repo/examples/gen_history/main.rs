//! Writes one synthetic prompt history twice: as a promptctl project and as a git repository.
//!
//! ```text
//! cargo run --release -p promptctl-repo --example gen_history -- OUTDIR [--commits N] [--prompts N]
//!     [--seed S] [--promote-every N] [--no-git]
//! ```
//!
//! - `OUTDIR/promptctl`: `promptctl.yaml`, `prompts/` (the last commit checked out) and the sled
//!   store `.promptctl/`, written through the library: `init_refs`, then one `commit_snapshot`
//!   (`replace_all = false`) per commit, a `promote staging production` every `--promote-every`
//!   commits and after the last, so `production` = `staging` at the end.
//! - `OUTDIR/git`: the same commits (same files under `prompts/`, authors, times, messages) made
//!   by `git fast-import` fed from this process, `staging` and `production` at the last commit,
//!   checked out (`reset --hard`), then `git repack -ad` (one pack, as after a clone). No
//!   commit-graph is written; `scripts/bench-vs-git.sh` adds one to a copy.
//! - `OUTDIR/meta.env`: facts for the bench script (which prompts to use, their change counts).
//!
//! Defaults: 10,000 commits over 200 prompts, fixed seed, so every run writes the same history.

#[path = "synth.rs"]
mod synth;

use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use synth::{fast_import_commit, fast_import_finish, AnyResult, History, Params, StoreWriter};

const CONFIG: &str = "\
# Written by gen_history (synthetic benchmark history).
prompts_dir: prompts
default_branch: staging
protected: [production]
";

struct Args {
    out: PathBuf,
    params: Params,
    git: bool,
}

fn usage() -> ! {
    eprintln!("usage: gen_history OUTDIR [--commits N] [--prompts N] [--seed S] [--promote-every N] [--no-git]");
    std::process::exit(2)
}

fn num(it: &mut impl Iterator<Item = String>) -> u64 {
    it.next().and_then(|v| v.parse().ok()).unwrap_or_else(|| usage())
}

fn parse_args() -> Args {
    let mut out = None;
    let mut params = Params::default();
    let mut git = true;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--commits" => params.commits = num(&mut it) as usize,
            "--prompts" => params.prompts = num(&mut it) as usize,
            "--seed" => params.seed = num(&mut it),
            "--promote-every" => params.promote_every = num(&mut it) as usize,
            "--no-git" => git = false,
            "-h" | "--help" => usage(),
            s if s.starts_with('-') => usage(),
            s => out = Some(PathBuf::from(s)),
        }
    }
    let Some(out) = out else { usage() };
    if params.commits == 0 {
        usage()
    }
    Args { out, params, git }
}

/// `git` with the caller's repository variables removed, so it only ever touches `dir`.
fn git(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.arg("-C").arg(dir);
    for v in ["GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_CEILING_DIRECTORIES"] {
        c.env_remove(v);
    }
    c
}

fn run(mut c: Command) -> AnyResult<()> {
    let status = c.status()?;
    if !status.success() {
        return Err(format!("{c:?} failed: {status}").into());
    }
    Ok(())
}

fn dir_size(p: &Path) -> u64 {
    let Ok(rd) = fs::read_dir(p) else { return 0 };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn main() -> AnyResult<()> {
    let args = parse_args();
    let pc_root = args.out.join("promptctl");
    let git_root = args.out.join("git");
    for d in [&pc_root, &git_root] {
        if d.exists() {
            return Err(format!("{} exists; give an empty OUTDIR", d.display()).into());
        }
    }
    fs::create_dir_all(pc_root.join("prompts"))?;
    fs::write(pc_root.join("promptctl.yaml"), CONFIG)?;

    let mut history = History::new(args.params);
    let mut store = StoreWriter::create(&pc_root.join(".promptctl"), &history.names)?;

    let mut importer = if args.git {
        fs::create_dir_all(&git_root)?;
        let mut init = git(&git_root);
        init.args(["init", "-q", "-b", "staging"]);
        run(init)?;
        for (k, v) in [("user.name", "Bench User"), ("user.email", "bench@example.com")] {
            let mut c = git(&git_root);
            c.args(["config", k, v]);
            run(c)?;
        }
        let mut fi = git(&git_root);
        fi.args(["fast-import", "--quiet", "--done"]).stdin(Stdio::piped());
        Some(fi.spawn()?)
    } else {
        None
    };
    let mut stream = importer.as_mut().and_then(|c| c.stdin.take()).map(|s| BufWriter::with_capacity(1 << 20, s));

    let started = Instant::now();
    let mut store_secs = 0.0;
    let mut last_index = 0;
    let mut promotes = 0;
    while let Some(c) = history.next() {
        if let Some(s) = stream.as_mut() {
            fast_import_commit(s, &history, &c)?;
        }
        let t = Instant::now();
        store.apply(&c)?;
        store_secs += t.elapsed().as_secs_f64();
        last_index = c.index;
        promotes += usize::from(c.promote);
        if (c.index + 1) % 1000 == 0 {
            eprintln!(
                "gen_history: {} commits ({:.1} s, store {:.1} s)",
                c.index + 1,
                started.elapsed().as_secs_f64(),
                store_secs
            );
        }
    }
    let store_last = store.last.ok_or("no commits")?;
    drop(store);
    let gen_secs = started.elapsed().as_secs_f64();

    // The last versions, checked out in the promptctl project.
    for (i, state) in history.states.iter().enumerate() {
        let p = pc_root.join("prompts").join(history.path(i));
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent)?;
        }
        fs::write(p, state.render())?;
    }

    let mut git_secs = 0.0;
    if let (Some(mut s), Some(mut child)) = (stream, importer) {
        fast_import_finish(&mut s, last_index)?;
        s.flush()?;
        drop(s);
        let t = Instant::now();
        let status = child.wait()?;
        if !status.success() {
            return Err(format!("git fast-import failed: {status}").into());
        }
        let mut reset = git(&git_root);
        reset.args(["reset", "-q", "--hard", "staging"]);
        run(reset)?;
        let mut repack = git(&git_root);
        repack.args(["repack", "-adq"]);
        run(repack)?;
        let mut prune = git(&git_root);
        prune.args(["prune-packed"]);
        run(prune)?;
        git_secs = t.elapsed().as_secs_f64();
    }

    let log_prompt = history.prompt_with_changes_near(50);
    let hot_prompt = (0..history.names.len()).max_by_key(|&i| history.change_counts[i]).unwrap_or(0);
    let commit_prompt = history.prompt_with_changes_near(20);
    let mut counts = history.change_counts.clone();
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    let meta = format!(
        "COMMITS={}\nPROMPTS={}\nSEED={}\nLAST_COMMIT={}\n\
         LOG_PROMPT={}\nLOG_PROMPT_CHANGES={}\n\
         HOT_PROMPT={}\nHOT_PROMPT_CHANGES={}\n\
         CAT_PROMPT={}\nCOMMIT_PROMPT={}\n\
         MIN_CHANGES={}\nMEDIAN_CHANGES={}\nMAX_CHANGES={}\n\
         STORE_BYTES={}\nGIT_BYTES={}\nGEN_STORE_SECS={:.1}\nGEN_TOTAL_SECS={:.1}\nGEN_GIT_FINISH_SECS={:.1}\n",
        args.params.commits,
        history.names.len(),
        args.params.seed,
        store_last.to_hex(),
        history.names[log_prompt],
        history.change_counts[log_prompt],
        history.names[hot_prompt],
        history.change_counts[hot_prompt],
        history.names[log_prompt],
        history.names[commit_prompt],
        counts[0],
        median,
        counts[counts.len() - 1],
        dir_size(&pc_root.join(".promptctl")),
        if args.git { dir_size(&git_root.join(".git")) } else { 0 },
        store_secs,
        gen_secs,
        git_secs,
    );
    fs::write(args.out.join("meta.env"), &meta)?;
    eprintln!(
        "gen_history: {} commits, {} promotes of production, {} prompts in {:.1} s (promptctl store {:.1} s{})",
        args.params.commits,
        promotes,
        history.names.len(),
        gen_secs,
        store_secs,
        if args.git { format!(", git finish+repack {git_secs:.1} s") } else { String::new() },
    );
    print!("{meta}");
    Ok(())
}
