"""The suites run in DuckDB (GX's SQL datasource) judge as they do on pandas:
the same expectations pass and fail with the same counts, on landed data with
dirt in it and on a mart with a value that must fail; the mart is opened
read-only and the scratch file of a raw validation is removed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from dichvucong.config import REPO_ROOT
from dichvucong.landing.extract import FileDropReader, days_in, land_days
from dichvucong.quality import validate
from dichvucong.quality.frames import mart_table, raw_frame, raw_table
from dichvucong.quality.suites import DuckDBTable, ValidationSummary
from dichvucong.simulator import generate
from tests.dichvucong.landing.test_parsers_v2 import call, dossier
from tests.dichvucong.quality.test_suites import kpi_frame

EXPECTATIONS = REPO_ROOT / "expectations"


def _outcomes(summary: ValidationSummary) -> list[tuple[object, ...]]:
    return [(r.expectation_type, r.column, r.success, r.unexpected_count, r.element_count) for r in summary.results]


def test_raw_suites_give_the_same_results_in_duckdb_as_in_pandas(tmp_path: Path) -> None:
    start, end = dt.date(2022, 9, 1), dt.date(2022, 9, 6)
    generate(tmp_path / "landing", start, end, seed=11, scale=0.05, dirt_rate=0.05)
    # Records the parser loads but the suite must fail: a channel outside the code set (kept, flagged), a
    # reception before submission; in one sync call of the first day (sources.md v2 §3).
    odd = [dossier(i, MaHoSo=f"X-{i}", KenhThucHien="9", NgayNopHoSo="20220901083000",
                   NgayTiepNhan="20220901080000", NgayHenTra="20220910170000") for i in range(3)]
    (tmp_path / "landing" / "dossiers" / start.isoformat() / "hoso_odd.json").write_bytes(
        call(odd, ThoiGianDongBo="20220901100000"))
    lake_dir = tmp_path / "lake"
    reader = FileDropReader(tmp_path / "landing")
    for source in ("dossiers", "payments"):
        land_days(source, days_in(start, end), reader, lake_dir, b"key")
    days = days_in(start, end)
    for table in ("raw_dossier_syncs", "raw_payments"):
        with raw_table(lake_dir, table, days) as landed:
            in_duckdb = validate(landed, table, "t", EXPECTATIONS)
            scratch = landed.database
        in_pandas = validate(raw_frame(lake_dir, table, days), table, "t", EXPECTATIONS)
        assert _outcomes(in_duckdb) == _outcomes(in_pandas)
        assert in_duckdb.rows == in_pandas.rows > 0
        assert not all(r.success for r in in_duckdb.results), f"{table}: the dirt must fail a check"
        if table == "raw_dossier_syncs":
            failed = {r.column: r.unexpected_count for r in in_duckdb.results if not r.success}
            assert failed["KenhThucHien"] == 3 and failed["NgayTiepNhan,NgayNopHoSo"] >= 3
        assert not scratch.exists()
    with raw_table(lake_dir, "raw_dossier_syncs", [dt.date(2030, 1, 1)]) as nothing:
        empty = validate(nothing, "raw_dossier_syncs", "t", EXPECTATIONS)
    assert empty.rows == 0 and next(r for r in empty.results if r.column and "MaHoSo" in r.column).success


def test_a_mart_in_duckdb_fails_as_in_pandas_and_stays_unwritten(tmp_path: Path) -> None:
    frame = kpi_frame(3, unit_type=["province", "district", "agency"], unit_code=["26", "243", "A"],
                      rank_in_level=[1, 0, 1], on_time_rate=[1.2, 0.9, 0.8], points_total=[5.0, -1.0, 60.0])
    warehouse = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.kpi_766 as select * from frame")
    before = warehouse.read_bytes()
    in_duckdb = validate(mart_table(warehouse, "kpi_766"), "kpi_766", "t", EXPECTATIONS)
    in_pandas = validate(frame, "kpi_766", "t", EXPECTATIONS)
    assert _outcomes(in_duckdb) == _outcomes(in_pandas)
    assert sorted(r.column or "" for r in in_duckdb.results if not r.success) == [
        "on_time_rate", "points_total", "rank_in_level"]
    assert in_duckdb.critical_failures == in_pandas.critical_failures >= 1
    assert warehouse.read_bytes() == before
    assert DuckDBTable(warehouse, "kpi_766", "marts").row_count() == 3
