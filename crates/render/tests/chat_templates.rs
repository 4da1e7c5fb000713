//! Every chat template of the corpus renders a plain conversation (with and without a system
//! message, with and without `add_generation_prompt`, and with `tools` where the template uses
//! them), and — where Python Jinja2 is installed — renders exactly what transformers renders.

mod common;
// Shared with the benchmark: corpus walking and the conversation contexts.
#[path = "../benches/support/mod.rs"]
mod support;

use common::{corpus, python_reference, render, NOW};
use promptctl_render::{Engine, RenderError};
use serde_json::{json, Value};
use support::{chat_template_files, source_of};

/// The contexts each template is rendered with: (label, context, may raise_exception). They
/// are the benchmark's contexts (one definition, so the bench measures what is tested); only
/// the plain user/assistant conversation must never be refused (Gemma 2, for one, refuses a
/// system message with "System role not supported").
fn contexts(template_text: &str) -> Vec<(String, Value, bool)> {
    support::contexts(template_text)
        .into_iter()
        .map(|(label, ctx)| {
            let may_raise = !label.starts_with("user/");
            (label, ctx, may_raise)
        })
        .collect()
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
