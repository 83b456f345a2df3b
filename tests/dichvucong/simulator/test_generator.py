"""Properties of the source simulator's output: the v2 layout and format of sources.md, determinism,
calibration, and the dirt it is asked to inject."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dichvucong.simulator import GenerationStats, generate
from dichvucong.simulator.agencies import AGENCY_COLUMNS
from dichvucong.simulator.catalog import CATALOG_COLUMNS
from dichvucong.simulator.generator import MONTHLY_DOSSIERS, expected_dossiers
from tests.conftest import SMALL_END, SMALL_START

ENVELOPE = {"MaDinhDanhDV", "ThoiGianDongBo", "LoaiDongBo", "KetQua", "data"}
DOSSIER_FIELDS = {"MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "KenhThucHien", "LoaiDoiTuong", "ChuHoSo",
                  "SoGiayToChuHoSo", "SoDienThoai", "Email", "Fax", "MaDoiTuong", "DinhDanhCHS", "TrichYeuHoSo",
                  "ThongTinTra", "GhiChu", "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra",
                  "NgayTuChoi", "TrangThaiHoSo", "HinhThuc", "DonViXuLy", "NoiNopHoSo", "HoSoCoThanhPhanSoHoa",
                  "TaiKhoanDuocXacThucVoiVNeID", "DuocThanhToanTrucTuyen", "TaiLieuNop", "DanhSachLePhi",
                  "DanhSachHoSoBoSung", "DanhSachGiayToKetQua", "DSKetNoiCSDL"}
LISTS = {"DinhDanhCHS", "TaiLieuNop", "DanhSachLePhi", "DanhSachHoSoBoSung", "DanhSachGiayToKetQua", "DSKetNoiCSDL"}
STEP_FIELDS = {"MaHoSo", "NguoiXuLy", "ChucDanh", "PhongBanXuLy", "NoiDungXuLy", "TrangThai", "ThoiDiemXuLy",
               "NgayBatDau", "NgayKetThucTheoQuyDinh"}
CLEAN_START, CLEAN_END = dt.date(2024, 3, 4), dt.date(2024, 3, 25)


@dataclass
class CallFile:
    path: Path
    envelope: dict[str, Any]

    @property
    def accepted(self) -> bool:
        return self.envelope["KetQua"]["error_code"] == "0"

    @property
    def records(self) -> list[Any]:
        return self.envelope["data"]


def _read(path: Path) -> dict[str, Any] | None:
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return None


def _calls(landing: Path, source: str) -> list[CallFile]:
    """The readable call files of a source, in the order the calls were made."""
    calls = []
    for path in (landing / source).rglob("*.json"):
        envelope = _read(path)
        if envelope is not None:
            calls.append(CallFile(path, envelope))
    return sorted(calls, key=lambda c: (c.envelope["ThoiGianDongBo"], c.path.parent.name, c.path.name))


def _ts(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y%m%d%H%M%S")


def _digest(folder: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _csv(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationStats]:
    """Three weeks at 5 % of the province's volume, without dirt: every rule of the contract holds."""
    out = tmp_path_factory.mktemp("clean")
    return out, generate(out, CLEAN_START, CLEAN_END, seed=7, scale=0.05, dirt_rate=0)


@pytest.fixture(scope="module")
def clean_calls(clean: tuple[Path, GenerationStats]) -> tuple[list[CallFile], list[CallFile]]:
    return _calls(clean[0], "dossiers"), _calls(clean[0], "processing")


