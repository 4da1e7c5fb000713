//! Every case of `corpus/render_cases.md` renders byte for byte as Python transformers renders
//! it, and the listed `raise_exception` errors occur with exactly their messages. The cases are
//! read from the markdown file itself so nothing is copied by hand.

mod common;

use common::{corpus, corpus_source, render};
use promptctl_render::{Engine, RenderError};
use serde_json::Value;

struct Case {
    title: String,
    template: String,
    context: Value,
    expected: String,
}

struct ErrorCase {
    template: String,
    context: Value,
    message: String,
}

/// The body of the first fenced block with the given language after `marker` in `text`.
fn fenced_after<'a>(text: &'a str, marker: &str, lang: &str) -> Option<&'a str> {
    let start = text.find(marker)? + marker.len();
    let open = format!("```{lang}\n");
    let body_start = text[start..].find(&open)? + start + open.len();
    let body_end = text[body_start..].find("\n```")? + body_start;
    Some(&text[body_start..body_end])
}

/// The text between the first pair of backticks after `marker` on the same line.
fn backticked_after<'a>(line: &'a str, marker: &str) -> Option<&'a str> {
    let rest = &line[line.find(marker)? + marker.len()..];
    let a = rest.find('`')? + 1;
    let b = rest[a..].find('`')? + a;
    Some(&rest[a..b])
}

fn parse_cases(md: &str) -> (Vec<Case>, Vec<ErrorCase>) {
    let mut cases = Vec::new();
    let mut errors = Vec::new();
    for section in md.split("\n## ").skip(1) {
        let title = section.lines().next().unwrap_or_default().to_string();
        if title.starts_with("Expected errors") {
            for line in section.lines().filter(|l| l.starts_with("* `")) {
                let template = backticked_after(line, "*").expect("template").to_string();
                let context = backticked_after(line, "with context").expect("context");
                let message = backticked_after(line, "must fail with message").expect("message").to_string();
                errors.push(ErrorCase {
                    template,
                    context: serde_json::from_str(context).expect("context json"),
                    message,
                });
            }
            continue;
        }
        let template = section
            .lines()
            .find_map(|l| backticked_after(l, "* template:"))
            .unwrap_or_else(|| panic!("case {title}: no template line"))
            .to_string();
        let context = fenced_after(section, "context:", "json").unwrap_or_else(|| panic!("case {title}: no context"));
        let expected = fenced_after(section, "expected (JSON string):", "json")
            .unwrap_or_else(|| panic!("case {title}: no expected JSON string"));
        cases.push(Case {
            title,
            template,
            context: serde_json::from_str(context).unwrap_or_else(|e| panic!("context json: {e}")),
            expected: serde_json::from_str(expected).unwrap_or_else(|e| panic!("expected json: {e}")),
        });
    }
    (cases, errors)
}

#[test]
fn render_cases_match_transformers_byte_for_byte() {
    let Some(corpus) = corpus() else { return };
    let md = std::fs::read_to_string(corpus.join("render_cases.md")).expect("render_cases.md");
    let (cases, _) = parse_cases(&md);
    assert_eq!(cases.len(), 11, "render_cases.md has 11 render cases (1 has two variants)");
    let engine = Engine::new();
    let mut failures = Vec::new();
    for case in &cases {
        let src = corpus_source(&corpus, &case.template);
        match render(&engine, &src, case.context.clone()) {
            Ok(r) if r.text == case.expected => {}
            Ok(r) => failures.push(format!("{}:\n  expected {:?}\n  got      {:?}", case.title, case.expected, r.text)),
            Err(e) => failures.push(format!("{}: error {e}", case.title)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn render_cases_errors_have_the_templates_messages() {
    let Some(corpus) = corpus() else { return };
    let md = std::fs::read_to_string(corpus.join("render_cases.md")).expect("render_cases.md");
    let (_, errors) = parse_cases(&md);
    assert_eq!(errors.len(), 3);
    let engine = Engine::new();
    for case in &errors {
        let src = corpus_source(&corpus, &case.template);
        match render(&engine, &src, case.context.clone()) {
            Err(e @ RenderError::Raised { .. }) => {
                assert_eq!(e.to_string(), case.message, "{}", case.template);
                let RenderError::Raised { message, location, .. } = &e else { unreachable!() };
                assert_eq!(message, &case.message);
                assert!(location.line.is_some(), "the error says where: {location}");
            }
            other => panic!("{}: expected raise_exception({:?}), got {other:?}", case.template, case.message),
        }
    }
}
