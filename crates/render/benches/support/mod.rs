//! Shared by the `render` criterion bench and the `render_throughput` example: where the corpus
//! is, which chat templates it holds, and the conversation each template is rendered with.
//!
//! The contexts are the ones `tests/chat_templates.rs` renders (copied from there): a two-turn
//! conversation (user / assistant / user), with and without a system message, with a `tools`
//! list where the template mentions tools. A bench renders ONE fixed context per template, the
//! first of these that the template accepts:
//!   1. `tools agp=true`             (only if the template text contains `tools`)
//!   2. `system+user/assistant/user agp=true`
//!   3. `user/assistant/user agp=true` (Gemma 2 refuses a system message)
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use promptctl_render::{Engine, NoLoader, RenderOptions, Source};
use serde_json::{json, Map, Value};

/// The fixed clock of the tests: 2024-07-26 09:05:03 UTC.
pub const NOW: i64 = 1_721_984_703;

pub fn opts() -> RenderOptions {
    RenderOptions::new(NOW)
}

/// The shared corpus: `$PROMPTCTL_CORPUS`, else `<workspace>/../shared/corpus`, else
/// `/work/shared/corpus`. `None` (after a notice on stderr) when none of them exists.
pub fn corpus() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var_os("PROMPTCTL_CORPUS") {
        Some(d) => vec![PathBuf::from(d)],
        None => vec![
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus"),
            PathBuf::from("/work/shared/corpus"),
        ],
    };
    for dir in &candidates {
        if dir.join("public").is_dir() {
            return Some(dir.clone());
        }
    }
    eprintln!(
        "notice: shared corpus not found (looked at {}); nothing to benchmark (set PROMPTCTL_CORPUS)",
        candidates.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
    );
    None
}

/// Every chat template of the corpus (`.jinja`, `.jinja2` under `public/chat_templates`,
/// `public/tricky/unicode`, `public/tricky/crlf`), sorted by path.
pub fn chat_template_files(corpus: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else { return };
        let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("jinja" | "jinja2")) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    for sub in ["public/chat_templates", "public/tricky/unicode", "public/tricky/crlf"] {
        walk(&corpus.join(sub), &mut out);
    }
    out
}

/// A corpus file as a `Source`, named by its path under `public/`.
pub fn source_of(corpus: &Path, path: &Path) -> Source {
    let rel = path.strip_prefix(corpus.join("public")).expect("under public").to_string_lossy().replace('\\', "/");
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("read {rel}: {e}"));
    Source::from_path(&rel, bytes).unwrap_or_else(|e| panic!("name {rel}: {e}"))
}

pub fn tools() -> Value {
    json!([{
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the weather for a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city, e.g. \"Paris\""},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "The unit of the temperature."}
                },
                "required": ["city"]
            }
        }
    }])
}

/// The contexts of `tests/chat_templates.rs`: (label, context).
pub fn contexts(template_text: &str) -> Vec<(String, Value)> {
    let turns = json!([
        {"role": "user", "content": "Hello, how are you?"},
        {"role": "assistant", "content": "I'm doing great. How can I help you today?"},
        {"role": "user", "content": "What's the weather in Paris?"}
    ]);
    let mut with_system = vec![json!({"role": "system", "content": "You are a helpful assistant."})];
    with_system.extend(turns.as_array().cloned().unwrap_or_default());
    let mut out = Vec::new();
    for agp in [false, true] {
        let base = json!({"bos_token": "<s>", "eos_token": "</s>", "add_generation_prompt": agp});
        let with = |messages: &Value, extra: Option<(&str, Value)>| {
            let mut ctx = base.clone();
            ctx["messages"] = messages.clone();
            if let Some((k, v)) = extra {
                ctx[k] = v;
            }
            ctx
        };
        out.push((format!("user/assistant/user agp={agp}"), with(&turns, None)));
        out.push((format!("system+user/assistant/user agp={agp}"), with(&Value::Array(with_system.clone()), None)));
        if template_text.contains("tools") {
            out.push((format!("tools agp={agp}"), with(&Value::Array(with_system.clone()), Some(("tools", tools())))));
        }
    }
    out
}

/// One template with the fixed context it is benchmarked with.
pub struct Case {
    /// The template's path under `public/` (e.g. `chat_templates/Qwen-Qwen3-0.6B.jinja`).
    pub name: String,
    pub src: Source,
    pub text: String,
    pub label: String,
    pub context: Value,
    pub vars: Map<String, Value>,
    /// What one render gives (checked against Python by `scripts/bench-render.sh`).
    pub output: String,
}

/// The benchmark case of every corpus chat template: the preferred context (see the module
/// doc) that renders without an error. Templates that accept none are reported and skipped.
pub fn cases(corpus: &Path) -> Vec<Case> {
    let engine = Engine::new();
    let mut out = Vec::new();
    for path in chat_template_files(corpus) {
        let src = source_of(corpus, &path);
        let name = path.strip_prefix(corpus.join("public")).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        let text = String::from_utf8_lossy(&src.bytes).into_owned();
        let all = contexts(&text);
        let preferred = ["tools agp=true", "system+user/assistant/user agp=true", "user/assistant/user agp=true"];
        let mut chosen = None;
        for want in preferred {
            let Some((label, ctx)) = all.iter().find(|(l, _)| l == want) else { continue };
            let Value::Object(vars) = ctx.clone() else { unreachable!("contexts are objects") };
            match engine.render(&src, &vars, &NoLoader, &opts()) {
                Ok(r) => {
                    chosen = Some((label.clone(), ctx.clone(), vars, r.text));
                    break;
                }
                Err(_) => continue,
            }
        }
        match chosen {
            Some((label, context, vars, output)) => out.push(Case { name, src, text, label, context, vars, output }),
            None => eprintln!("notice: {name}: no benchmark context renders; skipped"),
        }
    }
    out
}
