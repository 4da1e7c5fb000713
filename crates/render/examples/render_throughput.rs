//! Renders per second of every corpus chat template, for `scripts/bench-render.sh`.
//!
//! One long-lived `Engine` renders every template (the cache-hit path: each version is parsed
//! and compiled once, before anything is measured); each template is rendered with its fixed
//! benchmark context (see `benches/support/mod.rs`) for a time budget split into samples, and
//! the median sample rate is reported. A "cold" rate (a new `Engine` per render: parse +
//! compile + render) is measured too, with a smaller budget.
//!
//! ```text
//! cargo run --release -p promptctl-render --example render_throughput -- \
//!     [--budget-ms 1000] [--cold-budget-ms 200] [--samples 5] [--jobs target/jobs.json]
//!     [--filter qwen] [--crowd N] [--serve]
//! ```
//!
//! - stdout: one JSON line per template:
//!   `{"template", "context", "renders_per_sec", "renders", "seconds", "cold_renders_per_sec", "compiled_during_warm"}`.
//! - `--jobs PATH` also writes, for the Python side, every template's text, context, clock and
//!   the output rendered here.
//! - `--crowd N`: the engine also caches N other small versions (a long-lived engine that has
//!   rendered many prompts) before measuring.
//! - `--serve`: measure on request instead, so that a driver (`scripts/bench_render_py.py`) can
//!   interleave Rust and Python samples of the same template and both sides see the same
//!   machine load. Requests on stdin, one a line: `warm <case> <ms>` or `cold <case> <ms>`
//!   (case = index in the jobs file); each answered by one line
//!   `{"renders", "seconds", "cpu_seconds", "renders_per_sec"}`.
//! - Rates are renders per CPU second of the rendering thread where Linux reports it
//!   (`/proc/thread-self/schedstat`), else per wall second: on a machine shared with other
//!   work, wall-clock rates mostly measure the other work.
//!   The first line printed is `{"ready": <number of cases>}`.

#[path = "../benches/support/mod.rs"]
mod support;

use std::hint::black_box;
use std::io::{BufRead, Write};
use std::time::{Duration, Instant};

use promptctl_render::{Engine, NoLoader, Source};
use serde_json::json;

struct Args {
    budget: Duration,
    cold_budget: Duration,
    samples: u32,
    jobs: Option<String>,
    filter: Option<String>,
    crowd: usize,
    serve: bool,
}

