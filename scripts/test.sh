#!/usr/bin/env bash
# The test suite: set up, then lint and run every test (pytest arguments pass through).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
"$REPO_ROOT/scripts/bootstrap.sh"
"$REPO_ROOT/scripts/ensure_chromium.sh"
cd "$REPO_ROOT"
# The tests' sources are small: dbt builds two models at a time there (the production default, 1,
# keeps a merged province's year within DuckDB's memory limit; docs/benchmarks.md).
export DVC_DBT_THREADS="${DVC_DBT_THREADS:-2}"
ruff check src dags tests
mypy
# Two processes (pytest-xdist): the slow tests wait on dbt and Airflow child processes about half
# the time. TEST_WORKERS=0 runs the suite in this process. The longest groups go first
# (tests/conftest.py, SLOWEST_GROUPS; --no-loadscope-reorder keeps that order).
exec python -m pytest -n "${TEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder "$@"
