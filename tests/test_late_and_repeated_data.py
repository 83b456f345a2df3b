"""Late and repeated data, landed incrementally and built with dbt: a dossier
update synced three days late (sources.md v2: a sync call in a later day's
folder), a later call the portal rejected, the late call delivered twice, a
payment that goes from pending to succeeded in a later file, and a
reconciliation file delivered twice."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from dichvucong.config import Settings
from dichvucong.transform import build
from tests.conftest import SMALL_START, ingest_sources
from tests.reference_metrics import read_call

D = SMALL_START
HEADER = "MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,ThoiGianGiaoDich,NgayDoiSoat"
STAMP = "%Y%m%d%H%M%S"


def _calls(landing: Path) -> list[dict]:
    """The readable dossier sync calls (sources.md v2 §3), in batch and file order."""
    return [call for path in sorted((landing / "dossiers").glob("*/*.json")) if (call := read_call(path))]


def _write_call(folder: Path, call: dict, number: int) -> Path:
    path = folder / f"hoso_{call['ThoiGianDongBo']}_{call['MaDinhDanhDV']}_{number}.json"
    path.write_text(json.dumps(call, ensure_ascii=False), encoding="utf-8")
    return path


def _marts(settings: Settings) -> dict[str, list[tuple]]:
    with duckdb.connect(str(settings.marts_path), read_only=True) as con:
        return {t: con.execute(f"select * from marts.{t} order by all").fetchall()
                for t in ("fct_dossiers", "fct_payments")}


def test_late_pending_and_redelivered_data(dvc_home: Path, small_landing: Path, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    monkeypatch.setenv("DVC_LANDING_DIR", str(landing))
    settings = Settings.from_env()

    # A dossier last seen finished (status 9) by day 5; its result is handed back a day
    # later, and the call that sends that change reaches day 9's batch, three or more days late.
    # The latest accepted call's state wins (ThoiGianDongBo; on a tie, the later file and position).
    latest: dict[str, tuple[dict, dict]] = {}
    for call in _calls(landing):
        if call.get("KetQua", {}).get("error_code") != "0":
            continue
        for record in call["data"]:
            if isinstance(record, dict) and str(record.get("MaHoSo", "")).strip() and call["ThoiGianDongBo"] >= \
                    latest.get(record["MaHoSo"], ({"ThoiGianDongBo": ""}, {}))[0]["ThoiGianDongBo"]:
                latest[record["MaHoSo"]] = call, record
    sent, finished = next((c, r) for c, r in latest.values() if r["TrangThaiHoSo"] == "9"
                          and r["MaHoSo"] == r["MaHoSo"].strip()
                          and c["ThoiGianDongBo"] < f"{D + dt.timedelta(days=6):%Y%m%d}" and r["NgayHenTra"]
                          and r["NgayKetThucXuLy"] >= r["NgayTiepNhan"])
    handed_back = dt.datetime.strptime(sent["ThoiGianDongBo"], STAMP) + dt.timedelta(days=1)
    late = dict(finished, TrangThaiHoSo="10", NgayTra=f"{handed_back:{STAMP}}")
    late_call = dict(sent, ThoiGianDongBo=f"{handed_back:{STAMP}}", LoaiDongBo="update",
                     KetQua={"error_code": "0", "message": ""}, data=[late])
    late_folder = landing / "dossiers" / f"{D + dt.timedelta(days=9)}"
    _write_call(late_folder, late_call, 901)
    # The same call delivered twice (an identical file): a duplicate, not a conflict.
    _write_call(late_folder, late_call, 902)
    # An hour later, a call the portal rejected, with another state: kept and counted, never the state.
    stopped_at = f"{handed_back + dt.timedelta(hours=1):{STAMP}}"
    _write_call(late_folder, dict(late_call, ThoiGianDongBo=stopped_at,
                                  KetQua={"error_code": "-1", "message": "Dữ liệu không hợp lệ"},
                                  data=[dict(late, TrangThaiHoSo="8", NgayTra="", NgayTuChoi=stopped_at)]), 903)

    # A payment pending on day 7, succeeded in day 8's file.
    def pay(day: dt.date, status: str) -> str:
        return (f"TESTPEND0001,MOMO,1,{finished['MaHoSo']},{finished['MaTTHC']},2,70000,{status},"
                f"{D + dt.timedelta(days=7)} 09:00:00,{day}\n")
    for offset, status in ((7, "02"), (8, "00")):
        day = D + dt.timedelta(days=offset)
        path = landing / "payments" / f"{day}" / f"doisoat_{day:%Y%m%d}_MOMO.csv"
        path.write_text(HEADER + "\n" + pay(day, status), encoding="utf-8")

    # First the first week, as the daily runs would have landed it.
    ingest_sources(landing, D, D + dt.timedelta(days=8), first=True)
    build(settings, dt.datetime.combine(D + dt.timedelta(days=8), dt.time()))
    before = _marts(settings)
    with duckdb.connect(str(settings.marts_path), read_only=True) as con:
        status, rejected_before = con.execute(
            "select status_code, rejected_sync_records from marts.fct_dossiers where dossier_id = ?",
            [finished["MaHoSo"]]).fetchall()[0]
        pending = con.execute("select status, settlement_date from marts.fct_payments "
                              "where transaction_id = 'TESTPEND0001'").fetchall()
    assert status == 9
    assert pending == [("pending", D + dt.timedelta(days=7))]

    # Day 1's VNPTPAY file is delivered again in day 9's batch.
    day1 = D + dt.timedelta(days=1)
    again = landing / "payments" / f"{D + dt.timedelta(days=9)}" / f"doisoat_{day1:%Y%m%d}_VNPTPAY.csv"
    shutil.copy(landing / "payments" / f"{day1}" / again.name, again)

    # Then only the new days: the late update, the settled payment and the repeated files arrive.
    ingest_sources(landing, D + dt.timedelta(days=8), D + dt.timedelta(days=10))
    build(settings, dt.datetime.combine(D + dt.timedelta(days=10), dt.time()))
    with duckdb.connect(str(settings.marts_path), read_only=True) as con:
        row = con.execute("select status_code, ended_at, fee_paid_vnd, is_synced, rejected_sync_records, "
                          "conflicting_records from marts.fct_dossiers where dossier_id = ?",
                          [finished["MaHoSo"]]).fetchall()[0]
        payment = con.execute("select status, settlement_date, duplicate_rows from marts.fct_payments "
                              "where transaction_id = 'TESTPEND0001'").fetchall()
        repeated = con.execute("select * from marts.fct_payments where source_file = ? order by all",
                               [again.name]).fetchall()
    assert row[0] == 10  # the late sync wins: its ThoiGianDongBo is the latest of the accepted calls
    # The rejected call is counted, not the state; the repeated call is no conflict.
    assert row[3] is True and row[4] == rejected_before + 1 and row[5] == 0
    assert row[1] == dt.datetime.strptime(finished["NgayKetThucXuLy"], "%Y%m%d%H%M%S")
    assert payment == [("succeeded", D + dt.timedelta(days=8), 0)]
    assert row[2] >= 70000
    # The repeated file changed none of its transactions.
    assert repeated and all(r in before["fct_payments"] for r in repeated)
