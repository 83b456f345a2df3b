"""The refresh plan (`transform.plan_refresh`): full or incremental, and which batch days changed,
from the ledger of what landed (the load audit) and the ledger the last build consumed; no dbt run
needed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from dichvucong import transform
from dichvucong.config import Settings
from dichvucong.landing import lake

DAYS = [dt.date(2024, 2, 5), dt.date(2024, 2, 6)]
AS_OF = dt.datetime(2024, 2, 7)
SOURCES = {"raw_dossier_syncs": "dossiers", "raw_processing_steps": "processing", "raw_payments": "payments",
           "raw_agencies": "agencies", "raw_catalog": "catalog"}


def _land(settings: Settings, table: str, day: dt.date, rows: int = 0, files: int = 1) -> None:
    """A partition of `rows` rows of nulls (what is in them does not matter to the plan), and its
    audit as a landing writes it: a row per file, stamped with the landing's time."""
    schema = lake.SCHEMAS[table]
    frame = pa.table({f.name: pa.nulls(rows, f.type) for f in schema}, schema=schema)
    lake.write_partition(lake.partition_path(settings.lake_dir, table, day), table, frame)
    source = SOURCES[table]
    landed_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    audit = [{"source": source, "batch_date": day, "file_name": f"{i}.json", "rows_read": rows if i == 0 else 0,
              "rows_loaded": rows if i == 0 else 0, "rows_quarantined": 0, "landed_at": landed_at}
             for i in range(files)]
    lake.write_partition(lake.partition_path(settings.lake_dir, "load_audit", day, source), "load_audit", audit)


def _record(settings: Settings, plan: transform.RefreshPlan, as_of: dt.datetime = AS_OF) -> None:
    """Record a build as `transform.build` does after dbt succeeded: dbt has built `int_units` by then."""
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema if not exists intermediate")
        con.execute("create table if not exists intermediate.int_units as select 'as_was' as geography_basis, "
                    "'province' as unit_type, '26' as unit_code")
    transform.record_refresh(settings, plan, as_of, transform.BuildReport(as_of.isoformat(), 1, 0, 0, 0.1))


@pytest.fixture
def settings(dvc_home: Path) -> Settings:
    settings = Settings.from_env()
    for table in ("raw_dossier_syncs", "raw_processing_steps", "raw_payments"):
        for day in DAYS:
            _land(settings, table, day)
    for snapshot in ("raw_agencies", "raw_catalog"):
        _land(settings, snapshot, DAYS[0])
    return settings


NOTHING_CHANGED = {"dossier": [], "payment": [], "catalog": [], "agencies": [], "processing": []}


def test_a_first_build_is_full_and_the_next_sees_what_landed_since(settings: Settings) -> None:
    first = transform.plan_refresh(settings, AS_OF)
    assert (first.mode, first.reason) == ("full", "no earlier build in this warehouse")
    assert first.consumed is not None and len(first.consumed) == 8  # 3 sources × 2 days, 2 snapshots
    transform.write_plan(settings, first, AS_OF)
    _record(settings, first)
    assert transform.plan_refresh(settings, AS_OF).batches == NOTHING_CHANGED

    # A day landed again from the same files by the same code is no change (a rerun, HTTP's look-back).
    _land(settings, "raw_dossier_syncs", DAYS[0])
    assert transform.plan_refresh(settings, AS_OF).batches == NOTHING_CHANGED
    # A data partition rewritten without a landing (no new audit) is the landing check's business
    # (tasks.check_landing_accounts), not the plan's: the plan reads the ledger.
    _land(settings, "raw_payments", DAYS[1], rows=1)
    _land(settings, "raw_processing_steps", DAYS[0], files=2)
    plan = transform.plan_refresh(settings, AS_OF)
    assert plan.mode == "incremental" and plan.reason == "days landed since the last build"
    assert plan.batches == NOTHING_CHANGED | {"payment": ["2024-02-06"], "processing": ["2024-02-05"]}
    # A changed agency list is a dated list every dossier is read against: the next build is full.
    _land(settings, "raw_agencies", DAYS[0], rows=1)
    assert transform.plan_refresh(settings, AS_OF).reason == "agencies snapshot(s) changed: 2024-02-05"

    # A day that leaves the ledger (its audit gone, or landed again with no file) must leave the marts.
    lake.partition_path(settings.lake_dir, "load_audit", DAYS[1], "dossiers").unlink()
    assert transform.plan_refresh(settings, AS_OF).reason == "landed day(s) withdrawn: dossiers/2024-02-06"
    assert transform.plan_refresh(settings, AS_OF - dt.timedelta(days=1)).mode == "full"


def test_dbt_reads_the_plan_and_its_batch_days_from_the_warehouse(settings: Settings) -> None:
    first = transform.plan_refresh(settings, AS_OF)
    transform.write_plan(settings, first, AS_OF)
    _record(settings, first)
    _land(settings, "raw_payments", DAYS[1], rows=1)
    _land(settings, "raw_processing_steps", DAYS[0], files=2)
    later = AS_OF + dt.timedelta(days=1)
    plan = transform.plan_refresh(settings, later)
    assert plan.mode == "incremental"
    transform.write_plan(settings, plan, later)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select as_of, previous_as_of, mode from meta.build_plan").fetchall() == [
            (later, AS_OF, "incremental")]
        assert con.execute("select source, batch_date from meta.build_scope order by all").fetchall() == [
            ("payment", DAYS[1]), ("processing", DAYS[0])]
        assert con.execute("select unit_code from meta.build_units").fetchall() == [("26",)]
    _record(settings, plan, later)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute(
            "select mode, changed_dossier_batches, changed_payment_batches, changed_processing_batches "
            "from meta.refresh_runs order by finished_at desc limit 1").fetchall() == [("incremental", 0, 1, 1)]


