"""Publication: the copy of the marts that officials, dashboards and exports read.

The published file holds the `marts` schema only (no staging, no pseudonymous
keys) and a `meta.publication` row with its as-of time. It is built beside the
old copy and renamed over it, so readers see either the last good marts or the
new ones, never a half-written file, and never hold the warehouse's lock.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import duckdb

from dichvucong.config import Settings
from dichvucong.quality.frames import MART_TABLES

log = logging.getLogger(__name__)


def publish(settings: Settings, as_of: dt.datetime, run_id: str) -> Path:
    target = settings.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"building-{target.name}")
    staging.unlink(missing_ok=True)
    with duckdb.connect(str(staging)) as con:
        con.execute(f"attach '{settings.warehouse_path}' as warehouse (read_only)")
        con.execute("create schema marts")
        con.execute("create schema meta")
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'warehouse' and schema_name = 'marts' "
            "order by 1").fetchall()]
        missing = set(MART_TABLES) - set(tables)
        if missing:
            raise RuntimeError(f"the warehouse lacks published marts {sorted(missing)}")
        for table in tables:
            con.execute(f"create table marts.{table} as select * from warehouse.marts.{table}")
        con.execute("create schema quality")
        history = settings.lake_dir / "quality_results"
        if any(history.glob("*/*.parquet")):
            # The validation history, including the checks of the marts being published.
            con.execute(f"create table quality.validation_results as "
                        f"select * from read_parquet('{history}/*/*.parquet') order by validated_at")
        # What the quality page shows: load counts and quarantine reasons (counts only, no line text),
        # and the intermediaries' names for the fee tables.
        con.execute(
            "create table quality.load_audit as select source_name, batch_date, count(*) as files, "
            "sum(rows_read) as rows_read, sum(rows_loaded) as rows_loaded, sum(rows_quarantined) as rows_quarantined, "
            "count(file_error) as file_errors from warehouse.staging.stg_pipeline__load_audit group by all")
        con.execute(
            "create table quality.quarantine_reasons as select source_name, batch_date, reason, count(*) as rows "
            "from warehouse.staging.stg_pipeline__quarantine group by all")
        con.execute("create schema reference")
        con.execute("create table reference.intermediaries as "
                    "select intermediary_code, intermediary_name from warehouse.reference.intermediaries")
        con.execute(
            "create table meta.publication as select ?::timestamp as as_of, ?::timestamptz as published_at, "
            "?::varchar as run_id",
            [as_of, dt.datetime.now(dt.UTC), run_id],
        )
        con.execute("detach warehouse")
    os.replace(staging, target)
    log.info("published marts as of %s to %s", as_of, target)
    return target


def export_csv(settings: Settings) -> Path:
    """CSV exports of the published marts (no personal data is in them by construction)."""
    folder = settings.reports_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        for table in MART_TABLES:
            con.execute(f"copy marts.{table} to '{folder / (table + '.csv')}' (header, delimiter ',')")
    return folder
