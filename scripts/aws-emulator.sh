#!/usr/bin/env bash
# Installs (once) and starts moto's server on loopback: a real HTTP server speaking the
# DynamoDB and SQS wire APIs, used by the AWS adapters' contract suites.
#   scripts/aws-emulator.sh start   -> prints the endpoint; idempotent
#   scripts/aws-emulator.sh stop
#   scripts/aws-emulator.sh status  -> exit 0 when the server this script started is running
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
venv="$tools/moto-venv"
port="${PONTE_EMULATOR_PORT:-4566}"
pidfile="$tools/moto.pid"
log="$tools/moto.log"
MOTO_VERSION="5.1.21"

install() {
  if [ -x "$venv/bin/moto_server" ] && "$venv/bin/python" -c "import moto,sys; sys.exit(0 if moto.__version__=='$MOTO_VERSION' else 1)" 2>/dev/null; then
    return
  fi
  mkdir -p "$tools"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
}

running() { [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; }

start() {
  install
  if ! running; then
    nohup "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 &
    echo $! >"$pidfile"
  fi
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/moto-api/" >/dev/null 2>&1; then
      echo "http://127.0.0.1:$port"
      return
    fi
    sleep 0.2
  done
  echo "moto server did not start; see $log" >&2
  exit 1
}

stop() {
  if running; then kill "$(cat "$pidfile")"; fi
  rm -f "$pidfile"
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) running ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
