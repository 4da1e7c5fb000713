//! The ten fault cases of PROVIDERS.md, each against real servers on 127.0.0.1, counting the
//! requests every server received.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use promptctl_provider::{ExitCategory, TargetStatus};
use serde_json::json;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

async fn ok_server() -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/chat/completions"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_ok("fallback says hi")))
        .mount(&s)
        .await;
    s
}

fn openai(id: &str, base: &str) -> String {
    format!("  {id}:\n    kind: openai\n    base_url: {base}\n    model: gpt-4o-mini\n    price_per_mtok: {{input: 0.15, output: 0.60}}\n")
}

fn anthropic(id: &str, base: &str) -> String {
    format!("  {id}:\n    kind: anthropic\n    base_url: {base}\n    model: claude-3-5-haiku-20241022\n    price_per_mtok: {{input: 0.80, output: 4.00}}\n")
}

fn ollama(id: &str, base: &str) -> String {
    format!("  {id}:\n    kind: ollama\n    base_url: {base}\n    model: llama3\n    price_per_mtok: {{input: 0, output: 0}}\n")
}

/// providers + one route `r` with `targets` and extra route settings.
fn yaml(providers: &[String], targets: &[&str], route_extra: &str) -> String {
    let mut y = String::from("providers:\n");
    for p in providers {
        y.push_str(p);
    }
    y.push_str("routing:\n  default:\n    targets: [");
    y.push_str(&targets.join(", "));
    y.push_str("]\n");
    for line in route_extra.lines().filter(|l| !l.trim().is_empty()) {
        y.push_str("    ");
        y.push_str(line.trim());
        y.push('\n');
    }
    y
}

// 1. 429 with Retry-After
#[tokio::test]
async fn f1_429_retry_after_is_honoured() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after-ms", "300").set_body_json(
            json!({"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}),
        ))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(openai_ok("hi")))
        .with_priority(2)
        .mount(&s)
        .await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[openai("a", &format!("{}/v1", s.uri())), openai("b", &format!("{}/v1", fb.uri()))],
        &["a", "b"],
        "latency_slo_ms: 3000",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(r.outcome, ExitCategory::Success, "{d}");
    assert_eq!(r.answered_by.as_deref(), Some("a"), "{d}");
    assert_eq!(hits(&s).await, 2, "{d}");
    assert_eq!(hits(&fb).await, 0, "{d}");
    assert_eq!(r.attempts[0].outcome, "rate_limited");
    assert_eq!(r.attempts[0].status, Some(429));
    assert_eq!(r.attempts[0].retry_wait_ms, Some(300));
    assert!(r.total_ms >= 300, "{d}");
}

#[tokio::test]
async fn f1_retry_after_past_deadline_falls_over_now() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "5").set_body_json(
            json!({"error": {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"}}),
        ))
        .mount(&s)
        .await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[openai("a", &format!("{}/v1", s.uri())), openai("b", &format!("{}/v1", fb.uri()))],
        &["a", "b"],
        "latency_slo_ms: 1000\nretries_per_target: 3",
    ));
    let t0 = Instant::now();
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert!(t0.elapsed() < Duration::from_millis(500), "{d}");
    assert_eq!(hits(&s).await, 1, "{d}");
    assert_eq!(hits(&fb).await, 1, "{d}");
    assert_eq!(r.answered_by.as_deref(), Some("b"));
    assert!(r.attempts[0].note.as_deref().unwrap_or("").contains("falling over now"));
    assert_eq!(r.attempts[0].retry_wait_ms, None);
}

#[tokio::test]
async fn f1_quota_and_spend_limit_429_are_final() {
    let q = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"error": {
            "message": "You exceeded your current quota, please check your plan and billing details.",
            "type": "insufficient_quota", "param": null, "code": "insufficient_quota"}})))
        .mount(&q)
        .await;
    let sp = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(429).set_body_json(json!({"type": "error", "error": {
            "type": "rate_limit_error", "message": "enforced_spend_limit_reached: your workspace reached its spend limit"}})))
        .mount(&sp)
        .await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[
            openai("quota", &format!("{}/v1", q.uri())),
            anthropic("spend", &sp.uri()),
            openai("ok", &format!("{}/v1", fb.uri())),
        ],
        &["quota", "spend", "ok"],
        "latency_slo_ms: 3000\nretries_per_target: 3",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(hits(&q).await, 1, "{d}");
    assert_eq!(hits(&sp).await, 1, "{d}");
    assert_eq!(r.answered_by.as_deref(), Some("ok"), "{d}");
    for a in &r.attempts[..2] {
        assert_eq!(a.outcome, "quota_exhausted", "{d}");
        assert!(a.misconfigured);
    }
    assert_eq!(r.targets[0].status, TargetStatus::Misconfigured);
}

