//! One regression test per bug class of `shared/cases/render-bugs.md` (R1–R11), with the
//! values the reference (Python Jinja2 3.1 with transformers' settings) gives.

mod common;

use common::{corpus, render, src};
use promptctl_core::{FileKind, ObjectId};
use promptctl_render::{chat_templates_from_tokenizer_config, parse, Engine, RenderError, ENGINE};
use serde_json::json;

fn text(path: &str, template: &str, ctx: serde_json::Value) -> String {
    let engine = Engine::new();
    match render(&engine, &src(path, template), ctx) {
        Ok(r) => r.text,
        Err(e) => panic!("{path}: {e}"),
    }
}

#[test]
fn r1_python_constants_print_as_python() {
    let ctx = json!({"v": null, "flag": true, "off": false});
    assert_eq!(text("r1.jinja", "[{{ v }}|{{ flag }}|{{ off }}]", ctx.clone()), "[None|True|False]");
    // The same in a native prompt (given the variables, strict mode changes nothing).
    assert_eq!(text("r1.prompt.yaml", "template: '[{{ v }}|{{ flag }}|{{ off }}]'\n", ctx), "[None|True|False]");
    // Locked so that an engine upgrade cannot change it silently: literals, containers, floats,
    // `|string`, as Python prints them.
    assert_eq!(
        text(
            "r1b.jinja",
            "{{ none }} {{ true }} {{ [none, true, 'a', 1.0] }} {{ {'k': false} }} {{ 2.50 }} {{ 1e16 }} {{ true | string }} {{ 7 // 2 }} {{ 7 / 2 }}",
            json!({})
        ),
        "None True [None, True, 'a', 1.0] {'k': False} 2.5 1e+16 True 3 3.5"
    );
    assert!(ENGINE.starts_with("minijinja 2."), "{ENGINE}");
}

#[test]
fn r2_namespace_assignments_escape_loops_plain_ones_do_not() {
    let t = "{% set ns = namespace(hit=false) %}{% set plain = false %}{% for m in msgs %}{% if m == 'x' %}{% set ns.hit = true %}{% set plain = true %}{% endif %}{% endfor %}{{ ns.hit }} {{ plain }}";
    assert_eq!(text("r2.jinja", t, json!({"msgs": ["a", "x"]})), "True False");
}

#[test]
fn r3_python_string_methods() {
    assert_eq!(text("r3.jinja", "{{ ('  ' ~ role ~ ' ').strip().title() }}", json!({"role": "user"})), "User");
    assert_eq!(
        text(
            "r3b.jinja",
            "{{ s.replace('a', 'o') }}|{{ s.split(',') }}|{{ s.upper() }}|{{ s.endswith('c') }}|{{ d.items() | list }}",
            json!({"s": "a,b,c", "d": {"k": 1}})
        ),
        "o,b,c|['a', 'b', 'c']|A,B,C|True|[['k', 1]]"
    );
}

#[test]
fn r4_step_slices_and_startswith() {
    let t = "{% for m in msgs[::-1] %}{{ m }}{% endfor %}|{{ '<tool_response>x'.startswith('<tool_response>') }}";
    assert_eq!(text("r4.jinja", t, json!({"msgs": [1, 2, 3]})), "321|True");
    assert_eq!(text("r4b.jinja", "{{ s[::2] }}{{ s[1:] }}{{ s[-1] }}", json!({"s": "abcd"})), "acbcdd");
}