def test_layout_follows_sources_md(small_landing: Path) -> None:
    days = {(SMALL_START + dt.timedelta(days=i)).isoformat() for i in range((SMALL_END - SMALL_START).days)}
    assert {p.name for p in small_landing.iterdir() if not p.name.startswith(".")} == {
        "agencies", "catalog", "dossiers", "processing", "payments", "portal"}
    # One save of the portal's evaluation page for the one month that ends in the range, on its last day.
    assert [str(p.relative_to(small_landing / "portal")) for p in (small_landing / "portal").rglob("*.*")] == [
        "2024-02-29/danhgia_766_202402.har"]
    assert [p.name for p in (small_landing / "agencies").iterdir()] == [f"coquan_{SMALL_START:%Y%m%d}.csv"]
    assert (small_landing / "catalog" / f"services_{SMALL_START:%Y%m%d}.csv").exists()
    assert {p.name for p in (small_landing / "payments").iterdir()} == days
    for source, stem in (("dossiers", "hoso"), ("processing", "tiendo")):
        folders = list((small_landing / source).iterdir())
        assert folders and {p.name for p in folders} <= days
        for folder in folders:
            for path in folder.iterdir():
                match = re.fullmatch(rf"{stem}_(\d{{14}})_(\d{{3}}\.\d{{2}}\.\d{{2}}\.H62)_\d{{3}}\.json", path.name)
                assert match, path.name
                assert match[1][:8] == folder.name.replace("-", "")  # the folder is the call's local day
    for folder in (small_landing / "payments").iterdir():
        for path in folder.iterdir():
            assert path.name.startswith(f"doisoat_{folder.name.replace('-', '')}_") and path.suffix == ".csv"


def test_every_call_is_an_envelope_of_string_valued_records(clean: tuple[Path, GenerationStats],
                                                            clean_calls: tuple[list[CallFile], list[CallFile]]) -> None:
    landing, stats = clean
    dossier_calls, step_calls = clean_calls
    assert len(dossier_calls) == stats.dossier_files == len(list((landing / "dossiers").rglob("*.json")))
    assert len(step_calls) == stats.processing_files == len(list((landing / "processing").rglob("*.json")))
    for call in dossier_calls + step_calls:
        envelope = call.envelope
        assert set(envelope) == ENVELOPE
        assert envelope["LoaiDongBo"] in ("insert", "update")
        assert set(envelope["KetQua"]) == {"error_code", "message"}
        assert isinstance(envelope["KetQua"]["error_code"], str) and isinstance(envelope["KetQua"]["message"], str)
        assert re.fullmatch(r"\d{14}", envelope["ThoiGianDongBo"])
        assert envelope["ThoiGianDongBo"] in call.path.name and envelope["MaDinhDanhDV"] in call.path.name
        assert 1 <= len(call.records) <= 50
        for record in call.records:
            for key, value in record.items():
                if key in LISTS:
                    assert value is None or all(isinstance(v, str) for item in value for v in item.values()), key
                else:
                    assert isinstance(value, str), (key, value)
    records = [r for call in dossier_calls for r in call.records]
    assert sum(len(call.records) for call in dossier_calls) == stats.sync_records
    assert all(DOSSIER_FIELDS - LISTS <= set(r) <= DOSSIER_FIELDS for r in records)
    assert all(set(r) == STEP_FIELDS for call in step_calls for r in call.records)
    # Lists are sometimes null or absent when empty, mostly [].
    empty = Counter("absent" if k not in r else "null" if r[k] is None else "[]" if r[k] == [] else "full"
                    for r in records for k in ("DanhSachHoSoBoSung", "DanhSachGiayToKetQua"))
    assert empty["[]"] > empty["null"] > 0 and empty["absent"] > 0
    # Calls hold a few to a few dozen records.
    sizes = [len(call.records) for call in dossier_calls]
    assert max(sizes) >= 10 and sum(sizes) / len(sizes) >= 1.5


def test_dossier_codes_agencies_and_names_agree(clean: tuple[Path, GenerationStats],
                                                clean_calls: tuple[list[CallFile], list[CallFile]]) -> None:
    landing, _ = clean
    _, rows = _csv(landing / "agencies" / f"coquan_{CLEAN_START:%Y%m%d}.csv")
    names = {row["MaDinhDanh"]: row["TenCoQuan"] for row in rows}
    for call in clean_calls[0]:
        agency = call.envelope["MaDinhDanhDV"]
        assert agency in names
        for record in call.records:
            code, day, number = record["MaHoSo"].rsplit("-", 2)
            assert code == agency and re.fullmatch(r"\d{6}", day) and number.isdigit()
            assert record["DonViXuLy"] == names[agency]
            assert record["NgayNopHoSo"][2:8] == day


