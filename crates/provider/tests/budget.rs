//! PROVIDERS.md's worked budget example, with a real o200k count of exactly 2,000 tokens,
//! and the other budget rules: unknown price fails closed, reservations of unknown outcomes
//! are kept, the budget stop never falls over to spend more.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use promptctl_provider::{
    count_messages, CountMethod, Encoding, ExitCategory, Message, Overrides, SkipReason, TargetStatus,
};
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Messages whose framed o200k count (what gpt-4o is checked with) is exactly `n`.
fn messages_of_exactly(n: u64) -> Vec<Message> {
    let system = Message::new("system", "You are a support analyst. Summarise the ticket.");
    let mut words = 0usize;
    loop {
        let body = format!("Ticket:{}", " refund".repeat(words));
        let m = vec![system.clone(), Message::new("user", body)];
        let c = count_messages(Encoding::O200kBase, 3, &m).unwrap();
        if c == n {
            return m;
        }
        assert!(c < n, "overshot: {c}");
        words += ((n - c) as usize).max(1);
    }
}

fn sample_policy(openai: &str, anthropic: &str, local: &str, claude_margin: Option<f64>) -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/promptctl.yaml")).unwrap();
    let mut text = text
        .replace("https://api.openai.com/v1", &format!("{openai}/v1"))
        .replace("http://127.0.0.1:11434/v1", &format!("{local}/v1"))
        .replace(
            "    api_key_env: ANTHROPIC_API_KEY\n",
            &format!("    api_key_env: ANTHROPIC_API_KEY\n    base_url: {anthropic}\n"),
        );
    if let Some(m) = claude_margin {
        text = text.replace(
            "    price_per_mtok: {input: 3.00, output: 15.00}\n",
            &format!("    price_per_mtok: {{input: 3.00, output: 15.00}}\n    token_estimate_margin: {m}\n"),
        );
    }
    text
}

fn env() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("OPENAI_API_KEY".to_string(), "sk-test-openai-000".to_string()),
        ("ANTHROPIC_API_KEY".to_string(), "sk-ant-test-000".to_string()),
    ])
}

async fn answering(status: u16, body: serde_json::Value) -> MockServer {
    let s = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(status).set_body_json(body)).mount(&s).await;
    s
}

#[tokio::test]
async fn worked_example_offline() {
    let msgs = messages_of_exactly(2000);
    for margin in [Some(0.0), None] {
        let p = policy(&sample_policy("http://127.0.0.1:9", "http://127.0.0.1:9", "http://127.0.0.1:9", margin));
        let dr = prepare_with(&p, json!({"max_tokens": 1000}), Overrides::default(), &env(), msgs.clone());
        let plan = dr.plan_offline();
        let gpt = &plan.targets[0];
        assert_eq!(gpt.target, "openai-gpt-4o");
        assert_eq!(gpt.input_tokens.tokens, 2000);
        assert_eq!(gpt.input_tokens.method, CountMethod::Tiktoken);
        assert_eq!(gpt.worst_case_cost_usd, Some(0.015));
        assert_eq!(gpt.within_budget, Some(true));
        assert_eq!(gpt.would_skip, None);
        let claude = &plan.targets[1];
        assert_eq!(claude.input_tokens.method, CountMethod::Estimate);
        let expected = if margin == Some(0.0) { 0.021 } else { 0.0222 }; // 2000 or 2400 tokens
        assert_eq!(claude.worst_case_cost_usd, Some(expected), "{plan}");
        assert_eq!(claude.within_budget, Some(false));
        assert_eq!(claude.would_skip, Some(SkipReason::OverBudget { worst_case_usd: expected, remaining_usd: 0.02 }));
        let local = &plan.targets[2];
        assert_eq!(local.worst_case_cost_usd, Some(0.0));
        assert_eq!(local.would_skip, None);
        let text = plan.to_string();
        assert!(text.contains("worst-case cost: $0.0150 of $0.0200 budget — within budget"), "{text}");
        if margin == Some(0.0) {
            assert!(text.contains("worst-case cost: $0.0210 of $0.0200 budget — would be skipped"), "{text}");
        }
    }
}

#[tokio::test]
async fn worked_example_live_claude_refused_before_sending() {
    let msgs = messages_of_exactly(2000);
    let gpt = answering(500, json!({"error": {"message": "boom", "type": "server_error"}})).await;
    let claude = answering(200, anthropic_ok("should never be asked")).await;
    let local = answering(200, openai_ok("local answer")).await;
    let p = policy(&sample_policy(&gpt.uri(), &claude.uri(), &local.uri(), Some(0.0)));
    let r = prepare_with(&p, json!({"max_tokens": 1000}), Overrides::default(), &env(), msgs).run().await;
    let d = dump(&r);
    assert_eq!(hits(&gpt).await, 2, "{d}"); // one retry by default
    assert_eq!(hits(&claude).await, 0, "{d}");
    assert_eq!(hits(&local).await, 1, "{d}");
    assert_eq!(r.answered_by.as_deref(), Some("open-weights-llama-3-local"));
    assert_eq!(r.outcome, ExitCategory::Success);
    assert_eq!(r.attempts[0].worst_case_cost_usd, Some(0.015), "{d}");
    assert_eq!(r.attempts[0].input_tokens_checked.tokens, 2000);
    assert_eq!(r.targets[1].status, TargetStatus::Skipped);
    assert_eq!(r.targets[1].skip, Some(SkipReason::OverBudget { worst_case_usd: 0.021, remaining_usd: 0.02 }));
    assert_eq!(r.spent_usd, Some(0.0));
}

