"""Airflow's local settings hook, shipped with the pipeline: it preloads, and sets nothing else.

Every Airflow process imports `airflow_local_settings` as it starts (airflow.settings). In the
scheduler and in a Celery worker this module imports, once, the modules the pipeline's tasks need
and take seconds to import: Great Expectations (about 6 s on a 2-core machine), DuckDB, pyarrow and
the pipeline's task functions. Airflow 3 runs every task in a process forked from a worker that the
scheduler forked (LocalExecutor; Celery's prefork pool forks from the worker), so each task starts
with these modules already in memory instead of importing them again: a validation task no longer
pays GX's import (bench/freshness.py names it in the task start-up).

Only modules that import no Airflow module are preloaded (this runs while Airflow itself is still
initialising); importing them starts no thread and opens no connection (tests/dags/test_airflow_preload.py
counts the threads), so forking after them is safe. A preload
that fails is logged and skipped: the task then imports the module itself, as without this hook.
Off with DVC_AIRFLOW_PRELOAD=false. Other Airflow processes (api-server, dag-processor, the CLI,
`dag.test()`) import nothing here.
"""

from __future__ import annotations

import importlib
import logging
import sys
import time

# Airflow copies the names of `__all__` (else every public name) of this module into airflow.settings,
# where it finds its policies by name: none is exported.
__all__: list[str] = []

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


def forks_tasks(argv: list[str]) -> bool:
    """Whether this process forks the task processes: `airflow scheduler` (LocalExecutor) or
    `airflow celery worker`."""
    commands = [arg for arg in argv[1:] if not arg.startswith("-")]
    return commands[:1] == ["scheduler"] or commands[:2] == ["celery", "worker"]


def preload(argv: list[str]) -> list[str]:
    """Import PRELOADED in a process that forks tasks, unless DVC_AIRFLOW_PRELOAD is false; returns
    the modules imported (none elsewhere). Never raises: a module that fails to import is logged."""
    if not forks_tasks(argv):
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


preload(sys.argv)
