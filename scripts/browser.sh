#!/usr/bin/env bash
# Makes sure a headless-capable Chromium exists for the operator page's browser tests and
# prints its path. On Debian it installs the distribution's `chromium` package when
# /usr/bin/chromium is missing; PONTE_CHROMIUM, when set, names a browser to use instead.
set -euo pipefail
path=${PONTE_CHROMIUM:-/usr/bin/chromium}
if [ -x "$path" ]; then
  echo "$path"
  exit 0
fi
if [ -n "${PONTE_CHROMIUM:-}" ]; then
  echo "browser.sh: PONTE_CHROMIUM=$PONTE_CHROMIUM is not an executable" >&2
  exit 1
fi
if ! command -v apt-get >/dev/null; then
  echo "browser.sh: no /usr/bin/chromium and no apt-get: install Chromium and set PONTE_CHROMIUM" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" != 0 ]; then
  sudo="sudo"
fi
# apt's output goes to stderr: stdout is only the path, for callers to capture.
{
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
} >&2
if [ ! -x "$path" ]; then
  echo "browser.sh: apt-get installed chromium but $path is missing" >&2
  exit 1
fi
echo "$path"