def test_a_dossier_is_inserted_then_updated_each_record_its_full_state(
        clean_calls: tuple[list[CallFile], list[CallFile]]) -> None:
    states: dict[str, list[tuple[str, bool, dict[str, Any]]]] = defaultdict(list)
    for call in clean_calls[0]:
        for record in call.records:
            states[record["MaHoSo"]].append((call.envelope["LoaiDongBo"], call.accepted, record))
    assert max(len(s) for s in states.values()) >= 4  # sent again as it changes
    for dossier, sent in states.items():
        first_accepted = next((i for i, (kind, ok, _) in enumerate(sent) if ok), len(sent))
        # Inserted until the portal accepts an insert, updated after.
        assert all(kind == "insert" for kind, _, _ in sent[:first_accepted + 1]), dossier
        assert all(kind == "update" for kind, _, _ in sent[first_accepted + 1:]), dossier
        statuses = [int(r["TrangThaiHoSo"]) for _, ok, r in sent if ok]
        if 10 in statuses:
            assert statuses[-1] == 10
    latest = {d: next(r for _, ok, r in reversed(s) if ok) for d, s in states.items() if any(ok for _, ok, _ in s)}
    assert set(Counter(r["TrangThaiHoSo"] for r in latest.values())) >= {"1", "3", "4", "5", "9", "10"}
    every_status = {r["TrangThaiHoSo"] for s in states.values() for _, _, r in s}
    assert every_status == {str(i) for i in range(1, 11)}
    for record in latest.values():  # the contract's rules hold without dirt
        dates = [record[k] for k in ("NgayNopHoSo", "NgayTiepNhan", "NgayKetThucXuLy", "NgayTra") if record[k]]
        assert dates == sorted(dates)
        status = int(record["TrangThaiHoSo"])
        if status >= 2 and status != 3:
            assert record["NgayTiepNhan"] and record["NgayHenTra"] >= record["NgayTiepNhan"]
        if status in (9, 10):
            assert record["NgayKetThucXuLy"]
        if status in (3, 7, 8):
            assert record["NgayTuChoi"]
        for line in record.get("DanhSachLePhi") or []:
            assert int(line["Gia"]) > 0 and line["LoaiPhiLePhi"] in ("1", "2") and line["HinhThucThu"] in "124"
        for attachment in record.get("TaiLieuNop") or []:
            assert attachment["IsDeleted"] in ("0", "1") and attachment["DuocTaiSuDung"] in ("0", "1", "2")
        assert record["KenhThucHien"] in ("1", "2", "3") and record["LoaiDoiTuong"] in ("1", "2", "3", "4")
        assert record["DuocThanhToanTrucTuyen"] in ("0", "1", "2")
        assert all(x["MaCSDL"] == "CSDLDC" for x in record.get("DSKetNoiCSDL") or [])


def test_supplement_rounds_record_request_answer_and_reset_due_date(
        clean_calls: tuple[list[CallFile], list[CallFile]]) -> None:
    rounds = [(r, x) for call in clean_calls[0] if call.accepted for r in call.records
              for x in r.get("DanhSachHoSoBoSung") or []]
    assert rounds
    answered = 0
    for _, x in rounds:
        assert x["NgayBoSung"] and x["NoiDungBoSung"] and x["NgayHenTraTruoc"]
        if x["TrangThaiBoSung"] == "1":
            answered += 1
            assert x["NgayTiepNhanBoSung"] >= x["NgayBoSung"]  # v2: NgayBoSung is the request
            assert x["NgayHenTraMoi"] > x["NgayTiepNhanBoSung"][:8]  # the deadline restarts from the answer
        else:
            assert x["NgayTiepNhanBoSung"] == x["NgayHenTraMoi"] == ""
    assert answered
    last = [r for r in (r for r, _ in rounds) if r["DanhSachHoSoBoSung"][-1]["TrangThaiBoSung"] == "1"]
    assert all(r["NgayHenTra"] == r["DanhSachHoSoBoSung"][-1]["NgayHenTraMoi"] for r in last)


