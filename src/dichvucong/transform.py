"""Runs the dbt project (dbt-duckdb) in a child process: the only writer of the warehouse.

A build is a full refresh or an incremental one. `plan_refresh` reads the
ledger of what landed (`landing.ledger`: the load audit, one digest of the
files landed per source and batch day), compares it with the ledger the last
successful build consumed (kept in the warehouse, `meta.refresh_ledger`) and
chooses:

* full, when there is no earlier build, the dbt project, its reference seeds
  or the calendar code changed, a catalog or agency-list snapshot landed (a
  version's dates move every dossier after it), a landed day was withdrawn, or
  the as-of time went backwards;
* incremental otherwise: dbt gets the dossier, payment and processing-log batch days landed since,
  and its incremental models recompute only the dossiers and periods those
  batches touch (dbt_project/macros/refresh.sql).

dbt reads the plan from the warehouse, as its source `build` (written before
dbt runs; dbt_project/macros/refresh.sql): `meta.build_plan` (the as-of time and
the last build's), `meta.build_scope` (the changed batch days) and
`meta.build_units` (the units the last build scored). Tables, not `--vars`: vars
that change at every build defeat dbt's partial parsing (a full re-parse costs
≈ 5 s per build).

The state is written only after dbt succeeded, so a failed build leaves the
next one to see the same changes. A build that started and did not record its
state (killed, failed, or a `select` of some models) may have written part of
the marts under its own plan: `meta.build_started` says so from before dbt runs
until the state is recorded, in the same transaction, and the next build is
then a full refresh. A retry after any kill equals a clean build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dichvucong.config import Settings
from dichvucong.landing import ledger
from dichvucong.processes import run_owned

log = logging.getLogger(__name__)


class TransformError(RuntimeError):
    """dbt failed: a model did not build or a dbt test with severity error failed."""


@dataclass(frozen=True)
class BuildReport:
    as_of: str
    nodes: int
    failures: int
    warnings: int
    elapsed_seconds: float
    mode: str = "full"
    reason: str = ""
    changed_batches: int = 0
    # dbt tests with severity warn that failed: (test name, failing rows). The build goes on; the
    # build task alerts operators (alerts.from_dbt_warnings).
    warned_tests: tuple[tuple[str, int], ...] = ()
    # The triggering Asset events' batch days beside the plan's (`compare_announced`).
    announced: dict[str, int] | None = None


# The ledger's sources that feed the marts, and the name of their batches in the build plan.
REFRESH_SOURCES = {"dossiers": "dossier", "payments": "payment", "catalog": "catalog",
                   "agencies": "agencies", "processing": "processing"}
# The sources an incremental build follows batch day by batch day (meta.build_scope's `source`); a
# changed snapshot of the others is a full refresh.
SCOPE_SOURCES = ("dossier", "payment", "processing")
_STATE_SCHEMA = """
create schema if not exists meta;
drop table if exists meta.refresh_partitions;
create table if not exists meta.refresh_ledger (source varchar, batch_date date, digest varchar, landed_at timestamp);
create table if not exists meta.refresh_runs (
    as_of timestamp, mode varchar, reason varchar, project_hash varchar,
    changed_dossier_batches integer, changed_payment_batches integer,
    dbt_nodes integer, elapsed_seconds double, finished_at timestamptz);
-- (added after the table: a warehouse built before keeps its rows, null for them)
alter table meta.refresh_runs add column if not exists changed_processing_batches integer;
create table if not exists meta.build_started (as_of timestamp, mode varchar, pid integer, started_at timestamptz);
create table if not exists meta.build_units (geography_basis varchar, unit_type varchar, unit_code varchar);
"""

Consumed = dict[tuple[str, dt.date], ledger.Landing]


@dataclass
class RefreshPlan:
    """A build's plan. `consumed` is the ledger as this build reads it ({(source, day): Landing}):
    recorded after the build succeeded, it is what the next build's plan compares with."""

    mode: str
    reason: str
    project_hash: str
    previous_as_of: str | None = None
    batches: dict[str, list[str]] | None = None
    consumed: Consumed | None = None


