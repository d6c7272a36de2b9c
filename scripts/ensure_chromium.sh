#!/usr/bin/env bash
# Make sure Debian's Chromium (and CJK fonts, so Chinese renders in screenshots) is on this machine for
# the browser tests (tests/browser). Playwright drives /usr/bin/chromium; it never downloads a browser.
# Used by `make test` and so by .ci/run.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh 2>/dev/null | grep -q .; then
  echo "installing Chromium and CJK fonts"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null  # the Debian wrapper may warn about /dev/shm on stderr
