//! `dry-run` through the binary: offline plans, a real local HTTP server on 127.0.0.1, exit
//! codes, and a planted API key that must never appear in any output.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use crate::harness::Project;

const KEY: &str = "sk-test-PLANTED-7f3a9c1e5b";

/// A one-thread HTTP/1.1 server on 127.0.0.1 that answers every request with `status` and
/// `body`, and records each request's head and body.
struct Server {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

fn serve(status: u16, body: &'static str) -> Server {
    serve_after(status, body, 0)
}

/// Like `serve`, answering each request only after `delay_ms`.
fn serve_after(status: u16, body: &'static str, delay_ms: u64) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(20) {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().expect("clone"));
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut buf = vec![0u8; len];
            let _ = reader.read_exact(&mut buf);
            seen.lock().expect("lock").push(format!("{head}\n{}", String::from_utf8_lossy(&buf)));
            std::thread::sleep(std::time::Duration::from_millis(delay_ms));
            let reason = if status == 200 { "OK" } else { "Error" };
            let resp = format!(
                "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes());
        }
    });
    Server { url, requests }
}

const OK_BODY: &str = r#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"Refund summary: missing."},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":6}}"#;

fn project(base_url: &str, budget: &str) -> Project {
    let p = Project::with(&[(
        "summarize.prompt.yaml",
        "model: {route: default, max_tokens: 50}\nvariables:\n  ticket: {type: string}\nmessages:\n  - role: system\n    content: Be brief.\n  - role: user\n    content: \"Summarise: {{ ticket }}\"\n",
    )]);
    let config = format!(
        "providers:\n  local:\n    kind: openai\n    base_url: {base_url}/v1\n    model: gpt-4o\n    api_key_env: TEST_LLM_KEY\n    price_per_mtok: {{input: 2.5, output: 10}}\n    context_window: 128000\nrouting:\n  default:\n    primary: local\n    max_token_budget_usd: {budget}\n    latency_slo_ms: 3000\n"
    );
    std::fs::write(p.path().join("promptctl.yaml"), config).expect("config");
    p.run(&["commit", "-m", "one"]).ok();
    p
}

fn no_key(r: &crate::harness::Run) {
    assert!(!r.out().contains(KEY) && !r.stderr.contains(KEY), "the API key leaked:\n{}\n{}", r.out(), r.stderr);
}

#[test]
fn sends_through_the_route_to_a_local_server() {
    let server = serve(200, OK_BODY);
    let p = project(&server.url, "0.02");
    let before = p.state();
    let env = [("TEST_LLM_KEY", KEY)];
    let r = p.run_with(&["dry-run", "summarize", "--var", "ticket=refund missing"], &env).ok();
    no_key(&r);
    assert!(r.out().contains("Refund summary: missing."), "{}", r.out());
    let j = p.run_with(&["dry-run", "summarize", "--var", "ticket=refund missing", "--json"], &env).ok();
    no_key(&j);
    j.json();
    let reqs = server.requests.lock().expect("lock").clone();
    assert_eq!(reqs.len(), 2, "one request per dry-run");
    let req = &reqs[0];
    assert!(req.starts_with("POST /v1/chat/completions"), "{req}");
    assert!(
        req.contains(&format!("authorization: Bearer {KEY}")) || req.contains(&format!("Authorization: Bearer {KEY}"))
    );
    let body: serde_json::Value =
        serde_json::from_str(req.split("\n\n").last().expect("body").trim()).expect("json body");
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["messages"][1]["content"], "Summarise: refund missing");
    assert_eq!(body["max_tokens"], 50);
    assert_eq!(p.state(), before, "a dry-run changes nothing in the store");
}