fn args() -> Args {
    let mut a = Args {
        budget: Duration::from_millis(1000),
        cold_budget: Duration::from_millis(200),
        samples: 5,
        jobs: None,
        filter: None,
        crowd: 0,
        serve: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--budget-ms" => a.budget = Duration::from_millis(value().parse().expect("--budget-ms N")),
            "--cold-budget-ms" => a.cold_budget = Duration::from_millis(value().parse().expect("--cold-budget-ms N")),
            "--samples" => a.samples = value().parse::<u32>().expect("--samples N").max(1),
            "--jobs" => a.jobs = Some(value()),
            "--filter" => a.filter = Some(value()),
            "--crowd" => a.crowd = value().parse().expect("--crowd N"),
            "--serve" => a.serve = true,
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

/// CPU time this thread has run, in seconds (Linux: `/proc/thread-self/schedstat`, the
/// kernel's on-CPU time, the clock Python's `time.thread_time()` reads); `None` elsewhere.
/// Rates are per CPU second so that other processes on a busy machine do not skew them.
fn thread_cpu() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// One sample: calls `f` until `budget` of wall time has elapsed.
struct Sample {
    n: u64,
    wall: f64,
    cpu: Option<f64>,
}

impl Sample {
    /// Calls per second: per CPU second when the CPU clock is available, else per wall second.
    fn rate(&self) -> f64 {
        self.n as f64 / self.cpu.filter(|c| *c > 0.0).unwrap_or(self.wall)
    }
}

fn sample(budget: Duration, f: &mut impl FnMut()) -> Sample {
    let cpu0 = thread_cpu();
    let start = Instant::now();
    let mut n = 0u64;
    loop {
        f();
        n += 1;
        let el = start.elapsed();
        if el >= budget {
            let cpu = cpu0.and_then(|c0| thread_cpu().map(|c1| c1 - c0));
            return Sample { n, wall: el.as_secs_f64(), cpu };
        }
    }
}

/// Median rate of `samples` samples of `budget / samples` each, with the total calls and wall
/// seconds.
fn rate(budget: Duration, samples: u32, mut f: impl FnMut()) -> (f64, u64, f64) {
    let mut rates = Vec::new();
    let (mut total_n, mut total_t) = (0u64, 0f64);
    for _ in 0..samples {
        let s = sample(budget / samples, &mut f);
        rates.push(s.rate());
        total_n += s.n;
        total_t += s.wall;
    }
    rates.sort_by(|a, b| a.total_cmp(b));
    (rates[rates.len() / 2], total_n, total_t)
}

fn main() {
    let a = args();
    let Some(corpus) = support::corpus() else {
        if a.serve {
            println!("{}", json!({"ready": 0, "notice": "corpus not found"}));
        }
        return;
    };
    let mut cases = support::cases(&corpus);
    if let Some(f) = &a.filter {
        let f = f.to_lowercase();
        cases.retain(|c| c.name.to_lowercase().contains(&f));
    }
    let opts = support::opts();

    if let Some(path) = &a.jobs {
        let jobs: Vec<_> = cases
            .iter()
            .map(|c| {
                json!({"template_name": c.name, "label": c.label, "template": c.text, "context": c.context,
                       "now": support::NOW, "expected": c.output})
            })
            .collect();
        std::fs::write(path, serde_json::to_vec(&jobs).expect("json")).unwrap_or_else(|e| panic!("write {path}: {e}"));
    }

    // The long-lived engine: it has rendered every template once before any is measured, as a
    // server's engine would have.
    let engine = Engine::new();
    for c in &cases {
        let r = engine.render(&c.src, &c.vars, &NoLoader, &opts).expect("render");
        assert_eq!(r.text, c.output, "{}: a second engine renders differently", c.name);
    }
    for i in 0..a.crowd {
        let src =
            Source::from_path(&format!("crowd/t{i}.jinja"), format!("v{i} {{{{ x }}}}").into_bytes()).expect("name");
        engine.render(&src, &serde_json::Map::new(), &NoLoader, &opts).expect("render");
    }
    let compiled = engine.compiled_templates();

    let warm = |c: &support::Case| {
        let r = engine.render(black_box(&c.src), black_box(&c.vars), &NoLoader, &opts).expect("render");
        black_box(r);
    };
    let cold = |c: &support::Case| {
        let e = Engine::new();
        let r = e.render(black_box(&c.src), black_box(&c.vars), &NoLoader, &opts).expect("render");
        black_box(r);
    };

    if a.serve {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        writeln!(out, "{}", json!({"ready": cases.len(), "compiled_templates": compiled})).expect("stdout");
        out.flush().expect("stdout");
        for line in std::io::stdin().lock().lines() {
            let line = line.expect("stdin");
            let words: Vec<&str> = line.split_whitespace().collect();
            let reply = match words.as_slice() {
                [mode @ ("warm" | "cold"), i, ms] => {
                    let c = &cases[i.parse::<usize>().expect("case index")];
                    let budget = Duration::from_millis(ms.parse().expect("ms"));
                    let s =
                        if *mode == "warm" { sample(budget, &mut || warm(c)) } else { sample(budget, &mut || cold(c)) };
                    json!({"renders": s.n, "seconds": s.wall, "cpu_seconds": s.cpu, "renders_per_sec": s.rate(),
                           "compiled_during_warm": engine.compiled_templates() - compiled})
                }
                ["quit"] | [] => break,
                _ => json!({"error": format!("bad request {line:?}")}),
            };
            writeln!(out, "{reply}").expect("stdout");
            out.flush().expect("stdout");
        }
        return;
    }

    for c in &cases {
        rate(Duration::from_millis(50), 1, || warm(c)); // warm-up
        let (rps, n, secs) = rate(a.budget, a.samples, || warm(c));
        let (cold_rps, _, _) = rate(a.cold_budget, a.samples.min(3), || cold(c));
        println!(
            "{}",
            json!({"template": c.name, "context": c.label, "renders_per_sec": rps, "renders": n, "seconds": secs,
                   "cold_renders_per_sec": cold_rps, "compiled_during_warm": engine.compiled_templates() - compiled})
        );
    }
    // Cache check: the warm renders compiled nothing new.
    let after = engine.compiled_templates();
    if after != compiled {
        eprintln!("warning: the engine compiled {} templates during warm renders (cache miss)", after - compiled);
    } else {
        eprintln!("cache: {compiled} templates compiled once, none recompiled during the warm renders");
    }
}
