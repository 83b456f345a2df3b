"""Publication: the copy of the marts that officials, dashboards and exports read.

The published file holds the `marts` schema (no staging, no pseudonymous keys),
the quality tables, the intermediaries' names and a `meta.publication` row with
its as-of time. dbt builds the marts into their own file (Settings.marts_path),
so publication starts from a copy of that file — the cost of copying bytes,
not of re-writing every row. It is built beside the old copy and renamed over
it, so readers see either the last good marts or the new ones, never a
half-written file, and never hold the warehouse's lock.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import shutil
from pathlib import Path

import duckdb

from dichvucong.config import Settings
from dichvucong.quality.frames import MART_TABLES
from dichvucong.quality.history import SCHEMA

log = logging.getLogger(__name__)

QUALITY_FILE = "quality.duckdb"
QUALITY_TABLES = ("validation_results", "load_audit", "quarantine_reasons")


def publish(settings: Settings, as_of: dt.datetime, run_id: str) -> Path:
    target = settings.published_path
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"building-{target.name}")
    _copy_marts(settings.marts_path, staging)
    with duckdb.connect(str(staging)) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'marts' order by 1").fetchall()]
        missing = set(MART_TABLES) - set(tables)
        if missing:
            raise RuntimeError(f"the marts file lacks published marts {sorted(missing)}")
        # The quality tables as published for the dashboard a moment ago (built once, copied here).
        quality = publish_quality(settings)
        con.execute(f"attach '{quality}' as quality_file (read_only)")
        con.execute("create schema quality")
        for table in QUALITY_TABLES:
            con.execute(f"create table quality.{table} as select * from quality_file.quality.{table}")
        con.execute("detach quality_file")
        con.execute(f"attach '{settings.warehouse_path}' as warehouse (read_only)")
        con.execute("create schema meta")
        con.execute("create schema reference")
        con.execute("create table reference.intermediaries as "
                    "select intermediary_code, intermediary_name from warehouse.reference.intermediaries")
        con.execute(
            "create table meta.publication as select ?::timestamp as as_of, ?::timestamptz as published_at, "
            "?::varchar as run_id",
            [as_of, dt.datetime.now(dt.UTC), run_id],
        )
        con.execute("detach warehouse")
        con.execute("checkpoint")
    os.replace(staging, target)
    log.info("published marts as of %s to %s", as_of, target)
    return target


def _copy_marts(marts_file: Path, staging: Path) -> None:
    """Copy the file dbt built the marts into (with its write-ahead log, if one was left).

    A read-only connection is held during the copy: DuckDB then lets no process write the
    file, so the copy is never of a build in progress. The copy replays the log when opened.
    """
    if not marts_file.exists():
        raise RuntimeError(f"no marts have been built yet ({marts_file})")
    for path in (staging, staging.with_name(staging.name + ".wal")):
        path.unlink(missing_ok=True)
    with duckdb.connect(str(marts_file), read_only=True):
        shutil.copyfile(marts_file, staging)
        wal = marts_file.with_name(marts_file.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, staging.with_name(staging.name + ".wal"))


def _quality_tables(con: duckdb.DuckDBPyConnection, lake_dir: Path) -> None:
    """The `quality` schema officials see: every check's history, and load counts and quarantine
    reasons per source and batch day (counts only, never the lines)."""
    con.execute("create schema if not exists quality")
    history = lake_dir / "quality_results"
    if any(history.glob("*/*.parquet")):
        con.execute(f"create table quality.validation_results as "
                    f"select * from read_parquet('{history}/*/*.parquet') order by validated_at")
    else:  # no validation yet: the history's own schema, empty
        empty = SCHEMA.empty_table()  # noqa: F841 (read by DuckDB's replacement scan)
        con.execute("create table quality.validation_results as select * from empty")
    audit, quarantine = lake_dir / "load_audit", lake_dir / "quarantine"
    con.execute(
        "create table quality.load_audit (source_name varchar, batch_date date, files bigint, rows_read bigint, "
        "rows_loaded bigint, rows_quarantined bigint, file_errors bigint)")
    if any(audit.glob("*/*/data.parquet")):
        con.execute(
            f"insert into quality.load_audit select source, batch_date, count(*), sum(rows_read), sum(rows_loaded), "
            f"sum(rows_quarantined), count(file_error) "
            f"from read_parquet('{audit}/*/*/data.parquet', hive_partitioning = false) group by all order by all")
    con.execute("create table quality.quarantine_reasons (source_name varchar, batch_date date, reason varchar, "
                "rows bigint)")
    if any(quarantine.glob("*/*/data.parquet")):
        con.execute(
            f"insert into quality.quarantine_reasons select source, batch_date, reason, count(*) "
            f"from read_parquet('{quarantine}/*/*/data.parquet', hive_partitioning = false) "
            f"group by all order by all")


def quality_path(settings: Settings) -> Path:
    return settings.published_path.with_name(QUALITY_FILE)


def publish_quality(settings: Settings) -> Path:
    """Publish the quality tables alone, after every validation: the dashboard shows the latest gate
    results, including those of a run that published no marts because a critical check failed.

    Validations of parallel tasks call this at once: a lock serialises them, and each builds its
    file beside the old one and renames it over (readers see a whole file, never half of one).
    """
    target = quality_path(settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(".quality.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        staging = target.with_name(f"building-{os.getpid()}-{target.name}")
        staging.unlink(missing_ok=True)
        with duckdb.connect(str(staging)) as con:
            _quality_tables(con, settings.lake_dir)
            con.execute("create schema meta")
            con.execute("create table meta.quality_publication as select ?::timestamptz as published_at",
                        [dt.datetime.now(dt.UTC)])
        os.replace(staging, target)
    return target


def export_csv(settings: Settings) -> Path:
    """CSV exports of the published marts (no personal data is in them by construction)."""
    folder = settings.reports_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        for table in MART_TABLES:
            con.execute(f"copy marts.{table} to '{folder / (table + '.csv')}' (header, delimiter ',')")
    return folder
