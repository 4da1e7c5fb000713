//! Test helpers: policies, local servers on 127.0.0.1 that count what they receive.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use promptctl_provider::{DryRun, DryRunInput, Message, Overrides, PolicyConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub fn policy(yaml: &str) -> PolicyConfig {
    PolicyConfig::from_yaml_str(yaml).unwrap_or_else(|e| panic!("policy: {e}\n{yaml}"))
}

pub fn msgs() -> Vec<Message> {
    vec![Message::new("system", "You are terse."), Message::new("user", "Say hi.")]
}

pub fn prepare_with(
    p: &PolicyConfig,
    model: serde_json::Value,
    ov: Overrides,
    env: &BTreeMap<String, String>,
    messages: Vec<Message>,
) -> DryRun {
    let lookup = |k: &str| env.get(k).cloned();
    DryRun::prepare(DryRunInput { policy: p, messages, model: &model, overrides: ov, env: &lookup })
        .unwrap_or_else(|e| panic!("prepare: {e}"))
}

pub fn prepare(p: &PolicyConfig) -> DryRun {
    prepare_with(p, serde_json::Value::Null, Overrides::default(), &BTreeMap::new(), msgs())
}

pub fn openai_ok(text: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-2024-08-06",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 20, "completion_tokens": 3, "total_tokens": 23}
    })
}

pub fn anthropic_ok(text: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-3-5-haiku-20241022",
        "content": [{"type": "text", "text": text}], "stop_reason": "end_turn",
        "usage": {"input_tokens": 20, "output_tokens": 3}
    })
}

/// What a scripted raw server does after reading a request.
#[derive(Clone, Debug)]
pub enum Step {
    Send(Vec<u8>),
    Sleep(Duration),
    /// Hold the connection open without writing (bounded, so tests always end).
    Stall,
}

pub fn send(s: &str) -> Step {
    Step::Send(s.as_bytes().to_vec())
}

/// A TCP server on 127.0.0.1 that reads one HTTP request per connection, counts it, and
/// plays `script`. Connection: close after the script.
pub struct RawServer {
    pub addr: SocketAddr,
    pub requests: Arc<AtomicUsize>,
    pub bodies: Arc<Mutex<Vec<String>>>,
}

impl RawServer {
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    pub fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

pub async fn raw_server(script: Vec<Step>) -> RawServer {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(AtomicUsize::new(0));
    let bodies = Arc::new(Mutex::new(vec![]));
    let (rq, bd) = (requests.clone(), bodies.clone());
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let script = script.clone();
            let (rq, bd) = (rq.clone(), bd.clone());
            tokio::spawn(async move {
                let mut buf = vec![];
                let mut tmp = [0u8; 4096];
                // Read headers, then Content-Length bytes of body.
                let (head_end, len) = loop {
                    let Ok(n) = sock.read(&mut tmp).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                    if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
                        let len = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        break (p + 4, len);
                    }
                };
                while buf.len() < head_end + len {
                    let Ok(n) = sock.read(&mut tmp).await else {
                        return;
                    };
                    if n == 0 {
                        break;
                    }
                    buf.extend_from_slice(&tmp[..n]);
                }
                rq.fetch_add(1, Ordering::SeqCst);
                bd.lock().unwrap().push(String::from_utf8_lossy(&buf[head_end..]).to_string());
                for step in script {
                    match step {
                        Step::Send(b) => {
                            if sock.write_all(&b).await.is_err() {
                                return;
                            }
                            let _ = sock.flush().await;
                        }
                        Step::Sleep(d) => tokio::time::sleep(d).await,
                        Step::Stall => tokio::time::sleep(Duration::from_secs(10)).await,
                    }
                }
                let _ = sock.shutdown().await;
            });
        }
    });
    RawServer { addr, requests, bodies }
}

/// Accepts, reads the request, never answers.
pub async fn silent_server() -> RawServer {
    raw_server(vec![Step::Stall]).await
}

/// Head of a streamed (close-delimited) response.
pub fn stream_head(content_type: &str) -> Step {
    send(&format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nConnection: close\r\n\r\n"))
}

/// A complete HTTP response with a body.
pub fn full_response(status: &str, content_type: &str, body: &str) -> Step {
    send(&format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
}

/// Wiremock request count.
pub async fn hits(s: &wiremock::MockServer) -> usize {
    s.received_requests().await.map(|r| r.len()).unwrap_or(0)
}

pub fn dump(r: &promptctl_provider::RunReport) -> String {
    format!("{r}\n{}", serde_json::to_string_pretty(r).unwrap())
}
