#!/usr/bin/env python3
"""Driver of scripts/bench-render.sh: renders per second of each corpus chat template with
promptctl-render (Rust) and with Python Jinja2 under Hugging Face transformers' chat-template
settings, measured in the same run with interleaved samples, the output check, and the table.

Python side: transformers (utils/chat_template_utils.py, `_compile_jinja_template`) compiles a
chat template once (lru_cache) in an ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True, extensions=[loopcontrols]) with `raise_exception`, `strftime_now` and a
`tojson` filter equal to json.dumps(ensure_ascii=False, ...), then renders the compiled template
on every call. That is what is measured: the template is compiled ONCE, then rendered
repeatedly with the same context as the Rust side.

Rust side: `render_throughput --serve` (crates/render/examples), one long-lived Engine that
has rendered every template once before measuring (cache hit path).

Method, per template: a 50 ms warm-up on each side, then `--samples` pairs of samples of
budget/samples each, Rust and Python alternating (the order flips every pair) so both see the
same machine load; the rate reported is the median sample, in renders per CPU second of the
rendering thread (Linux /proc/thread-self/schedstat on both sides, else wall clock), so that
other processes on a shared machine do not skew either side. Then one Rust "cold" measurement
(new Engine per render). Output: Rust JSON lines {template, renders_per_sec, ...} to
--rust-out, Python ones to --py-out, the table to --out and stdout, progress to stderr.

usage: bench_render_py.py --rust-bin PATH --jobs JOBS.json --out TABLE.md --rust-out RUST.jsonl
                          --py-out PY.jsonl
                          [--budget-ms 1000] [--cold-budget-ms 200] [--samples 5]
If jinja2 cannot be imported the Python side is skipped (notice) and the table has Rust only.
"""

import argparse
import datetime
import json
import math
import platform
import subprocess
import sys
import time


def compile_template(text, now):
    """A chat template compiled as transformers compiles it."""
    import jinja2
    from jinja2.ext import loopcontrols
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        # transformers uses the local clock; the fixed clock of the Rust side keeps renders equal.
        return datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(text)


def thread_cpu():
    """CPU time of this thread in seconds, from the same kernel counter the Rust side reads
    (/proc/thread-self/schedstat); None where it does not exist."""
    try:
        with open("/proc/thread-self/schedstat", encoding="ascii") as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None


def py_sample(budget_s, f):
    """Calls f until budget_s of wall time has elapsed: (calls, wall seconds, rate), the rate
    per CPU second of this thread when available, else per wall second (as the Rust side)."""
    clock = time.perf_counter
    cpu0 = thread_cpu()
    start = clock()
    n = 0
    while True:
        f()
        n += 1
        el = clock() - start
        if el >= budget_s:
            cpu1 = thread_cpu()
            cpu = cpu1 - cpu0 if (cpu0 is not None and cpu1 is not None) else None
            return n, el, n / (cpu if cpu and cpu > 0 else el)


class Rust:
    def __init__(self, binary, jobs_path):
        self.p = subprocess.Popen([binary, "--serve", "--jobs", jobs_path], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True, encoding="utf-8")
        self.ready = json.loads(self.p.stdout.readline())

    def sample(self, mode, i, ms):
        self.p.stdin.write(f"{mode} {i} {ms}\n")
        self.p.stdin.flush()
        r = json.loads(self.p.stdout.readline())
        if "error" in r:
            raise RuntimeError(r["error"])
        return r

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.close()
        except BrokenPipeError:
            pass
        self.p.wait()


