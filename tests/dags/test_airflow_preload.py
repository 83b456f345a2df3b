"""The Airflow local settings hook (src/airflow_local_settings.py): Airflow itself imports it as it
starts, and only the processes that fork task processes (a LocalExecutor's scheduler, a Celery
worker) preload the tasks' slow modules, without starting a Python thread (they fork afterwards) or
exporting a name of its own into Airflow's settings; an operator's own local settings file in
$AIRFLOW_HOME/config still reaches Airflow, its cluster policies included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

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
    "operator_marker": getattr(airflow.settings, "OPERATOR_MARKER", None),
    "task_policies": len(airflow.settings.get_policy_plugin_manager().hook.task_policy.get_hookimpls()),
}))
"""


def probe(*argv: str, **env: str) -> dict:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DVC_AIRFLOW_PRELOAD")}
    environment |= {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor"} | env
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
    # A CeleryExecutor's scheduler forks no task: its workers preload.
    assert probe("scheduler", AIRFLOW__CORE__EXECUTOR="CeleryExecutor")["preloaded"] == []


def test_an_operators_local_settings_in_the_airflow_home_still_reach_airflow(tmp_path: Path,
                                                                              api_server: dict) -> None:
    home = tmp_path / "airflow"
    (home / "config").mkdir(parents=True)
    (home / "config" / "airflow_local_settings.py").write_text(
        "OPERATOR_MARKER = 'kept'\n"
        "def task_policy(task):\n"
        "    task.owner = task.owner\n")
    seen = probe("api-server", AIRFLOW_HOME=str(home))
    assert seen["operator_marker"] == "kept"
    assert seen["task_policies"] == api_server["task_policies"] + 1
    assert seen["exported"] == []


def test_settings_that_do_not_parse_skip_the_preload_and_leave_airflow_starting() -> None:
    assert probe("scheduler", DVC_DBT_THREADS="many")["preloaded"] == []
