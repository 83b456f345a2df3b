"""Incremental refresh: daily builds that recompute only what changed give the marts a full
refresh gives, including after late data in old batches (metrics.md; issue: fast to refresh)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dichvucong import tasks, transform
from dichvucong.config import Settings
from dichvucong.landing import lake

from .conftest import SMALL_END, SMALL_START

CUT = dt.date(2024, 2, 26)  # the full build covers [SMALL_START, CUT); then one build per day
OLD_BATCH = dt.date(2024, 2, 12)  # late records are delivered again in this batch
STAMP = "%Y%m%d%H%M%S"


def _ingest(start: dt.date, end: dt.date, sources: tuple[str, ...] = ("catalog", "dossiers", "payments")) -> None:
    for source in sources:
        tasks.ingest(source, start, end)


def _latest_records(landing: Path, before: dt.date) -> dict[str, dict]:
    latest: dict[str, dict] = {}
    for path in sorted((landing / "dossiers").glob("*/*.jsonl")):
        if dt.date.fromisoformat(path.parent.name) >= before:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            key = record.get("MaHoSo")
            if key and (key not in latest or record["NgayCapNhat"] >= latest[key]["NgayCapNhat"]):
                latest[key] = record
    return latest


def _shift(value: str, **delta: float) -> str:
    return (dt.datetime.strptime(value, STAMP) + dt.timedelta(**delta)).strftime(STAMP)


def deliver_late_dossier_corrections(landing: Path, updated_at: dt.datetime) -> dict[str, str]:
    """Write, into an old batch, corrected states of early dossiers and one dossier never seen
    before: the kinds of late data that move indicators of past days and weeks."""
    records = _latest_records(landing, CUT)
    early = sorted((r for r in records.values()
                    if r["NgayTiepNhan"] and r["NgayTiepNhan"] < "20240210" and r["NgayHenTra"]),
                   key=lambda r: r["MaHoSo"])
    ended = [r for r in early if r["TrangThaiHoSo"] in (9, 10) and r["NgayKetThucXuLy"]]
    still_open = [r for r in early if r["TrangThaiHoSo"] in (4, 5)]
    assert len(ended) >= 3 and still_open, "the generated sources should hold early ended and open dossiers"
    stamp = updated_at.strftime(STAMP)
    due_moved = dict(ended[0], NgayHenTra=_shift(ended[0]["NgayHenTra"], days=-6), NgayCapNhat=stamp)
    received = ended[1]["NgayTiepNhan"]
    second_round = dict(ended[1], NgayCapNhat=stamp, DanhSachBoSung=[
        {"NgayYeuCau": _shift(received, hours=2), "NgayBoSung": _shift(received, hours=5)},
        {"NgayYeuCau": _shift(received, hours=6), "NgayBoSung": _shift(received, hours=9)},
    ])
    other_agency = next(r["MaCoQuan"] for r in early if r["MaCoQuan"] != ended[2]["MaCoQuan"])
    moved_agency = dict(ended[2], MaCoQuan=other_agency, NgayCapNhat=stamp)
    round_asked = dict(still_open[0], NgayCapNhat=stamp, DanhSachBoSung=[
        {"NgayYeuCau": _shift(still_open[0]["NgayTiepNhan"], days=1), "NgayBoSung": ""}])
    newcomer = dict(ended[0], MaHoSo=ended[0]["MaHoSo"] + "-LATE", NgayCapNhat=stamp)
    out = landing / "dossiers" / OLD_BATCH.isoformat() / f"hoso_{OLD_BATCH:%Y%m%d}_99.jsonl"
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n"
                           for r in (due_moved, second_round, moved_agency, round_asked, newcomer)), encoding="utf-8")
    return {"due_moved": due_moved["MaHoSo"], "second_round": second_round["MaHoSo"],
            "moved_agency": moved_agency["MaHoSo"], "newcomer": newcomer["MaHoSo"],
            "newcomer_received": newcomer["NgayTiepNhan"][:8]}


def correct_an_old_payment(landing: Path) -> Path:
    """Rewrite one old reconciliation file: a transaction made three days earlier than first reported."""
    for path in sorted((landing / "payments").glob("*/doisoat_*.csv")):
        if dt.date.fromisoformat(path.parent.name) >= CUT:
            continue
        raw = path.read_bytes()
        text = raw.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(text)))
        if not rows or rows[0][:2] != ["MaGiaoDich", "MaTrungGian"]:
            continue
        header = rows[0]
        status, paid = header.index("TrangThai"), header.index("ThoiGianGiaoDich")
        for row in rows[1:]:
            if len(row) == len(header) and row[status] == "00" and row[paid][:2] == "20":
                moved = dt.datetime.strptime(row[paid], "%Y-%m-%d %H:%M:%S") - dt.timedelta(days=3)
                row[paid] = moved.strftime("%Y-%m-%d %H:%M:%S")
                buffer = io.StringIO()
                csv.writer(buffer, lineterminator="\r\n" if b"\r\n" in raw else "\n").writerows(rows)
                path.write_bytes(raw[:3] * raw.startswith(b"\xef\xbb\xbf") + buffer.getvalue().encode("utf-8"))
                return path
    raise AssertionError("no succeeded payment in an old comma-separated reconciliation file")


def tables_differences(left: Path, right: Path) -> dict[str, tuple[int, int, int]]:
    """Rows only in `left`, only in `right`, and the row count, for every mart and intermediate table."""
    con = duckdb.connect()
    con.execute(f"attach '{left}' as lhs (read_only)")
    con.execute(f"attach '{right}' as rhs (read_only)")
    names = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = 'rhs' "
        "and schema_name in ('marts', 'intermediate') and table_name not like 'int_refresh_%' order by all"
    ).fetchall()
    out = {}
    for schema, table in names:
        def count(sql: str) -> int:
            return int(con.execute(sql).fetchall()[0][0])
        only_left = count(f"select count(*) from (from lhs.{schema}.{table} except all from rhs.{schema}.{table})")
        only_right = count(f"select count(*) from (from rhs.{schema}.{table} except all from lhs.{schema}.{table})")
        out[f"{schema}.{table}"] = (only_left, only_right, count(f"select count(*) from rhs.{schema}.{table}"))
    con.close()
    return out


def _scalar(path: Path, sql: str) -> object:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()[0][0]


def test_daily_incremental_builds_with_late_data_equal_a_full_refresh(
        small_landing: Path, dvc_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    monkeypatch.setenv("DVC_LANDING_DIR", str(landing))
    settings = Settings.from_env()
    warehouse, marts = settings.warehouse_path, settings.marts_path

    _ingest(SMALL_START, CUT)
    first = transform.build(settings, dt.datetime.combine(CUT, dt.time()))
    assert (first.mode, first.reason) == ("full", "no earlier build in this warehouse")

    late: dict[str, str] = {}
    day = CUT
    while day < SMALL_END:
        as_of = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
        if day == CUT + dt.timedelta(days=1):
            late = deliver_late_dossier_corrections(landing, as_of - dt.timedelta(hours=3))
            _ingest(OLD_BATCH, OLD_BATCH + dt.timedelta(days=1), ("dossiers",))
        if day == CUT + dt.timedelta(days=2):
            corrected = correct_an_old_payment(landing)
            batch = dt.date.fromisoformat(corrected.parent.name)
            _ingest(batch, batch + dt.timedelta(days=1), ("payments",))
        if day == CUT + dt.timedelta(days=3):
            # A batch landed again unchanged is no change: only the new day is refreshed.
            _ingest(OLD_BATCH, OLD_BATCH + dt.timedelta(days=1), ("dossiers", "payments"))
        _ingest(day, day + dt.timedelta(days=1))
        report = transform.build(settings, as_of)
        assert report.mode == "incremental", report
        if day == CUT:
            # An ordinary day: its own periods and those its dossiers' changes reach, not all of them.
            scoped = _scalar(warehouse,
                             "select count(*) from intermediate.int_refresh_periods where period_type = 'day'")
            all_days = _scalar(warehouse, "select count(*) from intermediate.int_periods where period_type = 'day'")
            assert 0 < scoped < all_days
        if day == CUT + dt.timedelta(days=1):
            assert report.changed_batches == 3  # the day's dossiers and payments, and the old batch
            # Only affected dossiers and periods are recomputed; the late ones are among them.
            # (Dossiers still open are always recomputed: their waits and overdue state run on with time.)
            recomputed = _scalar(warehouse, "select count(*) from intermediate.int_refresh_dossiers")
            synced = _scalar(warehouse, "select count(*) from intermediate.int_refresh_dossiers "
                                        "where list_contains(reasons, 'synced')")
            total = _scalar(marts, "select count(*) from marts.fct_dossiers")
            assert 0 < synced < total / 4 and recomputed < total
            scoped_ids = _scalar(warehouse, "select list(dossier_id) from intermediate.int_refresh_dossiers")
            assert {late["due_moved"], late["second_round"], late["moved_agency"], late["newcomer"]} <= set(scoped_ids)
            days = _scalar(warehouse, "select list(period_start::varchar) from intermediate.int_refresh_periods "
                                      "where period_type = 'day'")
            received = dt.datetime.strptime(late["newcomer_received"], "%Y%m%d").date().isoformat()
            assert received in days
        if day == CUT + dt.timedelta(days=3):
            assert report.changed_batches == 2
        day += dt.timedelta(days=1)

    assert _scalar(marts, "select count(*) from marts.kpi_766 where on_time_rate is not null") > 0
    second_round_on_time = _scalar(
        marts, f"select is_on_time from marts.fct_dossiers where dossier_id = '{late['second_round']}'")
    assert second_round_on_time is False  # metrics.md: a second supplement round makes a dossier late

    # The last build was incremental: a model's tests read its refresh scope (meta.refresh_scope).
    run = settings.home / "dbt" / "target" / "run"
    assert "int_refresh_dossiers" in next(run.rglob("unique_fct_dossiers_dossier_id.sql")).read_text()

    incremental, incremental_marts = tmp_path / "incremental.duckdb", tmp_path / "incremental.marts.duckdb"
    shutil.copy(warehouse, incremental)
    shutil.copy(marts, incremental_marts)
    full = transform.build(settings, dt.datetime.combine(SMALL_END, dt.time()), full_refresh=True)
    assert full.mode == "full"
    differences = tables_differences(incremental, warehouse) | tables_differences(incremental_marts, marts)
    assert "marts.kpi_766" in differences and "marts.fct_dossiers" in differences
    assert all(rows > 0 for _, _, rows in differences.values())
    unequal = {name: diff for name, diff in differences.items() if diff[:2] != (0, 0)}
    assert not unequal, f"incremental and full refresh differ (only-incremental, only-full, rows): {unequal}"

    # The dbt tests of an incremental build read the changed batches: a bad row in one fails the build.
    bad_day = SMALL_END
    rows = pq.read_table(lake.partition_path(settings.lake_dir, "raw_dossiers", bad_day - dt.timedelta(days=1)))
    bad = rows.slice(0, 1).set_column(rows.schema.get_field_index("MaHoSo"), "MaHoSo", pa.nulls(1, pa.string()))
    bad = bad.set_column(bad.schema.get_field_index("_batch_date"), "_batch_date", pa.array([bad_day], pa.date32()))
    lake.write_partition(lake.partition_path(settings.lake_dir, "raw_dossiers", bad_day), "raw_dossiers", bad)
    with pytest.raises(transform.TransformError, match=r"not_null_onestop_raw_dossiers_MaHoSo\.\w+ \(fail"):
        transform.build(settings, dt.datetime.combine(bad_day + dt.timedelta(days=1), dt.time()))
    source_test = next(run.rglob("source_not_null_onestop_raw_dossiers_MaHoSo.sql")).read_text()
    assert f"batch_date in (date '{bad_day}')" in source_test

