//! Every chat template of the corpus renders a plain conversation (with and without a system
//! message, with and without `add_generation_prompt`, and with `tools` where the template uses
//! them), and — where Python Jinja2 is installed — renders exactly what transformers renders.

mod common;

use std::path::{Path, PathBuf};

use common::{corpus, python_reference, render, NOW};
use promptctl_render::{Engine, RenderError, Source};
use serde_json::{json, Value};

fn chat_template_files(corpus: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).expect("read dir").flatten().map(|e| e.path()).collect();
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

fn source_of(corpus: &Path, path: &Path) -> Source {
    let rel = path.strip_prefix(corpus.join("public")).expect("under public").to_string_lossy().replace('\\', "/");
    Source::from_path(&rel, std::fs::read(path).expect("read")).expect("name")
}

fn tools() -> Value {
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

/// The contexts each template is rendered with: (label, context, may raise_exception).
fn contexts(template_text: &str) -> Vec<(String, Value, bool)> {
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
        out.push((format!("user/assistant/user agp={agp}"), with(&turns, None), false));
        // Some templates refuse a system message (Gemma 2: "System role not supported").
        out.push((
            format!("system+user/assistant/user agp={agp}"),
            with(&Value::Array(with_system.clone()), None),
            true,
        ));
        if template_text.contains("tools") {
            out.push((
                format!("tools agp={agp}"),
                with(&Value::Array(with_system.clone()), Some(("tools", tools()))),
                true,
            ));
        }
    }
    out
}

#[test]
fn every_chat_template_renders_a_conversation() {
    let Some(corpus) = corpus() else { return };
    let files = chat_template_files(&corpus);
    assert!(files.len() >= 25, "found {} chat templates", files.len());
    let engine = Engine::new();
    let mut failures = Vec::new();
    let mut jobs = Vec::new();
    let mut ours = Vec::new();
    for path in &files {
        let src = source_of(&corpus, path);
        let text = String::from_utf8(src.bytes.clone()).expect("utf-8");
        for (label, ctx, may_raise) in contexts(&text) {
            let result = render(&engine, &src, ctx.clone());
            match &result {
                Ok(r) => assert!(!r.text.is_empty(), "{}: {label}: empty render", src.name),
                Err(RenderError::Raised { .. }) if may_raise => {}
                Err(e) => failures.push(format!("{} [{label}]: {e}", src.name)),
            }
            jobs.push(json!({"template": text, "context": ctx, "now": NOW}));
            ours.push((format!("{} [{label}]", src.name), result));
        }
    }
    assert!(failures.is_empty(), "templates that failed to render:\n{}", failures.join("\n"));

    // Byte-for-byte against Python Jinja2 with transformers' settings, when it is installed.
    let Some(reference) = python_reference(&jobs) else {
        eprintln!("notice: python3 with jinja2 not available; skipping the comparison with Python");
        return;
    };
    let mut diffs = Vec::new();
    for ((label, ours), theirs) in ours.iter().zip(reference) {
        match (ours, theirs) {
            (Ok(r), Ok(t)) if r.text == t => {}
            (Ok(r), Ok(t)) => diffs.push(format!("{label}:\n  python {t:?}\n  ours   {:?}", r.text)),
            (Err(RenderError::Raised { message, .. }), Err(t)) if t.ends_with(message.as_str()) => {}
            (a, b) => diffs.push(format!("{label}: ours {a:?} / python {b:?}")),
        }
    }
    assert!(diffs.is_empty(), "renders that differ from Python Jinja2:\n{}", diffs.join("\n"));
    eprintln!("{} renders of {} chat templates match Python Jinja2", ours.len(), files.len());
}
