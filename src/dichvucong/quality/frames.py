"""The rows each suite validates: only the interval just landed for raw tables
(never all history), and the marts. Large tables are validated in DuckDB where
they are (`DuckDBTable`); small derived frames (volume, freshness,
catalog snapshots) as pandas DataFrames."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb

from dichvucong.landing import lake
from dichvucong.quality.suites import DuckDBTable

MART_TABLES = ("fct_dossiers", "fct_payments", "kpi_766")


# The nested lists of a dossier record as counts and totals, the shape its suite validates.
_DOSSIER_COLUMNS = """
    * exclude (DanhSachLePhi, DanhSachHoSoBoSung, TaiLieuNop, DanhSachGiayToKetQua, DSKetNoiCSDL),
    coalesce(list_sum(list_transform(DanhSachLePhi, lambda x: x.Gia)), 0)::bigint as fee_total_vnd,
    coalesce(len(DanhSachHoSoBoSung), 0) as supplement_rounds,
    coalesce(len(TaiLieuNop), 0) as attachments,
    coalesce(len(DanhSachGiayToKetQua), 0) as result_documents,
    coalesce(len(DSKetNoiCSDL), 0) as databases_consulted
"""


@contextmanager
def raw_table(lake_dir: Path, table: str, days: list[dt.date]) -> Iterator[DuckDBTable]:
    """The landed partitions of `days` as a table of a scratch DuckDB file (a view over the
    Parquet partitions; payments materialised with whether their dossier is known to the
    dossier source). Same columns as `raw_frame`; removed on exit."""
    paths = [p for d in days if (p := lake.partition_path(lake_dir, table, d)).exists()]
    with tempfile.TemporaryDirectory(prefix="dvc-validate-") as scratch:
        database = Path(scratch) / "raw.duckdb"
        with duckdb.connect(str(database)) as con:
            if paths:
                listed = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
                source = f"read_parquet([{listed}], hive_partitioning = false)"
            else:
                empty = lake.SCHEMAS[table].empty_table()  # noqa: F841 (read by DuckDB below)
                con.execute("create table landed_empty as select * from empty")
                source = "landed_empty"
            if table == "raw_dossier_syncs":
                con.execute(f"create view raw_dossier_syncs as select {_DOSSIER_COLUMNS} from {source}")
            elif table == "raw_payments":
                con.execute(f"create table raw_payments as {_payments_sql(source, _landed_dossiers(lake_dir))}")
            else:
                con.execute(f"create view {table} as select * from {source}")
        yield DuckDBTable(database, table)


def _landed_dossiers(lake_dir: Path) -> str | None:
    """Every landed dossier partition as a DuckDB source, None before the first one."""
    dossiers = lake_dir / "raw_dossier_syncs"
    if not any(dossiers.glob("batch_date=*/data.parquet")):
        return None
    return f"read_parquet('{dossiers}/*/data.parquet', hive_partitioning = false)"


def _payments_sql(landed: str, dossiers: str | None) -> str:
    """Payments with whether their dossier is known: a semi-join, only the payments' dossier
    codes are looked up among the landed dossiers."""
    if dossiers is None:
        return f"select *, false as dossier_is_known from {landed}"
    return f"""
        with landed as (select * from {landed}),
        wanted as (select distinct trim(MaHoSo) as code from landed where MaHoSo is not null),
        known as (
            select distinct trim(d.MaHoSo) as code
            from {dossiers} as d
            semi join wanted as w on trim(d.MaHoSo) = w.code
        )
        select l.*, coalesce(trim(l.MaHoSo) in (select code from known), false) as dossier_is_known
        from landed as l
    """


def mart_table(marts_file: Path, table: str) -> DuckDBTable:
    """A mart in the file dbt builds the marts into (Settings.marts_path), read in place."""
    if table not in MART_TABLES:
        raise ValueError(f"not a published mart: {table}")
    return DuckDBTable(marts_file, table, schema="marts", read_only=True)


def raw_frame(lake_dir: Path, table: str, days: list[dt.date]) -> Any:
    """The landed partitions of `days`; nested dossier lists become their total and count;
    payments say whether their dossier is known to the dossier source (landed so far)."""
    arrow = lake.read_partitions(lake_dir, table, days)  # noqa: F841 (read by DuckDB below)
    with duckdb.connect() as con:
        if table == "raw_payments":
            return con.sql(_payments_sql("arrow", _landed_dossiers(lake_dir))).df()
        if table == "raw_dossier_syncs":
            return con.sql(f"select {_DOSSIER_COLUMNS} from arrow").df()
    return arrow.to_pandas()


def mart_frame(marts_file: Path, table: str) -> Any:
    if table not in MART_TABLES:
        raise ValueError(f"not a published mart: {table}")
    with duckdb.connect(str(marts_file), read_only=True) as con:
        return con.sql(f"select * from marts.{table}").df()


def volume_frame(lake_dir: Path, source: str, days: list[dt.date], weeks: int = 7) -> Any:
    """Rows landed per day of `days`, against the mean of the same weekday over the previous weeks."""
    # Only the audit files of the checked days and their trailing weeks: the rest of the history
    # does not enter the ratio, and reading it would make a day's check cost grow with the lake.
    window = {day - dt.timedelta(days=back) for day in days for back in range(weeks * 7 + 1)}
    audit = [str(p) for d in sorted(window) if (p := lake.partition_path(lake_dir, "load_audit", d, source)).exists()]
    with duckdb.connect() as con:
        return con.execute(
            f"""
            with daily as (
                select batch_date, sum(rows_loaded) as rows_loaded
                from {"read_parquet(?)" if audit else "(select null::date as batch_date, 0 as rows_loaded)"}
                group by 1
            ),
            checked as (select unnest(?::date[]) as batch_date)
            select
                c.batch_date,
                coalesce(d.rows_loaded, 0) as rows_loaded,
                (select avg(p.rows_loaded) from daily p
                 where p.batch_date < c.batch_date and p.batch_date >= c.batch_date - interval {weeks * 7} day
                   and dayofweek(p.batch_date) = dayofweek(c.batch_date)) as trailing_mean
            from checked c left join daily d using (batch_date)
            """,
            [audit, days] if audit else [days],
        ).df().assign(volume_ratio=lambda f: f["rows_loaded"] / f["trailing_mean"].where(f["trailing_mean"] > 0))


def files_frame(lake_dir: Path, source: str, days: list[dt.date]) -> Any:
    """One row per file of the landed `days` (their load audit) and per entry of the source's
    landing folder outside the layout (`lake.findings_path`), and one row for each day that
    delivered no file: is_accounted (read = loaded + quarantined), file_error, quarantined_share (of
    the file's records), day_quarantined_share,
    unknown_columns and missing_columns (how many contract keys or columns no record of the file
    carried), total_line_matches (a payment file's total line against the sum of
    its loaded amounts, null without one) and files_in_day. Validated by `expectations/raw_files.yml`."""
    audit = [str(p) for d in days if (p := lake.partition_path(lake_dir, "load_audit", d, source)).exists()]
    findings = lake.findings_path(lake_dir, source)
    raw = [str(p) for d in days if (p := lake.partition_path(lake_dir, lake.SOURCE_TABLES[source], d)).exists()]
    empty_audit = "(select null::date as batch_date, null::varchar as file_name, 0 as rows_read, 0 as rows_loaded, " \
        "0 as rows_quarantined, null::varchar as file_error, []::varchar[] as unknown_columns, " \
        "[]::varchar[] as missing_columns, null::bigint as total_line_amount where false)"
    amounts = ("(select _batch_date as batch_date, _source_file as file_name, sum(SoTien) as amount "
               "from read_parquet($raw) group by all)" if raw and source == "payments"
               else "(select null::date as batch_date, null::varchar as file_name, 0 as amount where false)")
    with duckdb.connect() as con:
        return con.execute(f"""
            with audit as (
                select batch_date, file_name, rows_read, rows_loaded, rows_quarantined, file_error,
                       unknown_columns, missing_columns, total_line_amount
                from {"read_parquet($audit, union_by_name = true)" if audit else empty_audit}
                union all by name
                select batch_date, file_name, rows_read, rows_loaded, rows_quarantined, file_error,
                       unknown_columns, missing_columns, total_line_amount
                from {"read_parquet($findings, union_by_name = true)" if findings.exists() else empty_audit}
            ),
            days as (select unnest($days::date[]) as batch_date),
            per_day as (
                select d.batch_date, count(a.file_name) as files_in_day,
                       sum(a.rows_quarantined) / nullif(sum(a.rows_read), 0) as day_quarantined_share
                from days d left join audit a using (batch_date)
                group by all
            )
            select a.batch_date, a.file_name, a.rows_read = a.rows_loaded + a.rows_quarantined as is_accounted,
                   a.file_error,
                   a.rows_quarantined / nullif(a.rows_read, 0) as quarantined_share,
                   p.day_quarantined_share, len(coalesce(a.unknown_columns, [])) as unknown_columns,
                   len(coalesce(a.missing_columns, [])) as missing_columns,
                   case when a.total_line_amount is not null
                        then a.total_line_amount = coalesce(m.amount, 0) end as total_line_matches,
                   coalesce(p.files_in_day, 1) as files_in_day
            from audit a
            left join per_day p using (batch_date)
            left join {amounts} m using (batch_date, file_name)
            union all
            select batch_date, null, true, null, null, null, 0, 0, null, 0 from per_day where files_in_day = 0
            order by 1, 2
        """, {"days": days} | ({"audit": audit} if audit else {}) | ({"findings": str(findings)}
                                                                    if findings.exists() else {})
           | ({"raw": raw} if raw and source == "payments" else {})).df()


def freshness_frame(lake_dir: Path, as_of: dt.datetime) -> Any:
    """Per source (dossiers, payments): `latest_landed_day`, the newest batch day landed at all (an
    empty partition says "landed, no rows"); `latest_batch_date`, the newest that landed rows
    (`lake.latest_day_with_rows`), and its `lag_days` behind the as-of day. Both None when no partition
    holds a row: the newest folder alone would call a source that stopped sending fresh.
    """
    import pandas as pd

    rows = []
    for source, table in (("dossiers", "raw_dossier_syncs"), ("payments", "raw_payments")):
        days = sorted(p.parent.name.removeprefix("batch_date=")
                      for p in (lake_dir / table).glob("batch_date=*/data.parquet"))
        latest = lake.latest_day_with_rows(lake_dir, table)
        rows.append({"source": source, "latest_landed_day": dt.date.fromisoformat(days[-1]) if days else None,
                     "latest_batch_date": latest, "lag_days": (as_of.date() - latest).days if latest else None})
    return pd.DataFrame(rows)
