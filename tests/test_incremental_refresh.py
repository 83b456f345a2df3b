"""Incremental refresh: daily builds that recompute only what changed give the marts a full
refresh gives, including after late data in old batches (metrics.md; issue: fast to refresh)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dichvucong import transform
from dichvucong.config import Settings
from dichvucong.landing import lake
from dichvucong.landing.layout import SOURCES, SPARSE_SOURCES

from .conftest import SMALL_END, SMALL_START, ingest_sources
from .reference_metrics import read_call

CUT = dt.date(2024, 2, 26)  # the full build covers [SMALL_START, CUT); then one build per day
OLD_BATCH = dt.date(2024, 2, 12)  # late records are delivered again in this batch
# A day with no late data, the test's or the sources' own. (Not CUT: its batch holds a dossier first
# readable three weeks after its reception, its insert call of 2024-02-05 being a file cut short,
# and that dossier's backlog rightly reaches every day.)
ORDINARY_DAY = CUT + dt.timedelta(days=4)
STAMP = "%Y%m%d%H%M%S"
# The sources delivered in day folders (dossier and processing-log calls, payments): each is one batch a day.
# The sources that deliver every day (the portal's saves come once a month, and no mart they feed is incremental).
DAY_FOLDER_SOURCES = tuple(s for s in SOURCES if s not in SPARSE_SOURCES)


def _calls(landing: Path, before: dt.date) -> list[tuple[Path, dict]]:
    """The readable dossier sync calls (sources.md v2 §3) of the batches before `before`, in batch and
    file order."""
    return [(path, call) for path in sorted((landing / "dossiers").glob("*/*.json"))
            if dt.date.fromisoformat(path.parent.name) < before and (call := read_call(path))]


def _latest_records(landing: Path, before: dt.date) -> dict[str, dict]:
    """Each dossier's state in its latest accepted call, with the call's agency as `_agency`."""
    latest: dict[str, dict] = {}
    for _, call in _calls(landing, before):
        if call.get("KetQua", {}).get("error_code") != "0":
            continue
        for record in call["data"]:
            key = record.get("MaHoSo") if isinstance(record, dict) else None
            if key and (key not in latest or call["ThoiGianDongBo"] >= latest[key]["_sent"]):
                latest[key] = dict(record, _agency=call["MaDinhDanhDV"], _sent=call["ThoiGianDongBo"])
    return latest


def _shift(value: str, **delta: float) -> str:
    return (dt.datetime.strptime(value, STAMP) + dt.timedelta(**delta)).strftime(STAMP)


def _round(asked: str, answered: str, due_before: str, due_after: str) -> dict[str, str]:
    """A supplement round of DanhSachHoSoBoSung (v2: NgayBoSung is the request, NgayTiepNhanBoSung the answer)."""
    return {"NguoiYeuCauBoSung": "Cán bộ một cửa", "NoiDungBoSung": "Bổ sung giấy tờ", "NgayBoSung": asked,
            "NguoiTiepNhanBoSung": "Cán bộ một cửa" if answered else "", "NgayTiepNhanBoSung": answered,
            "TrangThaiBoSung": "1" if answered else "0", "NgayHenTraTruoc": due_before, "NgayHenTraMoi": due_after}


def deliver_late_dossier_corrections(landing: Path, updated_at: dt.datetime) -> dict[str, str]:
    """Write, into an old batch, sync calls with corrected states of early dossiers and one dossier
    never seen before, of a new service: the kinds of late data that move indicators of past days and weeks. Each
    call is sent by the dossier's agency, but the moved dossier's by another agency."""
    # Dossiers whose last call before the corrections is older than CUT: no later batch sends them
    # again, so the corrected states stay their latest.
    records = _latest_records(landing, SMALL_END)
    early = sorted((r for r in records.values() if r["_sent"] < f"{CUT:%Y%m%d}"
                    and r["NgayTiepNhan"] and r["NgayTiepNhan"] < "20240210" and r["NgayHenTra"]),
                   key=lambda r: r["MaHoSo"])
    ended = [r for r in early if r["TrangThaiHoSo"] in ("9", "10") and r["NgayKetThucXuLy"]]
    still_open = [r for r in early if r["TrangThaiHoSo"] in ("4", "5")]
    assert len(ended) >= 3 and still_open, "the generated sources should hold early ended and open dossiers"
    stamp = updated_at.strftime(STAMP)
    # The due date moves six days earlier (with rounds, due_at is the first round's NgayHenTraTruoc).
    due = _shift(ended[0]["NgayHenTra"], days=-6)
    due_moved = dict(ended[0], NgayHenTra=due, DanhSachHoSoBoSung=[
        dict(r, NgayHenTraTruoc=due) if i == 0 and r.get("NgayHenTraTruoc") else r
        for i, r in enumerate(ended[0].get("DanhSachHoSoBoSung") or [])])
    received = ended[1]["NgayTiepNhan"]
    first_due = ended[1]["NgayHenTra"]
    second_round = dict(ended[1], DanhSachHoSoBoSung=[
        _round(_shift(received, hours=2), _shift(received, hours=5), first_due, _shift(first_due, hours=3)),
        _round(_shift(received, hours=6), _shift(received, hours=9), _shift(first_due, hours=3),
               _shift(first_due, hours=6)),
    ])
    other_agency = next(r["_agency"] for r in early if r["_agency"] != ended[2]["_agency"])
    moved_agency = dict(ended[2], _agency=other_agency)
    round_asked = dict(still_open[0], DanhSachHoSoBoSung=[
        _round(_shift(still_open[0]["NgayTiepNhan"], days=1), "", still_open[0]["NgayHenTra"], "")])
    # ...of a procedure no earlier dossier named: a unit (service) the last build did not score.
    newcomer = dict(ended[0], MaHoSo=ended[0]["MaHoSo"] + "-LATE", MaTTHC="9.999999")
    folder = landing / "dossiers" / OLD_BATCH.isoformat()
    for number, record in enumerate((due_moved, second_round, moved_agency, round_asked, newcomer), start=901):
        call = {"MaDinhDanhDV": record["_agency"], "ThoiGianDongBo": stamp,
                "LoaiDongBo": "insert" if record is newcomer else "update",
                "KetQua": {"error_code": "0", "message": ""},
                "data": [{k: v for k, v in record.items() if not k.startswith("_")}]}
        (folder / f"hoso_{stamp}_{record['_agency']}_{number}.json").write_text(
            json.dumps(call, ensure_ascii=False), encoding="utf-8")
    # A processing-log record, late, of an ended dossier no other late record names: an overrunning
    # step at a new office, the first of the dossier's (sources.md v2 §4).
    # Ended after its due date without a supplement round (which would move the due date): late.
    stepped = next(r for r in ended[3:] if r["NgayKetThucXuLy"] > r["NgayHenTra"] and not r.get("DanhSachHoSoBoSung"))
    received = stepped["NgayTiepNhan"]
    step = {"MaHoSo": stepped["MaHoSo"], "NguoiXuLy": "Cán bộ", "ChucDanh": "Chuyên viên",
            "PhongBanXuLy": "Phòng Thẩm định bổ sung", "NoiDungXuLy": "Thẩm định", "TrangThai": "4",
            "ThoiDiemXuLy": _shift(received, hours=2), "NgayBatDau": received,
            "NgayKetThucTheoQuyDinh": _shift(received, hours=1)}
    call = {"MaDinhDanhDV": stepped["_agency"], "ThoiGianDongBo": stamp, "LoaiDongBo": "insert",
            "KetQua": {"error_code": "0", "message": ""}, "data": [step]}
    steps = landing / "processing" / OLD_BATCH.isoformat()
    (steps / f"tiendo_{stamp}_{stepped['_agency']}_901.json").write_text(
        json.dumps(call, ensure_ascii=False), encoding="utf-8")
    return {"due_moved": due_moved["MaHoSo"], "second_round": second_round["MaHoSo"],
            "moved_agency": moved_agency["MaHoSo"], "newcomer": newcomer["MaHoSo"],
            "newcomer_received": newcomer["NgayTiepNhan"][:8], "stepped": stepped["MaHoSo"]}


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


def _row(path: Path, sql: str) -> tuple:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()[0]


def _scalar(path: Path, sql: str) -> object:
    return _row(path, sql)[0]


def test_daily_incremental_builds_with_late_data_equal_a_full_refresh(
        small_landing: Path, dvc_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    monkeypatch.setenv("DVC_LANDING_DIR", str(landing))
    settings = Settings.from_env()
    warehouse, marts = settings.warehouse_path, settings.marts_path

    ingest_sources(landing, SMALL_START, CUT, first=True)
    first = transform.build(settings, dt.datetime.combine(CUT, dt.time()))
    assert (first.mode, first.reason) == ("full", "no earlier build in this warehouse")

    late: dict[str, str] = {}
    day = CUT
    while day < SMALL_END:
        as_of = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
        if day == CUT + dt.timedelta(days=1):
            late = deliver_late_dossier_corrections(landing, as_of - dt.timedelta(hours=3))
            ingest_sources(landing, OLD_BATCH, OLD_BATCH + dt.timedelta(days=1), ("dossiers", "processing"))
        if day == CUT + dt.timedelta(days=2):
            corrected = correct_an_old_payment(landing)
            batch = dt.date.fromisoformat(corrected.parent.name)
            ingest_sources(landing, batch, batch + dt.timedelta(days=1), ("payments",))
        if day == CUT + dt.timedelta(days=3):
            # A batch landed again unchanged is no change: only the new day is refreshed.
            ingest_sources(landing, OLD_BATCH, OLD_BATCH + dt.timedelta(days=1), DAY_FOLDER_SOURCES)
        ingest_sources(landing, day, day + dt.timedelta(days=1))
        report = transform.build(settings, as_of)
        assert report.mode == "incremental", report
        if day == ORDINARY_DAY:
            # An ordinary day: its own periods and those its dossiers' changes reach, not all of them.
            scoped = _scalar(warehouse,
                             "select count(*) from intermediate.int_refresh_periods where period_type = 'day'")
            all_days = _scalar(warehouse, "select count(*) from intermediate.int_periods where period_type = 'day'")
            assert 0 < scoped < all_days
        if day == CUT + dt.timedelta(days=1):
            # The day's dossiers, processing log and payments, and the old batch's dossiers and processing log.
            assert report.changed_batches == len(DAY_FOLDER_SOURCES) + 2
            # The late step's dossier is recomputed for its steps alone; the step is in the mart, and, the
            # dossier being late, its office is the office of the dossier's first overrunning step.
            assert _scalar(warehouse, "select reasons from intermediate.int_refresh_dossiers "
                                      f"where dossier_id = '{late['stepped']}'") == ["stepped"]
            offices = _scalar(marts, "select list(office_name) from marts.fct_processing_steps "
                                     f"where dossier_id = '{late['stepped']}'")
            assert "Phòng Thẩm định bổ sung" in offices
            on_time, first_office = _row(marts, "select is_on_time, first_overrun_office from marts.fct_dossiers "
                                                f"where dossier_id = '{late['stepped']}'")
            assert (on_time, first_office) == (False, "Phòng Thẩm định bổ sung")
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
            # The newcomer's service is a unit the last build did not score: every period is recomputed,
            # and the unit is recorded as scored (build.units) for the next build.
            assert _scalar(warehouse, "select count(*) from intermediate.int_refresh_periods") == _scalar(
                warehouse, "select count(*) from intermediate.int_periods")
            assert _scalar(warehouse, "select count(*) from meta.build_units where unit_code = '9.999999'") == 2
        if day == CUT + dt.timedelta(days=3):
            assert report.changed_batches == len(DAY_FOLDER_SOURCES)
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
    rows = pq.read_table(lake.partition_path(settings.lake_dir, "raw_dossier_syncs", bad_day - dt.timedelta(days=1)))
    bad = rows.slice(0, 1).set_column(rows.schema.get_field_index("MaHoSo"), "MaHoSo", pa.nulls(1, pa.string()))
    bad = bad.set_column(bad.schema.get_field_index("_batch_date"), "_batch_date", pa.array([bad_day], pa.date32()))
    lake.write_partition(lake.partition_path(settings.lake_dir, "raw_dossier_syncs", bad_day), "raw_dossier_syncs",
                         bad)
    # ...landed as a landing writes it: with its audit, the ledger's entry the build's plan reads.
    lake.write_partition(lake.partition_path(settings.lake_dir, "load_audit", bad_day, "dossiers"), "load_audit", [
        {"source": "dossiers", "batch_date": bad_day, "file_name": "bad.json", "rows_read": 1, "rows_loaded": 1,
         "rows_quarantined": 0, "landed_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)}])
    with pytest.raises(transform.TransformError, match=r"not_null_onestop_raw_dossier_syncs_MaHoSo\.\w+ \(fail"):
        transform.build(settings, dt.datetime.combine(bad_day + dt.timedelta(days=1), dt.time()))
    # The source's test reads the build's scope (the source `build`), and DuckDB opens that day's file only.
    assert _scalar(warehouse, "select list(batch_date order by batch_date) from meta.build_scope") == [bad_day]
    source_test = next(run.rglob("source_not_null_onestop_raw_dossier_syncs_MaHoSo.sql")).read_text()
    assert "build_scope" in source_test
    with duckdb.connect(str(warehouse), read_only=True) as con:
        profile = "\n".join(str(row[1]) for row in con.execute("explain analyze " + source_test).fetchall())
    assert re.findall(r"Total Files Read: *(\d+)", profile) == ["1"], profile

