//! Rendering and diffs through the binary, on real templates from the shared corpus and on the
//! field bug classes of `shared/cases/render-bugs.md`.

use crate::harness::{b3, corpus, Project};

fn copy_dir(from: &std::path::Path, p: &Project, to: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(from).expect("dir").flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries.into_iter().filter(|p| p.is_file()) {
        let fname = path.file_name().and_then(|n| n.to_str()).expect("name").to_string();
        p.write(&format!("{to}/{fname}"), &std::fs::read(&path).expect("read"));
        names.push(fname);
    }
    names
}

#[test]
fn extends_and_include_resolve_from_the_committed_store() {
    let Some(c) = corpus() else { return };
    let dir = c.join("public/tricky/extends_include/altered_bytes_templates");
    let p = Project::with(&[]);
    copy_dir(&dir, &p, "ab");
    p.run(&["commit", "-m", "templates"]).ok();
    // The context of crates/render/tests/extends_include.rs, where the same render is checked
    // against Python Jinja2.
    let ctx = r#"{"prompt_title": "code review", "context": {
        "sys_info": {"sys_info_usr": true, "os": "Linux", "username": "ada", "hostname": "box", "ip_address": "10.0.0.2",
                     "cpu_type": {"Name": "Ryzen", "LoadPercentage": 12}, "ram_size": "32 GB", "disk_size": "1 TB",
                     "gpu_info": {"name": "none"}, "psversiontable": {"PSEdition": "Core", "PSVersion": "7.4"}},
        "init_prompt": {"role": "user", "content": "Review my code"},
        "chat_history": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        "user_info": {"user_act": [{"application_name": "vim", "duration_seconds": 12, "mouse_click_count": 0, "key_press_count": 99}],
                      "git_diffs": [{"file_path": "a.py", "start_ends": [1, 2], "content": "+x"}]},
        "package_info": {"is_package": true, "pr_name": "demo", "pg_name": "demo", "project_dir": "/src", "req_format": "txt",
                         "pg_requirements": "numpy", "tree": ".", "selected_files": [{"file_path": "a.py", "file_type": "python", "file_content": "print(1)"}]},
        "search_results": [{"source": "example.org", "content": "result"}], "search_query": "q", "rag_selection": {"notes": "n"}},
      "deliverable": {"name": "patch", "deliverable_fmt": "diff", "content": "+x", "selection": "x"},
      "user_comment": {"prompt_str": "What now?", "user_prompt": "Looks odd"},
      "instructs": {"inputs": "<deliverable>", "assi_role": "You are a reviewer.", "intro": "Review it.",
                    "strats": {"name": "review", "description": "d", "objective": "o", "your_task": "t", "expected_words": [10, 50]}}}"#;
    std::fs::write(p.path().join("ctx.json"), ctx).expect("ctx");
    let r = p.run(&["render", "ab/prompt", "--vars", "ctx.json", "--json"]).ok().json();
    let text = r["text"].as_str().expect("text");
    assert!(text.contains("**Username**: ada"), "{text}");
    let used: Vec<&str> =
        r["templates"].as_array().expect("t").iter().map(|t| t["name"].as_str().expect("n")).collect();
    assert!(used.contains(&"ab/i_index") && used.contains(&"ab/i_context_sys_info_usr"), "{used:?}");
    // Each listed id is the id of the committed file.
    for t in r["templates"].as_array().expect("t") {
        let name = t["name"].as_str().expect("n");
        let bytes = std::fs::read(p.path().join(format!("prompts/{name}.md"))).expect("file");
        assert_eq!(t["version"], b3(&bytes), "{name}");
    }
    // The same bytes as the library renders from the files directly (itself checked against
    // Python Jinja2 in crates/render/tests/extends_include.rs).
    let mut loader = promptctl_render::MemoryLoader::new();
    for e in std::fs::read_dir(&dir).expect("dir").flatten() {
        let f = e.file_name().to_string_lossy().into_owned();
        loader.insert(f, std::fs::read(e.path()).expect("read"));
    }
    let top = promptctl_render::Source::from_path("prompt.md", std::fs::read(dir.join("prompt.md")).expect("read"))
        .expect("src");
    let vars: serde_json::Map<String, serde_json::Value> = serde_json::from_str(ctx).expect("ctx");
    let lib = promptctl_render::Engine::new()
        .render(&top, &vars, &loader, &promptctl_render::RenderOptions::new(0))
        .expect("library render");
    assert_eq!(lib.text, text);
    // A later change to a partial does not change what the first commit renders.
    p.write("ab/i_index.md", b"changed {% block content %}{% endblock %}");
    p.run(&["commit", "-m", "partial changed"]).ok();
    let old = p.run(&["render", "ab/prompt@staging~1", "--vars", "ctx.json"]).ok();
    assert_eq!(old.out(), text);
    let new = p.run(&["render", "ab/prompt@staging", "--vars", "ctx.json"]).ok();
    assert!(new.out().starts_with("changed "), "{}", new.out());
}

