#!/usr/bin/env bash
# Installs headless Chromium (Debian, as root) so the report test can check that the page renders.
# Elsewhere it only says what to install; that one test then skips with the reason in its name.
set -euo pipefail
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || command -v google-chrome >/dev/null; then
  exit 0
fi
if [ -f /etc/debian_version ] && [ "$(id -u)" = 0 ]; then
  echo "setup-chromium: installing chromium (headless rendering check of reports)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null 2>&1 ||
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
else
  echo "setup-chromium: no chromium found; install it to check that reports render (optional)" >&2
fi
