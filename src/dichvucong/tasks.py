"""What the DAGs' tasks do. Each function takes plain values (and the settings of the province it
serves, `provinces.settings_for`; the environment's without them), returns a small
JSON-able dict for XCom (paths and counts, never data), and raises on failure.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
from pathlib import Path
from typing import Any

from dichvucong.config import LOCAL_TZ, Settings
from dichvucong.landing import lake
from dichvucong.landing.extract import days_in, land
from dichvucong.landing.layout import SPARSE_SOURCES

log = logging.getLogger(__name__)


class LandingAccountingError(RuntimeError):
    """The lake's audit rows disagree with its data partitions."""


def resolve_interval(conf: dict[str, Any] | None, interval_start: Any, interval_end: Any) -> tuple[dt.date, dt.date]:
    """Batch days [start, end) a run covers, in local dates.

    A run's conf may carry {"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"} to cover
    a wider range in one run (a backfill, or the main job); otherwise the data
    interval is used, converted to local time.
    """
    conf = conf or {}
    if conf.get("start") and conf.get("end"):
        start, end = dt.date.fromisoformat(conf["start"]), dt.date.fromisoformat(conf["end"])
    else:
        if interval_start is None or interval_end is None:
            raise ValueError("this run has no data interval: give conf {'start': ..., 'end': ...}")
        start = interval_start.in_timezone(LOCAL_TZ).date()
        end = interval_end.in_timezone(LOCAL_TZ).date()
    if end <= start:
        raise ValueError(f"empty interval {start} to {end}")
    return start, end


def ingest(source: str, start: dt.date, end: dt.date, settings: Settings | None = None) -> dict[str, Any]:
    """Land one source's batch days [start, end) into the lake."""
    settings = settings or Settings.from_env()
    if settings.source_mode == "http" and source in ("dossiers", "processing"):
        # The API serves sync calls by ThoiGianDongBo: a call that reaches the outbox late lands
        # in the window of its own day, so the last few windows are read again to catch it.
        start -= dt.timedelta(days=settings.http_lookback_days)
    report = land(source, start, end, settings)
    return report.as_dict()


def gate(frame: Any, table: str, interval: str, settings: Settings) -> dict[str, Any]:
    """Validate one table and act on the result (`finish`)."""
    from dichvucong.quality import validate

    return finish([validate(frame, table, interval, settings.expectations_dir)], settings)[0]


def finish(summaries: list[Any], settings: Settings) -> list[dict[str, Any]]:
    """Act on a task's validations: keep the results (JSON report, lake history, Data Docs built
    once for all of them, published quality tables), alert operators on any failure, and raise
    QualityGateFailed for the first one where a critical expectation failed, after all are kept."""
    from dichvucong.alerts import from_summary, notify
    from dichvucong.publish import publish_quality
    from dichvucong.quality import QualityGateFailed, enforce, record
    from dichvucong.quality.history import store
    from dichvucong.quality.suites import build_docs

    build_docs(summaries, settings.reports_dir / "gx")
    for summary in summaries:
        record(summary, settings.reports_dir)
        store(summary, settings.lake_dir)
    publish_quality(settings)  # the dashboard's quality page shows it, pass or fail
    failed: list[QualityGateFailed] = []
    for summary in summaries:
        alert = from_summary(summary, summary.docs_url)
        if alert is not None:
            notify(alert, settings)
        try:
            enforce(summary)
        except QualityGateFailed as exc:
            failed.append(exc)
    if failed:
        raise failed[0]
    return [{"table": s.table, "rows": s.rows, "warnings": s.warnings, "docs": s.docs_url} for s in summaries]


