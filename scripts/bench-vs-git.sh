#!/usr/bin/env bash
# promptctl vs git on the same synthetic history, measured as whole processes in one run on one
# machine. Not part of CI (it takes minutes and its numbers depend on the machine).
#
#   scripts/bench-vs-git.sh [--commits N] [--runs N] [--warmup N] [--keep] [--no-profile]
#
# 1. builds release (promptctl, the gen_history and cat_profile examples);
# 2. writes 10,000 commits over 200 prompts into a promptctl project and, from the same
#    generator in the same run, into a git repository (git fast-import, then `git repack -ad`:
#    one pack, no commit-graph, as after a clone = git state "A"); a copy gets
#    `git commit-graph write --reachable --changed-paths` (git state "B", git's best case for
#    path-limited log);
# 3. measures each pair with hyperfine (apt-get installs it if missing and we are root; else a
#    bash timing loop), `--warmup` 3 and `--runs` 20 by default, `--prepare` for commits;
# 4. prints a markdown table (median/mean ms, ratio, target, met?) and writes it, with the
#    history's facts and a profile of `cat`, to target/bench-vs-git.md.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
commits=10000
runs=20
warmup=3
keep=0
profile=1
while [ $# -gt 0 ]; do
  case "$1" in
    --commits) commits="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    --no-profile) profile=0; shift ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done
started=$(date +%s)
load0="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo "?")"
say() { printf '\033[1m== %s\033[0m\n' "$*" >&2; }

command -v git >/dev/null || { echo "git is required" >&2; exit 1; }
if ! command -v hyperfine >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing hyperfine (Debian package)"
    apt-get install -y -qq hyperfine >/dev/null 2>&1 ||
      { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq hyperfine >/dev/null 2>&1; } || true
  fi
fi
have_hyperfine=0
command -v hyperfine >/dev/null 2>&1 && have_hyperfine=1
# BENCH_NO_HYPERFINE=1 forces the bash timing loop (to test it).
[ "${BENCH_NO_HYPERFINE:-0}" = 1 ] && have_hyperfine=0

say "building release"
cargo build --release --quiet --manifest-path "$here/Cargo.toml" --bin promptctl
cargo build --release --quiet --manifest-path "$here/Cargo.toml" -p promptctl-repo --example gen_history --example cat_profile
target_dir="$(cd "$here" && cargo metadata --format-version 1 --no-deps 2>/dev/null | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')"
target_dir="${target_dir:-$here/target}"
pc="$target_dir/release/promptctl"
gen="$target_dir/release/examples/gen_history"
catprof="$target_dir/release/examples/cat_profile"

work="$(mktemp -d "${TMPDIR:-/tmp}/promptctl-bench.XXXXXX")"
if [ "$keep" = 1 ]; then say "keeping $work"; else trap 'rm -rf "$work"' EXIT; fi
# A private HOME: git's identity for both tools (promptctl's actor is git's user.name), no
# user or system config that could change git's behaviour.
export HOME="$work/home"
mkdir -p "$HOME" "$work/csv"
export GIT_CONFIG_NOSYSTEM=1
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE PROMPTCTL_DIR PROMPTCTL_ACTOR PROMPTCTL_NOW NO_COLOR || true
git config --global user.name "Bench User"
git config --global user.email "bench@example.com"

say "generating $commits commits over 200 prompts (promptctl store + git)"
"$gen" "$work/data" --commits "$commits" >/dev/null
# shellcheck disable=SC1091
. "$work/data/meta.env"
P="$work/data/promptctl"
GA="$work/data/git"
GB="$work/data/git-cg"
cp -a "$GA" "$GB"
git -C "$GB" commit-graph write --reachable --changed-paths 2>/dev/null

