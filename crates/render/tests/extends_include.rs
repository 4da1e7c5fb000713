//! `{% extends %}`, `{% include … ignore missing %}` and `{% import %}` resolve through the
//! `Loader` (the same snapshot), and `Rendered::templates` names every file used.

mod common;

use common::{corpus, python_reference, render_with, src, NOW};
use promptctl_render::{Engine, MemoryLoader, RenderError};
use serde_json::{json, Value};

fn context() -> Value {
    json!({
        "prompt_title": "code review",
        "context": {
            "sys_info": {"sys_info_usr": true, "os": "Linux", "username": "ada", "hostname": "box", "ip_address": "10.0.0.2",
                         "cpu_type": {"Name": "Ryzen", "LoadPercentage": 12}, "ram_size": "32 GB", "disk_size": "1 TB",
                         "gpu_info": {"name": "none"}, "psversiontable": {"PSEdition": "Core", "PSVersion": "7.4"}},
            "init_prompt": {"role": "user", "content": "Review my code"},
            "chat_history": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
            "user_info": {"user_act": [{"application_name": "vim", "duration_seconds": 12, "mouse_click_count": 0, "key_press_count": 99}],
                           "git_diffs": [{"file_path": "a.py", "start_ends": [1, 2], "content": "+x"}]},
            "package_info": {"is_package": true, "pr_name": "demo", "pg_name": "demo", "project_dir": "/src",
                              "req_format": "txt", "pg_requirements": "numpy", "tree": ".\n└── a.py",
                              "selected_files": [{"file_path": "a.py", "file_type": "python", "file_content": "print(1)"}]},
            "search_results": [{"source": "example.org", "content": "result"}],
            "search_query": "q",
            "rag_selection": {"notes": "n"}
        },
        "deliverable": {"name": "patch", "deliverable_fmt": "diff", "content": "+x", "selection": "x"},
        "user_comment": {"prompt_str": "What now?", "user_prompt": "Looks odd"},
        "instructs": {"inputs": "<deliverable>", "assi_role": "You are a reviewer.", "intro": "Review it.",
                       "strats": {"name": "review", "description": "d", "objective": "o", "your_task": "t", "expected_words": [10, 50]}}
    })
}

#[test]
fn altered_bytes_templates_render_through_the_loader() {
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("public/tricky/extends_include/altered_bytes_templates");
    let mut loader = MemoryLoader::new();
    let mut files = serde_json::Map::new();
    let mut entries: Vec<_> = std::fs::read_dir(&dir).expect("dir").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in &entries {
        let name = path.file_name().and_then(|n| n.to_str()).expect("name").to_string();
        let bytes = std::fs::read(path).expect("read");
        files.insert(name.clone(), Value::String(String::from_utf8(bytes.clone()).expect("utf-8")));
        loader.insert(name, bytes);
    }
    let top = src("prompt.md", std::fs::read(dir.join("prompt.md")).expect("prompt.md"));
    let engine = Engine::new();
    let full = render_with(&engine, &top, context(), &loader).expect("render");
    let empty = render_with(&engine, &top, json!({}), &loader).expect("render without variables");

    // The closure: the prompt first, then every file it extended or included, each with the
    // id of its bytes; files that `ignore missing` skipped are not listed.
    let used: Vec<&str> = full.templates.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(used[0], "prompt");
    for name in [
        "i_index",
        "i_context",
        "i_context_sys_info",
        "i_context_sys_info_usr",
        "i_context_chat_history",
        "i_context_user_info",
        "i_context_package_info",
        "i_context_search_results",
        "i_context_rag",
        "i_deliverable",
        "i_user_comment",
        "i_instructs",
        "i_instructs_strats",
    ] {
        assert!(used.contains(&name), "{name} in {used:?}");
    }
    assert!(!used.contains(&"search_results"), "a missing include is not listed");
    for (name, id) in &full.templates {
        let bytes = std::fs::read(dir.join(format!("{name}.md"))).expect("file");
        assert_eq!(*id, promptctl_core::ObjectId::of_blob(&bytes), "{name}");
    }
    assert!(full.text.contains("**Username**: ada"), "{}", full.text);
    assert!(empty.text.contains("No context information available."));
    assert!(!empty.templates.iter().any(|(n, _)| n.as_str() == "i_context_sys_info"), "not used without context");

    // The same bytes as Python Jinja2 renders them with a dict loader.
    let jobs: Vec<Value> = [context(), json!({})]
        .into_iter()
        .map(|ctx| json!({"name": "prompt.md", "templates": files, "context": ctx, "now": NOW}))
        .collect();
    if let Some(reference) = python_reference(&jobs) {
        assert_eq!(reference[0].as_deref(), Ok(full.text.as_str()));
        assert_eq!(reference[1].as_deref(), Ok(empty.text.as_str()));
    }
}

