//! A planted API key must appear in no output mode: offline text and JSON, live text and JSON,
//! Debug of every public value, and errors — even when servers echo it back at us.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use promptctl_provider::{DryRun, DryRunInput, Message, Overrides};
use serde_json::{json, Value};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const KEY: &str = "sk-PLANTED-7f3a9c2e5b1d4e6f";

/// Answers with whatever key it was sent, in the answer text.
struct EchoKey;
impl Respond for EchoKey {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        let k = req
            .headers
            .get("x-api-key")
            .or_else(|| req.headers.get("authorization"))
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        ResponseTemplate::new(200).set_body_json(json!({
            "type": "message", "model": format!("model-{k}"),
            "content": [{"type": "text", "text": format!("you sent {k}")}],
            "stop_reason": format!("stop {k}"), "usage": {"input_tokens": 1, "output_tokens": 1}
        }))
    }
}

fn assert_clean(what: &str, s: &str) {
    assert!(!s.contains(KEY), "{what} leaks the key:\n{s}");
    // Nor a recognisable part of it.
    assert!(!s.contains("7f3a9c2e5b1d"), "{what} leaks part of the key:\n{s}");
}

#[tokio::test]
async fn planted_key_appears_in_no_output() {
    let e401 = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": {
            "message": format!("Incorrect API key provided: {KEY}."), "type": "invalid_request_error",
            "code": KEY}})))
        .mount(&e401)
        .await;
    let html = raw_server(vec![full_response(
        "503 Service Unavailable",
        "text/html",
        &format!("<html><title>down for {KEY}</title><body>Authorization: Bearer {KEY}</body></html>"),
    )])
    .await;
    let stream_err = raw_server(vec![
        stream_head("text/event-stream"),
        send(&format!("data: {{\"choices\":[{{\"delta\":{{\"content\":\"{KEY}\"}}}}]}}\n\n")),
        send(&format!("data: {{\"error\":{{\"message\":\"bad key {KEY}\",\"type\":\"server_error\"}}}}\n\n")),
    ])
    .await;
    let oll = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_json(json!({"error": format!("key {KEY} rejected")})))
        .mount(&oll)
        .await;
    let silent = silent_server().await;
    let echo_key = MockServer::start().await;
    Mock::given(method("POST")).respond_with(EchoKey).mount(&echo_key).await;

    let y = format!(
        "providers:
  e401: {{kind: openai, base_url: '{}/v1', model: gpt-4o, api_key_env: PLANTED}}
  html: {{kind: openai, base_url: '{}/v1', model: gpt-4o, api_key_env: PLANTED}}
  stream: {{kind: openai, base_url: '{}/v1', model: gpt-4o, api_key_env: PLANTED}}
  oll: {{kind: ollama, base_url: '{}', model: llama3, api_key_env: PLANTED}}
  silent: {{kind: anthropic, base_url: '{}', model: claude, api_key_env: PLANTED}}
  down: {{kind: openai, base_url: 'http://127.0.0.1:9/v1', model: gpt-4o, api_key_env: PLANTED}}
  echokey: {{kind: anthropic, base_url: '{}', model: claude, api_key_env: PLANTED}}
routing:
  default:
    targets: [e401, html, stream, oll, silent, down, echokey]
    latency_slo_ms: 4000
    attempt_timeout_ms: 300
    retry_backoff_ms: 5
",
        e401.uri(),
        html.url(),
        stream_err.url(),
        oll.uri(),
        silent.url(),
        echo_key.uri()
    );
    let p = policy(&y);
    let env = BTreeMap::from([("PLANTED".to_string(), KEY.to_string())]);
    // The prompt itself carries the key too (a user pasted it into a variable).
    let messages = vec![Message::new("system", "Be brief."), Message::new("user", format!("my key is {KEY}"))];
    for stream in [false, true] {
        let dr = prepare_with(&p, json!({"stream": stream}), Overrides::default(), &env, messages.clone());
        assert_clean("DryRun Debug", &format!("{dr:?}"));
        let plan = dr.plan_offline();
        assert_clean("offline text", &plan.to_string());
        assert_clean("offline JSON", &serde_json::to_string(&plan).unwrap());
        assert_clean("offline Debug", &format!("{plan:?}"));
        let r = dr.run().await;
        let text = r.to_string();
        let json = serde_json::to_string_pretty(&r).unwrap();
        assert_clean("live text", &text);
        assert_clean("live JSON", &json);
        assert_clean("live Debug", &format!("{r:?}"));
        // Make sure the test exercised what it claims: the key was really sent, and the
        // servers' echoes of it reached the report (as [redacted]).
        assert_eq!(r.answered_by.as_deref(), Some("echokey"), "{text}");
        assert!(r.answer.as_ref().unwrap().text.contains("you sent [redacted]"), "{text}");
        assert!(json.contains("Incorrect API key provided: [redacted]"), "{json}");
        assert!(text.contains("[redacted]"));
    }
    let sent = e401.received_requests().await.unwrap();
    assert_eq!(sent[0].headers.get("authorization").unwrap().to_str().unwrap(), format!("Bearer {KEY}"));
    assert!(silent.count() >= 1 && html.count() >= 1 && stream_err.count() >= 1);
}

#[test]
fn errors_and_config_never_hold_the_key() {
    // A key pasted where the variable *name* belongs is refused without echoing it.
    let y = format!("providers:\n  a: {{kind: openai, model: gpt-4o, api_key_env: '{KEY}'}}\n");
    let e = promptctl_provider::PolicyConfig::from_yaml_str(&y).unwrap_err();
    assert_clean("config error", &e.to_string());
    assert_clean("config error Debug", &format!("{e:?}"));
    assert!(e.to_string().contains("providers.a.api_key_env"), "{e}");
    // Prepare errors are built from names only.
    let p = policy("providers:\n  a: {kind: openai, model: gpt-4o, api_key_env: PLANTED}\nrouting: {}\n");
    let env = |_: &str| Some(KEY.to_string());
    let e = DryRun::prepare(DryRunInput {
        policy: &p,
        messages: vec![Message::new("user", "x")],
        model: &json!({"route": "nope"}),
        overrides: Overrides::default(),
        env: &env,
    })
    .unwrap_err();
    assert_clean("prepare error", &format!("{e} {e:?}"));
    let k = promptctl_provider::ApiKey::new(KEY);
    assert_clean("ApiKey", &format!("{k} {k:?}"));
    let _ = Value::Null;
}
