"""What the DAGs' tasks do. Each function takes plain values (and the settings of the province it
serves, `provinces.settings_for`; the environment's without them), returns a small
JSON-able dict for XCom (paths and counts, never data), and raises on failure.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from dichvucong.config import LOCAL_TZ, Settings
from dichvucong.landing import lake, ledger
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
    """Act on a task's validations: keep the results (JSON report, lake history, published quality
    tables; the Data Docs pages of those with a finding, a failed check or a warning, built once for
    all of them), alert operators on any finding with its page's link, and raise QualityGateFailed
    for the first one where a critical expectation failed, after all are kept.

    A validation without a finding gets no Data Docs page: nothing links one (the dashboard's quality
    page reads the published results), and building pages cost 1.4 s of GX in a 5.5 s validation task
    at a year of history (docs/benchmarks.md's fifth round: `git show f341435:docs/benchmarks.md`)."""
    from dichvucong.alerts import from_summary, notify
    from dichvucong.publish import publish_quality
    from dichvucong.quality import QualityGateFailed, enforce, record
    from dichvucong.quality.history import store
    from dichvucong.quality.suites import build_docs

    findings = [s for s in summaries if s.critical_failures or s.warnings]
    if findings:
        build_docs(findings, settings.reports_dir / "gx")
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


def check_landing_accounts(settings: Settings | None = None) -> dict[str, Any]:
    """Every day of the ledger must balance with its partitions (`landing.ledger.accounts`): rows
    read = loaded + quarantined by the audit, rows loaded = rows in the data partition, rows
    quarantined = rows in the quarantine partition; a partition with rows and no audit, or an audit
    whose partition is gone, does not. Every landed day is judged again at every check, from its
    audit rows and its partitions' Parquet footers (read through the ledger's cache of what each file
    yields, keyed by the file's identity: a rewritten partition is read again); no verdict is kept.

    Returns {"sources": [{source, days, rows_read, rows_loaded, rows_quarantined}]}; raises
    LandingAccountingError naming the first unbalanced day of a source."""
    settings = settings or Settings.from_env()
    checks = []
    for source in lake.SOURCE_TABLES:
        accounts = ledger.accounts(settings.lake_dir, source)
        if not accounts:
            continue
        bad = [a for a in accounts if not a.balanced]
        if bad:
            first = bad[0]
            raise LandingAccountingError(
                f"{source}: audit and lake disagree on {len(bad)} day(s), first {first.day}: audit read "
                f"{first.rows_read}, loaded {first.rows_loaded}, quarantined {first.rows_quarantined}; "
                f"partitions hold {first.rows_in_data} and {first.rows_in_quarantine} quarantined")
        checks.append({"source": source, "days": len(accounts), "rows_read": sum(a.rows_read for a in accounts),
                       "rows_loaded": sum(a.rows_loaded for a in accounts),
                       "rows_quarantined": sum(a.rows_quarantined for a in accounts)})
    return {"sources": checks}


def check_freshness(as_of: str | None = None, settings: Settings | None = None) -> dict[str, Any]:
    """How far each source's latest landed batch lags behind the as-of day (warning past two days)."""
    from dichvucong.quality.frames import freshness_frame
    from dichvucong.transform import landed_as_of

    settings = settings or Settings.from_env()
    when = dt.datetime.fromisoformat(as_of) if as_of else landed_as_of(settings)
    return gate(freshness_frame(settings.lake_dir, when), "landing_freshness", when.date().isoformat(), settings)


def announced_days(extras: list[Any]) -> dict[str, list[str]]:
    """{source: sorted ISO days} from Asset events' `extra` (the ingestion DAG's validate task writes
    {"source", "batch_days"}); an event without them (a manual Asset event) announces nothing."""
    announced: dict[str, set[str]] = {}
    for extra in extras:
        if isinstance(extra, dict) and isinstance(extra.get("source"), str) \
                and isinstance(extra.get("batch_days"), list):
            announced.setdefault(extra["source"], set()).update(str(d) for d in extra["batch_days"])
    return {source: sorted(days) for source, days in sorted(announced.items())}


def build_marts(as_of: str | None = None, settings: Settings | None = None,
                announced: dict[str, list[str]] | None = None) -> dict[str, Any]:
    """Build the marts (transform.build) and alert on dbt tests that warned. `announced`: the batch
    days of the Asset events that triggered the run, reported beside the plan's scope."""
    from dichvucong.transform import build

    settings = settings or Settings.from_env()
    try:
        report = build(settings, dt.datetime.fromisoformat(as_of) if as_of else None, announced=announced)
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
            "changed_batches": report.changed_batches, "announced": report.announced}


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