#[test]
fn includes_come_from_the_loaders_snapshot() {
    let engine = Engine::new();
    let top = src("main.jinja", "A {% include 'partials/tone.jinja' %} B");
    let mut v1 = MemoryLoader::new();
    v1.insert("partials/tone.jinja", "friendly");
    let mut v2 = MemoryLoader::new();
    v2.insert("partials/tone.jinja", "formal");
    assert_eq!(render_with(&engine, &top, json!({}), &v1).expect("v1").text, "A friendly B");
    // Same top-level version, another snapshot: the include follows the snapshot.
    let r2 = render_with(&engine, &top, json!({}), &v2).expect("v2");
    assert_eq!(r2.text, "A formal B");
    assert_eq!(r2.templates[1].0.as_str(), "partials/tone");
    assert_eq!(r2.templates[1].1, promptctl_core::ObjectId::of_blob(b"formal"));
    // A bare prompt name works too.
    let bare = src("bare.jinja", "{% include 'partials/tone' %}");
    assert_eq!(render_with(&engine, &bare, json!({}), &v1).expect("bare").text, "friendly");
}

#[test]
fn import_macros_and_missing_templates() {
    let engine = Engine::new();
    let mut loader = MemoryLoader::new();
    loader.insert("macros.j2", "{% macro greet(n) %}Hello {{ n }}!{% endmacro %}");
    loader.insert("base.jinja", "[{% block body %}default{% endblock %}]");
    let t = src("t.jinja", "{% import 'macros.j2' as m %}{{ m.greet(who) }}");
    assert_eq!(render_with(&engine, &t, json!({"who": "Ada"}), &loader).expect("import").text, "Hello Ada!");
    let child = src("child.jinja", "{% extends 'base.jinja' %}{% block body %}child{% endblock %}");
    assert_eq!(render_with(&engine, &child, json!({}), &loader).expect("extends").text, "[child]");
    let ignore = src("ignore.jinja", "x{% include 'nope.jinja' ignore missing %}y");
    assert_eq!(render_with(&engine, &ignore, json!({}), &loader).expect("ignore missing").text, "xy");
    let missing = src("missing.jinja", "line 1\n{% include 'nope.jinja' %}");
    match render_with(&engine, &missing, json!({}), &loader) {
        Err(RenderError::TemplateNotFound { template, location, .. }) => {
            assert_eq!(template, "nope.jinja");
            assert_eq!(location.line, Some(2));
        }
        other => panic!("expected template not found, got {other:?}"),
    }
    // A syntax error inside an included file names that file and its line.
    loader.insert("broken.jinja", "ok\n{% if %}");
    let inc = src("inc.jinja", "{% include 'broken.jinja' %}");
    match render_with(&engine, &inc, json!({}), &loader) {
        Err(RenderError::Syntax { location, .. }) => {
            assert_eq!(location.file, "broken.jinja");
            assert_eq!(location.line, Some(2));
        }
        other => panic!("expected a syntax error in broken.jinja, got {other:?}"),
    }
    // A native prompt is not a partial.
    loader.insert("n.prompt.yaml", "template: x\n");
    let inc_native = src("inc2.jinja", "{% include 'n.prompt.yaml' %}");
    let err = render_with(&engine, &inc_native, json!({}), &loader).expect_err("native include");
    assert!(err.to_string().contains("native prompt"), "{err}");
}
