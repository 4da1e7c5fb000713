#!/usr/bin/env python3
"""Process-level overhead of `promptctl dry-run`, against local servers on 127.0.0.1 only.

1. A server that answers at once: time from process start to the request arriving, and from
   the response being sent to the process exiting (CLOCK_REALTIME shared by both processes).
2. A primary that accepts the connection and never answers, a fallback that answers at once,
   latency_slo_ms 1200: time from process start to the fallback's answer on stdout.

Usage: scripts/bench-dry-run.py [--runs N]   (builds the release binary first)
"""
import json, os, socket, subprocess, sys, tempfile, threading, time, statistics

RUNS = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 20
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "promptctl")
OK = json.dumps({"id": "x", "object": "chat.completion",
                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                 "usage": {"prompt_tokens": 20, "completion_tokens": 1}}).encode()

def server(answer, log):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0)); s.listen(64)
    def loop():
        while True:
            c, _ = s.accept()
            threading.Thread(target=handle, args=(c,), daemon=True).start()
    def handle(c):
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = c.recv(65536)
            if not chunk: return
            data += chunk
        arrived = time.time_ns()
        head, _, body = data.partition(b"\r\n\r\n")
        n = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"): n = int(line.split(b":")[1])
        while len(body) < n: body += c.recv(65536)
        if not answer:
            time.sleep(30); return  # silent upstream: connection accepted, no response
        c.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(OK) + OK)
        log.append((arrived, time.time_ns()))
        c.close()
    threading.Thread(target=loop, daemon=True).start()
    return "http://127.0.0.1:%d" % s.getsockname()[1]

def project(cfg):
    d = tempfile.mkdtemp(prefix="promptctl-bench-")
    env = dict(os.environ, PROMPTCTL_ACTOR="bench", NO_COLOR="1")
    subprocess.run([BIN, "init"], cwd=d, env=env, check=True, capture_output=True)
    with open(os.path.join(d, "promptctl.yaml"), "w") as f: f.write(cfg)
    with open(os.path.join(d, "prompts", "p.prompt.yaml"), "w") as f:
        f.write("model: {route: r, max_tokens: 20}\nmessages:\n  - role: user\n    content: Say ok.\n")
    subprocess.run([BIN, "commit", "-m", "p"], cwd=d, env=env, check=True, capture_output=True)
    return d, env

def provider(name, url):
    return (f"  {name}:\n    kind: openai\n    base_url: {url}/v1\n    model: gpt-4o\n"
            f"    price_per_mtok: {{input: 2.5, output: 10}}\n    context_window: 128000\n")

def ms(ns): return ns / 1e6

def main():
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    log = []
    fast = server(True, log)
    d, env = project("providers:\n" + provider("fast", fast) + "routing:\n  r:\n    primary: fast\n    latency_slo_ms: 1200\n")
    to_wire, to_exit, total = [], [], []
    for _ in range(RUNS):
        n = len(log)
        t0 = time.time_ns()
        subprocess.run([BIN, "dry-run", "p"], cwd=d, env=env, check=True, capture_output=True)
        t1 = time.time_ns()
        arrived, sent = log[n]
        to_wire.append(ms(arrived - t0)); to_exit.append(ms(t1 - sent)); total.append(ms(t1 - t0))
    base = []
    for _ in range(RUNS):
        t0 = time.time_ns(); subprocess.run([BIN, "dry-run", "p", "--offline"], cwd=d, env=env, check=True, capture_output=True)
        base.append(ms(time.time_ns() - t0))
    silent = server(False, [])
    log2 = []
    fallback = server(True, log2)
    d2, env2 = project("providers:\n" + provider("silent", silent) + provider("fallback", fallback) +
                       "routing:\n  r:\n    primary: silent\n    fallback: fallback\n    latency_slo_ms: 1200\n")
    answered = []
    for _ in range(max(5, RUNS // 4)):
        t0 = time.time_ns()
        p = subprocess.Popen([BIN, "dry-run", "p"], cwd=d2, env=env2, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        out = b""
        while b"answer from" not in out:
            line = p.stdout.readline()
            if not line: break
            out += line
        answered.append(ms(time.time_ns() - t0))
        p.wait()
        assert b"answer from fallback" in out, out
    med = statistics.median
    rows = [
        ("process start -> request on the wire (local server answers at once)", med(to_wire), min(to_wire)),
        ("response sent -> process exit", med(to_exit), min(to_exit)),
        ("whole dry-run process (answered at once)", med(total), min(total)),
        ("whole `dry-run --offline` process (no network)", med(base), min(base)),
        ("silent primary, SLO 1200 ms: process start -> fallback answer printed", med(answered), min(answered)),
    ]
    print(f"| measurement ({RUNS} runs) | median ms | min ms |\n| --- | ---: | ---: |")
    for name, m, lo in rows: print(f"| {name} | {m:.1f} | {lo:.1f} |")

if __name__ == "__main__":
    main()
