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
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path

import duckdb

from dichvucong.config import Settings
from dichvucong.landing import lake
from dichvucong.quality.frames import MART_TABLES
from dichvucong.quality.history import SCHEMA

log = logging.getLogger(__name__)

QUALITY_FILE = "quality.duckdb"
QUALITY_TABLES = ("validation_results", "load_audit", "quarantine_reasons")
# Beside the published file: the last build that failed (dbt error, out of memory), which the dashboard
# shows in a banner while it is newer than the publication (tasks.build_marts writes it).
BUILD_STATE_FILE = "build_state.json"


def record_build_failure(settings: Settings, error: BaseException, as_of: str | None) -> Path:
    """Record that a build failed: when, for which as-of, and the error's type and first line (counts and
    names, never row values), written whole (renamed over the last record)."""
    target = settings.published_path.with_name(BUILD_STATE_FILE)
    target.parent.mkdir(parents=True, exist_ok=True)
    state = {"status": "failed", "failed_at": dt.datetime.now(dt.UTC).isoformat(), "as_of": as_of,
             "error": f"{type(error).__name__}: {(str(error).splitlines() or [''])[0][:300]}"}
    staging = target.with_name(f".{target.name}.{os.getpid()}")
    staging.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
    os.replace(staging, target)
    return target


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
            con.execute(f"create table quality.{table} as select * from quality_file.quality.{table} order by all")
        con.execute("detach quality_file")
        con.execute(f"attach '{settings.warehouse_path}' as warehouse (read_only)")
        con.execute("create schema meta")
        con.execute("create schema reference")
        con.execute("create table reference.intermediaries as "
                    "select intermediary_code, intermediary_name from warehouse.reference.intermediaries")
        con.execute(
            "create table meta.publication as select ?::timestamp as as_of, ?::timestamptz as published_at, "
            "?::varchar as run_id, ?::varchar as province_code, ?::varchar as province_name",
            [as_of, dt.datetime.now(dt.UTC), run_id, settings.province_code, settings.province_name],
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


# The quality tables are built from the validation results (one file per validation, written once)
# and from the ledger of what landed (landing.ledger): the load audit and the quarantine hold one
# group of rows per (source, batch day), replaced by each landing of that day.
_RESULT_FILES = "quality_results/*/*.parquet"
_QUALITY_DDL = """
create schema if not exists quality;
create table quality.validation_results as select * from validation_schema;
create table quality.load_audit (source_name varchar, batch_date date, files bigint, rows_read bigint,
    rows_loaded bigint, rows_quarantined bigint, file_errors bigint);
create table quality.quarantine_reasons (source_name varchar, batch_date date, reason varchar, rows bigint);
create schema if not exists meta;
create table meta.quality_results_files (path varchar primary key);
create table meta.quality_ledger (source varchar, batch_date date, digest varchar);
"""


def _quality_tables(con: duckdb.DuckDBPyConnection, lake_dir: Path, incremental: bool) -> None:
    """The `quality` schema officials see: every check's history, and load counts and quarantine
    reasons per source and batch day (counts only, never the lines).

    `incremental`: `con` holds the tables as built last time, with the validation files and the
    ledger they were built from (`meta.quality_results_files`, `meta.quality_ledger`); only the
    validations added since and the days landed or withdrawn since are read, so the cost follows
    what changed, not the lake's history. Otherwise the tables are built from every file.
    """
    from dichvucong.landing import ledger

    results = sorted(p.relative_to(lake_dir).as_posix() for p in lake_dir.glob(_RESULT_FILES))
    entries = ledger.read(lake_dir)
    if incremental:
        known_results = {row[0] for row in con.execute("select path from meta.quality_results_files").fetchall()}
        known = {(row[0], row[1]): row[2] for row in con.execute(
            "select source, batch_date, digest from meta.quality_ledger").fetchall()}
    else:
        validation_schema = SCHEMA.empty_table()  # noqa: F841 (read by DuckDB's replacement scan)
        con.execute(_QUALITY_DDL)
        known_results, known = set(), {}
    added = [p for p in results if p not in known_results]
    if known_results - set(results):
        # A validation's file removed (not done by the pipeline): read them all again.
        con.execute("delete from quality.validation_results")
        con.execute("delete from meta.quality_results_files")
        added = results
    if added:
        con.execute("insert into quality.validation_results by name select * from read_parquet(?) "
                    "order by validated_at", [[str(lake_dir / p) for p in added]])
        con.execute("insert or ignore into meta.quality_results_files select unnest(?)", [added])
    since = ledger.changes_since(entries, known)
    days = [(source, day) for source, changed in since.changed.items() for day in changed] + since.withdrawn
    if not days:
        return
    for kind, table, aggregate, group in (
            ("load_audit", "load_audit",
             "count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined), count(file_error)",
             "source, batch_date"),
            ("quarantine", "quarantine_reasons", "count(*)", "source, batch_date, reason")):
        con.execute(f"delete from quality.{table} where (source_name, batch_date) in "
                    f"(select unnest(?::struct(s varchar, d date)[], recursive := true))",
                    [[{"s": source, "d": day} for source, day in days]])
        present = [str(path) for source, changed in since.changed.items() for day in changed
                   if (path := lake.partition_path(lake_dir, kind, day, source)).exists()]
        if present:
            con.execute(f"insert into quality.{table} select {group}, {aggregate} "
                        f"from read_parquet(?, hive_partitioning = false) group by all order by all", [present])
    con.execute("delete from meta.quality_ledger")
    con.execute("insert into meta.quality_ledger select unnest(?::struct(s varchar, d date, g varchar)[], "
                "recursive := true)",
                [[{"s": e.source, "d": e.day, "g": e.digest} for e in entries.values()]])


def quality_path(settings: Settings) -> Path:
    return settings.published_path.with_name(QUALITY_FILE)


def _quality_file_current(path: Path) -> bool:
    """Whether `path` is a quality file this code can update in place (else it is built anew)."""
    if not path.exists():
        return False
    try:
        with duckdb.connect(str(path), read_only=True) as con:
            columns = {(row[0], row[1]) for row in con.execute(
                "select schema_name || '.' || table_name, column_name from duckdb_columns()").fetchall()}
    except duckdb.Error:
        return False
    tables = {table for table, _ in columns}
    return ({"meta.quality_results_files", "meta.quality_ledger", "quality.load_audit",
             "quality.quarantine_reasons"} <= tables
            # the history's schema of this code (a new column: built anew)
            and {c for t, c in columns if t == "quality.validation_results"} == set(SCHEMA.names))


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
        try:
            if _quality_file_current(target):
                try:  # from the last publication, reading only what changed since
                    _build_quality_file(staging, settings.lake_dir, previous=target)
                except duckdb.Error as exc:
                    log.warning("quality tables rebuilt from every file: %s", exc)
                    _build_quality_file(staging, settings.lake_dir)
            else:
                _build_quality_file(staging, settings.lake_dir)
            os.replace(staging, target)
        finally:
            staging.unlink(missing_ok=True)
    return target


def _build_quality_file(staging: Path, lake_dir: Path, previous: Path | None = None) -> None:
    staging.unlink(missing_ok=True)
    if previous is not None:
        shutil.copyfile(previous, staging)
    with duckdb.connect(str(staging)) as con:
        _quality_tables(con, lake_dir, incremental=previous is not None)
        con.execute("create or replace table meta.quality_publication as "
                    "select ?::timestamptz as published_at", [dt.datetime.now(dt.UTC)])


# fct_dossiers is exported one file per month of submission (a year of a province is 440,000 rows,
# a month of a nation more than a spreadsheet's 1,048,576). A month's file is rewritten only when
# its rows changed, so a day's publication writes the months the day touched, not the history.
MONTHLY_EXPORTS = {"fct_dossiers": "submitted_at"}
# A monthly mart's values that move with the clock alone while its row is in progress (metrics.md: an
# unanswered supplement round's wait counts up to the as-of time, and overdue is judged at it), and the
# column that says a row is no longer in progress. In the monthly files they are empty for a row in
# progress; `<table>_in_progress.csv` holds them (with the key and the month's column), one row per row
# in progress. Otherwise every month with a long-open dossier changed every day, and a day's
# publication rewrote every month's file (all 13 at a province's year: 5.2 s of its 6.6 s).
CLOCK_COLUMNS = {"fct_dossiers": ("is_ended", ("applicant_wait_hours", "is_overdue_at_as_of", "days_overdue_at_as_of"))}
EXPORT_KEYS = {"fct_dossiers": "dossier_id"}
_EXPORT_MANIFEST = ".fingerprints.json"
# Column types (DuckDB's names; DECIMAL(p,s) too) written as they are: numbers, booleans, dates and
# times. Any other column (text, enum, list, interval...) is written as spreadsheet-safe text.
_EXPORT_AS_IS = frozenset((
    "BOOLEAN", "TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
    "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DATE", "TIME", "TIME_NS", "TIME WITH TIME ZONE", "TIMESTAMP",
    "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE"))


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _export_columns(describe: list[tuple[str, str]], blank_unless: str | None = None,
                    blanked: tuple[str, ...] = ()) -> str:
    """The select list of an export, from `describe`'s (name, type) rows: text escaped as in the
    dashboard's files (`spreadsheet.safe_text_sql`: a text that would start a formula gets a leading `'`).
    The `blanked` columns are empty unless the boolean column `blank_unless` is true."""
    from dichvucong.dashboard.spreadsheet import safe_text_sql

    columns = []
    for name, column_type in describe:
        quoted = _quote(name)
        value = f"case when {_quote(blank_unless)} then {quoted} end" if name in blanked and blank_unless else quoted
        if column_type in _EXPORT_AS_IS or column_type.startswith("DECIMAL("):
            columns.append(value if value == quoted else f"{value} as {quoted}")
        else:
            columns.append(f"{safe_text_sql(f'({value})::varchar')} as {quoted}")
    return ", ".join(columns)


def _clock_split(table: str, names: list[str]) -> tuple[str, tuple[str, ...]] | None:
    """(the column that says a row is done, the columns blanked in its monthly files) when `table` has
    them all (CLOCK_COLUMNS), else None."""
    if table not in CLOCK_COLUMNS:
        return None
    done, clock = CLOCK_COLUMNS[table]
    present = tuple(c for c in clock if c in names)
    return (done, present) if done in names and present and EXPORT_KEYS[table] in names else None


def export_csv(settings: Settings) -> Path:
    """CSV exports of the published marts (no personal data is in them by construction): one file per
    mart, `fct_dossiers` one per month of submission (`fct_dossiers/fct_dossiers_YYYY-MM.csv`;
    `_undated` for dossiers without a submission time), whose values that move with the clock alone
    (CLOCK_COLUMNS) are empty for a dossier in progress and written in
    `fct_dossiers/fct_dossiers_in_progress.csv`. A file is written only when its rows'
    fingerprint (count and hash) differs from the one of the file in place. Cells are spreadsheet-safe,
    as the dashboard's files: numbers, booleans, dates and times as they are, any other value as text
    with a leading `'` when it would start a formula (`dichvucong.dashboard.spreadsheet`)."""
    from dichvucong.dashboard.spreadsheet import SQL_PATTERN

    folder = settings.reports_dir / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    manifest_path = folder / _EXPORT_MANIFEST
    try:
        known: dict[str, str] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    written: dict[str, str] = {}
    with duckdb.connect(str(settings.published_path), read_only=True) as con:
        for table in MART_TABLES:
            column = MONTHLY_EXPORTS.get(table)
            month = f"strftime({column}, '%Y-%m')" if column else "null"
            # A file's rows (count, sum of row hashes) and its layout (columns, types, the writer's
            # version, the escape's rule): a renamed column, a new DuckDB or a new rule rewrites every file.
            describe = [(row[0], row[1]) for row in con.execute(f"describe marts.{table}").fetchall()]
            names = [name for name, _ in describe]
            split = _clock_split(table, names) if column else None
            done, clock = split or (None, ())
            layout = hashlib.sha256(repr((describe, duckdb.__version__, SQL_PATTERN, split)).encode()).hexdigest()[:16]
            select = _export_columns(describe, done, clock)
            # What a file holds, hashed: the clock's columns as the monthly files write them.
            hashed = "*columns(*)" if split is None else (
                f"*columns(* exclude ({', '.join(_quote(c) for c in clock)})), "
                + ", ".join(f"case when {_quote(split[0])} then {_quote(c)} end" for c in clock))
            fingerprints = con.execute(
                f"select {month} as month, count(*), sum(hash({hashed})::hugeint)::varchar from marts.{table} "
                f"group by all").fetchall()
            # file: its select list, filter, the filter's parameters, fingerprint
            parts: dict[str, tuple[str, str, list[str], str]]
            if column is None:
                parts = {f"{table}.csv": (select, "true", [], f"{layout}:{r[1]}:{r[2]}") for r in fingerprints}
                parts = parts or {f"{table}.csv": (select, "true", [], f"{layout}:0:")}
            else:
                parts = {f"{table}/{table}_{m or '_undated'}.csv":
                         (select, f"{month} = ?" if m else f"{_quote(column)} is null", [m] if m else [],
                          f"{layout}:{n}:{h}")
                         for m, n, h in fingerprints}
                if split is not None:
                    kept = [(n, t) for n, t in describe if n in (EXPORT_KEYS[table], column, *clock)]
                    in_progress = f"{_quote(split[0])} is not true"
                    (count, total), = con.execute(
                        f"select count(*), sum(hash({', '.join(_quote(n) for n, _ in kept)})::hugeint)::varchar "
                        f"from marts.{table} where {in_progress}").fetchall()
                    parts[f"{table}/{table}_in_progress.csv"] = (
                        _export_columns(kept), in_progress, [], f"{layout}:{count}:{total}")
                (folder / table).mkdir(exist_ok=True)
                for old in (folder / table).glob(f"{table}_*.csv"):
                    if f"{table}/{old.name}" not in parts:
                        old.unlink()  # a month no longer in the mart
            for name, (columns, where, params, fingerprint) in sorted(parts.items()):
                written[name] = fingerprint
                target = folder / name
                if known.get(name) == fingerprint and target.exists():
                    continue
                staging = target.with_name(f".building-{target.name}")
                order = f"order by {_quote(EXPORT_KEYS[table])}" if table in EXPORT_KEYS else ""
                con.execute(f"copy (select {columns} from marts.{table} where {where} {order}) to '{staging}' "
                            f"(header, delimiter ',')", params)
                os.replace(staging, target)
    (folder / "fct_dossiers.csv").unlink(missing_ok=True)  # the single file of earlier versions
    manifest_path.write_text(json.dumps(written, indent=1, sort_keys=True), encoding="utf-8")
    return folder
