//! Render throughput of the corpus chat templates (`cargo bench -p promptctl-render --bench render`).
//!
//! Every chat template of the shared corpus is rendered with one fixed context: the two-turn
//! conversation of `tests/chat_templates.rs` (user / assistant / user, with a system message
//! where the template accepts one, with `tools` where the template uses tools, and
//! `add_generation_prompt`); see `support/mod.rs`. Throughput is reported in renders/s
//! (criterion "elem/s").
//!
//! Groups:
//! - `warm/<template>`: one long-lived `Engine` that has rendered every corpus template once
//!   (the cache-hit path: each version is parsed and compiled once, then only rendered).
//! - `cold/<template>`: a new `Engine` per render (parse + compile + render), for a few
//!   large templates, to show what the cache saves.
//! - `overhead/<template>/…`: the same template through `Engine::render`, and through bare
//!   minijinja (the template compiled once into a plain environment with the same whitespace
//!   settings, the context converted to a minijinja value once, or once per render): what the
//!   engine adds around minijinja's own rendering.
//! - `crowded/<n>`: a warm render of one template while the engine also caches `n` other small
//!   versions (a long-lived engine that has rendered many prompts).
//!
//! The Python comparison lives in `scripts/bench-render.sh`. Without the corpus
//! (`$PROMPTCTL_CORPUS`, else `../shared/corpus`) the bench prints a notice and exits 0.

mod support;

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput};
use promptctl_render::{Engine, NoLoader, Source};
use support::{opts, Case};

/// Templates measured cold, by their path under `public/` (those present are used).
const COLD: [&str; 3] = [
    "chat_templates/Qwen-Qwen3-0.6B.jinja",
    "chat_templates/meta-llama-Llama-3.1-8B-Instruct.jinja",
    "chat_templates/ollama-zephyr.jinja",
];

/// Templates of the overhead group: a small one and a large one with tools.
const OVERHEAD: [&str; 2] = ["chat_templates/ollama-chatml-dolphin.jinja", "chat_templates/Qwen-Qwen3-0.6B.jinja"];

/// The template of the crowded group.
const CROWDED: &str = "chat_templates/ollama-chatml-dolphin.jinja";

fn render_ok(engine: &Engine, c: &Case) {
    let r = engine.render(black_box(&c.src), black_box(&c.vars), &NoLoader, &opts()).expect("render");
    black_box(r);
}

fn warm(c: &mut Criterion, cases: &[Case]) {
    let engine = Engine::new();
    for case in cases {
        render_ok(&engine, case);
    }
    let compiled = engine.compiled_templates();
    let mut group = c.benchmark_group("warm");
    group.throughput(Throughput::Elements(1));
    for case in cases {
        group.bench_function(BenchmarkId::from_parameter(&case.name), |b| b.iter(|| render_ok(&engine, case)));
    }
    group.finish();
    // The cache held: nothing was compiled again during the warm renders.
    assert_eq!(engine.compiled_templates(), compiled, "warm renders compiled templates again (cache miss)");
}

fn cold(c: &mut Criterion, cases: &[Case]) {
    let mut group = c.benchmark_group("cold");
    group.throughput(Throughput::Elements(1));
    for case in cases.iter().filter(|c| COLD.contains(&c.name.as_str())) {
        group.bench_function(BenchmarkId::from_parameter(&case.name), |b| {
            b.iter_batched(Engine::new, |engine| render_ok(&engine, case), BatchSize::SmallInput)
        });
    }
    group.finish();
}

/// A plain minijinja environment with the engine's whitespace settings and the globals the
/// chat templates call (stand-ins: minijinja's own `tojson`, a constant `strftime_now`). Only
/// for timing: its output is not checked against the engine's.
fn bare_environment(source: &str) -> minijinja::Environment<'static> {
    use minijinja::{Error, ErrorKind, Value};
    let mut env = minijinja::Environment::new();
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env.set_keep_trailing_newline(false);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("raise_exception", |msg: String| -> Result<Value, Error> {
        Err(Error::new(ErrorKind::InvalidOperation, msg))
    });
    env.add_function("strftime_now", |_fmt: String| "26 Jul 2024".to_string());
    let normalized = source.replace("\r\n", "\n").replace('\r', "\n");
    env.add_template_owned("t", normalized).expect("compile");
    env
}

fn overhead(c: &mut Criterion, cases: &[Case]) {
    for case in cases.iter().filter(|c| OVERHEAD.contains(&c.name.as_str())) {
        let mut group = c.benchmark_group(format!("overhead/{}", case.name));
        group.throughput(Throughput::Elements(1));
        let engine = Engine::new();
        render_ok(&engine, case);
        group.bench_function("engine_render", |b| b.iter(|| render_ok(&engine, case)));

        let env = bare_environment(&case.text);
        let ctx = minijinja::Value::from_serialize(&case.vars);
        let tmpl = env.get_template("t").expect("template");
        match tmpl.render(&ctx) {
            Ok(_) => {
                group.bench_function("minijinja_render", |b| b.iter(|| black_box(tmpl.render(black_box(&ctx)))));
                group.bench_function("minijinja_render+from_serialize", |b| {
                    b.iter(|| {
                        let ctx = minijinja::Value::from_serialize(black_box(&case.vars));
                        black_box(tmpl.render(&ctx))
                    })
                });
            }
            Err(e) => eprintln!("notice: {}: bare minijinja cannot render it ({e}); baseline skipped", case.name),
        }
        group.finish();
    }
}

fn crowded(c: &mut Criterion, cases: &[Case]) {
    let Some(case) = cases.iter().find(|c| c.name == CROWDED) else { return };
    let mut group = c.benchmark_group("crowded");
    group.throughput(Throughput::Elements(1));
    for n in [0usize, 100, 1000] {
        let engine = Engine::new();
        for i in 0..n {
            let src = Source::from_path(&format!("crowd/t{i}.jinja"), format!("v{i} {{{{ x }}}}").into_bytes())
                .expect("name");
            engine.render(&src, &serde_json::Map::new(), &NoLoader, &opts()).expect("render");
        }
        render_ok(&engine, case);
        group.bench_function(BenchmarkId::from_parameter(format!("{n}_other_versions")), |b| {
            b.iter(|| render_ok(&engine, case))
        });
    }
    group.finish();
}

fn main() {
    let Some(corpus) = support::corpus() else { return };
    let cases = support::cases(&corpus);
    if cases.is_empty() {
        eprintln!("notice: no chat templates found in {}; nothing to benchmark", corpus.display());
        return;
    }
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30)
        .configure_from_args();
    warm(&mut c, &cases);
    cold(&mut c, &cases);
    overhead(&mut c, &cases);
    crowded(&mut c, &cases);
    c.final_summary();
}