def validate_landed(source: str, start: dt.date, end: dt.date, settings: Settings | None = None) -> dict[str, Any]:
    """Run the raw table's suite on the landed interval, and the volume check; a critical failure raises.

    A snapshot source (agency list, catalog) is delivered only when it changes: an interval
    without a snapshot has nothing to validate, and the previous snapshot stays in force. The
    portal's figures are sparse alike (`layout.SPARSE_SOURCES`): only days with a file are validated,
    and no volume is expected of them.
    """
    from dichvucong.quality import validate
    from dichvucong.quality.frames import files_frame, raw_frame, raw_table, volume_frame

    settings = settings or Settings.from_env()
    table = lake.SOURCE_TABLES[source]
    days = days_in(start, end)
    interval = f"{start}_{end}"
    expectations = settings.expectations_dir
    if source in SPARSE_SOURCES:
        # Each snapshot is a full list. The suite's checks are per row or per snapshot
        # (unique per MaTTHC and batch day) except "at least one row": the snapshots with rows
        # are validated together in one run, and an empty snapshot on its own, where that check
        # fails (another snapshot's rows must not make it pass).
        snapshots = [d for d in days if lake.partition_path(settings.lake_dir, table, d).exists()]
        if not snapshots:
            log.info("no %s snapshot in %s to %s: nothing to validate", source, start, end)
            return {"table": table, "rows": 0, "snapshots": 0, "warnings": 0, "docs": []}
        frame = raw_frame(settings.lake_dir, table, snapshots)
        present = set(frame["_batch_date"])
        summaries = [validate(raw_frame(settings.lake_dir, table, [d]), table, d.isoformat(), expectations)
                     for d in snapshots if d not in present]
        if len(frame):
            label = snapshots[0].isoformat() if len(snapshots) == 1 else f"{snapshots[0]}_{snapshots[-1]}"
            summaries.append(validate(frame, table, label, expectations))
        summaries.append(validate(files_frame(settings.lake_dir, source, snapshots), "raw_files",
                                  f"{source}_{interval}", expectations))
        results = finish(summaries, settings)
        return {"table": table, "rows": sum(r["rows"] for r in results), "snapshots": len(snapshots),
                "warnings": sum(r["warnings"] for r in results), "docs": [r["docs"] for r in results]}
    with raw_table(settings.lake_dir, table, days) as landed:
        raw = validate(landed, table, interval, expectations)
    volume = validate(volume_frame(settings.lake_dir, source, days), "raw_volume", f"{source}_{interval}", expectations)
    files = validate(files_frame(settings.lake_dir, source, days), "raw_files", f"{source}_{interval}", expectations)
    result, volume_result, files_result = finish([raw, volume, files], settings)
    result["volume_warnings"] = volume_result["warnings"]
    result["file_warnings"] = files_result["warnings"]
    return result


def check_landing_accounts(every_day: bool = False, settings: Settings | None = None) -> dict[str, Any]:
    """Every audit row must match its partition: rows loaded = rows in the raw
    partition, rows quarantined = rows in the quarantine partition, and
    rows read = loaded + quarantined.

    A day is checked when any of its three files (raw, audit, quarantine) was
    written, or withdrawn, since the last check that passed: each check keeps
    what it verified (`lake/_checks/landing_accounts.json`: size, mtime, inode
    of every file), so a day costs once, whatever the lake's history. With no
    record, or `every_day`, every landed day is checked.
    """
    import duckdb

    settings = settings or Settings.from_env()
    lake_dir = settings.lake_dir
    record_path = lake_dir / "_checks" / "landing_accounts.json"
    known: dict[str, Any] = {} if every_day else _read_json(record_path)
    verified: dict[str, Any] = {}
    checks = []
    with duckdb.connect() as con:
        for source, table in lake.SOURCE_TABLES.items():
            folders = {"raw": lake_dir / table, "audit": lake_dir / "load_audit" / source,
                       "quarantine": lake_dir / "quarantine" / source}
            # The days with any of the three: a partition with no audit is as wrong as an audit
            # with no partition.
            days = sorted({p.parent.name.removeprefix("batch_date=")
                           for kind in folders for p in folders[kind].glob("batch_date=*/data.parquet")})
            if not days:
                continue
            files = {day: {kind: folder / f"batch_date={day}" / "data.parquet" for kind, folder in folders.items()}
                     for day in days}
            stamps = {day: {kind: _stamp(path) for kind, path in paths.items()} for day, paths in files.items()}
            todo = [day for day in days if known.get(f"{source}/{day}") != stamps[day]]
            present = {kind: [str(files[d][kind]) for d in todo if stamps[d][kind] is not None] for kind in folders}
            rows = _account(con, **present)
            bad = [r for r in rows if r[1] != r[2] + r[3] or r[2] != r[4] or r[3] != r[5]]
            if bad:
                raise LandingAccountingError(f"{source}: audit and lake disagree on {len(bad)} day(s), first {bad[0]}")
            verified |= {f"{source}/{day}": stamps[day] for day in days}
            checks.append({"source": source, "days": len(rows), "rows_read": sum(r[1] for r in rows),
                           "rows_loaded": sum(r[2] for r in rows), "rows_quarantined": sum(r[3] for r in rows)})
    record_path.parent.mkdir(parents=True, exist_ok=True)
    staging = record_path.with_name(f".{record_path.name}.{os.getpid()}")
    staging.write_text(json.dumps(verified, sort_keys=True), encoding="utf-8")
    os.replace(staging, record_path)
    return {"sources": checks, "scope": "every landed day" if not known else "days written since the last check"}