// 2. Stacked retries
#[tokio::test]
async fn f2_exactly_n_plus_one_calls_then_next_target() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"error": {"message": "The server had an error", "type": "server_error"}})),
        )
        .mount(&s)
        .await;
    let fb = ok_server().await;
    for retries in [0u32, 1, 2] {
        s.reset().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(500).set_body_string("oops")).mount(&s).await;
        fb.reset().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(200).set_body_json(openai_ok("hi")))
            .mount(&fb)
            .await;
        let p = policy(&yaml(
            &[openai("a", &format!("{}/v1", s.uri())), openai("b", &format!("{}/v1", fb.uri()))],
            &["a", "b"],
            &format!("latency_slo_ms: 3000\nretries_per_target: {retries}\nretry_backoff_ms: 10"),
        ));
        let r = prepare(&p).run().await;
        let d = dump(&r);
        assert_eq!(hits(&s).await, retries as usize + 1, "{d}");
        assert_eq!(hits(&fb).await, 1, "{d}");
        assert_eq!(r.answered_by.as_deref(), Some("b"));
        assert_eq!(r.attempts.len(), retries as usize + 2);
        assert!(r.attempts[..=retries as usize].iter().all(|a| a.outcome == "server_error" && a.status == Some(500)));
    }
    // The default is one retry; a per-provider `retries` overrides the route.
    let p = policy(&format!(
        "providers:\n{}  b:\n    kind: echo\nrouting:\n  default:\n    targets: [a, b]\n    retry_backoff_ms: 10\n",
        openai("a", &format!("{}/v1", s.uri())).replace("price_per_mtok", "retries: 4\n    price_per_mtok")
    ));
    s.reset().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).mount(&s).await;
    let r = prepare(&p).run().await;
    assert_eq!(hits(&s).await, 5, "{}", dump(&r));
    assert_eq!(r.answered_by.as_deref(), Some("b"));
}

#[tokio::test]
async fn f2_anthropic_529_overloaded_is_retried() {
    let s = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/messages"))
        .respond_with(
            ResponseTemplate::new(529).set_body_json(
                json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}),
            ),
        )
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&s)
        .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(anthropic_ok("hi")))
        .with_priority(2)
        .mount(&s)
        .await;
    let p = policy(&yaml(&[anthropic("a", &s.uri())], &["a"], "latency_slo_ms: 3000\nretry_backoff_ms: 10"));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(hits(&s).await, 2, "{d}");
    assert_eq!(r.attempts[0].outcome, "overloaded");
    assert_eq!(r.attempts[0].status, Some(529));
    assert_eq!(r.attempts[0].retry_wait_ms, Some(10));
    assert_eq!(r.outcome, ExitCategory::Success);
}

// 3. Silent upstream
#[tokio::test]
async fn f3_silent_primary_shares_the_deadline_and_is_not_retried() {
    let silent = silent_server().await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[openai("silent", &format!("{}/v1", silent.url())), openai("ok", &format!("{}/v1", fb.uri()))],
        &["silent", "ok"],
        "latency_slo_ms: 1200\nretries_per_target: 3",
    ));
    let t0 = Instant::now();
    let r = prepare(&p).run().await;
    let elapsed = t0.elapsed();
    let d = dump(&r);
    assert_eq!(silent.count(), 1, "timed-out target must not be retried: {d}");
    assert_eq!(hits(&fb).await, 1, "{d}");
    assert_eq!(r.answered_by.as_deref(), Some("ok"), "{d}");
    assert_eq!(r.attempts[0].outcome, "timeout");
    assert!(elapsed < Duration::from_millis(1250), "{elapsed:?} {d}");
    assert!(r.within_slo);
}

