"""What the DAGs' tasks do. Each function takes plain values, returns a small
JSON-able dict for XCom (paths and counts, never data), and raises on failure.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from dichvucong.config import LOCAL_TZ, Settings
from dichvucong.landing import lake
from dichvucong.landing.extract import days_in, land

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


def ingest(source: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Land one source's batch days [start, end) into the lake."""
    settings = Settings.from_env()
    if settings.source_mode == "http" and source == "dossiers":
        # The API serves dossiers by NgayCapNhat: a change synced late lands in the window of
        # its own day, so the last few windows are read again to catch it.
        start -= dt.timedelta(days=settings.http_lookback_days)
    report = land(source, start, end, settings)
    return report.as_dict()


def validate_landed(source: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Run the raw table's suite on the landed interval; a critical failure raises.

    A catalog is delivered only when it changes: an interval without a
    snapshot has nothing to validate, and the previous snapshot stays in force.
    """
    from dichvucong.quality import enforce, record, validate
    from dichvucong.quality.frames import raw_frame

    settings = Settings.from_env()
    table = lake.SOURCE_TABLES[source]
    days = days_in(start, end)
    if source == "catalog" and not any(lake.partition_path(settings.lake_dir, table, d).exists() for d in days):
        log.info("no catalog snapshot in %s to %s: nothing to validate", start, end)
        return {"table": table, "rows": 0, "warnings": 0, "report": None}
    frame = raw_frame(settings.lake_dir, table, days)
    summary = validate(frame, table, f"{start}_{end}", settings.expectations_dir)
    path = record(summary, settings.reports_dir)
    enforce(summary)
    return {"table": table, "rows": summary.rows, "warnings": summary.warnings, "report": str(path)}


def check_landing_accounts() -> dict[str, Any]:
    """Every audit row must match its partition: rows loaded = rows in the raw
    partition, rows quarantined = rows in the quarantine partition, and
    rows read = loaded + quarantined."""
    import duckdb

    settings = Settings.from_env()
    lake_dir = settings.lake_dir
    checks = []
    with duckdb.connect() as con:
        for source, table in lake.SOURCE_TABLES.items():
            if not any((lake_dir / table).glob("batch_date=*/data.parquet")):
                continue
            rows = con.sql(f"""
                with audit as (
                    select batch_date, sum(rows_read) as read, sum(rows_loaded) as loaded,
                           sum(rows_quarantined) as quarantined
                    from read_parquet('{lake_dir}/load_audit/{source}/*/data.parquet')
                    group by batch_date
                ),
                data as (
                    select _batch_date as batch_date, count(*) as n
                    from read_parquet('{lake_dir}/{table}/*/data.parquet') group by 1
                ),
                held as (
                    select batch_date, count(*) as n
                    from read_parquet('{lake_dir}/quarantine/{source}/*/data.parquet') group by 1
                )
                select a.batch_date, a.read, a.loaded, a.quarantined, coalesce(d.n, 0), coalesce(h.n, 0)
                from audit a
                left join data d using (batch_date)
                left join held h using (batch_date)
            """).fetchall()
            bad = [r for r in rows if r[1] != r[2] + r[3] or r[2] != r[4] or r[3] != r[5]]
            if bad:
                raise LandingAccountingError(f"{source}: audit and lake disagree on {len(bad)} day(s), first {bad[0]}")
            checks.append({"source": source, "days": len(rows), "rows_read": sum(r[1] for r in rows),
                           "rows_loaded": sum(r[2] for r in rows), "rows_quarantined": sum(r[3] for r in rows)})
    return {"sources": checks}


def build_marts(as_of: str | None = None) -> dict[str, Any]:
    from dichvucong.transform import build

    settings = Settings.from_env()
    report = build(settings, dt.datetime.fromisoformat(as_of) if as_of else None)
    return {"as_of": report.as_of, "nodes": report.nodes, "warnings": report.warnings,
            "elapsed_seconds": round(report.elapsed_seconds, 1)}


def validate_marts(interval: str) -> dict[str, Any]:
    from dichvucong.quality import enforce, record, validate
    from dichvucong.quality.frames import MART_TABLES, mart_frame

    settings = Settings.from_env()
    summaries = []
    failed = []
    for table in MART_TABLES:
        summary = validate(mart_frame(settings.warehouse_path, table), table, interval, settings.expectations_dir)
        record(summary, settings.reports_dir)
        summaries.append({"table": table, "rows": summary.rows, "warnings": summary.warnings,
                          "critical_failures": summary.critical_failures})
        try:
            enforce(summary)
        except Exception as exc:  # every mart is validated before the gate closes
            failed.append(exc)
    if failed:
        raise failed[0]
    return {"marts": summaries}


def publish_marts(as_of: str, run_id: str) -> dict[str, Any]:
    from dichvucong.publish import export_csv, publish

    settings = Settings.from_env()
    path = publish(settings, dt.datetime.fromisoformat(as_of), run_id)
    exports = export_csv(settings)
    return {"published": str(path), "exports": str(exports), "as_of": as_of}
