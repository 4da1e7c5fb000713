//! In-process costs behind the CLI's commands, on the sled store: opening it (empty and with
//! 10,000 commits), the `cat` path (resolve `name@production`, read the blob), the per-prompt
//! log, and a commit of one changed prompt.
//!
//! ```text
//! cargo bench --bench store -- --quick
//! ```
//!
//! The 10,000-commit history is the one `scripts/bench-vs-git.sh` measures (same generator,
//! `crates/repo/examples/gen_history/synth.rs`). It is written once into
//! `target/bench-data/store-10000/` (about 25 s, ~470 MB) and reused; set
//! `PROMPTCTL_BENCH_COMMITS` for another size. Benchmarks that write work on a copy.
//!
//! In one process sled starts its I/O thread pool once, so `open` here does not include the
//! thread spawns a CLI process pays on every run (see the README's profile of `cat`).

#[path = "../crates/repo/examples/gen_history/synth.rs"]
mod synth;

use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use promptctl_core::{FileKind, ObjectId, PromptName, RevSpec, TreeEntry};
use promptctl_repo::ops::NewVersion;
use promptctl_repo::{RefKind, Resolved};
use promptctl_store::{Backend, OpenOptions, SledBackend, Space};

use synth::{History, Params, StoreWriter};

/// Bump when the generator's output changes, so a cached store is rebuilt.
const DATA_VERSION: &str = "synth-v1";

struct Data {
    store: PathBuf,
    /// The last commit's files, checked out (what `promptctl commit` scans).
    prompts: PathBuf,
    /// The prompt changed closest to 50 times (what the script's `log NAME` uses).
    log_prompt: String,
    log_changes: usize,
    commit_prompt: String,
    commit_bytes: Vec<u8>,
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// The cached history store, generated on first use.
fn data() -> Data {
    let commits: usize = std::env::var("PROMPTCTL_BENCH_COMMITS").ok().and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let params = Params { commits, ..Params::default() };
    let dir = target_dir().join("bench-data").join(format!("store-{commits}"));
    let marker = dir.join("complete");
    let want = format!("{DATA_VERSION} {params:?}\n");
    let fresh = fs::read_to_string(&marker).map(|s| s != want).unwrap_or(true);
    // The facts below come from replaying the generator without writing (fast: no store).
    let mut history = History::new(params);
    if fresh {
        eprintln!("store bench: writing {commits} commits to {} (once)", dir.display());
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create bench-data dir");
        let mut w = StoreWriter::create(&dir.join("store"), &history.names).expect("create store");
        for c in history.by_ref() {
            w.apply(&c).expect("commit");
        }
        drop(w);
        fs::write(&marker, &want).expect("write marker");
    } else {
        for _ in history.by_ref() {}
    }
    let prompts = dir.join("prompts");
    if !prompts.join(history.path(0)).is_file() {
        for (i, state) in history.states.iter().enumerate() {
            let p = prompts.join(history.path(i));
            fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            fs::write(p, state.render()).expect("write prompt");
        }
    }
    let log = history.prompt_with_changes_near(50);
    let com = history.prompt_with_changes_near(20);
    Data {
        store: dir.join("store"),
        prompts,
        log_prompt: history.names[log].clone(),
        log_changes: history.change_counts[log],
        commit_prompt: history.names[com].clone(),
        commit_bytes: history.states[com].render(),
    }
}

fn open(dir: &Path) -> SledBackend {
    SledBackend::open(dir, OpenOptions::default()).expect("open store")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dst = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            fs::copy(e.path(), dst).expect("copy");
        }
    }
}