def test_about_one_percent_of_calls_rejected_and_mostly_resent(
        clean: tuple[Path, GenerationStats], clean_calls: tuple[list[CallFile], list[CallFile]]) -> None:
    _, stats = clean
    calls = clean_calls[0]
    rejected = [c for c in calls if not c.accepted]
    assert len(rejected) == stats.rejected_calls
    assert 0.003 <= len(rejected) / len(calls) <= 0.025
    assert all(c.envelope["KetQua"]["error_code"] != "0" and c.envelope["KetQua"]["message"] for c in rejected)
    accepted = {r["MaHoSo"] for c in calls if c.accepted for r in c.records}
    sent = {r["MaHoSo"] for c in calls for r in c.records}
    in_rejected = {r["MaHoSo"] for c in rejected for r in c.records}
    # Most dossiers of a rejected call are accepted later; a few never are (is_synced false).
    assert len(in_rejected & accepted) >= 0.8 * len(in_rejected)
    assert len(sent - accepted) == stats.unsynced_dossiers <= 0.01 * len(sent)


def test_processing_steps_follow_their_dossiers(clean: tuple[Path, GenerationStats],
                                                clean_calls: tuple[list[CallFile], list[CallFile]]) -> None:
    _, stats = clean
    dossier_calls, step_calls = clean_calls
    dossiers = {r["MaHoSo"] for c in dossier_calls for r in c.records}
    steps = {(r["MaHoSo"], r["ThoiDiemXuLy"], r["TrangThai"], r["PhongBanXuLy"]): r
             for c in step_calls if c.accepted for r in c.records}
    assert len(steps) == stats.processing_steps
    assert {key[0] for key in steps} <= dossiers
    assert all(1 <= int(r["TrangThai"]) <= 10 and r["NgayBatDau"] <= r["ThoiDiemXuLy"] for r in steps.values())
    offices = Counter(r["PhongBanXuLy"] for r in steps.values())
    assert offices["Bộ phận Một cửa"] and offices["Lãnh đạo"] and len(offices) >= 8
    # A dossier finished after its due date has an overrunning step; one finished on time has none.
    latest = {r["MaHoSo"]: r for c in dossier_calls if c.accepted for r in c.records}
    by_dossier: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in steps.values():
        by_dossier[r["MaHoSo"]].append(r)
    late = on_time = 0
    for dossier, record in latest.items():
        if record["TrangThaiHoSo"] not in ("9", "10") or record.get("DanhSachHoSoBoSung"):
            continue
        overran = any(s["ThoiDiemXuLy"] > s["NgayKetThucTheoQuyDinh"] for s in by_dossier[dossier])
        if record["NgayKetThucXuLy"] > record["NgayHenTra"]:
            late += 1
            assert overran, dossier
        else:
            on_time += 1
            assert not overran, dossier
    assert late and on_time > 50 * late


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    start, end = dt.date(2023, 3, 1), dt.date(2023, 3, 4)
    generate(tmp_path / "a", start, end, seed=5, scale=0.02)
    generate(tmp_path / "b", start, end, seed=5, scale=0.02)
    generate(tmp_path / "c", start, end, seed=6, scale=0.02)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")
    # Generating again into the same folder replaces the range rather than appending to it.
    generate(tmp_path / "a", start, end, seed=5, scale=0.02)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_volume_is_calibrated_to_the_province_and_scales(tmp_path: Path) -> None:
    # At scale 1 a month has about 36,700 new dossiers (Vĩnh Phúc), fewer in a month with holidays.
    month = [dt.date(2023, 10, 1) + dt.timedelta(days=i) for i in range(31)]
    assert 0.93 * MONTHLY_DOSSIERS <= sum(expected_dossiers(day, 1.0) for day in month) <= 1.07 * MONTHLY_DOSSIERS
    # A month at 10 % scale: about 3,670.
    stats = generate(tmp_path / "m", dt.date(2023, 10, 1), dt.date(2023, 11, 1), seed=3, scale=0.1, dirt_rate=0)
    assert 3_300 <= stats.dossiers <= 4_100
    assert stats.dirt.total() == 0
    assert stats.sync_records >= 2 * stats.dossiers and stats.processing_steps >= 3 * stats.dossiers


