//! Prompt file formats: native `*.prompt.yaml`, Prompty, Dotprompt, Semantic Kernel, other
//! files, and the real prompts of the corpus.

mod common;

use common::{corpus, corpus_source, render, render_with, src};
use promptctl_render::{
    parse, Engine, MemoryLoader, Message, NoLoader, RenderError, RenderOptions, UndefinedMode, VarType,
};
use serde_json::json;

const SUMMARIZE: &str = r#"description: Summarise a support ticket for the on-call engineer
model: {route: default, temperature: 0.2, max_tokens: 400}   # or provider: <id>
variables:
  ticket: {type: string, required: true, description: The ticket body}
  tone:   {type: string, default: neutral, enum: [neutral, friendly]}
messages:
  - role: system
    content: "You are a support analyst. {% include 'partials/tone.jinja' %}"
  - role: user
    content: "Summarise:\n{{ ticket }}"
tests:                       # optional cases for `promptctl test`
  - vars: {ticket: "My refund never arrived"}
    assert:
      - contains: refund
      - max_tokens: 120
"#;

fn snapshot() -> MemoryLoader {
    let mut l = MemoryLoader::new();
    l.insert("partials/tone.jinja", "Be {{ tone }}.\n");
    l
}

#[test]
fn the_spec_example_parses_and_renders() {
    let s = src("summarize.prompt.yaml", SUMMARIZE);
    let p = parse(&s).expect("parse");
    assert_eq!(p.description(), Some("Summarise a support ticket for the on-call engineer"));
    assert_eq!(p.model(), Some(&json!({"route": "default", "temperature": 0.2, "max_tokens": 400})));
    assert_eq!(p.undefined(), UndefinedMode::Strict);
    let vars = p.variables();
    assert_eq!(vars.len(), 2);
    assert_eq!((vars[0].name.as_str(), vars[0].ty, vars[0].required), ("ticket", Some(VarType::String), true));
    assert_eq!(vars[1].default, Some(json!("neutral")));
    assert_eq!(vars[1].enum_values, Some(vec![json!("neutral"), json!("friendly")]));
    assert_eq!(p.tests().len(), 1);
    assert_eq!(p.tests()[0].vars, json!({"ticket": "My refund never arrived"}).as_object().cloned().expect("obj"));
    assert_eq!(p.tests()[0].assert, vec![json!({"contains": "refund"}), json!({"max_tokens": 120})]);
    assert_eq!(p.messages().map(|m| m.len()), Some(2));

    let engine = Engine::new();
    let r = render_with(&engine, &s, json!({"ticket": "My refund never arrived"}), &snapshot()).expect("render");
    assert_eq!(
        r.messages.as_deref(),
        Some(
            &[
                Message { role: "system".into(), content: "You are a support analyst. Be neutral.".into() },
                Message { role: "user".into(), content: "Summarise:\nMy refund never arrived".into() },
            ][..]
        )
    );
    assert_eq!(r.text, "system:\nYou are a support analyst. Be neutral.\n\nuser:\nSummarise:\nMy refund never arrived");
    assert_eq!(r.vars.get("tone"), Some(&json!("neutral")), "defaults are applied");
    let names: Vec<&str> = r.templates.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["summarize", "partials/tone"]);
    assert_eq!(r.templates[0].1, s.id);
    assert!(r.warnings.is_empty(), "{:?}", r.warnings);

    // Type and enum checks name the variable and what was expected.
    let err = render_with(&engine, &s, json!({"ticket": "t", "tone": "angry"}), &snapshot()).expect_err("enum");
    assert!(matches!(&err, RenderError::InvalidVariable { variable, .. } if variable == "tone"), "{err}");
    assert!(err.to_string().contains("one of [\"neutral\", \"friendly\"]"), "{err}");
    let err = render_with(&engine, &s, json!({"ticket": 3}), &snapshot()).expect_err("type");
    assert!(err.to_string().contains("`ticket` must be of type string, got integer 3"), "{err}");
    // A required variable missing.
    let err = render_with(&engine, &s, json!({}), &snapshot()).expect_err("missing");
    assert!(
        matches!(&err, RenderError::MissingVariable { variable, location, .. }
        if variable == "ticket" && location.part.as_deref() == Some("messages[1].content") && location.file_line == Some(10)),
        "{err:?}"
    );
}