def project_hash(settings: Settings) -> str:
    """What the marts are computed with: dbt code, seeds, the calendar's code and library versions."""
    from importlib import metadata

    digest = hashlib.sha256()
    roots = [settings.dbt_project_dir / name for name in ("dbt_project.yml", "models", "macros", "tests")]
    roots += [Path(__file__).with_name("workdays.py"), settings.dbt_project_dir.parent / "data" / "reference"]
    for root in roots:
        files = sorted(root.rglob("*")) if root.is_dir() else [root]
        for path in files:
            if path.is_file():
                digest.update(str(path.relative_to(root.parent)).encode() + b"\0" + path.read_bytes())
    for package in ("dbt-core", "dbt-duckdb", "duckdb", "holidays"):
        digest.update(f"{package}={metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


def _read_state(settings: Settings) -> tuple[dict[str, Any] | None, dict[tuple[str, dt.date], str]]:
    """The last recorded build (as-of time, project hash, and a build started and not recorded since)
    and the ledger it consumed."""
    import duckdb

    if not settings.warehouse_path.exists():
        return None, {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        tables = {row[0] for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'meta'").fetchall()}
        if not {"refresh_runs", "refresh_ledger"} <= tables:
            return None, {}
        run = con.execute(
            "select as_of, project_hash from meta.refresh_runs order by finished_at desc limit 1").fetchall()
        rows = con.execute("select source, batch_date, digest from meta.refresh_ledger").fetchall()
        unfinished = con.execute(
            "select as_of, mode, pid, started_at from meta.build_started order by started_at desc limit 1"
        ).fetchall() if "build_started" in tables else []
    last = {"as_of": run[0][0], "project_hash": run[0][1], "unfinished": unfinished[0] if unfinished else None
            } if run else None
    return last, {(r[0], r[1]): r[2] for r in rows}


def plan_refresh(settings: Settings, as_of: dt.datetime, full: bool = False) -> RefreshPlan:
    """Full or incremental, and for an incremental build the batch days landed since the last build:
    the ledger (landing.ledger: the load audit's `landed_at` per source and day) against the one the
    last successful build consumed."""
    from dichvucong.landing import ledger

    current_hash = project_hash(settings)
    consumed = ledger.read(settings.lake_dir, tuple(REFRESH_SOURCES))
    last, known = _read_state(settings)

    def full_plan(reason: str) -> RefreshPlan:
        return RefreshPlan("full", reason, current_hash, consumed=consumed)

    if full:
        return full_plan("requested")
    if last is None:
        return full_plan("no earlier build in this warehouse")
    if last["unfinished"] is not None:
        as_of_then, mode, pid, started_at = last["unfinished"]
        return full_plan(f"the {mode} build as of {as_of_then} started at {started_at} (process {pid}) "
                         "did not record its end: the marts may hold part of it")
    if last["project_hash"] != current_hash:
        return full_plan("the dbt project, its seeds or the calendar code changed")
    if as_of < last["as_of"]:
        return full_plan(f"as-of time {as_of} is before the last build's {last['as_of']}")
    since = ledger.changes_since(consumed, known)
    if since.withdrawn:  # its rows must leave the marts
        return full_plan("landed day(s) withdrawn: "
                         + ", ".join(f"{source}/{day}" for source, day in since.withdrawn))
    changed = {name: [d.isoformat() for d in since.changed.get(source, [])] for source, name in REFRESH_SOURCES.items()}
    for snapshots in ("catalog", "agencies"):  # a dated list: every dossier's facts may change
        if changed[snapshots]:
            return full_plan(f"{snapshots} snapshot(s) changed: {', '.join(changed[snapshots])}")
    return RefreshPlan("incremental", "days landed since the last build", current_hash,
                       previous_as_of=last["as_of"].strftime("%Y-%m-%d %H:%M:%S"),
                       batches=changed, consumed=consumed)


def record_refresh(settings: Settings, plan: RefreshPlan, as_of: dt.datetime, report: BuildReport) -> None:
    """After a successful build: the ledger it consumed and the run, for the next build's plan."""
    import duckdb
    import pyarrow as pa

    consumed = sorted((plan.consumed or {}).values(), key=lambda e: (e.source, e.day))
    frame = pa.table({
        "source": [e.source for e in consumed], "batch_date": pa.array([e.day for e in consumed], pa.date32()),
        "digest": [e.digest for e in consumed],
        "landed_at": pa.array([e.landed_at for e in consumed], pa.timestamp("us")),
    })
    batches = plan.batches or {}
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute(_STATE_SCHEMA)
        con.execute("begin")
        con.execute("delete from meta.refresh_ledger")
        con.execute("delete from meta.build_started")
        con.register("consumed", frame)
        con.execute("insert into meta.refresh_ledger select * from consumed")
        # The units this build scored: a unit not among them at the next build is new (int_refresh_periods).
        con.execute("delete from meta.build_units")
        con.execute("insert into meta.build_units "
                    "select distinct geography_basis, unit_type, unit_code from intermediate.int_units")
        con.execute(
            "insert into meta.refresh_runs (as_of, mode, reason, project_hash, changed_dossier_batches, "
            "changed_payment_batches, changed_processing_batches, dbt_nodes, elapsed_seconds, finished_at) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?, now())", [
                as_of, plan.mode, plan.reason, plan.project_hash, len(batches.get("dossier", [])),
                len(batches.get("payment", [])), len(batches.get("processing", [])), report.nodes,
                report.elapsed_seconds])
        con.execute("commit")


def write_plan(settings: Settings, plan: RefreshPlan, as_of: dt.datetime) -> None:
    """Put the build plan where dbt reads it: the source `build` (`meta.build_plan`: the as-of times
    and the mode; `meta.build_scope`: an incremental plan's batch days; dbt_project/macros/refresh.sql).

    Putting a plan also marks the build started (`meta.build_started`); only `record_refresh`
    clears the mark, so a build that ends any other way makes the next one a full refresh. The plan
    stays after the build: a hand-run `dbt build` recomputes the same scope again.
    """
    import duckdb

    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        # The marts once lived in the warehouse; they are built into Settings.marts_path now, and a
        # stale copy left here would answer `marts.…` queries with old numbers.
        con.execute("drop schema if exists marts cascade")
        con.execute(_STATE_SCHEMA)
        con.execute("begin")
        con.execute("create or replace table meta.build_plan "
                    "(as_of timestamp, previous_as_of timestamp, mode varchar, written_at timestamptz)")
        con.execute("create or replace table meta.build_scope (source varchar, batch_date date)")
        con.execute("insert into meta.build_plan values (?, ?, ?, now())",
                    [as_of, plan.previous_as_of, plan.mode])
        batches = plan.batches or {}
        scope = [(name, day) for name in SCOPE_SOURCES for day in batches.get(name, [])]
        if scope:
            con.executemany("insert into meta.build_scope values (?, ?)", scope)
        con.execute("insert into meta.build_started values (?, ?, ?, now())", [as_of, plan.mode, os.getpid()])
        con.execute("commit")


def landed_as_of(settings: Settings) -> dt.datetime:
    """Local midnight after the latest dossier batch that landed rows: the default as-of time.

    Rows, not folders (`lake.latest_day_with_rows`): a scheduled ingestion of a day with no files
    lands an empty partition, which must not move the as-of time (a history that ends in 2022 would
    otherwise be built as of today, every period in between computed). Raises TransformError when
    no dossier row has been landed."""
    from dichvucong.landing.lake import latest_day_with_rows

    latest = latest_day_with_rows(settings.lake_dir, "raw_dossier_syncs")
    if latest is None:
        raise TransformError("no dossier row has been landed: run the ingestion DAGs first")
    return dt.datetime.combine(latest + dt.timedelta(days=1), dt.time())


def check_inputs(settings: Settings) -> None:
    """Raises TransformError when a required source has no partition; makes the optional ones and the
    validation history readable when empty."""
    from dichvucong.landing import lake
    from dichvucong.quality.history import ensure_table

    for table in ("raw_agencies", "raw_catalog", "raw_dossier_syncs", "raw_payments"):
        if not any((settings.lake_dir / table).glob("batch_date=*/data.parquet")):
            raise TransformError(f"nothing landed for {table}: run its ingestion DAG first")
    ensure_table(settings.lake_dir)
    for table in lake.OPTIONAL_TABLES:
        lake.ensure_readable(settings.lake_dir, table)


def province_vars(settings: Settings) -> dict[str, str]:
    """The province a warehouse belongs to: its code is the province row's unit_code in the marts."""
    return {"province_code": settings.province_code, "province_name": settings.province_name}


def dbt_environment(settings: Settings) -> dict[str, str]:
    return {
        "DVC_LAKE_DIR": str(settings.lake_dir),
        "DVC_WAREHOUSE_PATH": str(settings.warehouse_path),
        "DVC_MARTS_PATH": str(settings.marts_path),
        # profiles.yml reads these two; passed from the settings, not inherited.
        "DVC_DUCKDB_MEMORY_LIMIT": settings.duckdb_memory_limit,
        "DVC_DBT_THREADS": str(settings.dbt_threads),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }


def run_dbt(settings: Settings, args: list[str]) -> dict[str, Any]:
    """Run dbt in a child process and return its run_results.json (empty for `docs`).

    A child process, not dbtRunner in-process: dbt-duckdb keeps its write
    connection open for the life of the process, which would lock the
    warehouse against the validation and publication that follow.
    """
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    work = settings.home / "dbt"
    target = work / "target"
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)
    command = [
        str(Path(sys.executable).with_name("dbt")), *args,
        "--project-dir", str(settings.dbt_project_dir),
        "--profiles-dir", str(settings.dbt_project_dir),
        "--target-path", str(target),
        "--log-path", str(work / "logs"),
    ]
    env = os.environ | dbt_environment(settings)
    completed = run_owned(command, env=env)
    for line in completed.stdout.splitlines():
        log.info("dbt: %s", line)
    produces_results = args[0] != "docs"
    if completed.returncode not in (0, 1) or (produces_results and not results_file.exists()):
        log.error("dbt stderr: %s", completed.stderr[-4000:])
        raise TransformError(f"dbt {args[0]} could not run (exit {completed.returncode})")
    results: dict[str, Any] = json.loads(results_file.read_text()) if produces_results else {}
    results["returncode"] = completed.returncode
    results["stderr"] = completed.stderr[-4000:] if completed.returncode else ""
    return results


def compare_announced(plan: RefreshPlan, announced: dict[str, list[str]]) -> dict[str, int]:
    """The batch days the triggering Asset events announced ({source: [ISO days]}) beside the days
    the plan refreshes, read from the ledger: {"announced", "in_scope", "consumed_before"} (announced
    days an earlier build already read: events that queued while it ran) and "not_announced" (days
    in scope that no event named: a landing outside Airflow, or an event lost). A full refresh has
    every day in scope."""
    named = {(source, day) for source, days in announced.items() if source in REFRESH_SOURCES for day in days}
    if plan.mode == "full":
        scope = {(source, day.isoformat()) for source, day in (plan.consumed or {})}
    else:
        batches = plan.batches or {}
        scope = {(source, day) for source, name in REFRESH_SOURCES.items() for day in batches.get(name, [])}
    return {"announced": len(named), "in_scope": len(named & scope), "consumed_before": len(named - scope),
            "not_announced": len(scope - named) if plan.mode != "full" else 0}


def build(settings: Settings, as_of: dt.datetime | None = None, select: str | None = None,
          full_refresh: bool = False, announced: dict[str, list[str]] | None = None) -> BuildReport:
    """`dbt build` (seeds, models and dbt data tests) as of a local time, full or incremental.

    Unit tests are not part of a build: their fixtures are code, not data, so they can fail only when
    the project changes, and dbt recommends running them in development and CI only. `unit_tests`
    runs them (the test suite does, over a built warehouse)."""
    check_inputs(settings)
    as_of = as_of or landed_as_of(settings)
    plan = plan_refresh(settings, as_of, full=full_refresh or select is not None)
    log.info("refresh plan: %s (%s); changed batches %s", plan.mode, plan.reason, plan.batches)
    compared = compare_announced(plan, announced) if announced is not None else None
    if compared is not None:
        log.info("batch days announced by the triggering Asset events beside the plan: %s", compared)
    args = ["build", "--vars", json.dumps(province_vars(settings)), "--exclude", "test_type:unit"]
    if plan.mode == "full":
        args.append("--full-refresh")
    else:
        # What only a full refresh can change is left as the last build made it: the reference
        # seeds (in the project hash) and the models tagged full_refresh_only (the catalog's
        # versions: a changed snapshot is a full refresh).
        args += ["resource_type:seed", "tag:full_refresh_only"]
    if select:
        args += ["--select", select]
    started = dt.datetime.now()
    write_plan(settings, plan, as_of)
    results = run_dbt(settings, args)
    nodes = results.get("results", [])
    failures = [n for n in nodes if n["status"] in {"error", "fail"}]
    warnings = [n for n in nodes if n["status"] == "warn"]
    batches = plan.batches or {}
    report = BuildReport(as_of.isoformat(), len(nodes), len(failures), len(warnings),
                         (dt.datetime.now() - started).total_seconds(), plan.mode, plan.reason,
                         sum(len(days) for days in batches.values()),
                         tuple((n["unique_id"].split(".")[2], int(n.get("failures") or 0)) for n in warnings),
                         compared)
    log.info("dbt build %s", report)
    if failures or results["returncode"] != 0:
        names = ", ".join(f"{n['unique_id']} ({n['status']}: {(n.get('message') or '')[:200]})"
                          for n in failures[:10])
        message = f"dbt build failed: {names or 'see the dbt log above'}"
        if any(_out_of_memory(n.get("message")) for n in failures) or _out_of_memory(results.get("stderr")):
            message += memory_hint(settings)
        raise TransformError(message)
    if select is None:
        record_refresh(settings, plan, as_of, report)
    return report


def unit_tests(settings: Settings, as_of: dt.datetime) -> int:
    """Run the project's dbt unit tests (`dbt test --select test_type:unit`) against a built
    warehouse (dbt reads the parents' columns from it; each test builds its own fixtures and writes
    nothing else). `as_of` goes in as a var (tests that depend on it override it). Returns how many
    passed; raises TransformError naming the failures."""
    variables = province_vars(settings) | {"as_of": as_of.strftime("%Y-%m-%d %H:%M:%S")}
    results = run_dbt(settings, ["test", "--select", "test_type:unit", "--vars", json.dumps(variables)])
    nodes = results.get("results", [])
    failures = [f"{n['unique_id']} ({n['status']}: {(n.get('message') or '')[:300]})"
                for n in nodes if n["status"] != "pass"]
    if failures or results["returncode"] != 0 or not nodes:
        raise TransformError(f"dbt unit tests failed: {'; '.join(failures) or 'see the dbt log above'}")
    return len(nodes)


def _out_of_memory(text: str | None) -> bool:
    lowered = (text or "").lower()
    return "out of memory" in lowered or "outofmemory" in lowered


def memory_hint(settings: Settings | None = None) -> str:
    """What to change when DuckDB ran out of memory: the setting, its value now, and the other causes."""
    limit = (settings or Settings.from_env()).duckdb_memory_limit
    return (f". DuckDB ran out of memory under its limit DVC_DUCKDB_MEMORY_LIMIT={limit} (profiles.yml): raise it "
            "(e.g. 4GB, below the machine's free memory) or check that the as-of time is the one intended (a build "
            "as of years after the last landed day computes every period in between)")


def generate_docs(settings: Settings) -> Path:
    # The build's vars: other vars would make the next build re-parse the project.
    run_dbt(settings, ["docs", "generate", "--static", "--vars", json.dumps(province_vars(settings))])
    return settings.home / "dbt" / "target" / "static_index.html"