#[tokio::test]
async fn f3_timeouts_never_add_up() {
    let s1 = silent_server().await;
    let s2 = silent_server().await;
    let s3 = silent_server().await;
    let p = policy(&yaml(
        &[openai("s1", &format!("{}/v1", s1.url())), anthropic("s2", &s2.url()), ollama("s3", &s3.url())],
        &["s1", "s2", "s3"],
        "latency_slo_ms: 900",
    ));
    let t0 = Instant::now();
    let r = prepare(&p).run().await;
    let elapsed = t0.elapsed();
    let d = dump(&r);
    assert_eq!(r.outcome, ExitCategory::AllTargetsFailed, "{d}");
    assert!(elapsed >= Duration::from_millis(850), "{elapsed:?}");
    // Added up they would take 3 × 900 ms; the margin is for a loaded CI machine.
    assert!(elapsed < Duration::from_millis(1200), "{elapsed:?} {d}");
    for s in [&s1, &s2, &s3] {
        assert_eq!(s.count(), 1, "{d}");
    }
    assert!(r.attempts.iter().all(|a| a.outcome == "timeout"), "{d}");
}

// 4. Slow first token
fn sse_ping_loop(n: usize, every: Duration) -> Vec<Step> {
    let mut v = vec![stream_head("text/event-stream")];
    v.push(send("data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"}}]}\n\n"));
    for _ in 0..n {
        v.push(send(": keep-alive\n\n"));
        v.push(send("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}\n\n"));
        v.push(Step::Sleep(every));
    }
    v.push(send(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n",
    ));
    v
}

#[tokio::test]
async fn f4_first_token_limit_ignores_pings_and_empty_deltas() {
    let slow = raw_server(sse_ping_loop(40, Duration::from_millis(50))).await;
    let mut anth = vec![stream_head("text/event-stream")];
    anth.push(send("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude\",\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n"));
    for _ in 0..40 {
        anth.push(send("event: ping\ndata: {\"type\": \"ping\"}\n\n"));
        anth.push(send("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"\"}}\n\n"));
        anth.push(Step::Sleep(Duration::from_millis(50)));
    }
    let slow_a = raw_server(anth).await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[
            openai("slow", &format!("{}/v1", slow.url())),
            anthropic("slow-a", &slow_a.url()),
            openai("ok", &format!("{}/v1", fb.uri())),
        ],
        &["slow", "slow-a", "ok"],
        "latency_slo_ms: 3000\nstream: true\nfirst_token_timeout_ms: 300",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(slow.count(), 1, "{d}");
    assert_eq!(slow_a.count(), 1, "{d}");
    assert_eq!(r.answered_by.as_deref(), Some("ok"), "{d}");
    for a in &r.attempts[..2] {
        assert_eq!(a.outcome, "first_token_timeout", "{d}");
        assert!(a.latency_ms >= 290 && a.latency_ms < 700, "{d}");
    }
}

#[tokio::test]
async fn f4_first_token_in_time_streams_to_success() {
    let mut v = vec![stream_head("text/event-stream"), Step::Sleep(Duration::from_millis(100))];
    v.push(send("data: {\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"}}]}\n\n"));
    v.push(Step::Sleep(Duration::from_millis(400)));
    v.push(send("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":\"stop\"}]}\n\ndata: {\"choices\":null,\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":2}}\n\ndata: [DONE]\n\n"));
    let s = raw_server(v).await;
    let p = policy(&yaml(
        &[openai("a", &format!("{}/v1", s.url()))],
        &["a"],
        "latency_slo_ms: 3000\nstream: true\nfirst_token_timeout_ms: 800",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(r.outcome, ExitCategory::Success, "{d}");
    let a = r.answer.as_ref().unwrap();
    assert_eq!(a.text, "Hello");
    let ttft = r.attempts[0].time_to_first_token_ms.unwrap();
    assert!((90..800).contains(&ttft), "{d}");
    let tk = r.tokens.as_ref().unwrap();
    assert_eq!((tk.input_tokens, tk.output_tokens), (12, 2));
}

// 5. HTTP 200 then an error
#[tokio::test]
async fn f5_error_in_200_body_and_mid_stream_is_never_success() {
    let e200 = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(
            json!({"error": {"message": "The server had an error while processing your request", "type": "server_error", "code": null}}),
        ))
        .mount(&e200)
        .await;
    let a200 = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"type": "error", "error": {"type": "not_found_error", "message": "model: claude-3-5-sonnet-20241022"}})))
        .mount(&a200)
        .await;
    let oll = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/chat"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"error": "model 'llama9' not found, try pulling it first"})),
        )
        .mount(&oll)
        .await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[
            openai("e200", &format!("{}/v1", e200.uri())),
            anthropic("a200", &a200.uri()),
            ollama("oll", &oll.uri()),
            openai("ok", &format!("{}/v1", fb.uri())),
        ],
        &["e200", "a200", "oll", "ok"],
        "latency_slo_ms: 5000\nretry_backoff_ms: 10",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(r.answered_by.as_deref(), Some("ok"), "{d}");
    // server_error in a 200 is retryable like a 500: 1 + 1 retry.
    assert_eq!(hits(&e200).await, 2, "{d}");
    assert_eq!(hits(&a200).await, 1, "{d}");
    assert_eq!(hits(&oll).await, 1, "{d}");
    let outcomes: Vec<&str> = r.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["server_error", "server_error", "not_found", "not_found", "success"], "{d}");
    assert!(r.attempts[2].misconfigured && r.attempts[3].misconfigured);
    assert!(r.attempts[0].error.as_deref().unwrap().contains("in an HTTP 200 body"), "{d}");
}