#[test]
fn offline_shows_the_request_with_the_key_redacted_and_sends_nothing() {
    let server = serve(200, OK_BODY);
    let p = project(&server.url, "0.02");
    let r = p.run_with(&["dry-run", "summarize", "--var", "ticket=x", "--offline"], &[("TEST_LLM_KEY", KEY)]).ok();
    no_key(&r);
    assert!(r.out().contains("/v1/chat/completions"), "{}", r.out());
    let j = p
        .run_with(&["dry-run", "summarize", "--var", "ticket=x", "--offline", "--json"], &[("TEST_LLM_KEY", KEY)])
        .ok();
    no_key(&j);
    j.json();
    assert!(server.requests.lock().expect("lock").is_empty(), "offline sends nothing");
}

#[test]
fn every_target_failing_exits_7_after_exactly_one_retry() {
    let server = serve(500, r#"{"error":{"message":"boom","type":"server_error"}}"#);
    let p = project(&server.url, "0.02");
    let r = p.run_with(&["dry-run", "summarize", "--var", "ticket=x"], &[("TEST_LLM_KEY", KEY)]).code(7);
    no_key(&r);
    assert_eq!(server.requests.lock().expect("lock").len(), 2, "N=1 retry means exactly 2 calls");
}

#[test]
fn budget_refusal_exits_8_without_sending() {
    let server = serve(200, OK_BODY);
    let p = project(&server.url, "0.0000001");
    p.run_with(&["dry-run", "summarize", "--var", "ticket=x"], &[("TEST_LLM_KEY", KEY)]).code(8);
    assert!(server.requests.lock().expect("lock").is_empty(), "refused before sending");
}

#[test]
fn echo_works_offline_with_no_config_and_bad_vars_exit_4() {
    let p = Project::with(&[("hi.prompt.yaml", "variables:\n  n: {type: integer}\ntemplate: \"n={{ n }}\"\n")]);
    p.run(&["commit", "-m", "hi"]).ok();
    let r = p.run(&["dry-run", "hi", "--var", "n=3", "--provider", "echo"]).ok();
    assert!(r.out().contains("echo:"), "{}", r.out());
    assert!(r.out().contains("one provider (chosen by --provider)"), "{}", r.out());
    p.run(&["dry-run", "hi", "--var", "n=three", "--provider", "echo"]).code(4);
}

#[test]
fn a_slow_provider_does_not_hold_the_store() {
    let server = serve_after(200, OK_BODY, 2000);
    let p = project(&server.url, "0.02");
    let child = p
        .command(&["dry-run", "summarize", "--var", "ticket=x"])
        .env("TEST_LLM_KEY", KEY)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // Wait until the request is on the wire, then use the store from another process.
    let start = std::time::Instant::now();
    while server.requests.lock().expect("lock").is_empty() {
        assert!(start.elapsed().as_secs() < 10, "the dry-run never sent its request");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    p.run_with(&["get", "summarize", "--json"], &[("PROMPTCTL_LOCK_TIMEOUT_MS", "300")]).ok();
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn policy_errors_name_the_field_and_the_real_line() {
    let p = Project::with(&[("hi.txt", "hi")]);
    p.run(&["commit", "-m", "hi"]).ok();
    let cfg = "# comment\nprotected: [production]\nproviders:\n  e:\n    kind: echo\n    bas_url: x\nrouting:\n  default: {primary: e}\n";
    std::fs::write(p.path().join("promptctl.yaml"), cfg).expect("config");
    let r = p.run(&["dry-run", "hi", "--offline"]).code(4);
    assert!(
        r.stderr.contains("providers.e") && r.stderr.contains("bas_url") && r.stderr.contains("line 6"),
        "{}",
        r.stderr
    );
}

#[test]
fn usage_above_max_tokens_is_pointed_out() {
    const HUGE: &str = r#"{"id":"x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":30,"completion_tokens":10000000}}"#;
    let server = serve(200, HUGE);
    let p = project(&server.url, "0.02");
    let r = p.run_with(&["dry-run", "summarize", "--var", "ticket=x"], &[("TEST_LLM_KEY", KEY)]).ok();
    assert!(r.out().contains("reported 10000000 output tokens, more than the max_tokens 50 sent"), "{}", r.out());
}
