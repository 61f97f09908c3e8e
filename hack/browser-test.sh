#!/usr/bin/env bash
# browser-test.sh runs the status page's end-to-end test in a real headless
# browser (Debian's chromium), installing chromium first when it is missing.
# The test is required to run: CXLOOP_REQUIRE_BROWSER=1 turns a missing
# browser into a failure instead of a skip.
#   SCREENSHOTS=DIR  also saves phone- and desktop-sized screenshots to DIR.
# Safe to run twice.
set -euo pipefail

cd "$(dirname "$0")/.."

log() { echo "browser-test: $*" >&2; }

if [[ -z "${CXLOOP_CHROMIUM:-}" ]] && ! command -v chromium >/dev/null 2>&1; then
  log "installing Debian's chromium"
  if [[ "$(id -u)" != 0 ]]; then SUDO=sudo; else SUDO=; fi
  ${SUDO} apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive ${SUDO} apt-get install -y -qq chromium >&2
fi

export CXLOOP_REQUIRE_BROWSER=1
if [[ -n "${SCREENSHOTS:-}" ]]; then
  mkdir -p "${SCREENSHOTS}"
  export CXLOOP_SCREENSHOT_DIR
  CXLOOP_SCREENSHOT_DIR="$(cd "${SCREENSHOTS}" && pwd)"
fi
exec go test -count=1 -run '^TestBrowser$' -v ./internal/statuspage/