def _account(con: Any, raw: list[str], audit: list[str], quarantine: list[str]) -> list[tuple[Any, ...]]:
    """Per day found in any of the files given: rows read, loaded and quarantined by the audit,
    and rows in the raw and quarantine partitions. Both ways: a day with rows in the lake and no
    audit row comes out with zeros from the audit, and a day audited with no partition with zeros
    from the lake, so that either disagrees."""
    if not (audit or raw or quarantine):
        return []

    def source(files: list[str], name: str, columns: str) -> str:
        return f"read_parquet(${name}, hive_partitioning = false)" if files else f"(select {columns} where false)"

    return con.execute(f"""
        with audit as (
            select batch_date, sum(rows_read) as read, sum(rows_loaded) as loaded,
                   sum(rows_quarantined) as quarantined
            from {source(audit, "audit", "null::date as batch_date, 0 as rows_read, 0 as rows_loaded, "
                                           "0 as rows_quarantined")}
            group by batch_date
        ),
        data as (
            select _batch_date as batch_date, count(*) as n
            from {source(raw, "raw", "null::date as _batch_date")}
            group by 1
        ),
        held as (
            select batch_date, count(*) as n
            from {source(quarantine, "quarantine", "null::date as batch_date")}
            group by 1
        )
        select batch_date, coalesce(a.read, 0), coalesce(a.loaded, 0), coalesce(a.quarantined, 0),
               coalesce(d.n, 0), coalesce(h.n, 0)
        from audit a
        full join data d using (batch_date)
        full join held h using (batch_date)
        order by batch_date
    """, {name: files for name, files in (("audit", audit), ("raw", raw), ("quarantine", quarantine)) if files}
    ).fetchall()


def _stamp(path: Path) -> list[int] | None:
    """Size, modification time and inode of a file (a rewrite replaces the inode), None when absent."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return [stat.st_size, stat.st_mtime_ns, stat.st_ino]


def _read_json(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def check_freshness(as_of: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """How far each source's latest landed batch lags behind the as-of day (warning past two days)."""
    from dichvucong.quality.frames import freshness_frame
    from dichvucong.transform import landed_as_of

    settings = settings or Settings.from_env()
    when = dt.datetime.fromisoformat(as_of) if as_of else landed_as_of(settings)
    return gate(freshness_frame(settings.lake_dir, when), "landing_freshness", when.date().isoformat(), settings)


def build_marts(as_of: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    from dichvucong.transform import build

    settings = settings or Settings.from_env()
    try:
        report = build(settings, dt.datetime.fromisoformat(as_of) if as_of else None)
    except Exception as exc:  # the dashboard says so in a banner (publish.BUILD_STATE_FILE)
        from dichvucong.publish import record_build_failure

        record_build_failure(settings, exc, as_of)
        raise
    from dichvucong.alerts import from_dbt_warnings, notify

    alert = from_dbt_warnings(report.warned_tests, report.as_of)
    if alert is not None:
        notify(alert, settings)
    return {"as_of": report.as_of, "nodes": report.nodes, "warnings": report.warnings,
            "elapsed_seconds": round(report.elapsed_seconds, 1), "mode": report.mode, "reason": report.reason,
            "changed_batches": report.changed_batches}


def validate_marts(interval: str, settings: Settings | None = None) -> dict[str, Any]:
    """Every mart's suite; every one runs before a critical failure raises. (The invariants across
    kpi_766's rows are dbt tests, run by the build: dbt_project/tests/assert_kpi_766_*.sql.)"""
    from dichvucong.quality import validate
    from dichvucong.quality.frames import MART_TABLES, mart_table

    settings = settings or Settings.from_env()
    summaries = [validate(mart_table(settings.marts_path, table), table, interval, settings.expectations_dir)
                 for table in MART_TABLES]
    return {"marts": finish(summaries, settings)}


def publish_marts(as_of: str, run_id: str, settings: Settings | None = None) -> dict[str, Any]:
    from dichvucong.publish import export_csv, publish

    settings = settings or Settings.from_env()
    path = publish(settings, dt.datetime.fromisoformat(as_of), run_id)
    exports = export_csv(settings)
    return {"published": str(path), "exports": str(exports), "as_of": as_of}