def load_avg():
    try:
        with open("/proc/loadavg", encoding="ascii") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "n/a"


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def fmt_rate(x):
    return "skipped" if x is None else f"{x:,.0f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rust-bin", required=True)
    ap.add_argument("--jobs", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--rust-out", required=True)
    ap.add_argument("--py-out", required=True)
    ap.add_argument("--budget-ms", type=int, default=1000)
    ap.add_argument("--cold-budget-ms", type=int, default=200)
    ap.add_argument("--samples", type=int, default=5)
    a = ap.parse_args()

    try:
        import jinja2

        jinja_version = jinja2.__version__
    except ImportError:
        jinja_version = None
        print("notice: python jinja2 is not installed; skipping the Python side", file=sys.stderr)

    load0 = load_avg()
    rust = Rust(a.rust_bin, a.jobs)
    if not rust.ready.get("ready"):
        print(f"notice: nothing to benchmark: {rust.ready.get('notice', 'no chat templates')}", file=sys.stderr)
        rust.close()
        return 0
    with open(a.jobs, encoding="utf-8") as f:
        jobs = json.load(f)

    per_ms = max(1, a.budget_ms // a.samples)
    rows, mismatches, cache_misses = [], [], 0
    rust_lines, py_lines = [], []
    for i, job in enumerate(jobs):
        name = job["template_name"]
        py_render = None
        same = None
        if jinja_version:
            template = compile_template(job["template"], job["now"])  # compiled ONCE, as transformers does
            ctx = job["context"]
            try:
                out = template.render(**ctx)
            except Exception as e:  # noqa: BLE001
                out = None
                mismatches.append(f"{name} [{job['label']}]: python raised {type(e).__name__}: {e}")
            if out is not None:
                same = out == job["expected"]
                if not same:
                    mismatches.append(f"{name} [{job['label']}]: python {out!r}\n  rust   {job['expected']!r}")
                py_render = lambda t=template, c=ctx: t.render(**c)  # noqa: E731
        # Warm-up, then interleaved samples.
        rust.sample("warm", i, 50)
        if py_render:
            py_sample(0.05, py_render)
        r_rates, p_rates, r_n, r_t, p_n, p_t = [], [], 0, 0.0, 0, 0.0
        for s in range(a.samples):
            order = ("rust", "py") if s % 2 == 0 else ("py", "rust")
            for side in order:
                if side == "rust":
                    r = rust.sample("warm", i, per_ms)
                    cache_misses = max(cache_misses, r.get("compiled_during_warm", 0))
                    r_rates.append(r["renders_per_sec"])
                    r_n += r["renders"]
                    r_t += r["seconds"]
                elif py_render:
                    n, t, rt = py_sample(per_ms / 1000.0, py_render)
                    p_rates.append(rt)
                    p_n += n
                    p_t += t
        c = rust.sample("cold", i, a.cold_budget_ms)
        rust_rps = median(r_rates)
        cold_rps = c["renders_per_sec"]
        py_rps = median(p_rates) if p_rates else None
        rust_lines.append(json.dumps({"template": name, "context": job["label"], "renders_per_sec": rust_rps,
                                      "renders": r_n, "seconds": r_t, "cold_renders_per_sec": cold_rps}))
        if py_rps is not None:
            py_lines.append(json.dumps({"template": name, "renders_per_sec": py_rps, "renders": p_n, "seconds": p_t}))
        print(f"[{i + 1}/{len(jobs)}] {name}: rust {rust_rps:,.0f}/s, python {fmt_rate(py_rps)}/s", file=sys.stderr,
              flush=True)
        ratio = rust_rps / py_rps if py_rps else None
        rows.append((name, job["label"], rust_rps, cold_rps, py_rps, ratio, same))
    rust.close()
    with open(a.rust_out, "w", encoding="utf-8") as f:
        f.write("\n".join(rust_lines) + "\n")
    with open(a.py_out, "w", encoding="utf-8") as f:
        f.write("".join(line + "\n" for line in py_lines))

    lines = []
    py_desc = (f"Python {platform.python_version()}, Jinja2 {jinja_version} (ImmutableSandboxedEnvironment, "
               f"trim_blocks, lstrip_blocks, loopcontrols; template compiled once)"
               if jinja_version else "Python side skipped (jinja2 not installed)")
    lines.append("# promptctl-render throughput vs Python Jinja2")
    lines.append("")
    lines.append(f"Rust: promptctl-render, release build, one long-lived Engine (warm = cache hit); cold = new "
                 f"Engine per render (parse + compile + render). {py_desc}. Same context on both sides; "
                 f"{a.budget_ms} ms per template per side in {a.samples} interleaved samples, median rate.")
    clock = ("renders per CPU second of the rendering thread (/proc/thread-self/schedstat, both sides)"
             if thread_cpu() is not None else "renders per wall-clock second")
    lines.append(f"Rates are {clock}. Load average before / after: {load0} / {load_avg()}.")
    lines.append("")
    lines.append("| template | context | Rust renders/s | Python renders/s | ratio | Rust cold renders/s | same output |")
    lines.append("|---|---|---:|---:|---:|---:|:---:|")
    for name, label, rr, cold, pr, ratio, same in rows:
        lines.append(
            f"| {name} | {label} | {fmt_rate(rr)} | {fmt_rate(pr)} | "
            f"{'n/a' if ratio is None else f'{ratio:.1f}x'} | {fmt_rate(cold)} | "
            f"{'n/a' if same is None else ('yes' if same else 'NO')} |"
        )
    ratios = [row[5] for row in rows if row[5]]
    lines.append("")
    if ratios:
        geo = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
        lo = min((row for row in rows if row[5]), key=lambda row: row[5])
        lines.append(f"Geometric mean ratio (Rust/Python) over {len(ratios)} templates: **{geo:.1f}x**; "
                     f"minimum {lo[5]:.1f}x ({lo[0]}). Target >= 10x: geomean "
                     f"{'MET' if geo >= 10 else 'NOT MET'}, every template {'MET' if lo[5] >= 10 else 'NOT MET'}.")
    else:
        lines.append("Geometric mean ratio: n/a (Python side skipped).")
    if jinja_version:
        lines.append(f"Output check (Rust vs Python, byte for byte): {len(mismatches)} mismatches "
                     f"in {len(rows)} templates.")
    else:
        lines.append("Output check: not done (no jinja2).")
    for m in mismatches:
        lines.append(f"- MISMATCH {m}")
    lines.append(f"Cache: templates compiled during warm renders: {cache_misses} "
                 f"(each version compiled once: {'yes' if cache_misses == 0 else 'NO'}).")
    table = "\n".join(lines) + "\n"
    with open(a.out, "w", encoding="utf-8") as f:
        f.write(table)
    print(table, end="")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
