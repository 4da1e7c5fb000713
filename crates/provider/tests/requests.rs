//! Request bodies and headers of each provider kind, field by field, as received by a local
//! server — and the offline preview shows exactly what went on the wire.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use promptctl_provider::{ExitCategory, Message, Overrides};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

fn env() -> BTreeMap<String, String> {
    BTreeMap::from([("K".to_string(), "sk-test-abcdef123456".to_string())])
}

fn conversation() -> Vec<Message> {
    vec![
        Message::new("system", "You are a support analyst."),
        Message::new("developer", "Answer in English."),
        Message::new("user", "Summarise: my refund never arrived"),
        Message::new("assistant", "Which order?"),
        Message::new("user", "#123"),
    ]
}

async fn one(s: &MockServer) -> Request {
    let r = s.received_requests().await.unwrap();
    assert_eq!(r.len(), 1);
    r.into_iter().next().unwrap()
}

fn hdr(r: &Request, name: &str) -> Option<String> {
    r.headers.get(name).map(|v| v.to_str().unwrap().to_string())
}

fn body(r: &Request) -> Value {
    serde_json::from_slice(&r.body).unwrap()
}

fn single(kind_block: &str) -> promptctl_provider::PolicyConfig {
    policy(&format!("providers:\n  p:\n{kind_block}routing:\n  default:\n    targets: [p]\n    latency_slo_ms: 3000\n"))
}

#[tokio::test]
async fn openai_body_and_headers() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_ok("ok")))
        .mount(&s)
        .await;
    let p =
        single(&format!("    kind: openai\n    base_url: {}/v1/\n    model: gpt-4o\n    api_key_env: K\n", s.uri()));
    let model = json!({"temperature": 0.2, "top_p": 0.9, "stop": "END", "seed": 7, "max_tokens": 400});
    let dr = prepare_with(&p, model, Overrides::default(), &env(), conversation());
    let plan = dr.plan_offline();
    let r = dr.run().await;
    assert_eq!(r.outcome, ExitCategory::Success, "{}", dump(&r));
    let req = one(&s).await;
    assert_eq!(req.url.path(), "/v1/chat/completions");
    assert_eq!(hdr(&req, "authorization").as_deref(), Some("Bearer sk-test-abcdef123456"));
    assert_eq!(hdr(&req, "content-type").as_deref(), Some("application/json"));
    let b = body(&req);
    assert_eq!(
        b,
        json!({
            "model": "gpt-4o",
            "messages": [
                {"role": "system", "content": "You are a support analyst."},
                {"role": "developer", "content": "Answer in English."},
                {"role": "user", "content": "Summarise: my refund never arrived"},
                {"role": "assistant", "content": "Which order?"},
                {"role": "user", "content": "#123"}
            ],
            "temperature": 0.2, "top_p": 0.9, "stop": ["END"], "seed": 7, "max_tokens": 400
        })
    );
    assert!(b.get("stream").is_none());
    // The offline preview is the request that went out, key redacted.
    let pre = plan.targets[0].request.as_ref().unwrap();
    assert_eq!(pre.body, b);
    assert_eq!(pre.url, format!("{}/v1/chat/completions", s.uri()));
    assert_eq!(pre.headers[0].name, "Authorization");
    assert_eq!(pre.headers[0].value, "Bearer [redacted]");
}

#[tokio::test]
async fn openai_max_completion_tokens_by_model_and_by_config() {
    for (model, extra, field) in [
        ("o3-mini", "", "max_completion_tokens"),
        ("gpt-5", "", "max_completion_tokens"),
        ("gpt-4o-mini", "", "max_tokens"),
        ("llama3", "    max_tokens_param: max_completion_tokens\n", "max_completion_tokens"),
        ("o1", "    max_tokens_param: max_tokens\n", "max_tokens"),
    ] {
        let p = single(&format!("    kind: openai\n    base_url: http://127.0.0.1:9/v1\n    model: {model}\n{extra}"));
        let dr = prepare_with(&p, json!({"max_tokens": 50}), Overrides::default(), &env(), msgs());
        let b = dr.plan_offline().targets[0].request.clone().unwrap().body;
        assert_eq!(b[field], json!(50), "{model}: {b}");
        let other = if field == "max_tokens" { "max_completion_tokens" } else { "max_tokens" };
        assert!(b.get(other).is_none(), "{model}: {b}");
    }
}

#[tokio::test]
async fn openai_stream_body_asks_for_usage() {
    let p = single("    kind: openai\n    model: gpt-4o\n");
    let dr = prepare_with(&p, json!({"stream": true}), Overrides::default(), &env(), msgs());
    let pre = dr.plan_offline().targets[0].request.clone().unwrap();
    assert_eq!(pre.url, "https://api.openai.com/v1/chat/completions");
    assert_eq!(pre.body["stream"], json!(true));
    assert_eq!(pre.body["stream_options"], json!({"include_usage": true}));
    assert_eq!(pre.body["max_tokens"], json!(1024), "default output limit is always sent");
    // No api_key_env: no Authorization header at all (local servers).
    assert!(pre.headers.iter().all(|h| h.name != "Authorization"));
}