#[test]
fn every_corpus_chat_template_renders_through_the_cli() {
    let Some(c) = corpus() else { return };
    let p = Project::with(&[]);
    let names = copy_dir(&c.join("public/chat_templates"), &p, "chat");
    p.run(&["commit", "-m", "chat templates"]).ok();
    let vars = r#"{"messages": [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi!"}, {"role": "user", "content": "Bye"}],
        "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>"}"#;
    std::fs::write(p.path().join("conv.json"), vars).expect("vars");
    let mut rendered = 0;
    for f in names.iter().filter(|f| f.ends_with(".jinja") || f.ends_with(".jinja2")) {
        let name = f.trim_end_matches(".jinja2").trim_end_matches(".jinja");
        let r = p.run(&["render", &format!("chat/{name}"), "--vars", "conv.json"]);
        assert_eq!(r.code, 0, "chat/{name}: {}", r.stderr);
        assert!(r.out().contains("Bye"), "chat/{name} rendered the conversation: {}", r.out());
        rendered += 1;
    }
    assert!(rendered >= 25, "{rendered}");
}

#[test]
fn deepseek_revisions_diff_with_real_hunks() {
    let Some(c) = corpus() else { return };
    let d = c.join("public/chat_templates/deepseek-r1-distill-qwen-32b");
    let p = Project::with(&[]);
    for (i, f) in ["chat_template.from_tokenizer_config.jinja", "llama.cpp-2025-02.jinja", "llama.cpp-2026.jinja"]
        .iter()
        .enumerate()
    {
        p.write("chat/deepseek.jinja", &std::fs::read(d.join(f)).expect("read"));
        p.run(&["commit", "-m", &format!("revision {i}")]).ok();
    }
    for (a, b) in [("staging~2", "staging~1"), ("staging~1", "staging")] {
        let j = p.run(&["diff", &format!("chat/deepseek@{a}"), &format!("chat/deepseek@{b}"), "--json"]).ok().json();
        let f = &j["files"][0];
        assert!(!f["hunks"].as_array().expect("hunks").is_empty(), "{a}..{b}: {j}");
        assert!(f["added"].as_u64().expect("n") > 0 || f["removed"].as_u64().expect("n") > 0);
        let text = p.run(&["diff", &format!("chat/deepseek@{a}"), &format!("chat/deepseek@{b}")]).ok().out();
        assert!(text.contains("@@ -") && text.lines().any(|l| l.starts_with('+') && !l.starts_with("+++")), "{text}");
    }
    let stat = p.run(&["diff", "staging~1", "staging", "--stat"]).ok().out();
    assert!(stat.contains("chat/deepseek |") && stat.contains("tokens ("), "{stat}");
}

#[test]
fn crlf_against_lf_says_line_endings_only() {
    let Some(c) = corpus() else { return };
    let crlf = std::fs::read(c.join("public/tricky/crlf/moonshotai-Kimi-K2.CRLF.jinja")).expect("read");
    assert!(crlf.windows(2).any(|w| w == b"\r\n"));
    let lf: Vec<u8> = String::from_utf8(crlf.clone()).expect("utf8").replace("\r\n", "\n").into_bytes();
    let p = Project::with(&[]);
    p.write("chat/kimi.jinja", &crlf);
    p.run(&["commit", "-m", "crlf"]).ok();
    p.write("chat/kimi.jinja", &lf);
    p.run(&["commit", "-m", "lf"]).ok();
    let a = p.run(&["get", "chat/kimi@staging~1", "--json"]).ok().json();
    let b = p.run(&["get", "chat/kimi@staging", "--json"]).ok().json();
    assert_eq!(a["version"], b3(&crlf));
    assert_eq!(b["version"], b3(&lf));
    let d = p.run(&["diff", "chat/kimi@staging~1", "chat/kimi@staging"]).ok().out();
    assert!(d.contains("note: the two sides differ only in line endings (CRLF/LF)"), "{d}");
    let j = p.run(&["diff", "staging~1", "staging", "--json"]).ok().json();
    assert_eq!(j["files"][0]["note"], "the two sides differ only in line endings (CRLF/LF)");
}

