"""Airflow's local settings hook, shipped with the pipeline: it preloads, and keeps an operator's own.

Every Airflow process imports `airflow_local_settings` as it starts (airflow.settings). In the
scheduler of a LocalExecutor and in a Celery worker this module imports, once, the modules the
pipeline's tasks need and take seconds to import: Great Expectations (about 6 s on a 2-core machine),
DuckDB, pyarrow and the pipeline's task functions. Airflow 3 runs every task in a process forked from
a worker that such a scheduler forked (Celery's prefork pool forks from the worker), so each task
starts with these modules already in memory instead of importing them again: a validation task no
longer pays GX's import (bench/freshness.py names it in the task start-up). A scheduler under the
CeleryExecutor forks no task and preloads nothing.

Only modules that import no Airflow module are preloaded (this runs while Airflow itself is still
initialising). Importing them starts no Python thread (tests/dags/test_airflow_preload.py counts
them); numpy and pyarrow start native pool threads, as in any process that forks after importing
them, and the real-scheduler and Celery tests run with the preload. A preload that fails is logged
and skipped: the task then imports the module itself, as without this hook. Off with
DVC_AIRFLOW_PRELOAD=false. Other Airflow processes (api-server, dag-processor, the CLI, `dag.test()`)
import nothing here.

Installed with the package, this module comes before `$AIRFLOW_HOME/config` on Python's path (Airflow
appends that folder), where Airflow documents an operator's `airflow_local_settings.py`. So that
such a file keeps working (its cluster policies above all), it is loaded from there and everything
it defines is handed on to Airflow, as Airflow itself would have taken it.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import time
from pathlib import Path
from typing import Any

_log = logging.getLogger("dichvucong.airflow_preload")

# What a task imports that is slow to import: the validation tasks' GX (its SQL execution engine over
# duckdb-engine, and the expectations), the lake's and the warehouse's DuckDB and pyarrow. bench/run.py
# imports the same before it times the pipeline's stages.
PRELOADED = (
    "duckdb",
    "pyarrow",
    "pyarrow.parquet",
    "duckdb_engine",
    "great_expectations",
    "great_expectations.expectations",
    "great_expectations.execution_engine.sqlalchemy_execution_engine",
    "dichvucong.tasks",
    "dichvucong.quality.suites",
    "dichvucong.publish",
)


def forks_tasks(argv: list[str], executor: str) -> bool:
    """Whether this process forks the task processes: `airflow celery worker`, or `airflow scheduler`
    when `executor` (Airflow's [core] executor: a name, or several separated by commas) names the
    LocalExecutor."""
    commands = [arg for arg in argv[1:] if not arg.startswith("-")]
    if commands[:2] == ["celery", "worker"]:
        return True
    local = any(name.strip().split(".")[-1].split(":")[-1] == "LocalExecutor" for name in executor.split(","))
    return commands[:1] == ["scheduler"] and local


def preload(argv: list[str], executor: str) -> list[str]:
    """Import PRELOADED in a process that forks tasks (`forks_tasks`), unless DVC_AIRFLOW_PRELOAD is
    false; returns the modules imported (none elsewhere). Never raises: a module that fails to import
    is logged."""
    if not forks_tasks(argv, executor):
        return []
    try:
        from dichvucong.config import Settings

        if not Settings.from_env().airflow_preload:
            return []
    except Exception:  # a setting that does not parse: the tasks report it; preload nothing
        _log.warning("preload skipped: the DVC_ settings do not parse", exc_info=True)
        return []
    began = time.perf_counter()
    loaded = []
    for name in PRELOADED:
        try:
            importlib.import_module(name)
            loaded.append(name)
        except Exception:
            _log.warning("preload of %s failed; tasks import it themselves", name, exc_info=True)
    _log.info("preloaded %d modules for the task processes in %.1f s", len(loaded), time.perf_counter() - began)
    return loaded


def operator_settings(airflow_home: Path) -> dict[str, Any]:
    """What an operator's `<airflow_home>/config/airflow_local_settings.py` defines: its `__all__`, else
    its public names (Airflow's rule for this module); {} without such a file. Its errors propagate, as
    they would from the file itself."""
    path = airflow_home / "config" / "airflow_local_settings.py"
    if not path.is_file() or path.resolve() == Path(__file__).resolve():
        return {}
    spec = importlib.util.spec_from_file_location("airflow_local_settings_of_the_operator", path)
    if spec is None or spec.loader is None:
        return {}
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    names = getattr(module, "__all__", None) or [name for name in vars(module) if not name.startswith("_")]
    return {name: getattr(module, name) for name in names}


# Airflow's configuration is loaded when Airflow imports this module (airflow.settings); imported
# otherwise (bench/run.py reads PRELOADED), the module does nothing.
_configuration = sys.modules.get("airflow.configuration")
_operator: dict[str, Any] = {}
if _configuration is not None:
    preload(sys.argv, str(_configuration.conf.get("core", "executor")))
    _operator = operator_settings(Path(_configuration.AIRFLOW_HOME))
# Airflow copies the names of `__all__` (else every public name) of this module into airflow.settings,
# where it finds cluster policies by name: the operator's names, none of this module's own.
globals().update(_operator)
__all__ = list(_operator)
