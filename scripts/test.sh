#!/usr/bin/env bash
# The test suite: set up, then lint and run every test (pytest arguments pass through).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$REPO_ROOT/scripts/bootstrap.sh"
"$REPO_ROOT/scripts/ensure_chromium.sh"
cd "$REPO_ROOT"
ruff check src dags tests
mypy
exec python -m pytest "$@"
