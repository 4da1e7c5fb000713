//! promptctl.yaml policy parsing, validation and target selection.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::*;
use promptctl_provider::{DryRun, DryRunInput, Error, ExitCategory, Message, Overrides, PolicyConfig, ProviderKind};
use serde_json::{json, Value};

const SAMPLE: &str = include_str!("../examples/promptctl.yaml");

#[test]
fn sample_policy_parses() {
    let p = PolicyConfig::from_yaml_str(SAMPLE).unwrap();
    assert_eq!(p.providers.len(), 4);
    let d = &p.routing["default"];
    assert_eq!(d.target_ids(), ["openai-gpt-4o", "anthropic-claude-3-5-sonnet", "open-weights-llama-3-local"]);
    assert_eq!(d.max_token_budget_usd, Some(0.02));
    assert_eq!(d.latency_slo_ms, Some(1200));
    assert_eq!(p.providers["anthropic-claude-3-5-sonnet"].kind, ProviderKind::Anthropic);
    let price = p.providers["openai-gpt-4o"].price_per_mtok.unwrap();
    assert_eq!((price.input, price.output), (2.5, 10.0));
}

fn err(y: &str) -> String {
    PolicyConfig::from_yaml_str(y).unwrap_err().to_string()
}

#[test]
fn errors_name_the_field() {
    let e = err("providers:\n  a:\n    kind: openai\n    model: gpt-4o\n    bas_url: http://x\n");
    assert!(e.contains("providers.a") && e.contains("bas_url") && e.contains("line 5"), "{e}");
    let e = err("providers: {}\nrouting:\n  default:\n    primary: echo\n    latency_slo: 5\n");
    assert!(e.contains("routing.default") && e.contains("latency_slo"), "{e}");
    let e = err("providers:\n  a: {kind: gemini, model: x}\n");
    assert!(e.contains("providers.a.kind") && e.contains("gemini"), "{e}");
    let e = err("provider: {}\n");
    assert!(e.contains("unknown field `provider`"), "{e}");
    let e = err("providers:\n  a: {kind: openai}\n");
    assert!(e.contains("providers.a.model") && e.contains("required"), "{e}");
    let e = err("providers:\n  a: {kind: openai, model: m, price_per_mtok: {input: 1}}\n");
    assert!(e.contains("output"), "{e}");
    let e = err("providers:\n  a: {kind: openai, model: m, price_per_mtok: {input: -1, output: 1}}\n");
    assert!(e.contains("providers.a.price_per_mtok.input"), "{e}");
    let e = err("providers:\n  a: {kind: openai, model: m, base_url: 'ftp://x'}\n");
    assert!(e.contains("providers.a.base_url"), "{e}");
    let e = err("providers:\n  a: {kind: openai, model: m, base_url: 'https://u:p@x/v1'}\n");
    assert!(e.contains("credentials"), "{e}");
    let e = err("providers:\n  a: {kind: echo}\nrouting:\n  r: {primary: a, secondary: b}\n");
    assert!(e.contains("routing.r.secondary") && e.contains("unknown provider `b`"), "{e}");
    let e = err("providers:\n  a: {kind: echo}\nrouting:\n  r: {primary: a, targets: [a]}\n");
    assert!(e.contains("routing.r.targets"), "{e}");
    let e = err("providers:\n  a: {kind: echo}\nrouting:\n  r: {targets: [a, a]}\n");
    assert!(e.contains("routing.r.targets[1]") && e.contains("twice"), "{e}");
    let e = err("routing:\n  r: {latency_slo_ms: 100}\n");
    assert!(e.contains("routing.r") && e.contains("no targets"), "{e}");
    let e = err("providers:\n  a: {kind: echo}\nrouting:\n  r: {primary: a, latency_slo_ms: 0}\n");
    assert!(e.contains("routing.r.latency_slo_ms"), "{e}");
    let e = err("providers:\n  a: {kind: anthropic, model: c, max_tokens_param: max_tokens}\n");
    assert!(e.contains("providers.a.max_tokens_param"), "{e}");
    // A longer ordered list is fine, and the built-in echo needs no entry.
    PolicyConfig::from_yaml_str(
        "providers:\n  a: {kind: echo}\n  b: {kind: echo}\n  c: {kind: echo}\nrouting:\n  r: {targets: [a, b, c, echo]}\n",
    )
    .unwrap();
}

fn try_prepare(p: &PolicyConfig, model: Value, ov: Overrides) -> Result<DryRun, Error> {
    let env = |_: &str| None;
    DryRun::prepare(DryRunInput { policy: p, messages: msgs(), model: &model, overrides: ov, env: &env })
}

fn ov(route: Option<&str>, provider: Option<&str>) -> Overrides {
    Overrides { route: route.map(Into::into), provider: provider.map(Into::into) }
}

