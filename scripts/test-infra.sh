#!/usr/bin/env bash
# Tests the deployment: the infra module's tests (CDK assertions, least privilege, CDK/SAM
# parity, stale template.yaml), cfn-lint on both templates, sam validate --lint, bootstrap
# sizes (<= 20 MB each) and each handler's local init time. Offline apart from the package
# registries (tools install from npm and PyPI on a cold cache, see infra-tools.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

PATH="$(bash scripts/infra-tools.sh --print):$PATH"
# Debian's node is 20, which jsii (the CDK's Go bridge) flags as end of life in a banner on
# every run; it works, and the banner would bury the test output.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
# SAM and the CDK CLI must not phone home (no network here); SAM needs a region and
# credentials to exist, never to be used, for validate.
export SAM_CLI_TELEMETRY=0 CDK_DISABLE_CLI_TELEMETRY=true
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-offline}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-offline}"

echo "== infra: gofmt, vet, tests"
unformatted=$(cd infra && gofmt -l .)
if [ -n "$unformatted" ]; then echo "gofmt: $unformatted"; exit 1; fi
(cd infra && go vet ./... && go test -count=1 -timeout 10m ./...)

echo "== bootstraps (make build: linux/arm64, stripped)"
make -s build >/dev/null
limit=$((20 * 1024 * 1024))
for b in build/*/bootstrap; do
  size=$(stat -c %s "$b")
  awk -v n="$(basename "$(dirname "$b")")" -v s="$size" 'BEGIN { printf "bootstrap %-22s %5.1f MB\n", n, s / 1048576 }'
  if [ "$size" -gt "$limit" ]; then echo "FAIL: $b is over 20 MB"; exit 1; fi
done

echo "== cdk synth + cfn-lint (CDK template)"
(cd infra && cdk synth -q -c stage=dev -c assets=../build >/dev/null 2>"$root/build/cdk-synth.log") ||
  { cat build/cdk-synth.log; exit 1; }
grep -E '^\[Warning|WARNING' build/cdk-synth.log | sed 's/^/  /' || true
cdk_tpl=infra/cdk.out/ponte-dev.template.json
cfn-lint "$cdk_tpl"
printf 'cfn-lint %s: clean (%d bytes)\n' "$cdk_tpl" "$(stat -c %s "$cdk_tpl")"

echo "== cfn-lint + sam validate --lint (SAM template)"
cfn-lint template.yaml
printf 'cfn-lint template.yaml: clean (%d bytes)\n' "$(stat -c %s template.yaml)"
status=0
out=$(sam validate --lint -t template.yaml 2>&1) || status=$?
echo "$out" | grep -v '^\s*$'
[ "$status" = 0 ] || exit "$status"

echo "== sam build (Go builder, per function)"
# Each function is built on its own, so its bootstrap size can be checked. GOFLAGS gives
# the same tags and stripping as make build; the Go build cache makes this nearly free after it.
samdir=$(mktemp -d)
trap 'rm -rf "$samdir"' EXIT
(cd infra && go run ./cmd/samgen -functions) | while read -r id dir; do
  if [ ! -d "$dir" ]; then echo "FAIL: $id is declared but $dir does not exist"; exit 1; fi
  GOFLAGS='-tags=lambda.norpc "-ldflags=-s -w"' CGO_ENABLED=0 \
    sam build "$id" -t template.yaml --build-dir "$samdir/$id" --cache-dir "$samdir/cache" >"$samdir/$id.log" 2>&1 ||
    { cat "$samdir/$id.log"; exit 1; }
  size=$(stat -c %s "$samdir/$id/$id/bootstrap")
  awk -v n="$id" -v s="$size" 'BEGIN { printf "sam build %-24s %5.1f MB\n", n, s / 1048576 }'
  if [ "$size" -gt "$limit" ]; then echo "FAIL: $id bootstrap is over 20 MB"; exit 1; fi
done

echo "== handler init time (host-arch builds, fake runtime API on loopback)"
hostbin=$(mktemp -d)
trap 'rm -rf "$hostbin" "$samdir"' EXIT
for d in functions/*/; do
  n=$(basename "$d")
  CGO_ENABLED=0 go build -tags lambda.norpc -trimpath -ldflags='-s -w' -o "$hostbin/$n/bootstrap" "./functions/$n"
done
(cd infra && go run ./cmd/initbench -runs 5 "$hostbin")
echo "infra: all checks passed"
