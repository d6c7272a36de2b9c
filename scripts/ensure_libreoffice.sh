#!/usr/bin/env bash
# Make sure LibreOffice Calc (headless, Debian's libreoffice-calc-nogui) is on this machine: the tests
# open the workbooks we write (exchange plan, backbone roster ...) in it, as auditors would (tests/libreoffice.py).
# Used by `make test` and so by .ci/run. About 15 s the first time.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v soffice >/dev/null 2>&1; then
  echo "installing LibreOffice Calc (headless)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null
fi