#[tokio::test]
async fn f5_error_event_mid_stream_is_classified() {
    let mid = raw_server(vec![
        stream_head("text/event-stream"),
        send("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"model\":\"claude\",\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n"),
        send("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Partial answ\"}}\n\n"),
        send("event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n"),
    ])
    .await;
    let mid_o = raw_server(vec![
        stream_head("text/event-stream"),
        send("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Half\"}}]}\n\n"),
        send("data: {\"error\":{\"message\":\"Invalid API key in stream\",\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}\n\n"),
    ])
    .await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[
            anthropic("mid", &mid.url()),
            openai("mid-o", &format!("{}/v1", mid_o.url())),
            openai("ok", &format!("{}/v1", fb.uri())),
        ],
        &["mid", "mid-o", "ok"],
        "latency_slo_ms: 5000\nretries_per_target: 0\nstream: true",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(r.answered_by.as_deref(), Some("ok"), "{d}");
    assert_eq!(mid.count(), 1);
    assert_eq!(mid_o.count(), 1);
    assert_eq!(r.attempts[0].outcome, "overloaded", "{d}");
    assert_eq!(r.attempts[0].status, Some(200), "{d}");
    assert_eq!(r.attempts[1].outcome, "unauthorized", "{d}");
    assert!(r.attempts[1].misconfigured);
}

// 6. Truncated stream
#[tokio::test]
async fn f6_truncated_streams_are_errors_and_charged() {
    let o = raw_server(vec![
        stream_head("text/event-stream"),
        send("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Once upon\"}}]}\n\n"),
        send("data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" a time\"}}]}\n\n"),
    ])
    .await;
    let a = raw_server(vec![
        stream_head("text/event-stream"),
        send("event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n"),
        send("event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Once\"}}\n\n"),
    ])
    .await;
    let n = raw_server(vec![
        stream_head("application/x-ndjson"),
        send("{\"model\":\"llama3\",\"message\":{\"role\":\"assistant\",\"content\":\"Once\"},\"done\":false}\n"),
        send("{\"model\":\"llama3\",\"message\":{\"role\":\"assis"),
    ])
    .await;
    // Chunked transfer cut in the middle of a chunk: a body error rather than a clean EOF.
    let c = raw_server(vec![
        send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"),
        send("40\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\n"),
    ])
    .await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[
            openai("o", &format!("{}/v1", o.url())).replace("0.15", "2.50").replace("0.60", "10.00"),
            anthropic("a", &a.url()),
            ollama("n", &n.url()),
            openai("c", &format!("{}/v1", c.url())),
            openai("ok", &format!("{}/v1", fb.uri())),
        ],
        &["o", "a", "n", "c", "ok"],
        "latency_slo_ms: 5000\nretries_per_target: 2\nstream: true\nmax_token_budget_usd: 1.0",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(r.answered_by.as_deref(), Some("ok"), "{d}");
    for s in [&o, &a, &n, &c] {
        assert_eq!(s.count(), 1, "truncation is not retried: {d}");
    }
    for at in &r.attempts[..4] {
        assert_eq!(at.outcome, "truncated_response", "{d}");
    }
    // Streamed tokens count against the budget: input + 2 deltas' worth at gpt-4o prices.
    let charged = r.attempts[0].charged_usd.unwrap();
    let worst = r.attempts[0].worst_case_cost_usd.unwrap();
    assert!(charged > 0.0 && charged < worst, "{d}");
    assert!(r.spent_usd.unwrap() >= charged);
}