# The two sides must hold the same history.
diff -r -q "$P/prompts" "$GA/prompts" >/dev/null || { echo "work trees differ" >&2; exit 1; }
cmp -s <(cd "$P" && "$pc" cat "$CAT_PROMPT@production") <(git -C "$GA" show "production:prompts/$CAT_PROMPT.prompt.yaml") ||
  { echo "cat output differs" >&2; exit 1; }
n_pc=$(cd "$P" && "$pc" log "$LOG_PROMPT" | grep -c '^commit ')
n_git=$(git -C "$GA" log --format=%H -- "prompts/$LOG_PROMPT.prompt.yaml" | wc -l | tr -d ' ')
[ "$n_pc" = "$n_git" ] || { echo "log lengths differ: promptctl $n_pc, git $n_git" >&2; exit 1; }

# ---- measuring -------------------------------------------------------------------------------

# bench NAME MODE PREPARE|'' CMD... : MODE `direct` runs each CMD without a shell (hyperfine -N)
# from the promptctl project directory (git commands use `git -C`); MODE `shell` runs each CMD
# through `sh -c` (hyperfine subtracts the shell's own start-up). Writes $work/csv/NAME.csv as
# hyperfine's CSV (seconds): command,mean,stddev,median,user,system,min,max.
bench() {
  local name="$1" mode="$2" prepare="$3"; shift 3
  say "measuring $name"
  if [ "$have_hyperfine" = 1 ]; then
    local args=(--style none --warmup "$warmup" --runs "$runs" --export-csv "$work/csv/$name.csv")
    [ "$mode" = direct ] && args+=(-N)
    [ -n "$prepare" ] && args+=(--prepare "$prepare")
    (cd "$P" && hyperfine "${args[@]}" "$@" >/dev/null)
  else
    echo "command,mean,stddev,median,user,system,min,max" >"$work/csv/$name.csv"
    local cmd i t0 t1
    for cmd in "$@"; do
      for i in $(seq "$((warmup + runs))"); do
        if [ -n "$prepare" ]; then sh -c "$prepare"; fi
        t0=$(date +%s%N)
        if [ "$mode" = direct ]; then
          # shellcheck disable=SC2086
          (cd "$P" && $cmd) >/dev/null 2>&1
        else
          (cd "$P" && sh -c "$cmd") >/dev/null 2>&1
        fi
        t1=$(date +%s%N)
        if [ "$i" -gt "$warmup" ]; then echo $((t1 - t0)); fi
      done >"$work/times"
      sort -n "$work/times" | awk -v c="$cmd" '{ v[NR]=$1/1e9; s+=v[NR] } END {
        m=s/NR; for(i=1;i<=NR;i++) d+=(v[i]-m)^2
        med = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2
        printf "\"%s\",%.9f,%.9f,%.9f,0,0,%.9f,%.9f\n", c, m, sqrt(d/NR), med, v[1], v[NR] }' >>"$work/csv/$name.csv"
    done
  fi
}

# field CSV ROW COLUMN -> value in ms (ROW 1 = first command)
field() {
  awk -F, -v r="$(($2 + 1))" -v c="$3" 'NR==r { printf "%.2f", $(NF-8+c) * 1000 }' "$1"
}
rows=()
# row OPERATION PC_CMD GIT_CMD CSV GIT_ROW STATE TARGET(max ratio) TARGET_TEXT
row() {
  local op="$1" pcc="$2" gitc="$3" csv="$4" grow="$5" state="$6" tmax="$7" ttext="$8"
  local pmed pmean gmed gmean ratio met
  pmed=$(field "$csv" 1 4); pmean=$(field "$csv" 1 2)
  gmed=$(field "$csv" "$grow" 4); gmean=$(field "$csv" "$grow" 2)
  ratio=$(awk -v a="$pmed" -v b="$gmed" 'BEGIN { printf "%.2f", a / b }')
  met=$(awk -v r="$ratio" -v t="$tmax" 'BEGIN { print (r <= t) ? "yes" : "**no**" }')
  [ "$tmax" = - ] && met="–"
  rows+=("| $op | \`$pcc\` | \`$gitc\` | $state | $pmed | $pmean | $gmed | $gmean | $ratio | $ttext | $met |")
}

