"""The rows each suite validates, as pandas DataFrames: only the interval just
landed for raw tables (never all history), and the published marts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb

from dichvucong.landing import lake

MART_TABLES = ("fct_dossiers", "fct_payments", "kpi_766")


def raw_frame(lake_dir: Path, table: str, days: list[dt.date]) -> Any:
    """The landed partitions of `days`; nested dossier lists become their total and count."""
    arrow = lake.read_partitions(lake_dir, table, days)
    if table != "raw_dossiers":
        return arrow.to_pandas()
    with duckdb.connect() as con:
        con.register("landed", arrow)
        return con.sql(
            """
            select
                * exclude (DanhSachLePhi, DanhSachBoSung),
                coalesce(list_sum(list_transform(DanhSachLePhi, lambda x: x.Gia)), 0)::bigint as fee_total_vnd,
                coalesce(len(DanhSachBoSung), 0) as supplement_rounds
            from landed
            """
        ).df()


def mart_frame(warehouse: Path, table: str) -> Any:
    if table not in MART_TABLES:
        raise ValueError(f"not a published mart: {table}")
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.sql(f"select * from marts.{table}").df()
