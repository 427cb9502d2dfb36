#!/usr/bin/env bash
# Runs schemathesis (from PyPI, pinned, installed once into .tools/) over api/openapi.yaml
# against a live hub: `ponte serve` on loopback with a temporary data dir and the demo
# tenant, once with the ERP key over the ERP routes and once with the operator key over
# the operator routes. Fails on any server error, response that breaks the schema, or
# status the document does not list. Bounded: SCHEMATHESIS_MAX_EXAMPLES cases per
# operation (default 40) and a per-request timeout.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
venv="$tools/schemathesis-venv"
SCHEMATHESIS_VERSION="4.1.4"
# Newer hypothesis releases break hypothesis-jsonschema (AttributeError 'many'.more).
HYPOTHESIS_VERSION="6.135.0"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-40}"
# The demo's keys (internal/demo): local use only.
erp_key="demo-erp-key-for-local-use-only"
operator_key="demo-operator-key-for-local-use-only"

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "version $SCHEMATHESIS_VERSION\$" ||
  ! "$venv/bin/python" -c "import hypothesis,sys; sys.exit(hypothesis.__version__ != '$HYPOTHESIS_VERSION')" 2>/dev/null; then
  mkdir -p "$tools"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "hypothesis==$HYPOTHESIS_VERSION" >&2
fi

work=$(mktemp -d)
hub_pid=""
cleanup() {
  if [ -n "$hub_pid" ]; then kill "$hub_pid" 2>/dev/null || true; wait "$hub_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
addr="127.0.0.1:$(free_port)"
sim_addr="127.0.0.1:$(free_port)"

(cd "$root" && go build -o "$work/ponte" ./cmd/ponte)
PONTE_DATA="$work/data" PONTE_ADDR="$addr" PONTE_DEMO_SIM_ADDR="$sim_addr" PONTE_CONFIG="" \
  "$work/ponte" serve >"$work/serve.log" 2>&1 &
hub_pid=$!
for _ in $(seq 1 150); do
  if curl -fsS "http://$addr/healthz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$hub_pid" 2>/dev/null; then cat "$work/serve.log" >&2; echo "ponte serve exited" >&2; exit 1; fi
  sleep 0.2
done
curl -fsS "http://$addr/healthz" >/dev/null

# Checks: server errors, undocumented statuses, bodies that break the schema. Not the
# content type: requests with header names that are not HTTP tokens are refused by Go's
# HTTP server itself with a plain-text 400, before any handler runs.
run() { # run <key> <path regex>
  timeout "${SCHEMATHESIS_TIMEOUT:-600}" "$venv/bin/schemathesis" run "$root/api/openapi.yaml" --url "http://$addr" \
    --header "Authorization: Bearer $1" --include-path-regex "$2" \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --max-examples "$max_examples" --seed 20240611 --request-timeout 10 --workers 2 \
    --suppress-health-check all --warnings off --no-color
}
status=0
echo "schemathesis $SCHEMATHESIS_VERSION: ERP routes with the ERP key"
run "$erp_key" '^/(healthz|v1/erp/|v1/webhooks/)' || status=$?
echo "schemathesis $SCHEMATHESIS_VERSION: operator routes with the operator key"
run "$operator_key" '^/v1/admin/' || status=$?
if grep -q '"level":"ERROR"' "$work/serve.log"; then
  echo "the hub logged errors during the run:" >&2
  grep '"level":"ERROR"' "$work/serve.log" | head -20 >&2
  status=1
fi
exit "$status"
