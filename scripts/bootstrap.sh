#!/usr/bin/env bash
# Sets up a fresh clone: virtualenv, pinned install, Airflow metadata DB, pool.
# Idempotent and quick when nothing changed.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
    echo "Python 3.11 is required (found $("$PYTHON" --version 2>&1))" >&2
    exit 1
fi
if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
UV_VERSION=0.13.9
stamp="$VENV/.installed-$(cat "$REPO_ROOT/pyproject.toml" "$REPO_ROOT/constraints.txt" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    # This machine's pip configuration warns about every index folder it lacks: keep errors, drop that noise.
    quiet() { "$@" 2> >(grep -v "^WARNING: Location" >&2); }
    # uv installs the pinned tree in seconds where pip takes minutes; pip remains the fallback.
    # uv trusts the system's certificates (--native-tls), as pip does here, and compiles the
    # bytecode as pip does: where PYTHONDONTWRITEBYTECODE is set (this machine kind sets it), every
    # process would otherwise compile Airflow, GX and pandas from source on each import.
    if quiet "$VENV/bin/python" -m pip install --quiet "uv==$UV_VERSION" \
        && "$VENV/bin/uv" pip install --quiet --native-tls --compile-bytecode --python "$VENV/bin/python" \
            -c "$REPO_ROOT/constraints.txt" -e "$REPO_ROOT[test]"; then
        :
    else
        echo "uv could not install the tree: installing with pip" >&2
        quiet "$VENV/bin/python" -m pip install --quiet --upgrade pip
        quiet "$VENV/bin/python" -m pip install --quiet -c "$REPO_ROOT/constraints.txt" -e "$REPO_ROOT[test]"
    fi
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi
mkdir -p "$AIRFLOW_HOME"
airflow db migrate >/dev/null
airflow pools set duckdb_warehouse 1 "Single writer of the DuckDB warehouse" >/dev/null