#[test]
fn strict_and_lenient_native_prompts() {
    let engine = Engine::new();
    let strict = src("s.prompt.yaml", "template: |\n  Hi {{ name }}\n  {{ user.email }}\n");
    let err = render(&engine, &strict, json!({"name": "A", "user": {}})).expect_err("strict attribute");
    match err {
        RenderError::Undefined { location, .. } => {
            assert_eq!((location.line, location.file_line), (Some(2), Some(3)))
        }
        other => panic!("expected undefined, got {other:?}"),
    }
    let lenient =
        src("l.prompt.yaml", "undefined: lenient\ntemplate: \"Hi {{ name }}{% if extra is defined %}!{% endif %}\"\n");
    assert_eq!(render(&engine, &lenient, json!({})).expect("lenient").text, "Hi ");
    // Optional declared variables may stay undefined when the template checks them.
    let optional = src(
        "o.prompt.yaml",
        "variables:\n  extra: {type: string, required: false}\ntemplate: \"x{% if extra is defined %}{{ extra }}{% endif %}\"\n",
    );
    assert_eq!(render(&engine, &optional, json!({})).expect("optional").text, "x");
    assert_eq!(render(&engine, &optional, json!({"extra": "y"})).expect("given").text, "xy");
    // Undeclared variables that the template guards are not missing; unguarded uses still fail.
    let guarded = src(
        "g.prompt.yaml",
        "template: \"{{ tone | default('calm') }}{% if name is defined %} {{ name }}{% endif %}\"\n",
    );
    assert_eq!(render(&engine, &guarded, json!({})).expect("guarded").text, "calm");
    assert_eq!(render(&engine, &guarded, json!({"tone": "warm", "name": "A"})).expect("guarded").text, "warm A");
    let half = src("h.prompt.yaml", "template: |\n  {% if name is defined %}ok{% endif %}\n  {{ name }}\n");
    match render(&engine, &half, json!({})) {
        Err(RenderError::MissingVariable { variable, location, .. }) => {
            assert_eq!((variable.as_str(), location.line, location.file_line), ("name", Some(2), Some(3)))
        }
        other => panic!("expected a missing variable at run time, got {other:?}"),
    }
}

#[test]
fn invalid_native_prompts_are_refused_with_the_place() {
    let cases: &[(&str, &str)] = &[
        ("messages:\n  - role: user\n    content: [unclosed\n", "line 4"),
        ("mesages: []\n", "unknown key `mesages`"),
        ("description: d\n", "needs `messages:`"),
        ("template: x\nmessages: []\n", "not both"),
        ("template: x\nvariables:\n  n: {type: str}\n", "variables.n.type `str`"),
        (
            "template: x\nvariables:\n  n: {type: integer, default: 'a'}\n",
            "variables.n.default must be of type integer",
        ),
        ("template: x\nvariables:\n  bad-name: {}\n", "not an identifier"),
        ("template: x\nundefined: maybe\n", "`undefined` must be `strict` or `lenient`"),
        ("messages:\n  - content: hi\n", "messages[0] needs a `role`"),
        ("template: '{{ x }'\n", "template syntax error in t.prompt.yaml template line 1"),
    ];
    for (yaml, expected) in cases {
        let err = parse(&src("t.prompt.yaml", *yaml)).expect_err(yaml);
        assert!(err.to_string().contains(expected), "{yaml:?}: {err}");
    }
    match parse(&src("t.prompt.yaml", "template: x\n  bad: [indent\n")) {
        Err(RenderError::Yaml { line, column, .. }) => assert!(line >= 1 && column >= 1),
        other => panic!("expected a YAML error, got {other:?}"),
    }
}

#[test]
fn non_utf8_names_the_byte_offset() {
    for path in ["bad.jinja", "bad.prompt.yaml", "bad.prompty", "bad.md"] {
        let s = src(path, b"Hello \xff world".to_vec());
        let err = parse(&s).expect_err(path);
        assert_eq!(err, RenderError::NotUtf8 { file: path.into(), offset: 6 });
        assert!(err.to_string().contains("offset 6"), "{err}");
        let engine = Engine::new();
        assert!(matches!(render(&engine, &s, json!({})), Err(RenderError::NotUtf8 { offset: 6, .. })));
    }
}

