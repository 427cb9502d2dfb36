#!/usr/bin/env bash
# Installs the deploy and lint tools into .tools/ (gitignored), pinned, from the package
# registries only: the aws-cdk CLI from npm; cfn-lint and aws-sam-cli from PyPI into one
# venv (sam validate --lint imports cfn-lint from its own environment, so they must share it).
# Idempotent: a tool already at its pinned version is left alone, so a warm run costs nothing.
#   scripts/infra-tools.sh            -> installs; prints nothing on a warm cache
#   scripts/infra-tools.sh --print    -> also prints the tools' bin directories (for PATH)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
CDK_VERSION="2.1148.1"      # aws-cdk CLI (npm); reads the cloud assembly of aws-cdk-lib 2.250.0
SAM_VERSION="1.170.0"       # aws-sam-cli (PyPI)
CFN_LINT_VERSION="1.58.0"   # the cfn-lint that aws-sam-cli 1.170.0 resolves to

cdk_dir="$tools/cdk"
venv="$tools/infra-venv"

install_cdk() {
  if [ -x "$cdk_dir/node_modules/.bin/cdk" ] &&
    [ "$(node -p "require('$cdk_dir/node_modules/aws-cdk/package.json').version" 2>/dev/null)" = "$CDK_VERSION" ]; then
    return
  fi
  mkdir -p "$cdk_dir"
  echo "installing aws-cdk@$CDK_VERSION into $cdk_dir" >&2
  npm install --prefix "$cdk_dir" --no-audit --no-fund --loglevel=error "aws-cdk@$CDK_VERSION" >&2
}

install_py() {
  if [ -x "$venv/bin/sam" ] && [ -x "$venv/bin/cfn-lint" ] &&
    "$venv/bin/python" - "$SAM_VERSION" "$CFN_LINT_VERSION" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
sys.exit(0 if (version("aws-sam-cli"), version("cfn-lint")) == (sys.argv[1], sys.argv[2]) else 1)
PY
    return
  fi
  mkdir -p "$tools"
  echo "installing aws-sam-cli==$SAM_VERSION cfn-lint==$CFN_LINT_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "aws-sam-cli==$SAM_VERSION" "cfn-lint==$CFN_LINT_VERSION" >&2
}

install_cdk
install_py
if [ "${1:-}" = "--print" ]; then
  echo "$cdk_dir/node_modules/.bin:$venv/bin"
fi
