#!/usr/bin/env bash
# Runs every test. The AWS adapters are tested against real API-compatible servers that
# this script installs and starts on loopback: moto's server from PyPI (DynamoDB, SQS and
# Secrets Manager wire APIs) and ElasticMQ from Maven Central (SQS with its strict limits;
# the queue contract suite runs on both). Servers it started are stopped when it exits,
# however it exits; ones already running are left running.
set -euo pipefail
cd "$(dirname "$0")/.."
started=()
stop_started() {
  for s in "${started[@]+"${started[@]}"}"; do bash "scripts/$s" stop || true; done
}
trap stop_started EXIT
# note_start SCRIPT: remember to stop the server SCRIPT starts unless it already runs
# (called before the start, outside the $(...) subshell that reads its endpoint).
note_start() {
  if ! bash "scripts/$1" status; then started+=("$1"); fi
}
note_start aws-emulator.sh
endpoint=$(bash scripts/aws-emulator.sh start)
echo "AWS API emulator: moto server at $endpoint"
note_start elasticmq.sh
elasticmq=$(bash scripts/elasticmq.sh start)
echo "SQS emulator: ElasticMQ (strict SQS limits) at $elasticmq"
export PONTE_AWS_ENDPOINT="$endpoint" PONTE_REQUIRE_AWS=1
export PONTE_ELASTICMQ_ENDPOINT="$elasticmq" PONTE_REQUIRE_ELASTICMQ=1
browser=$(bash scripts/browser.sh)
echo "Browser for the operator page's tests: $browser"
export PONTE_CHROMIUM="$browser" PONTE_REQUIRE_BROWSER=1
go vet ./...
# Contract suites run verbose into a log; the summary keeps the lines naming each backend
# and the server it really ran against (each suite identifies it), and the cases skipped
# with their reason (race cases on moto, whose conditional writes are not atomic).
pattern='/internal/(store|queue)/(sqlite|dynamodb|sqs)$|/internal/secrets/|/internal/app$'
contract=$(go list ./... | grep -E "$pattern" || true)
others=$(go list ./... | grep -v -E "$pattern")
log=$(mktemp)
status=0
go test -count=1 -timeout 20m -v $contract >"$log" 2>&1 || status=$?
grep -E 'contract suite|^(--- FAIL|FAIL|ok|panic)' "$log" || true
grep -E -- '--- SKIP: TestContract/' "$log" | sed -E 's/^\s+//; s/ \(.*//' | sort | uniq -c || true
grep -E 'not apply conditional writes atomically' "$log" | sed -E 's/^\s+//' | sort -u || true
if [ "$status" != 0 ]; then tail -100 "$log"; exit "$status"; fi
go test -count=1 -timeout 20m $others
bash scripts/schemathesis.sh
bash scripts/test-infra.sh