// 7. Malformed body
#[tokio::test]
async fn f7_malformed_bodies_are_named_errors() {
    let bad_json = raw_server(vec![full_response("200 OK", "application/json", "{\"choices\": [")]).await;
    let null_choices = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"id": "x", "choices": null, "usage": null})))
        .mount(&null_choices)
        .await;
    let html = raw_server(vec![full_response(
        "200 OK",
        "text/html",
        "<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>blocked</body></html>",
    )])
    .await;
    let plain = raw_server(vec![full_response(
        "502 Bad Gateway",
        "text/plain",
        "upstream connect error or disconnect/reset before headers",
    )])
    .await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[
            openai("bad-json", &format!("{}/v1", bad_json.url())),
            openai("null-choices", &format!("{}/v1", null_choices.uri())),
            anthropic("html", &html.url()),
            openai("plain", &format!("{}/v1", plain.url())),
            openai("ok", &format!("{}/v1", fb.uri())),
        ],
        &["bad-json", "null-choices", "html", "plain", "ok"],
        "latency_slo_ms: 5000\nretry_backoff_ms: 10",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(r.answered_by.as_deref(), Some("ok"), "{d}");
    assert_eq!(bad_json.count(), 1);
    assert_eq!(hits(&null_choices).await, 1);
    assert_eq!(html.count(), 1);
    assert_eq!(plain.count(), 2, "a 502 is retryable: {d}");
    let e = |i: usize| r.attempts[i].error.clone().unwrap();
    assert_eq!(r.attempts[0].outcome, "malformed_response");
    assert!(e(0).starts_with("bad-json: invalid JSON"), "{d}");
    assert!(e(1).starts_with("null-choices: ") && e(1).contains("`choices` is null"), "{d}");
    assert!(e(2).starts_with("html: ") && e(2).contains("HTML page") && e(2).contains("Cloudflare"), "{d}");
    assert_eq!(r.attempts[3].outcome, "server_error");
    assert!(e(3).contains("upstream connect error"), "{d}");
}