#[tokio::test]
async fn anthropic_body_and_headers() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_ok("Refund is on its way.")))
        .mount(&s)
        .await;
    let p = single(&format!(
        "    kind: anthropic\n    base_url: {}\n    model: claude-3-5-haiku-20241022\n    api_key_env: K\n    price_per_mtok: {{input: 0.8, output: 4}}\n",
        s.uri()
    ));
    let model = json!({"temperature": 0.5, "stop": ["\n\nHuman:"], "seed": 1});
    let dr = prepare_with(&p, model, Overrides::default(), &env(), conversation());
    let plan = dr.plan_offline();
    let r = dr.run().await;
    assert_eq!(r.outcome, ExitCategory::Success, "{}", dump(&r));
    let req = one(&s).await;
    assert_eq!(req.url.path(), "/v1/messages");
    assert_eq!(hdr(&req, "x-api-key").as_deref(), Some("sk-test-abcdef123456"));
    assert_eq!(hdr(&req, "anthropic-version").as_deref(), Some("2023-06-01"));
    assert_eq!(hdr(&req, "content-type").as_deref(), Some("application/json"));
    assert!(hdr(&req, "authorization").is_none());
    let b = body(&req);
    assert_eq!(
        b,
        json!({
            "model": "claude-3-5-haiku-20241022",
            "max_tokens": 1024,
            "system": "You are a support analyst.\n\nAnswer in English.",
            "messages": [
                {"role": "user", "content": "Summarise: my refund never arrived"},
                {"role": "assistant", "content": "Which order?"},
                {"role": "user", "content": "#123"}
            ],
            "temperature": 0.5,
            "stop_sequences": ["\n\nHuman:"]
        })
    );
    assert_eq!(plan.targets[0].request.as_ref().unwrap().body, b);
    assert!(plan.targets[0].notes.iter().any(|n| n.contains("seed")));
    let pre = plan.targets[0].request.as_ref().unwrap();
    assert!(pre.headers.iter().any(|h| h.name == "x-api-key" && h.value == "[redacted]"));
    assert_eq!(r.answer.as_ref().unwrap().text, "Refund is on its way.");
    assert_eq!(r.answer.as_ref().unwrap().finish_reason.as_deref(), Some("end_turn"));
    assert_eq!(r.tokens.as_ref().unwrap().input_tokens, 20);
    // 20 × 0.8 + 3 × 4 per million
    assert_eq!(r.cost_usd, Some(0.000028));

    // base_url ending in /v1 works too; stream adds `stream: true`; a tool role is refused.
    let p = single("    kind: anthropic\n    base_url: https://proxy.example/v1\n    model: claude-3-5-haiku-latest\n");
    let dr = prepare_with(&p, json!({"stream": true, "max_tokens": 99}), Overrides::default(), &env(), msgs());
    let pre = dr.plan_offline().targets[0].request.clone().unwrap();
    assert_eq!(pre.url, "https://proxy.example/v1/messages");
    assert_eq!(pre.body["stream"], json!(true));
    assert_eq!(pre.body["max_tokens"], json!(99));
    let dr = prepare_with(&p, Value::Null, Overrides::default(), &env(), vec![Message::new("system", "only")]);
    assert!(matches!(
        dr.plan_offline().targets[0].would_skip,
        Some(promptctl_provider::SkipReason::Unsupported { .. })
    ));
}

#[tokio::test]
async fn ollama_native_body_and_response() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "model": "llama3", "created_at": "2024-07-01T00:00:00Z",
            "message": {"role": "assistant", "content": "Hi!"},
            "done": true, "done_reason": "stop",
            "total_duration": 5_000_000_000u64, "load_duration": 3_000_000_000u64,
            "prompt_eval_count": 26, "eval_count": 3
        })))
        .mount(&s)
        .await;
    let p = single(&format!(
        "    kind: ollama\n    base_url: {}\n    model: llama3\n    context_window: 8192\n    price_per_mtok: {{input: 0, output: 0}}\n",
        s.uri()
    ));
    let dr = prepare_with(
        &p,
        json!({"temperature": 0, "max_tokens": 64, "stop": ["x"]}),
        Overrides::default(),
        &env(),
        conversation(),
    );
    let r = dr.run().await;
    assert_eq!(r.outcome, ExitCategory::Success, "{}", dump(&r));
    let b = body(&one(&s).await);
    assert_eq!(
        b,
        json!({
            "model": "llama3",
            "messages": [
                {"role": "system", "content": "You are a support analyst."},
                {"role": "system", "content": "Answer in English."},
                {"role": "user", "content": "Summarise: my refund never arrived"},
                {"role": "assistant", "content": "Which order?"},
                {"role": "user", "content": "#123"}
            ],
            "stream": false,
            "options": {"num_ctx": 8192, "num_predict": 64, "temperature": 0.0, "stop": ["x"]}
        })
    );
    let tk = r.tokens.unwrap();
    assert_eq!((tk.input_tokens, tk.output_tokens), (26, 3));
    assert_eq!(r.cost_usd, Some(0.0));
}

