//! A deterministic synthetic prompt history, and writers for it: a promptctl store (through the
//! library, one transaction per commit, as `promptctl commit` makes them) and a `git fast-import`
//! stream of the same commits.
//!
//! Shared by `examples/gen_history` and the root crate's `benches/store.rs` (which includes this
//! file with `#[path]`), so both measure the same history.
//!
//! The model: `prompts` native prompt files (`<team>/<task>.prompt.yaml`, valid YAML with a
//! `template:` string, a few hundred bytes to a few KB). Commit 0 adds them all; every later
//! commit changes 1–3 of them with small line edits. Prompts are picked with Zipf-like weights
//! (s = 0.7) so that a few prompts are hot and most change a few dozen times, as in real teams.
//! `staging` takes every commit; `production` is fast-forwarded to it every `promote_every`
//! commits and after the last one.

#![allow(dead_code)]

use std::io::{self, Write};
use std::path::Path;
use std::sync::Arc;

use promptctl_core::{Actor, FileKind, ObjectId, PromptName, RefName, ReflogEntry, Timestamp, TreeEntry};
use promptctl_repo::ops::{NewVersion, Outcome};
use promptctl_repo::Repo;
use promptctl_store::{Backend, OpenOptions, RefValue, SledBackend, Space, Transaction};

pub type AnyResult<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// splitmix64: tiny, fast and good enough for picking words.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    /// Uniform in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub commits: usize,
    pub prompts: usize,
    pub seed: u64,
    pub promote_every: usize,
}

impl Default for Params {
    fn default() -> Self {
        Params { commits: 10_000, prompts: 200, seed: 0x5EED_2026, promote_every: 500 }
    }
}

const TEAMS: [&str; 10] = ["support", "sales", "eng", "legal", "hr", "marketing", "search", "agents", "eval", "ops"];
const TASKS: [&str; 20] = [
    "summarize",
    "classify",
    "extract",
    "reply",
    "translate",
    "rewrite",
    "triage",
    "answer",
    "plan",
    "critique",
    "route",
    "moderate",
    "tag",
    "outline",
    "explain",
    "review",
    "draft",
    "score",
    "title",
    "followup",
];
const WORDS: &[&str] = &[
    "the",
    "customer",
    "ticket",
    "request",
    "answer",
    "summary",
    "context",
    "document",
    "policy",
    "user",
    "team",
    "issue",
    "account",
    "refund",
    "order",
    "invoice",
    "contract",
    "clause",
    "incident",
    "service",
    "release",
    "query",
    "result",
    "source",
    "citation",
    "tone",
    "format",
    "length",
    "language",
    "detail",
    "example",
    "step",
    "reason",
    "risk",
    "priority",
    "owner",
    "deadline",
    "label",
    "category",
    "entity",
    "date",
    "amount",
    "name",
    "address",
    "always",
    "never",
    "briefly",
    "clearly",
    "politely",
    "carefully",
    "only",
    "first",
    "then",
    "finally",
    "each",
    "every",
    "any",
    "relevant",
    "missing",
    "unclear",
    "sensitive",
    "internal",
    "public",
    "short",
    "complete",
    "exact",
    "use",
    "keep",
    "avoid",
    "quote",
    "list",
    "explain",
    "check",
    "mention",
    "return",
    "ask",
    "flag",
    "prefer",
    "include",
    "omit",
    "group",
    "rank",
    "cite",
    "verify",
    "when",
    "if",
    "unless",
    "before",
    "after",
    "with",
    "without",
    "and",
    "or",
    "in",
    "for",
];
const VERBS: &[&str] = &[
    "tighten",
    "clarify",
    "shorten",
    "expand",
    "reword",
    "fix",
    "simplify",
    "restructure",
    "tune",
    "extend",
    "trim",
    "polish",
];
const OBJECTS: &[&str] = &[
    "instructions",
    "output format",
    "examples",
    "tone",
    "edge cases",
    "rules",
    "system prompt",
    "wording",
    "constraints",
    "temperature",
];

/// Authors: (name, email). The name is the promptctl actor; git gets both.
pub const AUTHORS: [(&str, &str); 6] = [
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Alan Turing", "alan@example.com"),
    ("Edsger Dijkstra", "edsger@example.com"),
    ("Barbara Liskov", "barbara@example.com"),
    ("Ken Thompson", "ken@example.com"),
];
pub const PROMOTER: (&str, &str) = ("release-bot", "release-bot@example.com");

