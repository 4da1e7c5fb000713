//! Helpers shared by the integration tests: where the shared corpus is, and small render
//! wrappers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use promptctl_render::{Engine, Loader, NoLoader, RenderError, RenderOptions, Rendered, Source};
use serde_json::{Map, Value};

/// The shared corpus: `$PROMPTCTL_CORPUS`, else `<workspace>/../shared/corpus`. When it is
/// absent the test prints a notice and is skipped, unless `PROMPTCTL_REQUIRE_CORPUS=1` (CI),
/// in which case it fails.
pub fn corpus() -> Option<PathBuf> {
    let dir = match std::env::var_os("PROMPTCTL_CORPUS") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
    };
    if dir.join("public").is_dir() {
        return Some(dir);
    }
    if std::env::var("PROMPTCTL_REQUIRE_CORPUS").as_deref() == Ok("1") {
        panic!("the shared corpus is required (PROMPTCTL_REQUIRE_CORPUS=1) but {} does not exist", dir.display());
    }
    eprintln!("notice: shared corpus not found at {}; skipping (set PROMPTCTL_CORPUS)", dir.display());
    None
}

/// A corpus file as a `Source`, named by its path under `public/`.
pub fn corpus_source(corpus: &Path, rel: &str) -> Source {
    let rel = rel.strip_prefix("public/").unwrap_or(rel);
    let bytes = std::fs::read(corpus.join("public").join(rel)).unwrap_or_else(|e| panic!("read {rel}: {e}"));
    Source::from_path(rel, bytes).unwrap_or_else(|e| panic!("name {rel}: {e}"))
}

pub fn vars(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        other => panic!("context must be an object, got {other}"),
    }
}

/// The fixed clock of the tests: 2024-07-26 09:05:03 UTC.
pub const NOW: i64 = 1_721_984_703;

pub fn opts() -> RenderOptions {
    RenderOptions::new(NOW)
}

pub fn render(engine: &Engine, src: &Source, ctx: Value) -> Result<Rendered, RenderError> {
    engine.render(src, &vars(ctx), &NoLoader, &opts())
}

pub fn render_with(engine: &Engine, src: &Source, ctx: Value, loader: &dyn Loader) -> Result<Rendered, RenderError> {
    engine.render(src, &vars(ctx), loader, &opts())
}

/// A source from a path and text, for small fixtures.
pub fn src(path: &str, text: impl Into<Vec<u8>>) -> Source {
    Source::from_path(path, text.into()).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Renders jobs with Python Jinja2 (transformers settings) when python3 with jinja2 is
/// available: `None` otherwise.
pub fn python_reference(jobs: &[Value]) -> Option<Vec<Result<String, String>>> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pyref.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let input = serde_json::to_vec(jobs).ok()?;
    child.stdin.take()?.write_all(&input).ok()?;
    let out = child.wait_with_output().ok()?;
    if !out.status.success() {
        eprintln!("notice: python3 reference unavailable: {}", String::from_utf8_lossy(&out.stderr));
        return None;
    }
    let results: Vec<Value> = serde_json::from_slice(&out.stdout).ok()?;
    Some(
        results
            .into_iter()
            .map(|r| match (r.get("ok").and_then(Value::as_str), r.get("error").and_then(Value::as_str)) {
                (Some(ok), _) => Ok(ok.to_string()),
                (_, Some(e)) => Err(e.to_string()),
                _ => Err("bad reference output".to_string()),
            })
            .collect(),
    )
}
