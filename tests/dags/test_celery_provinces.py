"""The production topology without containers: Airflow on the PostgreSQL
metadata database, CeleryExecutor with the Redis broker, a real scheduler,
dag-processor, api-server and two Celery workers, serving two provinces of
different sizes from one provinces file (the second configured under another code than its agency
list's: its orphan payments alone make a province row, which the national ranking must not rank).

Each province's ingestion DAGs are backfilled over the day before yesterday while the
scheduler runs yesterday's interval, all provinces at once; then each
province builds once, and every publication triggers the national ranking
through the Assets. No task
may fail or retry, no task may hit a DuckDB lock, and every province's marts
must be identical to those of a reference run over the same files: the same
pipeline functions in one process on DuckDB, without Airflow (the main job's
dag.test would add a minute of Airflow start-up per province to the suite).
Everything started is stopped, and the database and broker keys are dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg2
import pytest
import redis
import yaml

from dichvucong.config import REPO_ROOT
from dichvucong.landing.layout import FILE_DROP_ONLY, SOURCES
from dichvucong.local_airflow import Stack, airflow_env, free_port, wait_for
from dichvucong.provinces import load_provinces
from dichvucong.simulator import generate
from dichvucong.workdays import is_working_day

pytestmark = pytest.mark.scheduler
# Two, not three: a third province added a minute to the suite and no case the two do not cover.
PROVINCES = (("vinh_phuc", "26", "Tỉnh Vĩnh Phúc", 0.02, 31), ("bac_ninh", "27", "Tỉnh Bắc Ninh", 0.012, 32))
# The one-stop system's and the intermediaries' sources: the portal's saves (ingest_portal) land through
# the same code, once a month, and would only add runs to wait for.
INGEST = tuple(f"ingest_{source}" for source in SOURCES if source not in FILE_DROP_ONLY)
MARTS = ("fct_dossiers", "fct_payments", "kpi_766", "agg_unit_period_indicators", "agg_fees_daily",
         "agg_service_usage_daily", "agg_processing_time_monthly")
TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date()


def _first_day(today: dt.date) -> dt.date:
    """The window's first day: two days back, or further back to the last working day before them.
    Dossiers are received and ended on working days only, and the national layer ranks a province's
    period only with dossiers received or ended in it: a window of a weekend would rank none."""
    first = today - dt.timedelta(days=2)
    while not any(is_working_day(first + dt.timedelta(days=i)) for i in range((today - first).days)):
        first -= dt.timedelta(days=1)
    return first


FIRST = _first_day(TODAY)
DAYS = (TODAY - FIRST).days
# The month the national layer is checked on: that of the window's last working day.
RANKED_MONTH = max(FIRST + dt.timedelta(days=i) for i in range(DAYS)
                   if is_working_day(FIRST + dt.timedelta(days=i))).replace(day=1)


class PostgresStack(Stack):
    """The Stack of the LocalExecutor test, its metadata read from PostgreSQL."""

    def __init__(self, home: Path, env: dict[str, str], port: int, database: str) -> None:
        super().__init__(home, env, port)
        self.database = database

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        with psycopg2.connect(host="127.0.0.1", user="postgres", dbname=self.database) as con, con.cursor() as cur:
            cur.execute(sql, params)
            names = [c.name for c in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def settled(self, dag_id: str, at_least: int) -> bool:
        runs = self.query("select state from dag_run where dag_id = %s", (dag_id,))
        return len(runs) >= at_least and all(r["state"] in ("success", "failed") for r in runs)

    def pending(self, dag_id: str) -> int:
        return len(self.query("select 1 from asset_dag_run_queue where target_dag_id = %s", (dag_id,)))


def _admin(sql: str) -> None:
    con = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    con.autocommit = True
    with con.cursor() as cur:
        cur.execute(sql)
    con.close()


# The reference: the pipeline functions the DAG tasks call, in their order, in one process over the
# embedded default's DuckDB files, without Airflow (no executor, no scheduler: nothing to race).
REFERENCE = """
import datetime as dt, sys
from dichvucong import tasks
start, end = dt.date.fromisoformat(sys.argv[1]), dt.date.fromisoformat(sys.argv[2])
for source in ("agencies", "catalog", "dossiers", "processing", "payments"):
    tasks.ingest(source, start, end)
    tasks.validate_landed(source, start, end)
