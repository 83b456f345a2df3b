"""Airflow's components as local background processes over a DVC home: api-server, dag-processor and
scheduler (and Celery workers), as a deployment runs them, without containers.

The tests that need a real scheduler (tests/dags/test_scheduler.py: LocalExecutor and SQLite;
tests/dags/test_celery_provinces.py: Celery and PostgreSQL) and the freshness benchmark
(bench/freshness.py) start the same stack through this module. Nothing here is used by the DAGs.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from dichvucong.config import REPO_ROOT

COMPONENTS = ("api-server", "dag-processor", "scheduler")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 1.0) -> None:
    """Poll `predicate` every `interval` seconds; TimeoutError naming `what` after `timeout` seconds. An
    OSError, a database error or a missing key while polling counts as not yet (a component starting)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, sqlite3.Error, ValueError, KeyError):
            pass  # not up yet, or the database is busy
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


def airflow_env(home: Path, port: int, secret: str, executor: str = "LocalExecutor",
                metadata: str | None = None, parallelism: int = 4, **extra: str) -> dict[str, str]:
    """The environment of every component: this process's, without its DVC_ and Airflow variables,
    plus Airflow's settings for a home (`<home>/airflow`; SQLite metadata unless `metadata` gives a
    SQLAlchemy URL), the api-server on `port`, DAGs paused at creation, and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DVC_", "AIRFLOW"))}
    return env | {
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": executor,
        "AIRFLOW__CORE__PARALLELISM": str(parallelism),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata or f"sqlite:///{home}/airflow/airflow.db",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": secret,
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    } | extra


class Stack:
    """Airflow's components over `home`, started by `start` and stopped by `stop` (each in its own
    process group, its output in `<home>/<component>.log`); the REST API and the SQLite metadata read."""

    def __init__(self, home: Path, env: dict[str, str], port: int) -> None:
        self.home, self.env, self.port = home, env, port
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, dag_ids: set[str], commands: Mapping[str, list[str]] | None = None, timeout: float = 180) -> None:
        """Start the components (`commands`: name -> argv; the three of COMPONENTS by default) and wait
        until they report healthy and `dag_ids` are parsed."""
        commands = commands or {name: ["airflow", name] for name in COMPONENTS}
        for name, command in commands.items():
            log = (self.home / f"{name}.log").open("wb")
            self.processes[name] = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                                                    stdin=subprocess.DEVNULL, start_new_session=True)
        wait_for(lambda: all(self.api("GET", "/api/v2/monitor/health")[c]["status"] == "healthy"
                             for c in ("metadatabase", "scheduler", "dag_processor")), timeout, "Airflow components")
        wait_for(lambda: {d["dag_id"] for d in self.api("GET", "/api/v2/dags?limit=1000")["dags"]} >= dag_ids,
                 timeout, "the DAGs to be parsed")

    def stop(self, others: list[subprocess.Popen[bytes]] | None = None, grace: float = 30) -> None:
        """SIGTERM every component (and `others`), then SIGKILL what is still running after `grace` s."""
        processes = [*self.processes.values(), *(others or [])]
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def unpause(self, dag_ids: tuple[str, ...] | list[str]) -> None:
        for dag_id in dag_ids:
            self.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def trigger(self, dag_id: str, conf: dict[str, Any]) -> str:
        """A manual run (no logical date) with `conf`; returns its run_id."""
        run = self.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})
        return str(run["dag_run_id"])

    def db(self) -> sqlite3.Connection:
        con = sqlite3.connect(f"file:{self.home}/airflow/airflow.db?mode=ro", uri=True, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    def runs(self, dag_id: str) -> list[sqlite3.Row]:
        with self.db() as con:
            return con.execute("select run_id, run_type, state from dag_run where dag_id = ?", [dag_id]).fetchall()

    def pending_asset_events(self, dag_id: str = "build_marts") -> int:
        with self.db() as con:
            return int(con.execute(
                "select count(*) from asset_dag_run_queue where target_dag_id = ?", [dag_id]).fetchone()[0])

    def settled(self, dag_id: str, at_least: int) -> bool:
        runs = self.runs(dag_id)
        return len(runs) >= at_least and all(r["state"] in ("success", "failed") for r in runs)