#[test]
fn r5_tojson_is_python_json_dumps() {
    let ctx = json!({"t": {"name": "météo", "n": 1}});
    assert_eq!(text("r5.jinja", "{{ t | tojson }}", ctx.clone()), r#"{"name": "météo", "n": 1}"#);
    assert_eq!(text("r5.jinja", "{{ t | tojson(indent=2) }}", ctx.clone()), "{\n  \"name\": \"météo\",\n  \"n\": 1\n}");
    assert_eq!(
        text("r5.jinja", "{{ t | tojson(ensure_ascii=True) }}", ctx.clone()),
        r#"{"name": "m\u00e9t\u00e9o", "n": 1}"#
    );
    assert_eq!(text("r5.jinja", "{{ t | tojson(sort_keys=True) }}", ctx.clone()), r#"{"n": 1, "name": "météo"}"#);
    assert_eq!(text("r5.jinja", "{{ t | tojson(separators=(',', ':')) }}", ctx.clone()), r#"{"name":"météo","n":1}"#);
    assert_eq!(
        text("r5.jinja", "{{ [t, [], {}, none, 1.5, '\"\\n'] | tojson(indent=1) }}", ctx.clone()),
        "[\n {\n  \"name\": \"météo\",\n  \"n\": 1\n },\n [],\n {},\n null,\n 1.5,\n \"\\\"\\n\"\n]"
    );
    // Keyword arguments never become output; an unknown one is an error.
    let engine = Engine::new();
    let err = render(&engine, &src("r5.jinja", "{{ t | tojson(indnet=2) }}"), ctx).expect_err("unknown kwarg");
    assert!(err.to_string().contains("indnet"), "{err}");
}

#[test]
fn r6_chat_template_lists_in_tokenizer_config() {
    let config = br#"{"chat_template": [{"name": "default", "template": "{{ messages[0].content }}"}, {"name": "tool_use", "template": "T"}]}"#;
    let templates = chat_templates_from_tokenizer_config(config).expect("list form");
    assert_eq!(
        templates,
        vec![
            ("default".to_string(), "{{ messages[0].content }}".to_string()),
            ("tool_use".to_string(), "T".to_string())
        ]
    );
    let one = chat_templates_from_tokenizer_config(br#"{"chat_template": "X"}"#).expect("string form");
    assert_eq!(one, vec![("default".to_string(), "X".to_string())]);
    assert!(chat_templates_from_tokenizer_config(br#"{"bos_token": "<s>"}"#).expect("none").is_empty());
    for bad in [&br#"{"chat_template": 3}"#[..], br#"{"chat_template": [{"name": "x"}]}"#] {
        match chat_templates_from_tokenizer_config(bad) {
            Err(e @ RenderError::TokenizerConfig { .. }) => {
                let msg = e.to_string();
                assert!(msg.contains("chat_template") && !msg.contains("expected a string"), "{msg}");
            }
            other => panic!("expected a shape error, got {other:?}"),
        }
    }
    // The real file: its template is the one the corpus extracted from it.
    let Some(corpus) = corpus() else { return };
    let dir = corpus.join("public/chat_templates/deepseek-r1-distill-qwen-32b");
    let config = std::fs::read(dir.join("tokenizer_config.json")).expect("config");
    let extracted = std::fs::read_to_string(dir.join("chat_template.from_tokenizer_config.jinja")).expect("jinja");
    let templates = chat_templates_from_tokenizer_config(&config).expect("real config");
    assert_eq!(templates, vec![("default".to_string(), extracted)]);
}

#[test]
fn r7_the_last_newline_is_stored_and_dropped_from_the_render() {
    let s = src("answer.txt", "Answer:\n");
    assert_eq!(s.bytes.len(), 8);
    assert_eq!(s.id, ObjectId::of_blob(b"Answer:\n"));
    assert_eq!(s.id.to_hex(), blake3::hash(b"Answer:\n").to_hex().as_str());
    let engine = Engine::new();
    assert_eq!(render(&engine, &s, json!({})).expect("render").text, "Answer:");
    // The source stays as it was after rendering; only one newline is dropped, of any style.
    assert_eq!(s.bytes, b"Answer:\n");
    assert_eq!(text("a.txt", "Answer:\r\n", json!({})), "Answer:");
    assert_eq!(text("a.txt", "Answer:\n\n", json!({})), "Answer:\n");
    assert_eq!(text("a.txt", "Answer:", json!({})), "Answer:");
    // In native messages too: a YAML `|` block's final newline is not part of the content.
    let engine = Engine::new();
    let native = src("n.prompt.yaml", "messages:\n  - role: user\n    content: |\n      Answer:\n");
    let r = render(&engine, &native, json!({})).expect("native");
    assert_eq!(r.messages.expect("messages")[0].content, "Answer:");
}

#[test]
fn r8_missing_variables_fail_and_unused_ones_warn() {
    let engine = Engine::new();
    let p = src("summarize.prompt.yaml", "description: d\ntemplate: \"Summarise for {{ audience }}: {{ text }}\"\n");
    match render(&engine, &p, json!({"text": "t", "tone": "x"})) {
        Err(e @ RenderError::MissingVariable { .. }) => {
            let msg = e.to_string();
            let RenderError::MissingVariable { prompt, variable, location, unused } = e else { unreachable!() };
            assert_eq!(variable, "audience");
            assert_eq!(prompt, "summarize");
            assert_eq!((location.line, location.column, location.file_line), (Some(1), Some(18), Some(2)));
            assert_eq!(unused, vec!["tone".to_string()]);
            for part in ["`audience`", "summarize", "line 1", "line 2 of the file", "`tone`"] {
                assert!(msg.contains(part), "{part} in {msg}");
            }
        }
        other => panic!("expected a missing variable error, got {other:?}"),
    }
    let r = render(&engine, &p, json!({"text": "t", "tone": "x", "audience": "ops"})).expect("render");
    assert_eq!(r.text, "Summarise for ops: t");
    assert_eq!(r.warnings.len(), 1, "{:?}", r.warnings);
    assert!(r.warnings[0].contains("`tone`"), "{:?}", r.warnings);
}

#[test]
fn r9_never_html_escaped_whatever_the_extension() {
    let payload = json!({"payload": "<doc id=\"1\">{\"k\": 1}</doc>"});
    for path in ["report.html", "report.xml", "report.md", "report.txt", "report.jinja", "report.htm.j2"] {
        let s = src(path, "Data: {{ payload }}");
        if path.starts_with("report.html") || path.ends_with(".xml") {
            assert_eq!(s.kind, FileKind::Other, "{path}");
        }
        assert_eq!(
            text(path, "Data: {{ payload }}", payload.clone()),
            "Data: <doc id=\"1\">{\"k\": 1}</doc>",
            "{path}"
        );
    }
    assert_eq!(
        text("x.prompt.yaml", "template: 'Data: {{ payload }}'\n", payload),
        "Data: <doc id=\"1\">{\"k\": 1}</doc>"
    );
}

#[test]
fn r10_unclosed_comment_is_a_syntax_error_on_line_2_and_raw_works() {
    let t = "Explain:\n{# .somevalue }\nQ: {{ q }}";
    let engine = Engine::new();
    for path in ["explain.jinja", "explain.md", "explain.txt"] {
        let s = src(path, t);
        let from_parse = parse(&s).expect_err("parse refuses it");
        let from_render = render(&engine, &s, json!({"q": "why"})).expect_err("render refuses it");
        for e in [from_parse, from_render] {
            let msg = e.to_string();
            let RenderError::Syntax { location, message } = e else { panic!("expected a syntax error, got {msg}") };
            assert_eq!(location.file, path);
            assert_eq!(location.line, Some(2), "{msg}");
            assert!(message.contains("comment"), "{msg}");
            assert!(msg.contains(path) && msg.contains("line 2"), "{msg}");
        }
    }
    // In a native prompt the error names the message and the line of the file.
    let native = src("n.prompt.yaml", "messages:\n  - role: system\n    content: hi\n  - role: user\n    content: |\n      Explain:\n      {# .somevalue }\n");
    match parse(&native) {
        Err(RenderError::Syntax { location, .. }) => {
            assert_eq!(location.part.as_deref(), Some("messages[1].content"));
            assert_eq!(location.line, Some(2));
            assert_eq!(location.file_line, Some(7));
        }
        other => panic!("expected a syntax error, got {other:?}"),
    }
    assert_eq!(
        text("raw.jinja", "{% raw %}{{ var }}{% endraw %} and {{ q }}", json!({"q": "why"})),
        "{{ var }} and why"
    );
}

#[test]
fn r11_front_matter_with_windows_line_endings() {
    let bytes = b"---\r\nmodel: x\r\n---\r\nHello {{ name }}\r\n".to_vec();
    let s = src("hello.prompty", bytes.clone());
    assert_eq!(s.kind, FileKind::Prompty);
    let p = parse(&s).expect("parse");
    assert_eq!(p.metadata(), Some(&json!({"model": "x"})));
    assert_eq!(p.model(), Some(&json!("x")));
    assert_eq!(p.template().map(str::as_bytes), Some(&b"Hello {{ name }}\r\n"[..]));
    assert_eq!(s.bytes, bytes, "the stored bytes are untouched");
    // The same with CR-only line endings.
    let cr = parse(&src("cr.prompty", "---\rmodel: x\r---\rHello {{ name }}\r")).expect("cr");
    assert_eq!(cr.metadata(), Some(&json!({"model": "x"})));
    assert_eq!(cr.template(), Some("Hello {{ name }}\r"));
    let engine = Engine::new();
    let r = render(&engine, &s, json!({"name": "Ada"})).expect("render");
    assert_eq!(r.text, "Hello Ada", "newlines as Jinja2 renders them: normalised, the last one dropped");
    assert_eq!(r.messages.expect("messages")[0].content, "Hello Ada");
}

/// Jinja2 keeps the newline after `{% raw %}` (trim_blocks only applies to `{% endraw %}`).
/// Expected values from Python Jinja2 3.1.6 with trim_blocks and lstrip_blocks.
#[test]
fn raw_block_keeps_the_newline_after_its_opening_tag() {
    let cases = [
        ("{% raw %}\n{{ a }}\n{% endraw %}\nz", "\n{{ a }}\nz"),
        ("  {% raw %}\nX{% endraw %}", "\nX"),
        ("abc  {% raw %}\nX{% endraw %}", "abc  \nX"),
        ("{% raw -%}\nX{% endraw %}", "X"),
        ("{% raw %}{{ inline }}{% endraw %} and {{ q }}", "{{ inline }} and why"),
    ];
    for (template, expected) in cases {
        assert_eq!(text("raw.jinja", template, serde_json::json!({"q": "why"})), expected, "{template:?}");
    }
}

/// minijinja's variable analysis does not see reads inside slices; the strict error must still
/// name the variable, and a variable given and read only in a slice is not "unused".
#[test]
fn variables_read_only_in_slices() {
    use promptctl_render::{Engine, NoLoader, RenderError, RenderOptions, Source};
    let engine = Engine::new();
    let native = Source::from_path(
        "s5.prompt.yaml",
        b"variables:\n  msgs: {type: array}\ntemplate: \"{% for m in msgs[::-1] %}{{m}}{% endfor %}\"\n".to_vec(),
    )
    .expect("src");
    match engine.render(&native, &serde_json::Map::new(), &NoLoader, &RenderOptions::new(0)) {
        Err(RenderError::MissingVariable { variable, .. }) => assert_eq!(variable, "msgs"),
        other => panic!("expected a missing `msgs`, got {other:?}"),
    }
    let plain = Source::from_path("s1.txt", b"{{ msgs[1:] }}".to_vec()).expect("src");
    let vars: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(r#"{"msgs": [1, 2, 3]}"#).expect("vars");
    let out = engine.render(&plain, &vars, &NoLoader, &RenderOptions::new(0)).expect("render");
    assert_eq!(out.text, "[2, 3]");
    assert!(out.warnings.iter().all(|w| !w.contains("msgs")), "{:?}", out.warnings);
}