catf="prompts/$CAT_PROMPT.prompt.yaml"
logf="prompts/$LOG_PROMPT.prompt.yaml"
hotf="prompts/$HOT_PROMPT.prompt.yaml"
comf="prompts/$COMMIT_PROMPT.prompt.yaml"

bench startup direct "" "$pc --version" "git --version"
bench cat direct "" "$pc cat $CAT_PROMPT@production" "git -C $GA show production:$catf" "git -C $GB show production:$catf"
bench log direct "" "$pc log $LOG_PROMPT" "git -C $GA log --format=%H -- $logf" "git -C $GB log --format=%H -- $logf"
bench diff direct "" "$pc diff production~10 production" "git -C $GA diff production~10 production" \
  "git -C $GB diff production~10 production"
# Reference: the same command when the two sides are equal (no file to diff, no token count).
bench diff0 direct "" "$pc diff production production" "git -C $GA diff production production"
bench diff1 direct "" "$pc diff $HOT_PROMPT@production~10 $HOT_PROMPT@production" \
  "git -C $GA diff production~10 production -- $hotf" "git -C $GB diff production~10 production -- $hotf"
# Each run first changes one prompt in both work trees (appends a line to its template), so
# every run of either tool commits a real change.
cat >"$work/edit.sh" <<EDIT
#!/bin/sh
n=\$(cat "$work/edit.n" 2>/dev/null || echo 0); n=\$((n + 1)); echo "\$n" >"$work/edit.n"
printf '  Benchmark edit %s.\\n' "\$n" >>"$P/$comf"
printf '  Benchmark edit %s.\\n' "\$n" >>"$GA/$comf"
EDIT
chmod +x "$work/edit.sh"
bench commit shell "$work/edit.sh" "$pc commit -m 'bench edit'" "cd $GA && git add -A prompts && git commit -q -m 'bench edit'"
bench commit1 shell "$work/edit.sh" "$pc commit -m 'bench edit' $comf" "cd $GA && git add $comf && git commit -q -m 'bench edit'"
# Both sides hold the same bytes once promptctl commits the edits made during git's runs.
(cd "$P" && "$pc" commit -m sync >/dev/null)
cmp -s <(cd "$P" && "$pc" cat "$COMMIT_PROMPT@staging") <(git -C "$GA" show "staging:$comf") ||
  { echo "commit results differ" >&2; exit 1; }

c="$work/csv"
row "process start (baseline)" "promptctl --version" "git --version" "$c/startup.csv" 2 "-" - "(none)"
row "cat" "promptctl cat $CAT_PROMPT@production" "git show production:$catf" "$c/cat.csv" 2 A 2 "≤ 2.00"
row "cat" "promptctl cat $CAT_PROMPT@production" "git show production:$catf" "$c/cat.csv" 3 B 2 "≤ 2.00"
row "log NAME" "promptctl log $LOG_PROMPT" "git log --format=%H -- $logf" "$c/log.csv" 2 A 0.1 "≤ 0.10 (10× faster)"
row "log NAME" "promptctl log $LOG_PROMPT" "git log --format=%H -- $logf" "$c/log.csv" 3 B 0.1 "≤ 0.10 (10× faster)"
row "commit (whole prompts/)" "promptctl commit -m …" "git add -A prompts && git commit -q -m …" "$c/commit.csv" 2 A 1 "≤ 1.00"
row "commit (one path)" "promptctl commit -m … $comf" "git add $comf && git commit -q -m …" "$c/commit1.csv" 2 A 1 "≤ 1.00"
row "diff (two commits)" "promptctl diff production~10 production" "git diff production~10 production" "$c/diff.csv" 2 A 1 "≤ 1.00"
row "diff (two commits)" "promptctl diff production~10 production" "git diff production~10 production" "$c/diff.csv" 3 B 1 "≤ 1.00"
row "diff, equal sides (reference)" "promptctl diff production production" "git diff production production" "$c/diff0.csv" 2 A - "(none)"
row "diff (one prompt)" "promptctl diff $HOT_PROMPT@production~10 $HOT_PROMPT@production" "git diff production~10 production -- $hotf" "$c/diff1.csv" 2 A 1 "≤ 1.00"
row "diff (one prompt)" "promptctl diff $HOT_PROMPT@production~10 $HOT_PROMPT@production" "git diff production~10 production -- $hotf" "$c/diff1.csv" 3 B 1 "≤ 1.00"