def test_a_build_consumes_the_ledger_it_read_not_what_landed_while_it_ran(settings: Settings) -> None:
    first = transform.plan_refresh(settings, AS_OF)
    transform.write_plan(settings, first, AS_OF)
    _land(settings, "raw_dossier_syncs", DAYS[1], rows=3)  # lands while the build runs
    _record(settings, first)
    assert transform.plan_refresh(settings, AS_OF).batches == NOTHING_CHANGED | {"dossier": ["2024-02-06"]}


def test_the_days_the_asset_events_announced_are_compared_with_the_plan(settings: Settings) -> None:
    from dichvucong.tasks import announced_days

    first = transform.plan_refresh(settings, AS_OF)
    announced = announced_days([{"source": "dossiers", "batch_days": ["2024-02-05", "2024-02-06"]},
                                {"source": "payments", "batch_days": ["2024-02-06"]},
                                {"source": "dossiers", "batch_days": ["2024-02-06"]},
                                {}, None, {"source": "payments", "batch_days": "2024-02-07"}])
    assert announced == {"dossiers": ["2024-02-05", "2024-02-06"], "payments": ["2024-02-06"]}
    assert transform.compare_announced(first, announced) == {
        "announced": 3, "in_scope": 3, "consumed_before": 0, "not_announced": 0}
    transform.write_plan(settings, first, AS_OF)
    _record(settings, first)
    _land(settings, "raw_payments", DAYS[1], rows=1)
    _land(settings, "raw_dossier_syncs", DAYS[1], rows=1)  # landed outside Airflow: no event
    later = transform.plan_refresh(settings, AS_OF)
    # The dossiers' events queued while the first build ran: it read their days already.
    assert transform.compare_announced(later, announced) == {
        "announced": 3, "in_scope": 2, "consumed_before": 1, "not_announced": 0}
    assert transform.compare_announced(later, {"payments": ["2024-02-06"]})["not_announced"] == 1


def test_a_build_that_did_not_record_its_end_makes_the_next_one_full(settings: Settings) -> None:
    first = transform.plan_refresh(settings, AS_OF)
    transform.write_plan(settings, first, AS_OF)
    _record(settings, first)
    later = AS_OF + dt.timedelta(days=1)
    started = transform.plan_refresh(settings, later)
    assert started.mode == "incremental"
    # A build marks itself started with its plan; killed (or failed) before recording, it leaves the mark.
    transform.write_plan(settings, started, later)
    plan = transform.plan_refresh(settings, later)
    assert plan.mode == "full" and "did not record its end" in plan.reason and "incremental build" in plan.reason
    # Only a recorded build clears it.
    transform.write_plan(settings, plan, later)
    _record(settings, plan, later)
    assert transform.plan_refresh(settings, later).mode == "incremental"


def test_the_default_as_of_follows_rows_not_empty_partitions(settings: Settings) -> None:
    with pytest.raises(transform.TransformError, match="no dossier row has been landed"):
        transform.landed_as_of(settings)  # the fixture's partitions are empty
    _land(settings, "raw_dossier_syncs", DAYS[0], rows=2)
    assert transform.landed_as_of(settings) == dt.datetime(2024, 2, 6)
    # A scheduled run lands an empty partition for a much later day: the as-of time stays.
    _land(settings, "raw_dossier_syncs", dt.date(2026, 12, 3))
    assert transform.landed_as_of(settings) == dt.datetime(2024, 2, 6)
    _land(settings, "raw_dossier_syncs", DAYS[1], rows=1)
    assert transform.landed_as_of(settings) == dt.datetime(2024, 2, 7)



def test_duckdb_out_of_memory_is_recognised_and_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """The message DuckDB itself raises past its memory limit (a whole dbt build under 1MB took minutes)."""
    import duckdb

    with duckdb.connect(config={"memory_limit": "8MB", "threads": 1}) as con, \
            pytest.raises(duckdb.OutOfMemoryException) as failed:
        con.execute("select list(i order by random()) from range(3000000) t(i)").fetchall()
    assert transform._out_of_memory(str(failed.value))
    assert not transform._out_of_memory("Binder Error: column not found")
    monkeypatch.setenv("DVC_DUCKDB_MEMORY_LIMIT", "2GB")
    assert "DVC_DUCKDB_MEMORY_LIMIT=2GB" in transform.memory_hint()


def test_a_warehouse_recorded_before_the_processing_count_keeps_its_runs(settings: Settings) -> None:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.warehouse_path)) as con:
        con.execute("create schema meta")
        con.execute("create table meta.refresh_runs (as_of timestamp, mode varchar, reason varchar, "
                    "project_hash varchar, changed_dossier_batches integer, changed_payment_batches integer, "
                    "dbt_nodes integer, elapsed_seconds double, finished_at timestamptz)")
        con.execute("insert into meta.refresh_runs values ('2024-02-06', 'full', 'old', 'h', 0, 0, 1, 1, now())")
    first = transform.plan_refresh(settings, AS_OF)
    transform.write_plan(settings, first, AS_OF)
    _record(settings, first)
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("select reason, changed_processing_batches from meta.refresh_runs "
                           "order by finished_at").fetchall() == [("old", None), (first.reason, 0)]