#[tokio::test]
async fn worked_example_live_gpt4o_allowed() {
    let msgs = messages_of_exactly(2000);
    let gpt = answering(200, json!({
        "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Refund pending."}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 2000, "completion_tokens": 4}
    }))
    .await;
    let p = policy(&sample_policy(&gpt.uri(), "http://127.0.0.1:9", "http://127.0.0.1:9", None));
    let r = prepare_with(&p, json!({"max_tokens": 1000}), Overrides::default(), &env(), msgs).run().await;
    let d = dump(&r);
    assert_eq!(hits(&gpt).await, 1);
    assert_eq!(r.answered_by.as_deref(), Some("openai-gpt-4o"), "{d}");
    assert_eq!(r.attempts[0].worst_case_cost_usd, Some(0.015));
    // 2000 × 2.50 + 4 × 10.00 per million
    assert_eq!(r.cost_usd, Some(0.00504));
    assert_eq!(r.cost_source, Some(promptctl_provider::Source::Reported));
    assert!(d.contains("cost: $0.0050 (provider usage × price)"), "{d}");
}

fn priced(id: &str, base: &str, price: Option<(f64, f64)>) -> String {
    let price = price.map(|(i, o)| format!("    price_per_mtok: {{input: {i}, output: {o}}}\n")).unwrap_or_default();
    format!("  {id}:\n    kind: openai\n    base_url: {base}/v1\n    model: gpt-4o\n{price}")
}

#[tokio::test]
async fn unknown_price_fails_closed_and_everything_refused_is_budget_refused() {
    let a = answering(200, openai_ok("no")).await;
    let b = answering(200, openai_ok("no")).await;
    let y = format!(
        "providers:\n{}{}routing:\n  default:\n    targets: [a, b]\n    max_token_budget_usd: 0.001\n",
        priced("a", &a.uri(), None),
        priced("b", &b.uri(), Some((2.5, 10.0)))
    );
    let p = policy(&y);
    let r = prepare_with(&p, json!({"max_tokens": 1000}), Overrides::default(), &BTreeMap::new(), msgs()).run().await;
    let d = dump(&r);
    assert_eq!(hits(&a).await + hits(&b).await, 0, "{d}");
    assert_eq!(r.outcome, ExitCategory::BudgetRefused);
    assert_eq!(r.outcome.suggested_exit_code(), 4);
    assert_eq!(r.targets[0].skip, Some(SkipReason::UnknownPrice));
    assert!(matches!(r.targets[1].skip, Some(SkipReason::OverBudget { .. })));
    assert!(r.attempts.is_empty());
}

#[tokio::test]
async fn unknown_outcome_keeps_its_reservation_and_the_budget_stop_does_not_fall_over() {
    // Primary accepts and never answers: its worst case stays reserved, so the second target
    // at the same price no longer fits and is not asked; no cheaper target exists.
    let silent = silent_server().await;
    let b = answering(200, openai_ok("no")).await;
    let y = format!(
        "providers:\n{}{}routing:\n  default:\n    targets: [a, b]\n    max_token_budget_usd: 0.02\n    latency_slo_ms: 600\n",
        priced("a", &silent.url(), Some((2.5, 10.0))),
        priced("b", &b.uri(), Some((2.5, 10.0)))
    );
    let p = policy(&y);
    let msgs = messages_of_exactly(2000);
    let r = prepare_with(&p, json!({"max_tokens": 1000}), Overrides::default(), &BTreeMap::new(), msgs).run().await;
    let d = dump(&r);
    assert_eq!(silent.count(), 1, "{d}");
    assert_eq!(hits(&b).await, 0, "{d}");
    assert_eq!(r.attempts[0].outcome, "timeout");
    assert_eq!(r.attempts[0].charged_usd, Some(0.015));
    assert_eq!(r.spent_usd, Some(0.015));
    assert_eq!(r.outcome, ExitCategory::BudgetRefused, "{d}");
    assert_eq!(r.targets[1].skip, Some(SkipReason::OverBudget { worst_case_usd: 0.015, remaining_usd: 0.005 }));
}

#[tokio::test]
async fn retries_reserve_again() {
    // A 500 charges nothing, so each retry reserves the same 0.015 again against an
    // untouched 0.02 budget, and all three attempts fit.
    let s = answering(500, json!({"error": {"message": "x", "type": "server_error"}})).await;
    let y = format!(
        "providers:\n{}routing:\n  default:\n    targets: [a]\n    max_token_budget_usd: 0.02\n    retries_per_target: 2\n    retry_backoff_ms: 5\n",
        priced("a", &s.uri(), Some((2.5, 10.0)))
    );
    let p = policy(&y);
    let r = prepare_with(
        &p,
        json!({"max_tokens": 1000}),
        Overrides::default(),
        &BTreeMap::new(),
        messages_of_exactly(2000),
    )
    .run()
    .await;
    assert_eq!(hits(&s).await, 3, "{}", dump(&r));
    assert!(r.attempts.iter().all(|a| a.worst_case_cost_usd == Some(0.015)));
    assert_eq!(r.outcome, ExitCategory::AllTargetsFailed);
    assert_eq!(r.outcome.suggested_exit_code(), 3);
}