/// 2024-01-01T00:00:00Z
const START_TIME: i64 = 1_704_067_200;

const MIN_LINES: usize = 3;
const MAX_LINES: usize = 60;

fn sentence(rng: &mut Rng) -> String {
    let n = 6 + rng.below(10);
    let mut words: Vec<&str> = (0..n).map(|_| *rng.pick(WORDS)).collect();
    if rng.below(8) == 0 {
        words.push("{{ audience }}");
    }
    let mut s = words.join(" ");
    if let Some(first) = s.get(..1) {
        let up = first.to_uppercase();
        s.replace_range(..1, &up);
    }
    s.push('.');
    if rng.below(4) == 0 {
        s = format!("- {s}");
    }
    s
}

/// One prompt's current content, as structured fields rendered to a `.prompt.yaml`.
#[derive(Debug, Clone)]
pub struct PromptState {
    pub team: &'static str,
    pub task: &'static str,
    pub temperature_tenths: u32,
    pub max_tokens: u32,
    pub lines: Vec<String>,
}

impl PromptState {
    fn new(team: &'static str, task: &'static str, rng: &mut Rng) -> Self {
        let n = MIN_LINES + 1 + rng.below(45);
        PromptState {
            team,
            task,
            temperature_tenths: rng.below(10) as u32,
            max_tokens: 128 * (1 + rng.below(8)) as u32,
            lines: (0..n).map(|_| sentence(rng)).collect(),
        }
    }

    /// 1–3 small edits: replace, insert or delete a line, or retune the temperature.
    fn edit(&mut self, rng: &mut Rng) {
        for _ in 0..1 + rng.below(3) {
            let r = rng.below(100);
            if r < 55 {
                let i = rng.below(self.lines.len());
                self.lines[i] = sentence(rng);
            } else if r < 80 && self.lines.len() < MAX_LINES {
                let i = rng.below(self.lines.len() + 1);
                self.lines.insert(i, sentence(rng));
            } else if r < 95 && self.lines.len() > MIN_LINES {
                let i = rng.below(self.lines.len());
                self.lines.remove(i);
            } else {
                self.temperature_tenths = (self.temperature_tenths + 1 + rng.below(9) as u32) % 10;
            }
        }
    }

    pub fn render(&self) -> Vec<u8> {
        let mut s = String::with_capacity(160 + self.lines.len() * 80);
        s.push_str(&format!("description: \"{} prompt for the {} team\"\n", self.task, self.team));
        s.push_str(&format!(
            "model: {{route: default, temperature: 0.{}, max_tokens: {}}}\n",
            self.temperature_tenths, self.max_tokens
        ));
        s.push_str("variables:\n");
        s.push_str("  input: {type: string, required: true, description: \"The text to work on\"}\n");
        s.push_str("  audience: {type: string, default: \"the reader\"}\n");
        s.push_str("template: |\n");
        s.push_str(&format!("  You are the {} assistant of the {} team.\n", self.task, self.team));
        for l in &self.lines {
            s.push_str("  ");
            s.push_str(l);
            s.push('\n');
        }
        s.push_str("  Input:\n  {{ input }}\n");
        s.into_bytes()
    }
}

/// One file change in a commit.
#[derive(Debug, Clone)]
pub struct Change {
    pub prompt: usize,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct SynthCommit {
    pub index: usize,
    pub author: usize,
    pub time: i64,
    pub message: String,
    pub changes: Vec<Change>,
    /// After this commit, fast-forward `production` to `staging`.
    pub promote: bool,
}

/// The history, generated lazily commit by commit (an iterator), so 10,000 commits never sit in
/// memory at once.
pub struct History {
    pub params: Params,
    rng: Rng,
    /// Prompt names (`team/task`), index = prompt number.
    pub names: Vec<String>,
    pub states: Vec<PromptState>,
    cumulative: Vec<f64>,
    /// How many commits touched each prompt so far (commit 0 included).
    pub change_counts: Vec<usize>,
    time: i64,
    next: usize,
}

impl History {
    pub fn new(params: Params) -> Self {
        assert!(params.prompts > 0 && params.prompts <= TEAMS.len() * TASKS.len(), "1..=200 prompts");
        let mut rng = Rng::new(params.seed);
        let mut names = Vec::new();
        let mut states = Vec::new();
        'outer: for task in TASKS {
            for team in TEAMS {
                if names.len() == params.prompts {
                    break 'outer;
                }
                names.push(format!("{team}/{task}"));
                states.push(PromptState::new(team, task, &mut rng));
            }
        }
        // Zipf-like weights over a shuffled order, so hot prompts are spread over the teams.
        let mut order: Vec<usize> = (0..names.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut weight = vec![0.0; names.len()];
        for (rank, &p) in order.iter().enumerate() {
            weight[p] = 1.0 / ((rank + 1) as f64).powf(0.7);
        }
        let mut acc = 0.0;
        let cumulative = weight
            .iter()
            .map(|w| {
                acc += w;
                acc
            })
            .collect();
        let n = names.len();
        History { params, rng, names, states, cumulative, change_counts: vec![0; n], time: START_TIME, next: 0 }
    }