tasks.check_landing_accounts()
tasks.check_freshness()
built = tasks.build_marts(f"{end}T00:00:00")
tasks.validate_marts(built["as_of"][:10])
tasks.publish_marts(built["as_of"], "embedded-reference")
"""


def _embedded_run(home: Path, landing: Path, code: str, name: str) -> subprocess.Popen[bytes]:
    """The reference run over a province's files, in the background."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVC_")}
    env |= {"DVC_HOME": str(home), "DVC_LANDING_DIR": str(landing), "DVC_PSEUDONYM_KEY": "celery-test-key",
            "DVC_PROVINCE_CODE": code, "DVC_PROVINCE_NAME": name}
    home.mkdir(parents=True)
    log = (home.parent / f"{home.name}.log").open("wb")
    return subprocess.Popen([sys.executable, "-c", REFERENCE, FIRST.isoformat(), TODAY.isoformat()], env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PostgresStack]:
    home = tmp_path_factory.mktemp("celery")
    config = {"home": str(home / "provinces"), "provinces": [
        {"slug": slug, "code": code, "name": name, "simulate": {"scale": scale, "seed": seed}}
        for slug, code, name, scale, seed in PROVINCES]}
    provinces_file = home / "provinces.yml"
    provinces_file.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    references = {}
    for province in load_provinces(provinces_file):
        generate(province.landing, FIRST, TODAY, seed=int(province.simulate["seed"]),
                 scale=float(province.simulate["scale"]))
        references[province.slug] = _embedded_run(home / f"embedded-{province.slug}", province.landing,
                                                  province.code, province.name)

    database = f"airflow_ci_{uuid.uuid4().hex[:10]}"
    broker_db = 1 + uuid.uuid4().int % 15
    _admin(f"create database {database}")
    redis.Redis(host="127.0.0.1", port=6379, db=broker_db).flushdb()
    port = free_port()
    env = airflow_env(
        home, port, "celery-test-secret-0123456789abcdef", executor="CeleryExecutor",
        metadata=f"postgresql+psycopg2://postgres@127.0.0.1:5432/{database}", parallelism=8,
        DVC_HOME=str(home / "provinces"), DVC_PROVINCES_FILE=str(provinces_file), DVC_PSEUDONYM_KEY="celery-test-key",
        AIRFLOW__CELERY__BROKER_URL=f"redis://127.0.0.1:6379/{broker_db}",
        AIRFLOW__CELERY__RESULT_BACKEND=f"db+postgresql://postgres@127.0.0.1:5432/{database}",
        AIRFLOW__CELERY__WORKER_CONCURRENCY="2",
    )
    (home / "airflow").mkdir()
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(["dichvucong", "airflow-pools"], env=env, check=True, capture_output=True)
    s = PostgresStack(home, env, port, database)
    commands = {
        "api-server": ["airflow", "api-server"],
        "dag-processor": ["airflow", "dag-processor"],
        "scheduler": ["airflow", "scheduler"],
        "worker-1": ["airflow", "celery", "worker", "--celery-hostname", "worker1@%h", "--skip-serve-logs"],
        "worker-2": ["airflow", "celery", "worker", "--celery-hostname", "worker2@%h", "--skip-serve-logs"],
    }
    try:
        wanted = {f"{dag}__{slug}" for dag in (*INGEST, "build_marts") for slug, *_ in PROVINCES}
        s.start(wanted | {"national_ranking"}, commands)
        s.references = references  # type: ignore[attr-defined]
        yield s
    finally:
        s.stop(list(references.values()), grace=60)
        redis.Redis(host="127.0.0.1", port=6379, db=broker_db).flushdb()
        _admin(f"select pg_terminate_backend(pid) from pg_stat_activity where datname = '{database}'")
        _admin(f"drop database if exists {database}")