# ---- where the time of `cat` goes ------------------------------------------------------------

prof=()
if [ "$profile" = 1 ]; then
  say "profiling cat"
  # In-process phases, as separate processes (each pays sled's thread-pool start).
  phases() { # DIR REV N [--no-drop]
    local d="$1" r="$2" n="$3"; shift 3
    for _ in $(seq "$n"); do "$catprof" "$d" "$r" "$@"; done | awk '
      { for (i = 2; i <= NF; i++) { split($i, kv, "="); k = kv[1]; sub(/_us$/, "", k); v[k, ++n[k]] = kv[2] / 1000; keys[k] = i } }
      END { for (k in keys) { m = n[k]; for (i = 1; i <= m; i++) a[i] = v[k, i]
              for (i = 2; i <= m; i++) { x = a[i]; j = i - 1; while (j > 0 && a[j] > x) { a[j + 1] = a[j]; j-- } a[j + 1] = x }
              printf "%d %s=%.2f\n", keys[k], k, a[int((m + 1) / 2)] } }' | sort -n | cut -d' ' -f2- | tr '\n' ' '
  }
  "$gen" "$work/small" --commits 1 --no-git >/dev/null
  small_cat=$(sed -n 's/^CAT_PROMPT=//p' "$work/small/meta.env")
  prof+=("In-process phases of \`cat\` (examples/cat_profile: the CLI's steps, timed; medians of 20 processes, ms):")
  prof+=("")
  prof+=("- $COMMITS-commit store: $(phases "$P" "$CAT_PROMPT@production" 20)")
  prof+=("- same, store leaked instead of dropped (no fsync on drop): $(phases "$P" "$CAT_PROMPT@production" 20 --no-drop)")
  prof+=("- 1-commit store: $(phases "$work/small/promptctl" "$small_cat@production" 20)")
  if command -v strace >/dev/null 2>&1 && command -v python3 >/dev/null 2>&1; then
    # A timeline of the real binary from its system calls: only these calls stop the process
    # (--seccomp-bpf), so strace adds little.
    cat >"$work/timeline.py" <<'PY'