#[test]
fn selection_precedence() {
    let p = policy(
        "providers:\n  a: {kind: echo}\n  b: {kind: echo}\n  c: {kind: echo}\nrouting:\n  default: {targets: [a, b], max_token_budget_usd: 0.5, latency_slo_ms: 700}\n  other: {primary: c, latency_slo_ms: 900}\n",
    );
    let pick = |m: Value, o: Overrides| {
        let d = try_prepare(&p, m, o).unwrap();
        (
            d.target_ids().join(","),
            d.selection().chosen_by.clone(),
            d.selection().route.clone(),
            d.settings().latency_slo_ms,
        )
    };
    assert_eq!(pick(Value::Null, ov(None, None)), ("a,b".into(), "default route".into(), Some("default".into()), 700));
    assert_eq!(pick(json!({"route": "other"}), ov(None, None)).0, "c");
    assert_eq!(pick(json!({"route": "other"}), ov(Some("default"), None)).0, "a,b");
    assert_eq!(
        pick(json!({"provider": "b"}), ov(None, None)),
        ("b".into(), "model.provider".into(), Some("default".into()), 700)
    );
    // --provider keeps the prompt's route settings (budget, SLO) but sends only there.
    assert_eq!(
        pick(json!({"route": "other"}), ov(None, Some("a"))),
        ("a".into(), "--provider".into(), Some("other".into()), 900)
    );
    assert_eq!(pick(Value::Null, ov(None, Some("echo"))).0, "echo");

    let e = try_prepare(&p, Value::Null, ov(Some("x"), Some("a"))).unwrap_err();
    assert_eq!(e, Error::ConflictingOverrides);
    let e = try_prepare(&p, Value::Null, ov(Some("nope"), None)).unwrap_err();
    assert!(e.to_string().contains("unknown route `nope` (from --route); routes defined: default, other"), "{e}");
    let e = try_prepare(&p, Value::Null, ov(None, Some("zz"))).unwrap_err();
    assert!(e.to_string().contains("unknown provider `zz`"), "{e}");
    assert_eq!(e.category(), ExitCategory::Invalid);
    assert_eq!(e.category().suggested_exit_code(), 1);
    let bare = policy("providers: {a: {kind: echo}}\n");
    assert_eq!(try_prepare(&bare, Value::Null, ov(None, None)).unwrap_err(), Error::NoTarget);
    // No route at all: default deadline, no budget.
    let d = try_prepare(&bare, json!({"provider": "a"}), ov(None, None)).unwrap();
    assert_eq!(d.settings().latency_slo_ms, promptctl_provider::DEFAULT_SLO_MS);
    assert!(!d.settings().latency_slo_from_policy);
    assert_eq!(d.settings().budget_usd, None);
}

#[test]
fn model_block_and_messages_are_validated() {
    let p = policy("providers: {a: {kind: echo}}\nrouting: {default: {primary: a}}\n");
    let e = try_prepare(&p, json!({"temperature": "hot"}), ov(None, None)).unwrap_err();
    assert!(e.to_string().contains("model.temperature"), "{e}");
    let e = try_prepare(&p, json!({"max_tokens": 0}), ov(None, None)).unwrap_err();
    assert!(e.to_string().contains("model.max_tokens"), "{e}");
    let e = try_prepare(&p, json!({"stop": [1]}), ov(None, None)).unwrap_err();
    assert!(e.to_string().contains("model.stop"), "{e}");
    let e = try_prepare(&p, json!("gpt-4o"), ov(None, None)).unwrap_err();
    assert!(e.to_string().contains("must be a mapping"), "{e}");
    let d = try_prepare(&p, json!({"response_format": {"type": "json_object"}}), ov(None, None)).unwrap();
    assert!(d.plan_offline().warnings[0].contains("model.response_format"));

    let env = |_: &str| None;
    for (m, field) in [(vec![], "messages"), (vec![Message::new("bot", "x")], "messages[0].role")] {
        let e = DryRun::prepare(DryRunInput {
            policy: &p,
            messages: m,
            model: &Value::Null,
            overrides: Overrides::default(),
            env: &env,
        })
        .unwrap_err();
        assert!(e.to_string().contains(field), "{e}");
        assert_eq!(e.category(), ExitCategory::Invalid);
    }
}

#[test]
fn max_tokens_is_capped_by_the_provider() {
    let p = policy(
        "providers: {a: {kind: openai, model: gpt-4o, max_output_tokens: 100}}\nrouting: {default: {primary: a}}\n",
    );
    let d = try_prepare(&p, json!({"max_tokens": 5000}), ov(None, None)).unwrap();
    let plan = d.plan_offline();
    assert_eq!(plan.targets[0].max_tokens, 100);
    assert!(plan.targets[0].notes[0].contains("lowered"));
    let _ = BTreeMap::<String, String>::new();
}

#[tokio::test]
async fn offline_plan_for_the_sample_policy() {
    let p = PolicyConfig::from_yaml_str(SAMPLE).unwrap();
    let env = BTreeMap::from([("OPENAI_API_KEY".to_string(), "sk-x-123456".to_string())]);
    let d = prepare_with(&p, json!({"max_tokens": 400}), Overrides::default(), &env, msgs());
    let plan = d.plan_offline();
    let text = plan.to_string();
    assert!(text.contains("POST https://api.openai.com/v1/chat/completions"), "{text}");
    assert!(text.contains("Authorization: Bearer [redacted]"), "{text}");
    assert!(text.contains("POST https://api.anthropic.com/v1/messages"), "{text}");
    assert!(text.contains("anthropic-version: 2023-06-01"), "{text}");
    // ANTHROPIC_API_KEY unset here: the plan says the target would be skipped.
    assert!(text.contains("environment variable ANTHROPIC_API_KEY is not set"), "{text}");
    let j: Value = serde_json::to_value(&plan).unwrap();
    assert_eq!(j["mode"], "offline");
    assert_eq!(j["targets"][0]["input_tokens"]["method"], "tiktoken");
    assert_eq!(j["targets"][1]["would_skip"]["reason"], "missing_api_key");
    assert_eq!(j["targets"][2]["request"]["url"], "http://127.0.0.1:11434/v1/chat/completions");
    println!("{text}");
}