fn benches(c: &mut Criterion) {
    let d = data();
    let tmp = tempfile::tempdir_in(target_dir()).expect("tempdir");

    // ---- open ----------------------------------------------------------------------------
    let empty = tmp.path().join("empty");
    {
        let w = StoreWriter::create(&empty, &[]).expect("empty store");
        drop(w);
    }
    let mut g = c.benchmark_group("open");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("empty store (open + drop)", |b| b.iter(|| drop(black_box(open(&empty)))));
    g.bench_function("10k-commit store (open + drop)", |b| b.iter(|| drop(black_box(open(&d.store)))));
    g.finish();

    // ---- reads on an open store ------------------------------------------------------------
    let backend: Arc<dyn Backend> = Arc::new(open(&d.store));
    let repo = synth::repo_on(backend.clone(), "reader", None);
    let rev = format!("{}@production", d.log_prompt);
    let name: PromptName = d.log_prompt.parse().expect("name");
    let head = repo
        .get_ref(RefKind::Branch, &synth::ref_name("staging"))
        .expect("ref")
        .flatten()
        .expect("staging has commits");
    let n = repo.log_prompt(head, &name, usize::MAX).expect("log").len();
    assert_eq!(n, d.log_changes, "log length");

    let mut g = c.benchmark_group("read");
    g.bench_function("cat: resolve name@production + read blob", |b| {
        b.iter(|| {
            let spec = RevSpec::parse(black_box(&rev)).expect("rev");
            match repo.resolve(&spec).expect("resolve") {
                Resolved::Prompt { version, .. } => black_box(repo.read_blob(&version).expect("blob")),
                Resolved::Commit { .. } => unreachable!("a prompt revision"),
            }
        })
    });
    g.bench_function(format!("log_prompt ({n} changes)"), |b| {
        b.iter(|| black_box(repo.log_prompt(head, &name, usize::MAX).expect("log")))
    });
    // The same walk without reading each commit's tree (what `log_prompt` would cost if the
    // prompt index stored the version id in its value instead of an empty one).
    g.bench_function(format!("log_prompt without tree reads ({n} changes)"), |b| {
        let mut prefix = name.as_str().as_bytes().to_vec();
        prefix.push(0);
        let head_gen = repo.meta(&head).expect("meta").gen;
        b.iter(|| {
            let mut out = Vec::new();
            for (k, _) in backend.scan_prefix_rev(Space::PromptIndex, &prefix, usize::MAX).expect("scan") {
                let rest = &k[prefix.len()..];
                let gen = u64::from_be_bytes(rest[..8].try_into().expect("8 bytes"));
                let id = ObjectId::from_slice(&rest[8..]).expect("id");
                if gen <= head_gen && repo.ancestor_at(&head, gen).expect("ancestor") == Some(id) {
                    out.push(repo.read_commit(&id).expect("commit"));
                }
            }
            assert_eq!(out.len(), n);
            black_box(out)
        })
    });
    g.bench_function("read one commit's tree (200 entries)", |b| {
        b.iter(|| black_box(repo.commit_tree(&head).expect("tree")))
    });
    g.finish();
    drop(repo);
    drop(backend);

    let mut g = c.benchmark_group("process-like");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("cat: open + resolve + read + drop", |b| {
        b.iter(|| {
            let backend: Arc<dyn Backend> = Arc::new(open(&d.store));
            let repo = synth::repo_on(backend, "reader", None);
            match repo.resolve(&RevSpec::parse(&rev).expect("rev")).expect("resolve") {
                Resolved::Prompt { version, .. } => black_box(repo.read_blob(&version).expect("blob")),
                Resolved::Commit { .. } => unreachable!("a prompt revision"),
            }
        })
    });
    g.finish();

    // ---- the steps of `promptctl commit` before the store is touched ------------------------
    let mut g = c.benchmark_group("commit-path");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("scan prompts/ (200 files)", |b| {
        b.iter(|| black_box(promptctl_repo::worktree::scan(&d.prompts, "prompts", 1 << 20)))
    });
    let scan = promptctl_repo::worktree::scan(&d.prompts, "prompts", 1 << 20);
    assert!(!scan.files.is_empty(), "scanned no files");
    assert!(scan.errors.is_empty(), "{:?}", scan.errors);
    g.bench_function("validate 200 files (promptctl_render::parse)", |b| {
        b.iter(|| {
            for f in scan.files.values() {
                let src =
                    promptctl_render::Source { name: f.name.clone(), kind: f.kind, id: f.id, bytes: f.bytes.clone() };
                black_box(promptctl_render::parse(&src).expect("valid prompt"));
            }
        })
    });
    g.finish();

    // ---- commit (on a copy) ----------------------------------------------------------------
    let copy = tmp.path().join("copy");
    copy_dir(&d.store, &copy);
    let backend: Arc<dyn Backend> = Arc::new(open(&copy));
    let repo = synth::repo_on(backend.clone(), "bench", None);
    let pname: PromptName = d.commit_prompt.parse().expect("name");
    let staging = synth::ref_name("staging");
    let mut edit = 0u64;
    let mut g = c.benchmark_group("commit");
    g.sample_size(20).measurement_time(Duration::from_secs(4));
    g.bench_function("commit_snapshot: one changed prompt (incl. flush)", |b| {
        b.iter_batched(
            || {
                edit += 1;
                let mut bytes = d.commit_bytes.clone();
                bytes.extend_from_slice(format!("  Benchmark edit {edit}.\n").as_bytes());
                NewVersion {
                    name: pname.clone(),
                    entry: TreeEntry { id: ObjectId::of_blob(&bytes), kind: FileKind::Native },
                    bytes,
                }
            },
            |v| black_box(repo.commit_snapshot(&staging, vec![v], &[], false, "bench edit").expect("commit")),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(store, benches);
criterion_main!(store);