def _published_as_of(stack: PostgresStack) -> set[dt.date]:
    dates = set()
    for slug, *_ in PROVINCES:
        path = stack.home / "provinces" / slug / "published" / "dichvucong.duckdb"
        if not path.exists():
            return set()
        with duckdb.connect(str(path), read_only=True) as con:
            dates.add(con.execute("select as_of from meta.publication").fetchall()[0][0].date())
    return dates


def _national_as_of(stack: PostgresStack) -> set[dt.date]:
    path = stack.home / "provinces" / "national" / "national_ranking.duckdb"
    if not path.exists():
        return set()
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute("select as_of from national.publications").fetchall()
    return {r[0].date() for r in rows} if len(rows) == len(PROVINCES) else set()


def _marts(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {t: con.execute(f"select * from marts.{t} order by all").fetchall() for t in MARTS}


def test_provinces_on_celery_and_postgres_match_the_embedded_default(stack: PostgresStack) -> None:
    started = time.monotonic()
    ingest_ids = [f"{dag}__{slug}" for slug, *_ in PROVINCES for dag in INGEST]
    builds = [f"build_marts__{slug}" for slug, *_ in PROVINCES]
    # As an operator backfills: the builds stay paused while the history lands, then each province builds
    # once over the whole backfill (instead of once per landed day); its publication triggers the national
    # ranking through the Assets.
    for dag_id in ingest_ids:
        stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    # The scheduler runs yesterday's interval by itself while a backfill of every ingestion DAG covers the
    # days before (two days in all, or back to the last working day), every province at once.
    for slug, *_ in PROVINCES:
        for dag in INGEST:
            stack.api("POST", "/api/v2/backfills", {
                "dag_id": f"{dag}__{slug}", "max_active_runs": 2, "reprocess_behavior": "none",
                "from_date": f"{FIRST}T00:00:00+07:00", "to_date": f"{TODAY - dt.timedelta(days=2)}T00:00:00+07:00"})
    wait_for(lambda: all(stack.settled(d, DAYS) for d in ingest_ids), 600, "the backfills and yesterday's runs",
              interval=2)
    landed = time.monotonic() - started
    for dag_id in [*builds, "national_ranking"]:
        stack.api("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
    for dag_id in builds:
        stack.api("POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None})
    wait_for(lambda: all(stack.settled(d, 1) for d in builds) and _published_as_of(stack) == {TODAY}, 600,
              "every province's build", interval=2)
    wait_for(lambda: stack.settled("national_ranking", 1) and _national_as_of(stack) == {TODAY}, 300,
              "the national ranking of every province's last publication", interval=2)
    wall = time.monotonic() - started
    # Each province's publication is an Asset event: a ranking already written with every province's
    # last publication may still have a run queued or running for a later event. Let them settle.
    wait_for(lambda: stack.pending("national_ranking") == 0 and stack.settled("national_ranking", 1), 300,
              "the national ranking runs still queued", interval=2)

    runs = stack.query("select dag_id, run_type, state, start_date, end_date from dag_run")
    tis = stack.query("select dag_id, task_id, state, try_number, pool, hostname, start_date, end_date "
                      "from task_instance")
    assert all(r["state"] == "success" for r in runs), [r for r in runs if r["state"] != "success"]
    assert all(t["state"] == "success" for t in tis), [t for t in tis if t["state"] != "success"]
    retries = [t for t in tis if t["try_number"] != 1]
    assert not retries, retries
    assert {r["run_type"] for r in runs if r["dag_id"].startswith("ingest_")} == {"backfill", "scheduled"}
    assert [r["run_type"] for r in runs if r["dag_id"].startswith("build_")] == ["manual"] * len(PROVINCES)
    assert {r["run_type"] for r in runs if r["dag_id"] == "national_ranking"} == {"asset_triggered"}
    for slug, *_ in PROVINCES:
        pools = {t["pool"] for t in tis if t["dag_id"] == f"build_marts__{slug}"
                 and t["task_id"] in ("dbt_build", "validate_marts", "publish")}
        assert pools == {f"duckdb_warehouse__{slug}"}
    # Parallelism reached: the most task instances running at one time.
    events = sorted([(t["start_date"], 1) for t in tis] + [(t["end_date"], -1) for t in tis])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    # Which worker ran what: each Celery worker logs the workloads it received.
    received = {name: (stack.home / f"{name}.log").read_text(errors="replace").count(" received")
                for name in ("worker-1", "worker-2")}
    logs = "\n".join(p.read_text(errors="replace") for p in (stack.home / "airflow" / "logs").rglob("*.log"))
    assert "Could not set lock" not in logs and "Conflicting lock" not in logs
    numbers = {"runs": len(runs), "task_instances": len(tis), "wall_seconds": round(wall), "landing_seconds":
               round(landed), "peak_parallel_tasks": peak, "workloads_per_worker": received,
               "retries": len(retries)}
    artifacts = Path(os.environ.get("DVC_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts"))
    artifacts.mkdir(parents=True, exist_ok=True)
    (artifacts / "celery-provinces.json").write_text(json.dumps(numbers, indent=2), encoding="utf-8")
    print(f"\ncelery: {len(runs)} runs, {len(tis)} task instances in {wall:.0f} s; peak {peak} at once; "
          f"landing took {landed:.0f} s; "
          f"workloads received per worker {received}; retries {len(retries)}")
    assert peak >= 3, "provinces and days ran in parallel"
    assert all(count > 0 for count in received.values()), received

    # Every province's marts equal those of the embedded default over the same files.
    for slug, *_ in PROVINCES:
        reference = stack.references[slug]  # type: ignore[attr-defined]
        assert reference.wait(900) == 0, (stack.home / f"embedded-{slug}.log").read_text()[-4000:]
        published = stack.home / "provinces" / slug / "published" / "dichvucong.duckdb"
        embedded = stack.home / f"embedded-{slug}" / "published" / "dichvucong.duckdb"
        with duckdb.connect(str(published), read_only=True) as con:
            assert con.execute("select as_of from meta.publication").fetchall()[0][0] == dt.datetime.combine(
                TODAY, dt.time())
            # The province's row is the MaDVHC of the people's committee in its agency list (metrics.md
            # v2); the simulator writes the same list, Vĩnh Phúc's, for every province. The configured
            # province (DVC_PROVINCE_CODE) carries the orphan payments, under its own code.
            committee = con.execute("select distinct admin_unit_code from marts.dim_agencies "
                                    "where is_province_committee").fetchall()
            provinces = {row[0] for row in con.execute(
                "select distinct unit_code from marts.kpi_766 where unit_type = 'province' "
                "and geography_basis = 'as_was' and dossiers_received > 0").fetchall()}
            assert committee == [("26",)] and provinces == {"26"}
        ours, theirs = _marts(published), _marts(embedded)
        for table in MARTS:
            assert ours[table] == theirs[table], f"{slug}: {table} differs from the embedded default"
        # Not a count: two days' volume depends on the weekday (a weekend's is a tenth of a working day's).
        assert ours["fct_dossiers"]

    # The national layer ranks the provinces on every period they published.
    with duckdb.connect(str(stack.home / "provinces" / "national" / "national_ranking.duckdb"), read_only=True) as con:
        ranked = con.execute(
            "select province_slug, national_rank, provinces_ranked from national.kpi_766_provinces "
            "where period_type = 'month' and period_start = ?", [RANKED_MONTH]).fetchall()
        published_count = con.execute("select count(*) from national.publications").fetchall()[0][0]
    assert published_count == len(PROVINCES)
    assert {r[0] for r in ranked} == {slug for slug, *_ in PROVINCES}
    ranks = sorted({r[1] for r in ranked})
    assert ranks == list(range(1, len(ranks) + 1)), "dense ranks from 1"
    assert all(r[2] == len(PROVINCES) for r in ranked)
