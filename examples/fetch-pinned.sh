#!/usr/bin/env bash
# An application fetching the prompt that production points at, and pinning it: the version id
# it logs and caches is the BLAKE3 of the exact bytes, so anyone can verify it with b3sum.
set -euo pipefail
name="${1:-summarize}"
json="$(promptctl get "$name@production" --json)"
version="$(printf '%s' "$json" | jq -r .version)"
commit="$(printf '%s' "$json" | jq -r .commit)"
# The exact bytes, checked against the pinned id before use.
promptctl cat "$name@$version" > "/tmp/$name.prompt"
test "$(b3sum --no-names "/tmp/$name.prompt")" = "$version"
echo "using $name version $version (commit $commit)"
# A lockfile of hashes: what runs is exactly what was reviewed.
printf '%s %s\n' "$name" "$version" >> prompts.lock
