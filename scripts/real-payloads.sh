#!/usr/bin/env bash
# Runs the order samples the platforms publish through the hub, one line per sample
# (not part of CI: the samples are other people's data, kept outside this repository).
#   scripts/real-payloads.sh [DIR]   DIR defaults to ../shared/real-payloads
set -euo pipefail
cd "$(dirname "$0")/.."
export PONTE_REAL_PAYLOADS="$(cd "${1:-../shared/real-payloads}" && pwd)"
out=$(go test -tags realpayloads -count=1 -v -run '^TestRealPayloads$' ./internal/app/ 2>&1) || { echo "$out"; exit 1; }
echo "$out" | grep -v -E '^(=== RUN|--- PASS|PASS|ok )'