#[test]
fn r7_final_newline_is_stored_and_dropped_in_the_render() {
    let p = Project::with(&[("answer.txt", "Answer:\n")]);
    p.run(&["commit", "-m", "r7"]).ok();
    let g = p.run(&["get", "answer", "--json"]).ok().json();
    assert_eq!(g["version"], b3(b"Answer:\n"));
    assert_eq!(g["size"], 8);
    assert_eq!(p.run(&["cat", "answer"]).ok().stdout, b"Answer:\n");
    assert_eq!(p.run(&["render", "answer"]).ok().stdout, b"Answer:");
}

#[test]
fn r8_missing_variable_fails_loudly_and_extra_warns() {
    let p = Project::with(&[("brief.prompt.yaml", "template: \"Summarise for {{ audience }}: {{ text }}\"\n")]);
    p.run(&["commit", "-m", "r8"]).ok();
    let r = p.run(&["render", "brief", "--var", "text=t", "--var", "tone=x"]).code(4);
    assert!(r.stdout.is_empty(), "nothing half-rendered on stdout");
    assert!(r.stderr.contains("audience") && r.stderr.contains("brief") && r.stderr.contains("line 1"), "{}", r.stderr);
    let ok = p.run(&["render", "brief", "--var", "text=t", "--var", "audience=ops", "--var", "tone=x"]).ok();
    assert_eq!(ok.out(), "Summarise for ops: t");
    assert!(ok.stderr.contains("tone"), "unused variable warned: {}", ok.stderr);
}