    pub fn path(&self, prompt: usize) -> String {
        format!("{}.prompt.yaml", self.names[prompt])
    }

    fn pick_prompt(&mut self) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let x = self.rng.unit() * total;
        self.cumulative.partition_point(|c| *c <= x).min(self.names.len() - 1)
    }

    /// The prompt whose number of changes is closest to `target` (ties: the lower index).
    pub fn prompt_with_changes_near(&self, target: usize) -> usize {
        (0..self.names.len()).min_by_key(|&i| self.change_counts[i].abs_diff(target)).unwrap_or(0)
    }
}

impl Iterator for History {
    type Item = SynthCommit;

    fn next(&mut self) -> Option<SynthCommit> {
        if self.next >= self.params.commits {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let author = self.rng.below(AUTHORS.len());
        self.time += 300 + self.rng.below(3 * 3600) as i64;
        let (message, changes) = if index == 0 {
            let changes = (0..self.names.len()).map(|p| Change { prompt: p, bytes: self.states[p].render() }).collect();
            (format!("Import {} prompts", self.names.len()), changes)
        } else {
            let k = 1 + self.rng.below(3.min(self.names.len()));
            let mut picked: Vec<usize> = Vec::with_capacity(k);
            while picked.len() < k {
                let p = self.pick_prompt();
                if !picked.contains(&p) {
                    picked.push(p);
                }
            }
            picked.sort_unstable();
            let verb = *self.rng.pick(VERBS);
            let object = *self.rng.pick(OBJECTS);
            let who = picked.iter().map(|&p| self.names[p].as_str()).collect::<Vec<_>>().join(", ");
            let mut changes = Vec::with_capacity(k);
            for &p in &picked {
                let before = self.states[p].render();
                let mut bytes = before.clone();
                while bytes == before {
                    self.states[p].edit(&mut self.rng);
                    bytes = self.states[p].render();
                }
                changes.push(Change { prompt: p, bytes });
            }
            (format!("{who}: {verb} {object}"), changes)
        };
        for c in &changes {
            self.change_counts[c.prompt] += 1;
        }
        let promote = (index + 1).is_multiple_of(self.params.promote_every.max(1)) || index + 1 == self.params.commits;
        Some(SynthCommit { index, author, time: self.time, message, changes, promote })
    }
}

// ---- the promptctl store ---------------------------------------------------------------------

/// A backend shared by several short-lived `Repo`s (one per commit, each with its own author and
/// clock: `Repo` takes both at construction).
#[derive(Clone)]
pub struct Shared(pub Arc<dyn Backend>);

impl Backend for Shared {
    fn get(&self, space: Space, key: &[u8]) -> promptctl_store::backend::Result<Option<Vec<u8>>> {
        self.0.get(space, key)
    }
    fn scan_prefix(
        &self,
        space: Space,
        prefix: &[u8],
        limit: usize,
    ) -> promptctl_store::backend::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.0.scan_prefix(space, prefix, limit)
    }
    fn scan_prefix_rev(
        &self,
        space: Space,
        prefix: &[u8],
        limit: usize,
    ) -> promptctl_store::backend::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.0.scan_prefix_rev(space, prefix, limit)
    }
    fn get_ref(&self, name: &RefName) -> promptctl_store::backend::Result<Option<RefValue>> {
        self.0.get_ref(name)
    }
    fn list_refs(&self) -> promptctl_store::backend::Result<Vec<(RefName, RefValue)>> {
        self.0.list_refs()
    }
    fn reflog(&self, name: &RefName) -> promptctl_store::backend::Result<Vec<ReflogEntry>> {
        self.0.reflog(name)
    }
    fn reflog_names(&self) -> promptctl_store::backend::Result<Vec<RefName>> {
        self.0.reflog_names()
    }
    fn commit_tx(&self, tx: Transaction) -> promptctl_store::backend::Result<()> {
        self.0.commit_tx(tx)
    }
    fn flush(&self) -> promptctl_store::backend::Result<()> {
        self.0.flush()
    }
    fn raw_put(&self, space: Space, key: &[u8], value: &[u8]) -> promptctl_store::backend::Result<()> {
        self.0.raw_put(space, key, value)
    }

    fn raw_remove(&self, space: Space, key: &[u8]) -> promptctl_store::backend::Result<()> {
        self.0.raw_remove(space, key)
    }
}

