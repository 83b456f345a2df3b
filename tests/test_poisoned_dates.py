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
from dichvucong.config import Settings
from dichvucong.transform import build
from tests.conftest import SMALL_START

D = SMALL_START
DAYS = 5
HEADER = "MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,ThoiGianGiaoDich,NgayDoiSoat"


def _poison(landing: Path) -> dict[str, dict[str, str]]:
    """Three new dossiers, each a copy of a real one with one poisoned timestamp, and a payment dated 1900."""
    folder = landing / "dossiers" / f"{D + dt.timedelta(days=1)}"
    records = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    source = next(r for r in records if isinstance(r, dict) and r.get("NgayTiepNhan") and r.get("NgayHenTra")
                  and str(r.get("MaHoSo", "")).strip() == r.get("MaHoSo"))
    poisons = {"POISON-YEAR-1": {"NgayNopHoSo": "00010101080000"},
               "POISON-1900": {"NgayTiepNhan": "19000101080000"},
               "POISON-9999": {"NgayHenTra": "99991231170000"}}
    lines = [json.dumps(dict(source, MaHoSo=code, **fields), ensure_ascii=False) for code, fields in poisons.items()]
    (folder / "hoso_poisoned.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
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
    for source in ("catalog", "dossiers", "payments"):
        tasks.ingest(source, D, D + dt.timedelta(days=DAYS))
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