#[test]
fn other_files_render_when_they_are_text() {
    let engine = Engine::new();
    let data = src("data/context.json", r#"{"a": "{{ x }}"}"#);
    assert!(parse(&data).is_ok());
    assert_eq!(render(&engine, &data, json!({"x": 1})).expect("text").text, r#"{"a": "1"}"#);
    let binary = src("logo.png", b"\x89PNG\r\n\x1a\n\0\0".to_vec());
    assert!(parse(&binary).is_ok(), "parse accepts any other file");
    let err = render(&engine, &binary, json!({})).expect_err("binary");
    assert!(err.to_string().contains("files of kind other cannot be rendered"), "{err}");
    let broken = src("notes.cfg", "{% if %}");
    assert!(parse(&broken).is_ok());
    let err = render(&engine, &broken, json!({})).expect_err("not jinja");
    assert!(err.to_string().contains("files of kind other cannot be rendered"), "{err}");
}

#[test]
fn compiled_templates_are_cached_per_version() {
    let engine = Engine::new();
    let s = src("c.jinja", "{{ a }}");
    for i in 0..3 {
        assert_eq!(render(&engine, &s, json!({"a": i})).expect("render").text, i.to_string());
    }
    assert_eq!(engine.compiled_templates(), 1);
    let s2 = src("c.jinja", "{{ a }}!");
    render(&engine, &s2, json!({"a": 1})).expect("render");
    assert_eq!(engine.compiled_templates(), 2);
}

#[test]
fn strftime_now_uses_the_render_clock() {
    let engine = Engine::new();
    let s = src("d.jinja", "{{ strftime_now('%d %b %Y') }}");
    let r = engine.render(&s, &Default::default(), &NoLoader, &RenderOptions::new(0)).expect("render");
    assert_eq!(r.text, "01 Jan 1970");
    let r = engine.render(&s, &Default::default(), &NoLoader, &RenderOptions::new(1_721_984_703)).expect("render");
    assert_eq!(r.text, "26 Jul 2024");
}

#[test]
fn loop_controls_and_undefined_like_jinja2() {
    let t = "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i > 3 %}{% break %}{% endif %}{{ i }}{% endfor %}|{{ missing }}|{{ missing is defined }}|{% if not missing %}falsy{% endif %}|{{ missing | default('d') }}";
    let engine = Engine::new();
    assert_eq!(render(&engine, &src("l.jinja", t), json!({})).expect("render").text, "013||False|falsy|d");
}

#[test]
fn prompty_files_of_the_corpus() {
    let Some(corpus) = corpus() else { return };
    let engine = Engine::new();

    let basic = corpus_source(&corpus, "prompt_formats/prompty/basic.prompty");
    let r = render(&engine, &basic, json!({})).expect("basic.prompty");
    let m = r.messages.expect("messages");
    assert_eq!(m.iter().map(|m| m.role.as_str()).collect::<Vec<_>>(), ["system", "user"]);
    assert!(m[0].content.contains("You are helping Seth to find answers"), "{}", m[0].content);
    assert_eq!(m[1].content, "What can you tell me about your tents?");
    assert_eq!(r.vars.get("firstName"), Some(&json!("Seth")), "sample: values are the defaults");

    let v2 = corpus_source(&corpus, "prompt_formats/prompty/basic.v2.prompty");
    let r = render(&engine, &v2, json!({"firstName": "Ada"})).expect("basic.v2.prompty");
    let m = r.messages.expect("messages");
    assert!(m[0].content.ends_with("You are helping Ada Doe to find answers to their questions."), "{}", m[0].content);
    assert_eq!(m[1].content, "What is the meaning of life?");

    let chat = corpus_source(&corpus, "prompt_formats/prompty/chat.prompty");
    let history = json!([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]);
    let r = render(&engine, &chat, json!({"chat_history": history})).expect("chat.prompty");
    let roles: Vec<String> =
        r.messages.expect("messages").into_iter().map(|m| format!("{}:{}", m.role, m.content)).collect();
    assert_eq!(roles.len(), 3, "{roles:?}");
    assert_eq!(&roles[1..], ["user:hi", "assistant:hello"]);

    // `inputs: ${file:context.json}` is read from the same snapshot, next to the prompt.
    let mut loader = MemoryLoader::new();
    let ctx_path = "prompt_formats/prompty/context_ref/context.json";
    loader.insert(ctx_path, std::fs::read(corpus.join("public").join(ctx_path)).expect("context.json"));
    let context = corpus_source(&corpus, "prompt_formats/prompty/context_ref/context.prompty");
    let r = render_with(&engine, &context, json!({}), &loader).expect("context.prompty");
    assert_eq!(r.templates.len(), 2);
    assert_eq!(r.templates[1].0.as_str(), ctx_path);
    let m = r.messages.expect("messages");
    assert!(m[0].content.contains("catalog: "), "{}", m[0].content);
    assert!(!m[1].content.is_empty());
    let err = render(&engine, &context, json!({})).expect_err("context.json missing from the snapshot");
    assert!(err.to_string().contains("context.json"), "{err}");
}

#[test]
fn other_engines_are_named() {
    let Some(corpus) = corpus() else { return };
    let engine = Engine::new();
    for (path, engine_name) in [
        ("prompt_formats/genkit_dotprompt/story.prompt", "Handlebars (Dotprompt)"),
        ("prompt_formats/genkit_dotprompt/_style.prompt", "Handlebars (Dotprompt)"),
        ("tricky/unicode/dotprompt-11-multilingual-unicode.prompt", "Handlebars (Dotprompt)"),
        ("prompt_formats/semantic_kernel/ChatV2/skprompt.txt", "Semantic Kernel"),
    ] {
        let s = corpus_source(&corpus, path);
        let p = parse(&s).unwrap_or_else(|e| panic!("{path}: commit must not refuse it: {e}"));
        assert_eq!(p.needs_engine(), Some(engine_name), "{path}");
        let err = render(&engine, &s, json!({})).expect_err(path);
        let msg = err.to_string();
        assert!(msg.contains(&format!("needs the {engine_name} engine")), "{path}: {msg}");
    }
    let story = parse(&corpus_source(&corpus, "prompt_formats/genkit_dotprompt/story.prompt")).expect("story");
    assert_eq!(story.model(), Some(&json!({"model": "googleai/gemini-pro"})));
    let unicode =
        parse(&corpus_source(&corpus, "tricky/unicode/dotprompt-11-multilingual-unicode.prompt")).expect("unicode");
    assert_eq!(unicode.metadata().and_then(|m| m.get("model")), Some(&json!("googleai/gemini-2.5-flash")));
    // A Dotprompt body that only substitutes variables renders.
    let simple = src("hello.prompt", "---\ninput:\n  default: {who: World}\n---\nHello {{who}}!");
    assert_eq!(render(&engine, &simple, json!({})).expect("simple dotprompt").text, "Hello World!");
}

#[test]
fn app_templates_of_the_corpus_render() {
    let Some(corpus) = corpus() else { return };
    let engine = Engine::new();
    let goose = corpus_source(&corpus, "app_templates/goose/system.md");
    let r =
        render(&engine, &goose, json!({"extensions": [{"name": "dev", "has_resources": true, "instructions": "x"}]}))
            .expect("goose");
    assert!(r.text.contains("## dev"), "{}", r.text);
    let oh = corpus_source(&corpus, "app_templates/openhands_codeact/additional_info.j2");
    let r = render(&engine, &oh, json!({"repository_info": {"repo_name": "o/r", "repo_directory": "r"}}))
        .expect("openhands");
    assert!(r.text.contains("repository o/r has been cloned to r"), "{}", r.text);
    let tutor = corpus_source(&corpus, "prompt_formats/promptfoo/pytutor/prompts/pytutor-v1.txt");
    let r = render(&engine, &tutor, json!({"question": "What is a list?"})).expect("pytutor");
    assert!(r.text.contains("content: 'What is a list?'"), "{}", r.text);
    let liquid = corpus_source(&corpus, "prompt_formats/semantic_kernel/LiquidPrompt.yaml");
    let customer = json!({"first_name": "Ada", "last_name": "L", "age": 36, "membership": "Gold"});
    let r = render(&engine, &liquid, json!({"customer": customer, "history": [{"role": "user", "content": "hi"}]}))
        .expect("liquid yaml is a text file with Jinja-compatible tags");
    assert!(r.text.contains("First Name: Ada") && r.text.contains("<message role=\"user\">"), "{}", r.text);
}
