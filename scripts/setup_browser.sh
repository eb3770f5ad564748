#!/usr/bin/env bash
# Install Debian's Chromium for the browser test, if it is missing. Playwright's own
# browser download is not used (it needs hosts other than the package registries).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ]; then
  exit 0
fi
echo "==> installing Debian's chromium for the browser test"
if [ "$(id -u)" -eq 0 ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
elif command -v sudo >/dev/null 2>&1; then
  sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
else
  echo "error: chromium is missing and neither root nor sudo is available to install it;" >&2
  echo "       install the Debian package 'chromium' and run again" >&2
  exit 1
fi
