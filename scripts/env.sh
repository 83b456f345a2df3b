# Environment of the embedded default; sourced by the other scripts.
# Every variable can be set beforehand to override it (see .env.example).
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export REPO_ROOT
export DVC_HOME="${DVC_HOME:-$REPO_ROOT/data}"
export AIRFLOW_HOME="${AIRFLOW_HOME:-$DVC_HOME/airflow}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$REPO_ROOT/dags}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
export AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="${AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION:-False}"
export AIRFLOW__LOGGING__LOGGING_LEVEL="${AIRFLOW__LOGGING__LOGGING_LEVEL:-WARNING}"
# Telemetry off.
export DO_NOT_TRACK=1
export SCARF_ANALYTICS=false
export AIRFLOW__USAGE_DATA_COLLECTION__ENABLED=False
export DBT_SEND_ANONYMOUS_USAGE_STATS=False
export GX_ANALYTICS_ENABLED=False
export VENV="${VENV:-$REPO_ROOT/.venv}"
export PATH="$VENV/bin:$PATH"
