"""Poisoned dates: well-formed timestamps no province system wrote (year 1, 1900, 9999) are
flagged and read as absent, and never drive the calendar or the periods (issue 16.5)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from dichvucong import tasks
from dichvucong.cli import snapshot_start
from dichvucong.config import Settings
from dichvucong.landing.layout import SNAPSHOT_SOURCES, SOURCES
from dichvucong.transform import build
from tests.conftest import SMALL_START
from tests.reference_metrics import read_call

D = SMALL_START
DAYS = 5
HEADER = "MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,ThoiGianGiaoDich,NgayDoiSoat"


def _calls(folder: Path) -> list[dict]:
    """The readable sync calls of one batch folder (sources.md v2 §3), in file order."""
    return [call for path in sorted(folder.glob("*.json")) if (call := read_call(path))]


def _poison(landing: Path) -> dict[str, dict[str, str]]:
    """Three new dossiers, each a copy of a real one with one poisoned timestamp (sent in a sync call
    of their own, every value a string), and a payment dated 1900."""
    folder = landing / "dossiers" / f"{D + dt.timedelta(days=1)}"
    call, source = next((c, r) for c in _calls(folder) if c.get("KetQua", {}).get("error_code") == "0"
                        for r in c["data"] if isinstance(r, dict) and r.get("NgayTiepNhan") and r.get("NgayHenTra")
                        and str(r.get("MaHoSo", "")).strip() == r.get("MaHoSo"))
    poisons = {"POISON-YEAR-1": {"NgayNopHoSo": "00010101080000"},
               "POISON-1900": {"NgayTiepNhan": "19000101080000"},
               "POISON-9999": {"NgayHenTra": "99991231170000"}}
    poisoned = dict(call, LoaiDongBo="insert",
                    data=[dict(source, MaHoSo=code, **fields) for code, fields in poisons.items()])
    name = f"hoso_{call['ThoiGianDongBo']}_{call['MaDinhDanhDV']}_901.json"
    (folder / name).write_text(json.dumps(poisoned, ensure_ascii=False), encoding="utf-8")
    day = D + dt.timedelta(days=2)
    (landing / "payments" / f"{day}" / f"doisoat_{day:%Y%m%d}_MOMO.csv").write_text(
        HEADER + f"\nPOISONPAY1,MOMO,1,POISON-1900,{source['MaTTHC']},2,50000,00,1900-01-01 09:00:00,{day}\n",
        encoding="utf-8")
    return poisons


def test_a_poisoned_date_is_flagged_and_never_stretches_the_calendar(
        dvc_home: Path, small_landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    monkeypatch.setenv("DVC_LANDING_DIR", str(landing))
    poisons = _poison(landing)
    for source in SOURCES:  # as the main job lands them: each snapshot source from the snapshot in force at D
        first = snapshot_start(landing, D, source) if source in SNAPSHOT_SOURCES else D
        tasks.ingest(source, first, D + dt.timedelta(days=DAYS))
    settings = Settings.from_env()
    build(settings, dt.datetime.combine(D + dt.timedelta(days=DAYS), dt.time()))

    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        con.execute(f"attach '{settings.marts_path}' as marts_file (read_only)")
        flags = dict(con.execute(
            "select dossier_id, implausible_date_fields from marts_file.marts.fct_dossiers "
            "where dossier_id like 'POISON-%'").fetchall())
        dates = con.execute("select dossier_id, submitted_at, received_at, due_at from marts_file.marts.fct_dossiers "
                            "where dossier_id like 'POISON-%' order by 1").fetchall()
        payment = con.execute("select paid_at, implausible_date_fields from marts_file.marts.fct_payments "
                              "where transaction_id = 'POISONPAY1'").fetchall()
        calendar = con.execute("select min(calendar_date), max(calendar_date) "
                               "from intermediate.int_calendar_days").fetchone()
        periods = con.execute("select min(period_start), count(*) from intermediate.int_periods "
                              "where period_type = 'day'").fetchone()
        first_real = con.execute("select min(submitted_at)::date from marts_file.marts.fct_dossiers "
                                 "where dossier_id not like 'POISON-%'").fetchone()[0]

    # Kept and flagged, the poisoned field read as absent.
    assert flags == {code: list(fields) for code, fields in poisons.items()}
    by_code = {row[0]: row[1:] for row in dates}
    assert by_code["POISON-YEAR-1"][0] is None and by_code["POISON-1900"][1] is None
    assert by_code["POISON-9999"][2] is None
    assert payment == [(None, ["ThoiGianGiaoDich"])]
    # The calendar spans the data's years and one on each side; the periods start at the first real day.
    assert calendar == (dt.date(D.year - 1, 1, 1), dt.date(D.year + 1, 12, 31))
    assert periods[0] == first_real
    assert periods[1] <= DAYS + 40  # the days from the first submission (a few weeks back at most)