#[test]
fn r9_no_escaping_for_any_extension() {
    let payload = r#"{"payload": "<doc id=\"1\">{\"k\": 1}</doc>"}"#;
    let p = Project::with(&[
        ("report.html", "Data: {{ payload }}"),
        ("report.xml", "Data: {{ payload }}"),
        ("report.md", "Data: {{ payload }}"),
    ]);
    p.run(&["commit", "-m", "r9"]).ok();
    std::fs::write(p.path().join("v.json"), payload).expect("vars");
    for name in ["report.html", "report.xml", "report"] {
        let r = p.run(&["render", name, "--vars", "v.json"]).ok();
        assert_eq!(r.out(), r#"Data: <doc id="1">{"k": 1}</doc>"#, "{name}");
    }
}

#[test]
fn r6_import_named_chat_templates_and_deepseek_byte_for_byte() {
    let p = Project::with(&[]);
    std::fs::write(
        p.path().join("tc.json"),
        r#"{"chat_template": [{"name": "default", "template": "{{ messages[0].content }}"}, {"name": "tool_use", "template": "T"}]}"#,
    )
    .expect("write");
    p.run(&["import-chat-template", "tc.json", "--name", "chat/cmdr"]).ok();
    p.run(&["commit", "-m", "imported"]).ok();
    assert_eq!(p.run(&["cat", "chat/cmdr/default"]).ok().out(), "{{ messages[0].content }}");
    assert_eq!(p.run(&["render", "chat/cmdr/tool_use"]).ok().out(), "T");
    // Importing again without --force refuses and writes nothing.
    p.run(&["import-chat-template", "tc.json", "--name", "chat/cmdr"]).code(1);
    std::fs::write(p.path().join("bad.json"), r#"{"chat_template": 7}"#).expect("write");
    let r = p.run(&["import-chat-template", "bad.json"]).code(4);
    assert!(r.stderr.contains("bad.json"), "{}", r.stderr);
    let Some(c) = corpus() else { return };
    let d = c.join("public/chat_templates/deepseek-r1-distill-qwen-32b");
    let cfg = d.join("tokenizer_config.json");
    p.run(&["import-chat-template", cfg.to_str().expect("path"), "--name", "chat/deepseek"]).ok();
    let written = std::fs::read(p.path().join("prompts/chat/deepseek.jinja")).expect("written");
    assert_eq!(written, std::fs::read(d.join("chat_template.from_tokenizer_config.jinja")).expect("read"));
}

#[test]
fn get_lists_the_include_closure() {
    let p = Project::with(&[
        ("a.prompt.yaml", "template: \"{% include 'partials/b.jinja' %}\"\n"),
        ("partials/b.jinja", "B {% include 'partials/c.jinja' %}{% include 'partials/gone.jinja' ignore missing %}"),
        ("partials/c.jinja", "C"),
    ]);
    p.run(&["commit", "-m", "closure"]).ok();
    let g = p.run(&["get", "a", "--json"]).ok().json();
    let names: Vec<&str> =
        g["templates"].as_array().expect("t").iter().map(|t| t["name"].as_str().expect("n")).collect();
    assert_eq!(names, vec!["a", "partials/b", "partials/c"]);
    assert_eq!(g["templates"][2]["version"], b3(b"C"));
    assert_eq!(g["missing_templates"][0], "partials/gone.jinja");
}

#[test]
fn diff_shows_model_and_variable_changes_as_such() {
    let p = Project::with(&[(
        "s.prompt.yaml",
        "model: {temperature: 0.2}\nvariables:\n  tone: {type: string, enum: [a, b]}\ntemplate: \"{{ tone }}\"\n",
    )]);
    p.run(&["commit", "-m", "one"]).ok();
    p.write(
        "s.prompt.yaml",
        b"model: {temperature: 0.7}\nvariables:\n  tone: {type: string, enum: [a, b, c]}\ntemplate: \"{{ tone }}\"\n",
    );
    p.run(&["commit", "-m", "two"]).ok();
    let d = p.run(&["diff", "s@staging~1", "s@staging"]).ok().out();
    assert!(d.contains("~ model: temperature: 0.2 -> 0.7"), "{d}");
    assert!(d.contains(r#"~ variable: tone.enum: ["a","b"] -> ["a","b","c"]"#), "{d}");
    let j = p.run(&["diff", "s@staging~1", "s@staging", "--json"]).ok().json();
    let settings = j["files"][0]["settings"].as_array().expect("settings");
    assert!(settings.iter().any(|s| s["field"] == "model" && s["key"] == "temperature" && s["new"] == 0.7));
    // --rendered compares what the model receives.
    let r = p.run(&["diff", "s@staging~1", "s@staging", "--rendered", "--var", "tone=a"]).ok().out();
    assert!(r.is_empty(), "same render, no diff: {r}");
}

#[test]
fn commit_warns_about_includes_that_are_not_there() {
    let p =
        Project::with(&[("a.jinja", "{% include 'partials/missing.jinja' %}"), ("b.jinja", "{% include 'a.jinja' %}")]);
    let r = p.run(&["commit", "-m", "warn"]).ok();
    assert!(r.stderr.contains("prompts/a.jinja: includes `partials/missing.jinja`"), "{}", r.stderr);
    assert!(!r.stderr.contains("prompts/b.jinja"), "a present include is not warned about: {}", r.stderr);
    let e = p.run(&["render", "a"]).code(4);
    assert!(e.stderr.contains("partials/missing.jinja"), "{}", e.stderr);
}

#[test]
fn a_pinned_version_id_renders_with_the_includes_of_its_commit() {
    let p = Project::with(&[("partials/px.jinja", "one {{ px }}"), ("u1.txt", "{% include 'partials/px.jinja' %}")]);
    p.run(&["commit", "-m", "one"]).ok();
    let g = p.run(&["get", "u1", "--json"]).ok().json();
    let v = g["version"].as_str().expect("v").to_string();
    let c1 = g["commit"].as_str().expect("c").to_string();
    // A later commit changes the partial: a version id renders with the includes of the commit
    // that introduced it; the commit of the later snapshot gives the later closure.
    p.write("partials/px.jinja", b"two {{ px }}");
    p.run(&["commit", "-m", "two"]).ok();
    assert_eq!(p.run(&["render", &v, "--var", "px=1"]).ok().out(), "one 1");
    assert_eq!(p.run(&["render", "u1@staging", "--var", "px=1"]).ok().out(), "two 1");
    let pinned = p.run(&["get", &v, "--json"]).ok().json();
    assert_eq!(pinned["name"], "u1");
    assert!(pinned["commit"].is_string());
    assert_eq!(p.run(&["render", &format!("u1@{}", &c1[..12]), "--var", "px=1"]).ok().out(), "one 1");
    assert_eq!(p.run(&["render", &format!("u1@{}", &v[..12]), "--var", "px=1"]).ok().out(), "one 1");
    assert_eq!(pinned["commit"], c1.as_str());
}
