#!/usr/bin/env bash
# Runs every test. The AWS adapters are tested against moto's server (DynamoDB, SQS and
# Secrets Manager wire APIs), which this script installs from PyPI and starts on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
endpoint=$(bash scripts/aws-emulator.sh start)
echo "AWS API emulator: moto server at $endpoint"
export PONTE_AWS_ENDPOINT="$endpoint" PONTE_REQUIRE_AWS=1
browser=$(bash scripts/browser.sh)
echo "Browser for the operator page's tests: $browser"
export PONTE_CHROMIUM="$browser" PONTE_REQUIRE_BROWSER=1
go vet ./...
# Contract suites run verbose into a log; the summary keeps the lines naming each backend
# and the server it ran against.
pattern='/internal/(store|queue)/(sqlite|dynamodb|sqs)$|/internal/secrets/|/internal/app$'
contract=$(go list ./... | grep -E "$pattern" || true)
others=$(go list ./... | grep -v -E "$pattern")
log=$(mktemp)
status=0
go test -count=1 -timeout 20m -v $contract >"$log" 2>&1 || status=$?
grep -E 'contract suite|^(--- FAIL|FAIL|ok|panic)' "$log" || true
if [ "$status" != 0 ]; then tail -100 "$log"; exit "$status"; fi
go test -count=1 -timeout 20m $others
bash scripts/test-infra.sh