import re, sys
def phases(path):
    lines = open(path).read().splitlines()
    pid = lines[0].split()[0]
    ev, pending = [], {}
    for l in lines:
        p, t, rest = l.split(None, 2)
        if p != pid:
            continue
        t = float(t)
        m = re.match(r'<\.\.\. (\w+) resumed>.*<([\d.]+)>$', rest)
        if m:
            s, txt = pending.pop(m.group(1))
            ev.append((s, t + float(m.group(2)), m.group(1), txt))
            continue
        m = re.match(r'(\w+)\(', rest)
        if not m:
            continue
        if rest.endswith('<unfinished ...>'):
            pending[m.group(1)] = (t, rest)
            continue
        d = re.search(r'<([\d.]+)>$', rest)
        ev.append((t, t + (float(d.group(1)) if d else 0), m.group(1), rest))
    def first(pred, after=0.0):
        return next(e for e in ev if e[0] >= after and pred(e))
    ex = first(lambda e: e[2] == 'execve')
    cfg = first(lambda e: 'promptctl.yaml' in e[3])
    conf = first(lambda e: '.promptctl/conf' in e[3])
    snap = first(lambda e: '/snap.' in e[3])
    clones = [e for e in ev if e[2] == 'clone3']
    w1 = first(lambda e: e[2] == 'pwrite64')
    f1 = first(lambda e: e[2] == 'fsync')
    out = first(lambda e: e[2] == 'write' and e[3].startswith('write(1,'))
    f2 = first(lambda e: e[2] == 'fsync', out[0])
    end = first(lambda e: e[2] == 'exit_group')
    ms = lambda a, b: (b - a) * 1000
    return [
        ('exec → promptctl.yaml read (exec, dynamic linking, clap, project discovery)', ms(ex[0], cfg[0])),
        ('config parse → sled open starts', ms(cfg[0], conf[0])),
        ('sled: conf, db open + flock, list the store dir', ms(conf[0], snap[0])),
        ('sled: read + deserialize the snapshot', ms(snap[0], clones[0][0]) if clones else float('nan')),
        (f'sled: spawn its I/O thread pool ({len(clones)} clone3)', ms(clones[0][0], clones[-1][1]) if clones else 0.0),
        ('sled: read every segment header (one pool task each) + the log tail', ms(clones[-1][1] if clones else snap[0], w1[0])),
        ('sled: zero the rest of the tail segment + fsync', ms(w1[0], f1[1])),
        ('sled: rest of recovery (blob GC scan, segment accounting), open 8 trees; then our resolve + read', ms(f1[1], out[0])),
        ('write → drop', ms(out[0], f2[0])),
        ('sled: fsync on drop', ms(f2[0], f2[1])),
        ('→ exit_group', ms(f2[1], end[0])),
        ('**total, exec → exit_group**', ms(ex[0], end[0])),
    ]
label = sys.argv[1]
runs = []
for p in sys.argv[2:]:
    try:
        runs.append(phases(p))
    except (StopIteration, KeyError, IndexError, ValueError):
        pass
if not runs:
    sys.exit(1)
print(f"| {label}: phase ({len(runs)} runs) | median ms | min ms | max ms |")
print("|---|---:|---:|---:|")
for i, (name, _) in enumerate(runs[0]):
    xs = sorted(r[i][1] for r in runs)
    print(f"| {name} | {xs[len(xs) // 2]:.2f} | {xs[0]:.2f} | {xs[-1]:.2f} |")
PY
    timeline() { # LABEL DIR REV
      local i
      for i in $(seq 15); do
        (cd "$2" && strace -f --seccomp-bpf -ttt -T -e trace=execve,openat,clone3,pwrite64,fsync,write,exit_group \
          -o "$work/tl.$i" "$pc" cat "$3" >/dev/null 2>&1) || true
      done
      python3 "$work/timeline.py" "$1" "$work"/tl.*
    }
    if t1="$(timeline "$COMMITS-commit store" "$P" "$CAT_PROMPT@production")"; then
      prof+=("" "Timeline of the real binary, \`promptctl cat\`, from its system calls (\`strace -f --seccomp-bpf -ttt -T\` on execve, openat, clone3, pwrite64, fsync, write, exit_group only, so strace adds little):" "" "$t1")
    fi
    if t2="$(timeline "1-commit store" "$work/small/promptctl" "$small_cat@production")"; then
      prof+=("" "$t2")
    fi
    (cd "$P" && strace -f -c -o "$work/strace-c" "$pc" cat "$CAT_PROMPT@production" >/dev/null 2>&1) || true
    if [ -s "$work/strace-c" ]; then
      prof+=("")
      prof+=("System calls of one \`cat\` on the $COMMITS-commit store (strace -f -c; counts, all threads):")
      prof+=("")
      prof+=("$(awk '$NF ~ /^(pread64|pwrite64|fsync|clone3|futex|openat|getdents64|mmap|read|write)$/ { printf "%s=%s ", $NF, $4 }' "$work/strace-c")")
      prof+=("")
      prof+=("(sled reads one 20-byte header per 512 KiB log segment on every open: db file $(($(stat -c %s "$P/.promptctl/db") / 524288)) segments, plus $(find "$P/.promptctl/blobs" -type f | wc -l | tr -d ' ') blob files listed)")
    fi
  fi