// 8. Context window exceeded
#[tokio::test]
async fn f8_context_window_refused_before_sending_and_never_retried() {
    let small = ok_server().await;
    let ctx = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(400).set_body_json(json!({"error": {
            "message": "This model's maximum context length is 8192 tokens. However, your messages resulted in 9000 tokens.",
            "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})))
        .mount(&ctx)
        .await;
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[
            openai("small", &format!("{}/v1", small.uri()))
                .replace("gpt-4o-mini", "gpt-4o-mini\n    context_window: 100"),
            openai("ctx", &format!("{}/v1", ctx.uri())),
            openai("ok", &format!("{}/v1", fb.uri())),
        ],
        &["small", "ctx", "ok"],
        "latency_slo_ms: 3000\nretries_per_target: 3",
    ));
    let long = vec![promptctl_provider::Message::new("user", "word ".repeat(600))];
    let dr = prepare_with(&p, serde_json::Value::Null, Default::default(), &Default::default(), long);
    let plan = dr.plan_offline();
    assert!(matches!(
        plan.targets[0].would_skip,
        Some(promptctl_provider::SkipReason::ContextWindowExceeded { context_window: 100, .. })
    ));
    let r = dr.run().await;
    let d = dump(&r);
    assert_eq!(hits(&small).await, 0, "{d}");
    assert_eq!(hits(&ctx).await, 1, "{d}");
    assert_eq!(r.answered_by.as_deref(), Some("ok"));
    assert_eq!(r.targets[0].status, TargetStatus::Skipped);
    assert_eq!(r.attempts[0].target, "ctx");
    assert_eq!(r.attempts[0].outcome, "context_length_exceeded");
}

// 9. Non-retryable 4xx
#[tokio::test]
async fn f9_non_retryable_4xx_fall_over_as_misconfigured() {
    async fn with(status: u16, body: serde_json::Value) -> MockServer {
        let s = MockServer::start().await;
        Mock::given(method("POST")).respond_with(ResponseTemplate::new(status).set_body_json(body)).mount(&s).await;
        s
    }
    let s401 = with(401, json!({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}})).await;
    let s403 = with(403, json!({"error": {"message": "Country, region, or territory not supported", "type": "request_forbidden", "code": "unsupported_country_region_territory"}})).await;
    let s404 = with(
        404,
        json!({"type": "error", "error": {"type": "not_found_error", "message": "model: claude-3-5-sonnet-20241022"}}),
    )
    .await;
    let s400 = with(400, json!({"error": {"message": "Unsupported parameter: 'max_tokens' is not supported with this model. Use 'max_completion_tokens' instead.", "type": "invalid_request_error", "param": "max_tokens", "code": "unsupported_parameter"}})).await;
    let s422 =
        with(422, json!({"detail": [{"type": "missing", "loc": ["body", "model"], "msg": "Field required"}]})).await;
    let p = policy(&yaml(
        &[
            openai("k401", &format!("{}/v1", s401.uri())),
            openai("k403", &format!("{}/v1", s403.uri())),
            anthropic("k404", &s404.uri()),
            openai("k400", &format!("{}/v1", s400.uri())),
            openai("k422", &format!("{}/v1", s422.uri())),
            "  e:\n    kind: echo\n".to_string(),
        ],
        &["k401", "k403", "k404", "k400", "k422", "e"],
        "latency_slo_ms: 3000\nretries_per_target: 3",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    for s in [&s401, &s403, &s404, &s400, &s422] {
        assert_eq!(hits(s).await, 1, "{d}");
    }
    let outcomes: Vec<&str> = r.attempts.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        ["unauthorized", "forbidden", "not_found", "invalid_request", "invalid_request", "success"],
        "{d}"
    );
    assert!(r.attempts[..5].iter().all(|a| a.misconfigured), "{d}");
    assert!(r.targets[..5].iter().all(|t| t.status == TargetStatus::Misconfigured));
    assert!(r.attempts[3].error.as_deref().unwrap().contains("max_completion_tokens"));
    assert_eq!(r.answered_by.as_deref(), Some("e"));
    println!("{r}");
    assert!(format!("{r}").contains("(misconfigured)"));
}

#[tokio::test]
async fn missing_key_is_skipped_without_a_request() {
    let s = ok_server().await;
    let p = policy(&format!(
        "providers:\n  a:\n    kind: openai\n    base_url: {}/v1\n    model: gpt-4o\n    api_key_env: PROMPTCTL_TEST_UNSET_KEY\n  e:\n    kind: echo\nrouting:\n  default:\n    targets: [a, e]\n",
        s.uri()
    ));
    let r = prepare(&p).run().await;
    assert_eq!(hits(&s).await, 0);
    assert_eq!(r.targets[0].status, TargetStatus::Misconfigured);
    assert!(r.targets[0].reason.as_deref().unwrap().contains("PROMPTCTL_TEST_UNSET_KEY"));
    assert_eq!(r.answered_by.as_deref(), Some("e"));
}

#[tokio::test]
async fn connection_refused_is_retried_then_falls_over() {
    // Bind then drop: a port on 127.0.0.1 with nobody listening.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let fb = ok_server().await;
    let p = policy(&yaml(
        &[openai("down", &format!("http://127.0.0.1:{port}/v1")), openai("ok", &format!("{}/v1", fb.uri()))],
        &["down", "ok"],
        "latency_slo_ms: 3000\nretry_backoff_ms: 10",
    ));
    let r = prepare(&p).run().await;
    let d = dump(&r);
    assert_eq!(r.attempts.len(), 3, "{d}");
    assert_eq!(r.attempts[0].outcome, "connection_failed");
    assert_eq!(r.attempts[1].outcome, "connection_failed");
    assert_eq!(r.attempts[0].charged_usd, Some(0.0));
    assert_eq!(r.answered_by.as_deref(), Some("ok"));
}
