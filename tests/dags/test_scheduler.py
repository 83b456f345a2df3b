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
import subprocess
from collections.abc import Iterator

import duckdb
import pytest

from dichvucong.landing.layout import FILE_DROP_ONLY, SOURCES
from dichvucong.local_airflow import Stack, airflow_env, free_port, wait_for
from dichvucong.simulator import generate
from tests import reference_metrics as ref

pytestmark = pytest.mark.scheduler
# The one-stop system's and the intermediaries' sources: the portal's saves (ingest_portal) land through
# the same code, once a month, and would only add runs to wait for.
INGEST = tuple(f"ingest_{source}" for source in SOURCES if source not in FILE_DROP_ONLY)
DAG_IDS = (*INGEST, "build_marts")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    home = tmp_path_factory.mktemp("scheduler")
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    # Yesterday, as the source delivers it every day (with the catalog it sent again that day);
    # then the two days before, as a province catching up on older exports.
    generate(home / "landing", today - dt.timedelta(days=1), today, seed=3, scale=0.02)
    generate(home / "landing", today - dt.timedelta(days=3), today - dt.timedelta(days=1), seed=4, scale=0.02)
    port = free_port()
    env = airflow_env(home, port, "scheduler-test-secret-0123456789abcdef",
                      DVC_HOME=str(home), DVC_PSEUDONYM_KEY="scheduler-test-key")
    (home / "airflow").mkdir()
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(["airflow", "pools", "set", "duckdb_warehouse", "1", "single writer"], env=env, check=True,
                   capture_output=True)
    s = Stack(home, env, port)
    try:
        s.start(set(DAG_IDS), timeout=120)
        yield s
    finally:
        s.stop()


def test_parallel_ingestion_triggers_builds_with_no_failure_or_retry(stack: Stack) -> None:
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()
    # Phase 1: the scheduler runs yesterday's interval of every source; the Assets trigger a build.
    stack.unpause(DAG_IDS)
    wait_for(lambda: all(stack.settled(d, 1) for d in INGEST), 300, "yesterday's ingestion runs")
    wait_for(lambda: stack.settled("build_marts", 1) and stack.pending_asset_events() < 3, 300, "the first build")
    # Phase 2: the two days before, one manual run per source, all three in parallel.
    conf = {"start": (today - dt.timedelta(days=3)).isoformat(), "end": (today - dt.timedelta(days=1)).isoformat()}
    for dag_id in INGEST:
        stack.trigger(dag_id, conf)
    wait_for(lambda: all(stack.settled(d, 2) for d in INGEST), 300, "the manual ingestion runs")
    wait_for(lambda: stack.settled("build_marts", 2) and stack.pending_asset_events() == 0, 300, "the second build")

    with stack.db() as con:
        runs = [dict(r) for r in con.execute("select dag_id, run_type, state from dag_run")]
        tis = [dict(r) for r in con.execute("select dag_id, task_id, state, try_number, pool from task_instance")]
        extras = [json.loads(r[0]) for r in con.execute("select extra from asset_event")]
        # A task returning dict[str, ...] pushes each key as its own XCom (multiple_outputs).
        built = [tuple(r) for r in con.execute(
            "select x.run_id, x.key, x.value from xcom as x join dag_run as r on r.run_id = x.run_id "
            "and r.dag_id = x.dag_id where x.dag_id = 'build_marts' and x.task_id = 'dbt_build' order by r.queued_at")]
    # SQLite hands back a JSON number as a number.
    builds = [{key: json.loads(value) if isinstance(value, str | bytes) else value
               for run, key, value in built if run == run_id} for run_id in dict.fromkeys(run for run, _, _ in built)]
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
    # (The second is full too: the catalog the source sent again on those days is a new snapshot.)
    assert len(builds) == 2 and builds[0]["mode"] == "full", builds
    assert builds[1]["announced"]["announced"] >= 3 * 2, builds  # dossiers, processing, payments × 2 days
    assert all(b["announced"]["in_scope"] == b["announced"]["announced"] > 0 for b in builds), builds
    assert builds[1]["announced"]["not_announced"] == 0, builds

    # The last build published every landed day: the dossiers are exactly those of the source files.
    expected = ref.load_dossiers(stack.home / "landing", dt.datetime.combine(today, dt.time()))
    with duckdb.connect(str(stack.home / "published" / "dichvucong.duckdb"), read_only=True) as con:
        published = {r[0] for r in con.execute("select dossier_id from marts.fct_dossiers").fetchall()}
        as_of = con.execute("select as_of from meta.publication").fetchall()[0][0]
    assert as_of == dt.datetime.combine(today, dt.time())
    # Not a count: the three days' volume depends on the weekday they fall on (at this scale about 34
    # dossiers a working day, a tenth of that on a weekend or holiday; 44 over a Friday-Sunday).
    assert published == set(expected) and published
