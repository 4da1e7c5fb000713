#!/usr/bin/env bash
# The everyday workflow, end to end, on a copy of this repository's prompts/ with an embedded
# store in a temporary directory and the built-in offline provider: init → commit → promote →
# change → diff → render → dry-run → rollback → reflog. Nothing in the checkout is modified, no
# network is used, no API key is needed. Usage: ./scripts/demo.sh [--keep]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --quiet --manifest-path "$here/Cargo.toml"
bin="$here/target/release/promptctl"

work="$(mktemp -d "${TMPDIR:-/tmp}/promptctl-demo.XXXXXX")"
if [ "${1:-}" != "--keep" ]; then trap 'rm -rf "$work"' EXIT; else echo "(keeping $work)"; fi
cp -R "$here/prompts" "$work/prompts"
cd "$work"
export PROMPTCTL_ACTOR="${PROMPTCTL_ACTOR:-demo}"

step() { printf '\n\033[1m$ promptctl %s\033[0m\n' "$*"; "$bin" "$@"; }

step init
step status
step commit -m "Import the team's prompts"
step promote staging production
step tag v1.0.0 production
step get summarize@production --json

# An engineer edits a prompt...
sed -i.bak 's/Summarise:/Summarise in three bullet points:/' prompts/summarize.prompt.yaml && rm prompts/summarize.prompt.yaml.bak
step status
step commit -m "summarize: ask for three bullet points"
step diff summarize@production summarize@staging
step render summarize --var "ticket=My refund never arrived" --var tone=friendly
echo
step diff production staging --stat
step dry-run summarize --var "ticket=My refund never arrived" --offline
step dry-run summarize --var "ticket=My refund never arrived"
step promote staging production --expect "$("$bin" get summarize@production --json | sed -n 's/.*"commit": "\([0-9a-f]*\)".*/\1/p')"

# ...and production is rolled back: a new reflog entry, nothing deleted.
step rollback production
step cat summarize@production
step reflog production
step log summarize
step fsck
printf '\nDone: production is back at v1.0.0 (%s).\n' "$("$bin" get summarize@production --json | sed -n 's/.*"commit": "\([0-9a-f]\{12\}\).*/\1/p')"
