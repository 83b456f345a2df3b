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


def gate(frame: Any, table: str, interval: str, settings: Settings) -> dict[str, Any]:
    """Validate, keep the result (JSON report, lake history, Data Docs, published quality tables),
    alert operators on any failure, and raise QualityGateFailed when a critical expectation failed."""
    from dichvucong.alerts import from_summary, notify
    from dichvucong.publish import publish_quality
    from dichvucong.quality import enforce, record, validate
    from dichvucong.quality.history import store

    summary = validate(frame, table, interval, settings.expectations_dir, docs_root=settings.reports_dir / "gx")
    record(summary, settings.reports_dir)
    store(summary, settings.lake_dir)
    publish_quality(settings)  # the dashboard's quality page shows it, pass or fail
    alert = from_summary(summary, summary.docs_url)
    if alert is not None:
        notify(alert, settings)
    enforce(summary)
    return {"table": table, "rows": summary.rows, "warnings": summary.warnings, "docs": summary.docs_url}


def validate_landed(source: str, start: dt.date, end: dt.date) -> dict[str, Any]:
    """Run the raw table's suite on the landed interval, and the volume check; a critical failure raises.

    A catalog is delivered only when it changes: an interval without a
    snapshot has nothing to validate, and the previous snapshot stays in force.
    """
    from dichvucong.quality.frames import raw_frame, raw_table, volume_frame

    settings = Settings.from_env()
    table = lake.SOURCE_TABLES[source]
    days = days_in(start, end)
    interval = f"{start}_{end}"
    if source == "catalog":
        # Each snapshot is a full catalog. The suite's checks are per row or per snapshot
        # (unique per MaTTHC and batch day) except "at least one row": the snapshots with rows
        # are validated together in one run, and an empty snapshot on its own, where that check
        # fails (another snapshot's rows must not make it pass).
        snapshots = [d for d in days if lake.partition_path(settings.lake_dir, table, d).exists()]
        if not snapshots:
            log.info("no catalog snapshot in %s to %s: nothing to validate", start, end)
        frame = raw_frame(settings.lake_dir, table, snapshots) if snapshots else None
        present = set(frame["_batch_date"]) if frame is not None else set()
        empty = [d for d in snapshots if d not in present]
        results = [gate(raw_frame(settings.lake_dir, table, [d]), table, d.isoformat(), settings) for d in empty]
        if frame is not None and len(frame):
            label = snapshots[0].isoformat() if len(snapshots) == 1 else f"{snapshots[0]}_{snapshots[-1]}"
            results.append(gate(frame, table, label, settings))
        return {"table": table, "rows": sum(r["rows"] for r in results), "snapshots": len(snapshots),
                "warnings": sum(r["warnings"] for r in results), "docs": [r["docs"] for r in results]}
    with raw_table(settings.lake_dir, table, days) as landed:
        result = gate(landed, table, interval, settings)
    volume = gate(volume_frame(settings.lake_dir, source, days), "raw_volume", f"{source}_{interval}", settings)
    result["volume_warnings"] = volume["warnings"]
    return result


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


def check_freshness(as_of: str | None = None) -> dict[str, Any]:
    """How far each source's latest landed batch lags behind the as-of day (warning past two days)."""
    from dichvucong.quality.frames import freshness_frame
    from dichvucong.transform import landed_as_of

    settings = Settings.from_env()
    when = dt.datetime.fromisoformat(as_of) if as_of else landed_as_of(settings)
    return gate(freshness_frame(settings.lake_dir, when), "landing_freshness", when.date().isoformat(), settings)


def build_marts(as_of: str | None = None) -> dict[str, Any]:
    from dichvucong.transform import build

    settings = Settings.from_env()
    report = build(settings, dt.datetime.fromisoformat(as_of) if as_of else None)
    return {"as_of": report.as_of, "nodes": report.nodes, "warnings": report.warnings,
            "elapsed_seconds": round(report.elapsed_seconds, 1), "mode": report.mode, "reason": report.reason,
            "changed_batches": report.changed_batches}


def validate_marts(interval: str) -> dict[str, Any]:
    """Every mart's suite and the kpi_766 invariants; every one runs before a critical failure raises."""
    from dichvucong.quality import QualityGateFailed
    from dichvucong.quality.frames import MART_TABLES, kpi_invariants_frame, mart_table

    settings = Settings.from_env()
    results, failed = [], []
    for table in (*MART_TABLES, "kpi_766_invariants"):
        if table == "kpi_766_invariants":
            frame = kpi_invariants_frame(settings.warehouse_path)
        else:
            frame = mart_table(settings.warehouse_path, table)
        try:
            results.append(gate(frame, table, interval, settings))
        except QualityGateFailed as exc:
            failed.append(exc)
    if failed:
        raise failed[0]
    return {"marts": results}


def publish_marts(as_of: str, run_id: str) -> dict[str, Any]:
    from dichvucong.publish import export_csv, publish

    settings = Settings.from_env()
    path = publish(settings, dt.datetime.fromisoformat(as_of), run_id)
    exports = export_csv(settings)
    return {"published": str(path), "exports": str(exports), "as_of": as_of}