def test_agency_list_is_written_before_the_first_dossier(small_landing: Path) -> None:
    columns, rows = _csv(small_landing / "agencies" / f"coquan_{SMALL_START:%Y%m%d}.csv")
    assert tuple(columns) == AGENCY_COLUMNS
    codes = {r["MaDinhDanh"]: r for r in rows}
    assert len(codes) == len(rows) == 1 + 15 + 9 + 9 + 121
    assert all(re.fullmatch(r"000\.\d{2}\.\d{2}\.H62", code) for code in codes)
    assert all(r["NgayHieuLuc"] <= SMALL_START.isoformat() and not r["NgayHetHieuLuc"] and not r["MaCoQuanKeThua"]
               for r in rows)
    by_level = Counter(r["CapCoQuan"] for r in rows)
    assert by_level == {"TINH": 1 + 15 + 9, "HUYEN": 9, "XA": 121}
    province = codes["000.00.00.H62"]
    assert province["MaDVHC"] == "26" and province["MaCoQuanCha"] == "" and province["CapCoQuan"] == "TINH"
    for row in rows:
        parent = codes.get(row["MaCoQuanCha"])
        if row["CapCoQuan"] == "XA":
            assert parent and parent["CapCoQuan"] == "HUYEN" and re.fullmatch(r"\d{5}", row["MaDVHC"])
        elif row["CapCoQuan"] == "HUYEN":
            assert parent is province and re.fullmatch(r"\d{3}", row["MaDVHC"])
        elif row is not province:
            assert parent and parent["CapCoQuan"] == "TINH"
            assert row["MaDVHC"] == "" if parent is province else re.fullmatch(r"\d{3}", row["MaDVHC"])
    assert codes["000.21.30.H62"]["MaCoQuanCha"] == "000.00.30.H62"  # sources.md's example of a commune
    first_call = min(p.name.split("_")[1] for p in (small_landing / "dossiers").rglob("*.json"))
    assert f"{SMALL_START:%Y%m%d}" <= first_call


def test_catalog_has_the_v2_columns(small_landing: Path) -> None:
    columns, rows = _csv(small_landing / "catalog" / f"services_{SMALL_START:%Y%m%d}.csv")
    assert tuple(columns) == CATALOG_COLUMNS
    _, agencies = _csv(small_landing / "agencies" / f"coquan_{SMALL_START:%Y%m%d}.csv")
    departments = {a["MaDinhDanh"] for a in agencies if a["MaCoQuanCha"] == "000.00.00.H62" and not a["MaDVHC"]}
    levels = Counter(r["CapThucHien"] for r in rows)
    assert all(set(level.split(";")) <= {"TINH", "HUYEN", "XA"} for level in levels)
    assert any(";" in level for level in levels)
    for row in rows:
        assert row["MaCoQuanChuTri"] in departments if "TINH" in row["CapThucHien"] else row["MaCoQuanChuTri"] == ""
        for flag in ("DuDieuKienToanTrinh", "CoPhiLePhi", "CoKetQuaGiay", "DoiTuongCongDan", "KetNoiCSDLDanCu"):
            assert row[flag] in ("0", "1")
        assert row["MucDo"] in "1234" and 0 <= int(row["SoBoPhanCongKhai"]) <= 7 and int(row["ThoiHanGiaiQuyet"]) >= 0
        for date in ("NgayQuyetDinhCongBo", "NgayHieuLucVanBan", "NgayCongKhai"):
            assert row[date] == "" or dt.date.fromisoformat(row[date]) <= dt.date(2025, 1, 1)
        if row["MucDo"] == "4":
            assert row["DuDieuKienToanTrinh"] == "1"
    units = Counter(r["DonViThoiHan"] for r in rows)
    assert units.most_common(1)[0][0] == "NgayLamViec" and {"Ngay", "Gio", "Thang", ""} <= set(units)
    assert sum(r["MucDo"] in ("3", "4") for r in rows) >= 744
    assert any(int(r["SoBoPhanCongKhai"]) < 7 for r in rows)
    late = [r for r in rows if r["NgayCongKhai"] and r["NgayQuyetDinhCongBo"]
            and dt.date.fromisoformat(r["NgayCongKhai"]) - dt.date.fromisoformat(r["NgayQuyetDinhCongBo"])
            > dt.timedelta(days=7)]
    assert 0 < len(late) < 0.3 * len(rows)