#[tokio::test]
async fn ollama_stream_ndjson() {
    let s = raw_server(vec![
        stream_head("application/x-ndjson"),
        send("{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"He\"},\"done\":false}\n"),
        send("{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"llo\"},\"done\":false}\n{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"\"},\"done\":true,\"done_reason\":\"stop\",\"prompt_eval_count\":30,\"eval_count\":2}\n"),
    ])
    .await;
    let p = single(&format!("    kind: ollama\n    base_url: {}\n    model: llama3\n", s.url()));
    let r = prepare_with(&p, json!({"stream": true}), Overrides::default(), &env(), msgs()).run().await;
    assert_eq!(r.answer.as_ref().map(|a| a.text.as_str()), Some("Hello"), "{}", dump(&r));
    assert!(s.bodies.lock().unwrap()[0].contains("\"stream\":true"));
    assert!(r.attempts[0].time_to_first_token_ms.is_some());
}

#[tokio::test]
async fn anthropic_stream_events() {
    let s = raw_server(vec![
        stream_head("text/event-stream"),
        send("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"model\":\"claude-3-5-haiku-20241022\",\"usage\":{\"input_tokens\":25,\"output_tokens\":1}}}\n\n"),
        send("event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\nevent: ping\ndata: {\"type\": \"ping\"}\n\n"),
        send("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Hello\"}}\n\n"),
        send("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" there\"}}\n\nevent: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"),
        send("event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\"},\"usage\":{\"output_tokens\":15}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"),
    ])
    .await;
    let p = single(&format!("    kind: anthropic\n    base_url: {}\n    model: claude-3-5-haiku-20241022\n", s.url()));
    let r = prepare_with(&p, json!({"stream": true}), Overrides::default(), &env(), msgs()).run().await;
    let a = r.answer.as_ref().unwrap();
    assert_eq!(a.text, "Hello there");
    assert_eq!(a.finish_reason.as_deref(), Some("end_turn"));
    let tk = r.tokens.as_ref().unwrap();
    assert_eq!((tk.input_tokens, tk.output_tokens), (25, 15));
}

#[tokio::test]
async fn ollama_silent_truncation_is_detected() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "model": "llama3", "message": {"role": "assistant", "content": "?"},
            "done": true, "done_reason": "stop", "prompt_eval_count": 512, "eval_count": 1
        })))
        .mount(&s)
        .await;
    let long = vec![Message::new("user", "The refund ticket text. ".repeat(400))];
    // No context_window: num_ctx not sent, the server's default applied -> truncation error.
    let p = policy(&format!(
        "providers:\n  o:\n    kind: ollama\n    base_url: {}\n    model: llama3\n  e:\n    kind: echo\nrouting:\n  default:\n    targets: [o, e]\n",
        s.uri()
    ));
    let r = prepare_with(&p, Value::Null, Overrides::default(), &env(), long.clone()).run().await;
    assert_eq!(r.attempts[0].outcome, "context_truncated", "{}", dump(&r));
    assert_eq!(r.answered_by.as_deref(), Some("e"));
    // With context_window set (sent as num_ctx) a low count is only a note (prompt cache).
    let p =
        single(&format!("    kind: ollama\n    base_url: {}\n    model: llama3\n    context_window: 32768\n", s.uri()));
    let r = prepare_with(&p, Value::Null, Overrides::default(), &env(), long).run().await;
    assert_eq!(r.outcome, ExitCategory::Success);
    assert!(r.attempts[0].note.as_deref().unwrap().contains("evaluated 512"));
}

#[tokio::test]
async fn echo_is_offline_and_deterministic() {
    let p = policy("providers: {}\nrouting: {}\n");
    let ov = Overrides { provider: Some("echo".into()), route: None };
    let a = prepare_with(&p, json!({"temperature": 0}), ov.clone(), &env(), msgs()).run().await;
    let b = prepare_with(&p, json!({"temperature": 0}), ov.clone(), &env(), msgs()).run().await;
    let (ta, tb) = (a.answer.unwrap().text, b.answer.unwrap().text);
    assert_eq!(ta, tb);
    let plan = prepare_with(&p, json!({"temperature": 0}), ov.clone(), &env(), msgs()).plan_offline();
    let body = &plan.targets[0].request.as_ref().unwrap().body;
    let digest = blake3::hash(&serde_json::to_vec(body).unwrap()).to_hex().to_string();
    assert!(ta.contains(&digest), "{ta}");
    assert_eq!(a.tokens.unwrap().input_tokens, promptctl_provider::ECHO_USAGE.input_tokens);
    let c = prepare_with(&p, json!({"temperature": 1}), ov, &env(), msgs()).run().await;
    assert_ne!(c.answer.unwrap().text, ta, "digest covers the parameters");
}