fi

# ---- report ----------------------------------------------------------------------------------

mib() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1048576 }'; }
elapsed=$(($(date +%s) - started))
rev="$(git -C "$here" rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty="$(git -C "$here" --no-optional-locks status --porcelain 2>/dev/null | head -1)"
[ -n "$dirty" ] && rev="$rev+changes"
tool="hyperfine $(hyperfine --version 2>/dev/null | awk '{print $2}') (--warmup $warmup --runs $runs)"
[ "$have_hyperfine" = 1 ] || tool="bash timing loop, hyperfine not used (--warmup $warmup --runs $runs; each time includes a subshell and two date calls)"
out="$target_dir/bench-vs-git.md"
{
  echo "## promptctl vs git ($COMMITS commits, $PROMPTS prompts)"
  echo
  echo "Command: \`scripts/bench-vs-git.sh$([ "$commits" = 10000 ] || echo " --commits $commits")$([ "$runs" = 20 ] || echo " --runs $runs")\` ($tool), promptctl $rev, $(git --version), $(nproc) CPUs, $(uname -sr), $(date -u +%Y-%m-%d); load average before/after: $load0 / $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| operation | promptctl | git | git state | promptctl median ms | promptctl mean ms | git median ms | git mean ms | promptctl ÷ git (median) | target | met? |"
  echo "|---|---|---|---|---:|---:|---:|---:|---:|---|---|"
  printf '%s\n' "${rows[@]}"
  echo
  echo "- History: $COMMITS commits on \`staging\`, 1–3 prompts changed per commit (commit 0 adds all $PROMPTS), Zipf-like choice (changes per prompt: min $MIN_CHANGES, median $MEDIAN_CHANGES, max $MAX_CHANGES); \`production\` promoted every 500 commits and = \`staging\` at the end. Same files, authors, times and messages in both."
  echo "- \`log NAME\` uses \`$LOG_PROMPT\`, changed in $LOG_PROMPT_CHANGES commits (both tools list $n_pc). \`diff (one prompt)\` uses the most changed prompt, \`$HOT_PROMPT\` ($HOT_PROMPT_CHANGES changes); \`cat\` reads \`$CAT_PROMPT\`; \`commit\` appends one line to \`$COMMIT_PROMPT\` before every run (hyperfine \`--prepare\`), in both work trees."
  echo "- git state A: \`git fast-import\`, then \`git repack -ad\` (one pack, no commit-graph: like a fresh clone). State B: A plus \`git commit-graph write --reachable --changed-paths\` (Bloom filters: git's best case for path-limited log). Commits are measured on A only (commit does not read the commit-graph)."
  echo "- Sizes: promptctl store $(mib "$STORE_BYTES") MiB, git \`.git\` $(mib "$GIT_BYTES") MiB. Writing the promptctl store took $GEN_STORE_SECS s ($COMMITS transactions, each flushed), the whole generator $GEN_TOTAL_SECS s."
  echo "- Reading commands run without a shell (hyperfine \`-N\`) from the promptctl project directory, git with \`git -C\`; the commit rows run through \`sh -c\` (hyperfine subtracts the shell's start-up) because git's side is two commands. Output goes to /dev/null. \`promptctl commit\` spawns \`git config user.name\` for its actor, as it does for users."
  if [ "${#prof[@]}" -gt 0 ]; then
    echo
    echo "### Where \`cat\` spends its time"
    echo
    printf '%s\n' "${prof[@]}"
  fi
  echo
  echo "(bench-vs-git.sh took ${elapsed}s.)"
} >"$out"
cat "$out"
say "written to $out"
