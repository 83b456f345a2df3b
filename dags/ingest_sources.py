"""
# Ingestion: service catalog, dossier sync records, payment reconciliation

One DAG per source (`ingest_catalog`, `ingest_dossiers`, `ingest_payments`),
each run covering one local day (Asia/Ho_Chi_Minh) of batches:

1. **land** — read the day's files (file drop under the landing directory),
   type every row against `shared/spec/sources.md`, pseudonymise, and replace
   the day's partition in the Parquet lake; lines that cannot be typed go to
   the quarantine partition with a reason; an audit row per file counts rows
   read, loaded and quarantined. A rerun replaces the same partitions.
2. **validate** — the table's Great Expectations suite on the landed day(s);
   a failed critical expectation fails the run, and the Asset is not updated.

A run's conf `{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}` widens it to a
range of days (a backfill in one run). Produces the Assets `raw_catalog`,
`raw_dossiers`, `raw_payments`, which trigger `build_marts`.

With a provinces file (`DVC_PROVINCES_FILE`, see `dichvucong.provinces`), one
set per province: `ingest_<source>__<slug>`, producing `raw_<source>__<slug>`.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pendulum
from airflow.sdk import dag, task
from airflow.timetables.interval import CronDataIntervalTimetable

from dichvucong.alerts import on_task_failure
from dichvucong.assets import province_assets
from dichvucong.provinces import Province, activated, load_provinces, suffix

# Seconds between a failed task's tries (DVC_RETRY_DELAY_SECONDS, default 120).
RETRY_DELAY = dt.timedelta(seconds=int(os.environ.get("DVC_RETRY_DELAY_SECONDS", "120")))


def make_ingest_dag(source: str, province: Province | None = None) -> Any:
    asset = province_assets(province).raw[source]

    @dag(
        dag_id=f"ingest_{source}{suffix(province)}",
        schedule=CronDataIntervalTimetable("0 0 * * *", timezone="Asia/Ho_Chi_Minh"),
        start_date=pendulum.datetime(2022, 1, 1, tz="UTC"),
        # Backfills are explicit (a range run, or `airflow backfill create`), never implicit.
        catchup=False,
        max_active_runs=4,
        tags=["ingestion", source, *([province.slug] if province else [])],
        default_args={"retries": 2, "retry_delay": RETRY_DELAY, "on_failure_callback": on_task_failure},
        doc_md=__doc__,
    )
    def ingest() -> None:
        @task(task_id="land")
        def land(**context: Any) -> dict[str, Any]:
            from dichvucong.tasks import ingest as ingest_source
            from dichvucong.tasks import resolve_interval

            start, end = resolve_interval(
                context["dag_run"].conf, context.get("data_interval_start"), context.get("data_interval_end")
            )
            with activated(province):
                return ingest_source(source, start, end)

        # A failed quality gate is not transient: no retry.
        @task(task_id="validate", outlets=[asset], retries=0)
        def validate(report: dict[str, Any]) -> dict[str, Any]:
            from dichvucong.tasks import validate_landed

            with activated(province):
                return validate_landed(source, dt.date.fromisoformat(report["start"]),
                                       dt.date.fromisoformat(report["end"]))

        validate(land())

    return ingest()


PROVINCES = load_provinces()
if not PROVINCES:
    ingest_catalog = make_ingest_dag("catalog")
    ingest_dossiers = make_ingest_dag("dossiers")
    ingest_payments = make_ingest_dag("payments")
for _province in PROVINCES:
    for _source in ("catalog", "dossiers", "payments"):
        globals()[f"ingest_{_source}{suffix(_province)}"] = make_ingest_dag(_source, _province)
