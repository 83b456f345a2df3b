"""The real DAGs under a real Airflow: api-server, dag-processor and scheduler
(LocalExecutor, SQLite metadata) as background processes. dag.test() runs
tasks one at a time and would hide races on the DuckDB warehouse; here
ingestion runs of the three sources run in parallel, their Assets trigger
build_marts by themselves, and no task may fail or retry.

Phase 1: unpausing the DAGs makes the scheduler run yesterday's interval of
each source (catchup is off); their Assets trigger a build. Phase 2: three
manual runs land the two days before, in parallel; the second build follows
and must publish every landed day.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dichvucong.config import REPO_ROOT
from dichvucong.landing.layout import FILE_DROP_ONLY, SOURCES
from dichvucong.simulator import generate
from tests import reference_metrics as ref

pytestmark = pytest.mark.scheduler
# The one-stop system's and the intermediaries' sources: the portal's saves (ingest_portal) land through
# the same code, once a month, and would only add runs to wait for.
INGEST = tuple(f"ingest_{source}" for source in SOURCES if source not in FILE_DROP_ONLY)
DAG_IDS = (*INGEST, "build_marts")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(predicate: Callable[[], bool], timeout: float, what: str, interval: float = 1.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, sqlite3.Error, ValueError, KeyError):
            pass  # not up yet, or the database is busy
        time.sleep(interval)
    raise TimeoutError(f"timed out waiting for {what}")


class Stack:
    def __init__(self, home: Path, env: dict[str, str], port: int) -> None:
        self.home, self.env, self.port = home, env, port
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def api(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def db(self) -> sqlite3.Connection:
        con = sqlite3.connect(f"file:{self.home}/airflow/airflow.db?mode=ro", uri=True, timeout=10)
        con.row_factory = sqlite3.Row
        return con

    def runs(self, dag_id: str) -> list[sqlite3.Row]:
        with self.db() as con:
            return con.execute("select run_id, run_type, state from dag_run where dag_id = ?", [dag_id]).fetchall()

    def pending_asset_events(self) -> int:
        with self.db() as con:
            return int(con.execute(
                "select count(*) from asset_dag_run_queue where target_dag_id = 'build_marts'").fetchone()[0])

    def settled(self, dag_id: str, at_least: int) -> bool:
        runs = self.runs(dag_id)
        return len(runs) >= at_least and all(r["state"] in ("success", "failed") for r in runs)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("scheduler")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    # Yesterday, as the source delivers it every day (with the catalog it sent again that day);
    # then the two days before, as a province catching up on older exports.
    generate(home / "landing", today - dt.timedelta(days=1), today, seed=3, scale=0.02)
    generate(home / "landing", today - dt.timedelta(days=3), today - dt.timedelta(days=1), seed=4, scale=0.02)
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DVC_", "AIRFLOW"))}
    env |= {
        "DVC_HOME": str(home), "DVC_PSEUDONYM_KEY": "scheduler-test-key",
        "AIRFLOW_HOME": str(home / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow/airflow.db",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API_AUTH__JWT_SECRET": "scheduler-test-secret-0123456789abcdef",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
    }
    (home / "airflow").mkdir()
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(["airflow", "pools", "set", "duckdb_warehouse", "1", "single writer"], env=env, check=True,
                   capture_output=True)
    s = Stack(home, env, port)
    try:
        for name in ("api-server", "dag-processor", "scheduler"):
            log = (home / f"{name}.log").open("wb")
            s.processes[name] = subprocess.Popen(["airflow", name], env=env, stdout=log, stderr=subprocess.STDOUT,
                                                 stdin=subprocess.DEVNULL, start_new_session=True)
        _wait_for(lambda: all(s.api("GET", "/api/v2/monitor/health")[c]["status"] == "healthy"
                              for c in ("metadatabase", "scheduler", "dag_processor")), 120, "Airflow components")
        _wait_for(lambda: {d["dag_id"] for d in s.api("GET", "/api/v2/dags")["dags"]} >= set(DAG_IDS), 120,
                  "the DAGs to be parsed")
        yield s
    finally:
        for process in s.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in s.processes.values():
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_parallel_ingestion_triggers_builds_with_no_failure_or_retry(stack: Stack) -> None:
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    # Phase 1: the scheduler runs yesterday's interval of every source; the Assets trigger a build.
    for dag_id in DAG_IDS:
        stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    _wait_for(lambda: all(stack.settled(d, 1) for d in INGEST), 300, "yesterday's ingestion runs")
    _wait_for(lambda: stack.settled("build_marts", 1) and stack.pending_asset_events() < 3, 300, "the first build")
    # Phase 2: the two days before, one manual run per source, all three in parallel.
    conf = {"start": (today - dt.timedelta(days=3)).isoformat(), "end": (today - dt.timedelta(days=1)).isoformat()}
    for dag_id in INGEST:
        stack.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf})
    _wait_for(lambda: all(stack.settled(d, 2) for d in INGEST), 300, "the manual ingestion runs")
    _wait_for(lambda: stack.settled("build_marts", 2) and stack.pending_asset_events() == 0, 300, "the second build")

    with stack.db() as con:
        runs = [dict(r) for r in con.execute("select dag_id, run_type, state from dag_run")]
        tis = [dict(r) for r in con.execute("select dag_id, task_id, state, try_number, pool from task_instance")]
        extras = [json.loads(r[0]) for r in con.execute("select extra from asset_event")]
        builds = [json.loads(r[0]) for r in con.execute(
            "select value from xcom where dag_id = 'build_marts' and task_id = 'dbt_build' order by run_id")]
    assert all(r["state"] == "success" for r in runs), runs
    assert {r["run_type"] for r in runs if r["dag_id"] == "build_marts"} == {"asset_triggered"}
    assert all(t["state"] == "success" for t in tis), [t for t in tis if t["state"] != "success"]
    assert all(t["try_number"] == 1 for t in tis), [t for t in tis if t["try_number"] != 1]
    writers = {t["pool"] for t in tis if t["task_id"] in ("dbt_build", "validate_marts", "publish")}
    assert writers == {"duckdb_warehouse"}
    logs = "\n".join(p.read_text(errors="replace") for p in (stack.home / "airflow" / "logs").rglob("*.log"))
    assert "Could not set lock" not in logs and "Conflicting lock" not in logs

    # Each ingestion run's Asset event names the batch days it landed (the ledger's new entries)...
    landed = {p.name for p in (stack.home / "landing" / "dossiers").iterdir()
              if today - dt.timedelta(days=3) <= dt.date.fromisoformat(p.name) < today}
    announced = {d for e in extras if e.get("source") == "dossiers" for d in e["batch_days"]}
    assert announced == landed and len(landed) == 3
    # ...and each build read the events that triggered it beside its plan, which reads the ledger.
    assert len(builds) == 2 and builds[0]["mode"] == "full" and builds[1]["mode"] == "incremental"
    assert all(b["announced"]["announced"] > 0 for b in builds), builds
    assert builds[1]["announced"]["in_scope"] >= 2 and builds[1]["announced"]["not_announced"] == 0, builds

    # The last build published every landed day: the dossiers are exactly those of the source files.
    expected = ref.load_dossiers(stack.home / "landing", dt.datetime.combine(today, dt.time()))
    with duckdb.connect(str(stack.home / "published" / "dichvucong.duckdb"), read_only=True) as con:
        published = {r[0] for r in con.execute("select dossier_id from marts.fct_dossiers").fetchall()}
        as_of = con.execute("select as_of from meta.publication").fetchall()[0][0]
    assert as_of == dt.datetime.combine(today, dt.time())
    assert published == set(expected) and len(published) > 50