@pytest.mark.parametrize("kind", [
    "no_dossier_id", "bad_status", "bad_date", "bad_fee_amount", "record_not_object", "broken_json",  # quarantined
    "empty_optional_flag", "amount_with_decimals", "text_nfd_or_spaces", "code_spaces",  # kept, normalised
    "missing_due", "bad_date_order", "due_before_received",  # kept, flagged
    "repeated_call_file", "utf16_call_file", "step_sent_twice", "duplicate_payment", "orphan_payment",
    "catalog_text", "agency_text"])
def test_dirt_is_injected_when_asked(small_sources: tuple[Path, GenerationStats], kind: str) -> None:
    assert small_sources[1].dirt[kind] > 0


def test_dirt_is_in_the_files_as_counted(small_sources: tuple[Path, GenerationStats]) -> None:
    landing, stats = small_sources
    files = list((landing / "dossiers").rglob("*.json"))
    calls = _calls(landing, "dossiers")
    broken = len(files) - len(calls)
    assert len(files) == stats.dossier_files and broken == stats.dirt["broken_json"] > 0
    assert sum(len(c.records) for c in calls) + broken == stats.sync_records  # a broken file reads as one
    assert sum(not c.accepted for c in calls) <= stats.rejected_calls
    assert sum(p.read_bytes()[:2] == b"\xff\xfe" for p in files) >= 1
    contents = Counter(p.read_bytes() for p in files)
    assert contents.most_common(1)[0][1] == 2  # an identical call file, repeated
    records = [r for c in calls for r in c.records]
    objects = [r for r in records if isinstance(r, dict)]
    assert any(isinstance(r, str) for r in records)
    # What must be quarantined (sources.md §3) ...
    assert any(not r.get("MaHoSo") for r in objects)
    assert any(r["TrangThaiHoSo"] not in {str(i) for i in range(1, 11)} for r in objects)
    assert any(not re.fullmatch(r"\d{14}", r[k]) for r in objects for k in ("NgayNopHoSo", "NgayTiepNhan") if r[k])
    gia = [line["Gia"] for r in objects for line in r.get("DanhSachLePhi") or []]
    assert any(not re.fullmatch(r"-?\d+(\.0)?", g) for g in gia)
    # ... and what must not.
    assert "" in {r["KenhThucHien"] for r in objects} | {r["HoSoCoThanhPhanSoHoa"] for r in objects}
    assert any(re.fullmatch(r"\d+\.0", g) for g in gia)
    assert any(r[k] != unicodedata.normalize("NFC", r[k]).strip() for r in objects for k in ("ChuHoSo", "DonViXuLy"))


def test_generation_stats_count_the_processing_log(small_sources: tuple[Path, GenerationStats]) -> None:
    landing, stats = small_sources
    files = list((landing / "processing").rglob("*.json"))
    calls = _calls(landing, "processing")
    assert len(files) == stats.processing_files
    broken = len(files) - len(calls)
    assert sum(len(c.records) for c in calls) + broken == stats.processing_records > stats.processing_steps
    keys = Counter((r["MaHoSo"], r["ThoiDiemXuLy"], r["TrangThai"], r["PhongBanXuLy"])
                   for c in calls for r in c.records)
    assert max(keys.values()) >= 2  # a step sent twice counts once


def test_personal_data_is_in_the_sources_as_real_exports_have_it(small_landing: Path) -> None:
    records = [r for c in _calls(small_landing, "dossiers") for r in c.records if isinstance(r, dict)]
    ids = [r["SoGiayToChuHoSo"] for r in records]
    assert all(i.isdigit() and len(i) in (9, 10, 12) for i in ids)
    assert all(r["DinhDanhCHS"][0]["SoDinhDanh"] == r["SoGiayToChuHoSo"] for r in records)
    assert {r["DinhDanhCHS"][0]["LoaiDinhDanh"] for r in records} >= {"1", "3"}
    assert any("@" in r["Email"] for r in records) and any(r["SoDienThoai"] for r in records)
    steps = [r for c in _calls(small_landing, "processing") for r in c.records]
    assert all(len(r["NguoiXuLy"].split()) >= 3 for r in steps)