pub fn ref_name(s: &str) -> RefName {
    s.parse().expect("valid ref name")
}

/// The `Repo` a `promptctl` process in this project builds (staging default, production
/// protected), acting as `actor` at `time` (None: the wall clock).
pub fn repo_on(backend: Arc<dyn Backend>, actor: &str, time: Option<i64>) -> Repo {
    Repo::new(
        Box::new(Shared(backend)),
        Actor::new(actor).expect("valid actor"),
        time.map(Timestamp::from_unix),
        ref_name("staging"),
        vec![ref_name("production")],
    )
}

/// Writes the history into a promptctl store, one transaction per commit (and one per promote).
pub struct StoreWriter {
    pub backend: Arc<SledBackend>,
    names: Vec<PromptName>,
    pub last: Option<ObjectId>,
}

impl StoreWriter {
    /// Creates (or opens) the store at `store_dir` with `staging` and `production` unborn.
    pub fn create(store_dir: &Path, names: &[String]) -> AnyResult<Self> {
        let backend = Arc::new(SledBackend::open(store_dir, OpenOptions { create: true, ..OpenOptions::default() })?);
        let repo = repo_on(backend.clone(), PROMOTER.0, Some(START_TIME));
        repo.init_refs(&[ref_name("staging"), ref_name("production")])?;
        let names = names.iter().map(|n| n.parse::<PromptName>()).collect::<Result<Vec<_>, _>>()?;
        Ok(StoreWriter { backend, names, last: None })
    }

    pub fn apply(&mut self, c: &SynthCommit) -> AnyResult<ObjectId> {
        let repo = repo_on(self.backend.clone(), AUTHORS[c.author].0, Some(c.time));
        let changes = c
            .changes
            .iter()
            .map(|ch| NewVersion {
                name: self.names[ch.prompt].clone(),
                entry: TreeEntry { id: ObjectId::of_blob(&ch.bytes), kind: FileKind::Native },
                bytes: ch.bytes.clone(),
            })
            .collect();
        let id = match repo.commit_snapshot(&ref_name("staging"), changes, &[], false, &c.message)? {
            Outcome::Moved { new, .. } => new,
            Outcome::Unchanged { .. } => return Err(format!("commit {} changed nothing", c.index).into()),
        };
        self.last = Some(id);
        if c.promote {
            let promoter = repo_on(self.backend.clone(), PROMOTER.0, Some(c.time + 60));
            promoter.promote(id, "staging", &ref_name("production"), None, None)?;
        }
        Ok(id)
    }
}

// ---- git fast-import -------------------------------------------------------------------------

/// One commit of the `git fast-import` stream (on `refs/heads/staging`, mark = index + 1), with
/// the same author, time, message and file bytes as the promptctl commit.
pub fn fast_import_commit(out: &mut impl Write, h: &History, c: &SynthCommit) -> io::Result<()> {
    let (name, email) = AUTHORS[c.author];
    writeln!(out, "commit refs/heads/staging")?;
    writeln!(out, "mark :{}", c.index + 1)?;
    writeln!(out, "author {name} <{email}> {} +0000", c.time)?;
    writeln!(out, "committer {name} <{email}> {} +0000", c.time)?;
    let msg = format!("{}\n", c.message);
    write!(out, "data {}\n{msg}", msg.len())?;
    for ch in &c.changes {
        writeln!(out, "M 100644 inline prompts/{}", h.path(ch.prompt))?;
        writeln!(out, "data {}", ch.bytes.len())?;
        out.write_all(&ch.bytes)?;
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")
}

/// Ends the stream: `production` where `staging` is (mark of the last commit).
pub fn fast_import_finish(out: &mut impl Write, last_index: usize) -> io::Result<()> {
    write!(out, "reset refs/heads/production\nfrom :{}\n\n", last_index + 1)?;
    out.write_all(b"done\n")
}
