"""Late and repeated data, landed incrementally and built with dbt: a dossier
update synced three days late, a payment that goes from pending to succeeded
in a later file, and a reconciliation file delivered twice."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from dichvucong import tasks
from dichvucong.config import Settings
from dichvucong.transform import build
from tests.conftest import SMALL_START

D = SMALL_START
HEADER = "MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,ThoiGianGiaoDich,NgayDoiSoat"


def _ingest(start: dt.date, end: dt.date) -> None:
    for source in ("catalog", "dossiers", "payments"):
        tasks.ingest(source, start, end)


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
    # later, and that change is synced on day 9, three or more days late.
    latest: dict[str, dict] = {}
    for path in sorted((landing / "dossiers").glob("*/*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record["MaHoSo"].strip() and record["NgayCapNhat"] > latest.get(record["MaHoSo"], {}).get(
                    "NgayCapNhat", ""):
                latest[record["MaHoSo"]] = record
    finished = next(r for r in latest.values() if r["TrangThaiHoSo"] == 9 and r["MaHoSo"] == r["MaHoSo"].strip()
                    and r["NgayCapNhat"] < f"{D + dt.timedelta(days=6):%Y%m%d}" and r["NgayHenTra"]
                    and r["NgayKetThucXuLy"] >= r["NgayTiepNhan"])
    handed_back = dt.datetime.strptime(finished["NgayCapNhat"], "%Y%m%d%H%M%S") + dt.timedelta(days=1)
    late = dict(finished, TrangThaiHoSo=10, NgayTra=f"{handed_back:%Y%m%d%H%M%S}",
                NgayCapNhat=f"{handed_back:%Y%m%d%H%M%S}")
    late_folder = landing / "dossiers" / f"{D + dt.timedelta(days=9)}"
    (late_folder / "hoso_late.jsonl").write_text(json.dumps(late, ensure_ascii=False) + "\n", encoding="utf-8")

    # A payment pending on day 7, succeeded in day 8's file.
    def pay(day: dt.date, status: str) -> str:
        return (f"TESTPEND0001,MOMO,1,{finished['MaHoSo']},{finished['MaTTHC']},2,70000,{status},"
                f"{D + dt.timedelta(days=7)} 09:00:00,{day}\n")
    for offset, status in ((7, "02"), (8, "00")):
        day = D + dt.timedelta(days=offset)
        path = landing / "payments" / f"{day}" / f"doisoat_{day:%Y%m%d}_MOMO.csv"
        path.write_text(HEADER + "\n" + pay(day, status), encoding="utf-8")

    # First the first week, as the daily runs would have landed it.
    _ingest(D, D + dt.timedelta(days=8))
    build(settings, dt.datetime.combine(D + dt.timedelta(days=8), dt.time()))
    before = _marts(settings)
    with duckdb.connect(str(settings.marts_path), read_only=True) as con:
        status, = con.execute("select status_code from marts.fct_dossiers where dossier_id = ?",
                              [finished["MaHoSo"]]).fetchall()[0]
        pending = con.execute("select status, settlement_date from marts.fct_payments "
                              "where transaction_id = 'TESTPEND0001'").fetchall()
    assert status == 9
    assert pending == [("pending", D + dt.timedelta(days=7))]

    # Day 1's VNPTPAY file is delivered again in day 9's batch.
    day1 = D + dt.timedelta(days=1)
    again = landing / "payments" / f"{D + dt.timedelta(days=9)}" / f"doisoat_{day1:%Y%m%d}_VNPTPAY.csv"
    shutil.copy(landing / "payments" / f"{day1}" / again.name, again)

    # Then only the new days: the late update, the settled payment and the repeated file arrive.
    _ingest(D + dt.timedelta(days=8), D + dt.timedelta(days=10))
    build(settings, dt.datetime.combine(D + dt.timedelta(days=10), dt.time()))
    with duckdb.connect(str(settings.marts_path), read_only=True) as con:
        row = con.execute("select status_code, ended_at, fee_paid_vnd from marts.fct_dossiers where dossier_id = ?",
                          [finished["MaHoSo"]]).fetchall()[0]
        payment = con.execute("select status, settlement_date, duplicate_rows from marts.fct_payments "
                              "where transaction_id = 'TESTPEND0001'").fetchall()
        repeated = con.execute("select * from marts.fct_payments where source_file = ? order by all",
                               [again.name]).fetchall()
    assert row[0] == 10  # the late sync wins: its NgayCapNhat is the latest
    assert row[1] == dt.datetime.strptime(finished["NgayKetThucXuLy"], "%Y%m%d%H%M%S")
    assert payment == [("succeeded", D + dt.timedelta(days=8), 0)]
    assert row[2] >= 70000
    # The repeated file changed none of its transactions.
    assert repeated and all(r in before["fct_payments"] for r in repeated)
