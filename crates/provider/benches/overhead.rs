//! Overhead promptctl adds to a dry-run, in-process.
//!
//! * `overhead/*`: a local server on 127.0.0.1 answers at once. The server stamps when the
//!   whole request has arrived and when its answer is written; the bench stamps before
//!   `DryRun::prepare` and after `run` returns. Overhead = (request arrived − start) +
//!   (end − answer written): everything but the server's own time. Target < 5 ms.
//! * `fallback/silent_primary_slo_1200`: the primary accepts and never answers, the fallback
//!   answers at once, latency_slo_ms 1200; measured is when the answer is available.
//!   Target: within SLO + 50 ms.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use promptctl_provider::{DryRun, DryRunInput, Message, Overrides, PolicyConfig, Runner};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

type Stamps = Arc<Mutex<Vec<(Instant, Instant)>>>;

const ANSWER: &str = r#"{"id":"c","object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":20,"completion_tokens":1}}"#;

/// Keep-alive HTTP/1.1 server answering every request at once; stamps each exchange.
async fn instant_server(stamps: Stamps) -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            let stamps = stamps.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut tmp = [0u8; 8192];
                loop {
                    // One request: headers, then Content-Length bytes.
                    let (end, len) = loop {
                        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
                            let len = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            break (p + 4, len);
                        }
                        match s.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    };
                    while buf.len() < end + len {
                        match s.read(&mut tmp).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&tmp[..n]),
                        }
                    }
                    let got = Instant::now();
                    buf.drain(..end + len);
                    let resp = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{ANSWER}",
                        ANSWER.len()
                    );
                    // Stamped just before writing, so the client always sees it; the few µs of
                    // the write itself count as promptctl's (conservative).
                    stamps.lock().expect("lock").push((got, Instant::now()));
                    if s.write_all(resp.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

async fn silent_server() -> String {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((s, _)) = l.accept().await {
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_secs(5)).await;
                drop(s);
            });
        }
    });
    format!("http://{addr}")
}

fn messages() -> Vec<Message> {
    vec![
        Message::new("system", "You are a support analyst."),
        Message::new("user", "Summarise: my refund never arrived. ".repeat(20)),
    ]
}

fn prepare(policy: &PolicyConfig) -> DryRun {
    let env = |_: &str| Some("sk-bench-0000".to_string());
    DryRun::prepare(DryRunInput {
        policy,
        messages: messages(),
        model: &serde_json::json!({"max_tokens": 200, "temperature": 0.2}),
        overrides: Overrides::default(),
        env: &env,
    })
    .expect("prepare")
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let stamps: Stamps = Arc::default();
    let url = rt.block_on(instant_server(stamps.clone()));
    // A priced gpt-4o target with a budget and a context window: every check runs.
    let policy = PolicyConfig::from_yaml_str(&format!(
        "providers:\n  gpt:\n    kind: openai\n    base_url: {url}/v1\n    model: gpt-4o\n    api_key_env: OPENAI_API_KEY\n    price_per_mtok: {{input: 2.5, output: 10}}\n    context_window: 128000\nrouting:\n  default:\n    primary: gpt\n    max_token_budget_usd: 0.02\n    latency_slo_ms: 1200\n"
    ))
    .expect("policy");

    let mut g = c.benchmark_group("overhead");
    g.measurement_time(Duration::from_secs(4));
    let shared = Runner::new();
    for (name, fresh) in [("fresh_runner_per_run", true), ("reused_runner", false)] {
        g.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    stamps.lock().expect("lock").clear();
                    let t0 = Instant::now();
                    let report = rt.block_on(async {
                        let dr = prepare(&policy);
                        if fresh {
                            dr.run_with(&Runner::new()).await
                        } else {
                            dr.run_with(&shared).await
                        }
                    });
                    let t1 = Instant::now();
                    assert_eq!(report.answered_by.as_deref(), Some("gpt"));
                    let (got, sent) = stamps.lock().expect("lock")[0];
                    total += (got - t0) + (t1 - sent);
                }
                total
            })
        });
    }
    g.finish();

    let silent = rt.block_on(silent_server());
    let fb_policy = PolicyConfig::from_yaml_str(&format!(
        "providers:\n  silent:\n    kind: openai\n    base_url: {silent}/v1\n    model: gpt-4o\n    price_per_mtok: {{input: 2.5, output: 10}}\n  local:\n    kind: openai\n    base_url: {url}/v1\n    model: llama3\n    price_per_mtok: {{input: 0, output: 0}}\nrouting:\n  default:\n    primary: silent\n    fallback: local\n    max_token_budget_usd: 0.02\n    latency_slo_ms: 1200\n"
    ))
    .expect("policy");
    let mut g = c.benchmark_group("fallback");
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(10));
    g.measurement_time(Duration::from_secs(7));
    g.bench_function("silent_primary_slo_1200", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t0 = Instant::now();
                let r = rt.block_on(prepare(&fb_policy).run());
                let t = t0.elapsed();
                assert_eq!(r.answered_by.as_deref(), Some("local"));
                assert!(t < Duration::from_millis(1250), "{t:?}");
                total += t;
            }
            total
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
