#!/usr/bin/env bash
# Debian's Chromium for the dashboard's browser tests: Playwright drives it and downloads no browser
# of its own. Installs the `chromium` package when it is missing (as root, or with sudo).
set -euo pipefail
CHROMIUM="${DVC_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
else
    echo "The browser tests need Chromium at $CHROMIUM: install Debian's chromium package (or set DVC_CHROMIUM)" >&2
    exit 1
fi
echo "Installing Debian's chromium for the browser tests..." >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
