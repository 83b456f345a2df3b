"""The Airflow local settings hook (src/airflow_local_settings.py): Airflow itself imports it as it
starts, and only the processes that fork task processes (the scheduler, a Celery worker) preload the
tasks' slow modules, without starting a thread (they fork afterwards) or exporting a name into
Airflow's settings."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# An Airflow process as its command line names it: `import airflow` runs airflow.settings.initialize(),
# which imports airflow_local_settings.
PROBE = """
import json, sys, threading
sys.argv = ["airflow", *sys.argv[1:]]
import airflow
import airflow.settings
print(json.dumps({
    "hook": getattr(sys.modules.get("airflow_local_settings"), "__file__", None),
    "preloaded": [m for m in ("great_expectations", "duckdb", "dichvucong.tasks") if m in sys.modules],
    "threads": threading.active_count(),
    "exported": sorted({"PRELOADED", "preload", "forks_tasks"} & set(vars(airflow.settings))),
}))
"""


def probe(*argv: str, **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DVC_AIRFLOW_PRELOAD")} | env
    completed = subprocess.run([sys.executable, "-c", PROBE, *argv], env=environment, capture_output=True,
                               text=True, timeout=300, check=True)
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def api_server() -> dict:
    return probe("api-server", "--port", "0")


@pytest.mark.parametrize("argv", [("scheduler",), ("celery", "worker", "--concurrency", "2")])
def test_the_processes_that_fork_tasks_preload_them(argv: tuple[str, ...], api_server: dict) -> None:
    seen = probe(*argv)
    assert seen["hook"] and seen["hook"].endswith("airflow_local_settings.py")
    assert seen["preloaded"] == ["great_expectations", "duckdb", "dichvucong.tasks"]
    # Nothing started a thread that a fork would lose: the same count as a process that preloads nothing.
    assert seen["threads"] == api_server["threads"]
    assert seen["exported"] == []


def test_other_processes_and_a_disabled_preload_import_nothing(api_server: dict) -> None:
    assert api_server["hook"] and api_server["preloaded"] == []
    assert probe("dag-processor")["preloaded"] == []
    assert probe("scheduler", DVC_AIRFLOW_PRELOAD="false")["preloaded"] == []


def test_settings_that_do_not_parse_skip_the_preload_and_leave_airflow_starting() -> None:
    assert probe("scheduler", DVC_DBT_THREADS="many")["preloaded"] == []
