"""Personal data never leaves landing through the lake (sources.md v2: fields marked ◆ never go past
parsing; the free text, file names and paths are dropped).

Sync calls (dossiers and processing log), payment rows, agency lists and catalogs, each record with
its own planted names, ID numbers, phones and e-mails, go through the real parsers and through `land`
into a temporary lake: good records, a wrong value of every kind in every typed field, odd shapes,
files quarantined whole and UTF-16 files. No planted value may show in a quarantine reason, in a
quarantined raw text, or anywhere in any file of the lake; and every record read is loaded or
quarantined.

test_personal_data_v2.py checks, parser by parser, a handful of broken records and files; this file
adds the matrix of wrong values in every field, the reasons, the masks, the pathological inputs and
the whole landing of the five sources. Its builders (`dossier`, `step`, `envelope`, `plant`) are
reused here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from dichvucong.config import Settings
from dichvucong.landing import lake
from dichvucong.landing.extract import land
from dichvucong.landing.parsers import (
    FIELD_RULES,
    LINE_RULES,
    MAX_RECORD_CHARS,
    REASON_FIELDS,
    ParsedFile,
    is_file_rule,
    parse_agency_file,
    parse_catalog_file,
    parse_payment_file,
    parse_sync_call_file,
)
from tests.dichvucong.landing.test_personal_data_v2 import (
    KEY,
    Plant,
    assert_clean,
    broken_dossiers,
    dossier,
    envelope,
    plant,
    serialised,
    step,
)

DAY = dt.date(2025, 7, 2)

# A wrong value built from a record's plant: each kind of personal value as text, as a JSON number, in
# an object and in a list.
VALUES: dict[str, Callable[[Plant], Any]] = {
    "ID number": lambda p: p.id,
    "ID number as a JSON number": lambda p: int(p.id),
    "phone": lambda p: p.phone,
    "phone as a JSON number": lambda p: int(p.phone),
    "tax code": lambda p: p.tax_code,
    "e-mail": lambda p: p.email,
    "name and ID number": lambda p: f"{p.name} {p.id}",
    "name": lambda p: p.name,
    "phone with a unit": lambda p: f"{p.phone} đồng",
    "phone in international form": lambda p: "+84" + p.phone[1:],
    "object": lambda p: {"ChuHoSo": p.name, "SoDienThoai": p.phone, "Email": p.email},
    "list": lambda p: [p.name, p.id, p.phone, p.email],
}
ANY = ("ID number", "ID number as a JSON number", "phone", "phone as a JSON number", "tax code", "e-mail",
       "name and ID number", "name", "object", "list")
# A code outside its set is kept for staging to flag (sources.md v2 §3), so no value that could be a code
# is planted there bare: a name cannot be told from a code. An ID number, phone or e-mail is masked.
NOT_A_NAME = tuple(v for v in ANY if v != "name")
CONTAINERS = ("object", "list")
# An amount of digits is an amount: only what is not one.
NOT_AN_AMOUNT = ("phone with a unit", "phone in international form", "name", "e-mail", "object", "list")

# What becomes of a record with a wrong value in a field: REFUSED, quarantined; MASKED, a text or number is
# loaded masked (a code: `***`; an ID number: its keyed hash), an object or list is quarantined; DROPPED,
# loaded without the value (a personal or free-text field is never read).
REFUSED, MASKED, DROPPED = "refused", "masked", "dropped"
CODES = ("KenhThucHien", "LoaiDoiTuong", "HinhThuc", "NoiNopHoSo", "HoSoCoThanhPhanSoHoa",
         "TaiKhoanDuocXacThucVoiVNeID", "DuocThanhToanTrucTuyen", "DanhSachLePhi.LoaiPhiLePhi",
         "DanhSachLePhi.HinhThucThu", "TaiLieuNop.DuocSoHoa", "TaiLieuNop.IsDeleted",
         "DanhSachHoSoBoSung.TrangThaiBoSung")
TIMES = ("TrangThaiHoSo", "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi",
         "DanhSachHoSoBoSung.NgayBoSung", "DanhSachHoSoBoSung.NgayTiepNhanBoSung",
         "DanhSachHoSoBoSung.NgayHenTraMoi")
LISTS = ("TaiLieuNop", "DanhSachLePhi", "DanhSachHoSoBoSung", "DanhSachGiayToKetQua", "DSKetNoiCSDL", "DinhDanhCHS")
IDENTIFIERS = ("MaHoSo", "MaTTHC", "MaLinhVuc", "DonViXuLy", "TaiLieuNop.TepDinhKemId",
               "DanhSachGiayToKetQua.GiayToId", "DanhSachGiayToKetQua.DuongDanTepTinKetQua", "DSKetNoiCSDL.MaCSDL",
               "DanhSachLePhi.TenPhiLePhi")  # any text is a code or a name: only objects and lists are wrong
PERSONAL = ("ChuHoSo", "SoDienThoai", "Email", "Fax", "MaDoiTuong", "TrichYeuHoSo", "ThongTinTra", "GhiChu",
            "TenTTHC", "DanhSachHoSoBoSung.NguoiYeuCauBoSung", "DanhSachHoSoBoSung.NguoiTiepNhanBoSung",
            "DanhSachHoSoBoSung.NoiDungBoSung", "TaiLieuNop.TenTepDinhKem", "TaiLieuNop.DuongDanTaiTepTin",
            "DanhSachGiayToKetQua.TenGiayTo")  # their texts are planted by `dossier` already
DOSSIER_FIELDS: list[tuple[str, tuple[str, ...], str]] = [
    *((name, NOT_A_NAME, MASKED) for name in CODES),
    *((name, ANY, REFUSED) for name in (*TIMES, *LISTS)),
    ("DanhSachLePhi.Gia", NOT_AN_AMOUNT, REFUSED),
    *((name, CONTAINERS, REFUSED) for name in IDENTIFIERS),
    *((name, CONTAINERS, DROPPED) for name in PERSONAL),
    ("SoGiayToChuHoSo", ANY, MASKED),  # hashed into MaNguoiNop
    ("DinhDanhCHS.SoDinhDanh", ANY, MASKED),  # hashed where SoGiayToChuHoSo is blank
]
STEP_FIELDS: list[tuple[str, tuple[str, ...], str]] = [
    *((name, ANY, REFUSED) for name in ("TrangThai", "ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh")),
    *((name, CONTAINERS, REFUSED) for name in ("MaHoSo", "ChucDanh", "PhongBanXuLy")),
    *((name, CONTAINERS, DROPPED) for name in ("NguoiXuLy", "NoiDungXuLy")),
]


@dataclass(frozen=True)
class Case:
    """One record planted with `plant`'s values, and whether it loads (else it is quarantined)."""

    kind: str
    plant: Plant
    record: Any
    loads: bool


def _loads(outcome: str, value: Any) -> bool:
    return outcome == DROPPED or (outcome == MASKED and not isinstance(value, (dict, list)))


def _with(record: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    """`record` with `field` (`<list>.<key>`: in the list's one entry) set to `value`."""
    name, _, key = field.partition(".")
    if not key:
        return record | {name: value}
    blank_id = {"SoGiayToChuHoSo": ""} if name == "DinhDanhCHS" else {}  # so that the identity is read
    return record | blank_id | {name: [record[name][0] | {key: value}]}


def _matrix(fields: list[tuple[str, tuple[str, ...], str]], build: Callable[..., dict[str, Any]]) -> Iterator[Case]:
    for field, names, outcome in fields:
        for name in names:
            p = plant()
            value = VALUES[name](p)
            yield Case(f"{field} wrong", p, _with(build(p), field, value), _loads(outcome, value))


def broken_dossier_records() -> list[Case]:
    """A wrong value of every kind in every field of a dossier record, then the odd shapes a source sends."""
    cases = list(_matrix(DOSSIER_FIELDS, dossier))
    odd: list[tuple[str, Callable[[Plant], Any], bool]] = [
        ("array instead of object", lambda p: [dossier(p)], False),
        ("bare string", lambda p: f"{p.name} {p.id} {p.phone} {p.email}", False),
        ("missing MaHoSo", lambda p: {k: v for k, v in dossier(p).items() if k != "MaHoSo"}, False),
        ("extra nesting", lambda p: {"HoSo": {"HoSo": {"HoSo": dossier(p)}}}, False),
        ("nested object with the name inside", lambda p: dossier(
            p, TrangThaiHoSo="x", NguoiNop={"HoTen": p.name, "LienHe": {"DienThoai": p.phone, "Email": p.email}}),
         False),
        ("personal fields holding objects", lambda p: dossier(
            p, ChuHoSo={"Ho": p.name, "SoGiayTo": p.id}, SoDienThoai=[p.phone], Email={"e": p.email}), True),
        ("personal fields holding objects, refused", lambda p: dossier(
            p, TrangThaiHoSo="11", ChuHoSo={"Ho": p.name, "SoGiayTo": p.id}, SoDienThoai=[p.phone]), False),
        ("escaped control characters", lambda p: dossier(
            p, ChuHoSo=f"{p.name}\x00\x07", TrichYeuHoSo=f"{p.phone}\x1f"), True),
        ("escaped control characters, refused", lambda p: dossier(p, ChuHoSo=f"{p.name}\x00\x07", TrangThaiHoSo="0"),
         False),
        ("ID number and e-mail as keys", lambda p: dossier(p) | {p.id: p.name, p.email: p.phone}, True),
        ("personal values under unknown keys of an entry", lambda p: dossier(
            p, TaiLieuNop=[{"TepDinhKemId": "F1", "ChuSoHuu": p.name, "SDT": p.phone}]), True),
        ("ID number, phone and e-mail in every code", lambda p: dossier(
            p, KenhThucHien=p.id, LoaiDoiTuong=p.phone, HinhThuc=p.email, NoiNopHoSo=int(p.tax_code),
            DuocThanhToanTrucTuyen=f"{p.name} {p.phone}"), True),
    ]
    for kind, build, loads in odd:
        p = plant()
        cases.append(Case(kind, p, build(p), loads))
    return cases


def broken_steps() -> list[Case]:
    return list(_matrix(STEP_FIELDS, step))


def _call(records: list[Any], p: Plant, **changes: Any) -> bytes:
    return json.dumps(envelope(records, p, **changes), ensure_ascii=False).encode()


@dataclass(frozen=True)
class CallFile:
    """A sync call file of an odd kind: its plants, bytes, records read and loaded."""

    kind: str
    plants: list[Plant]
    data: bytes
    read: int
    loaded: int


def odd_call_files() -> list[CallFile]:
    """Dossier call files quarantined whole (a reason for the file; for an envelope without agency or
    time, for each of its records), and envelopes with personal values in their codes, which load."""
    files = []

    def add(kind: str, make: Callable[[list[Plant], Plant, str], bytes], read: int = 1, loaded: int = 0) -> None:
        plants = [plant(), plant()]
        call_plant = plant()
        text = _call([dossier(p) for p in plants], call_plant).decode()
        files.append(CallFile(kind, [*plants, call_plant], make(plants, call_plant, text), read, loaded))

    def cut_after_email(plants: list[Plant], _: Plant, text: str) -> bytes:
        return text[:text.index(plants[-1].email) + len(plants[-1].email) + 2].encode()

    add("cut", lambda ps, cp, text: text[:-50].encode())
    add("cut after an e-mail", cut_after_email)
    add("UTF-16, cut", lambda ps, cp, text: text[:-50].encode("utf-16"))
    add("raw control characters", lambda ps, cp, text: text.replace(ps[0].name, f"{ps[0].name}\x01\x1f").encode())
    add("trailing comma", lambda ps, cp, text: text[:-1].encode() + b", }")
    add("invalid UTF-8", lambda ps, cp, text: text.encode().replace(ps[0].name.encode(),
                                                                     ps[0].name.encode() + b"\xff\xfe"))
    add("a Latin-1 name", lambda ps, cp, text: text.encode().replace(
        ps[0].name.encode(), f"Planted{ps[0].n:04d} Tr\xe2m".encode("latin-1")))
    add("UTF-16 without its byte-order mark", lambda ps, cp, text: text.encode("utf-16-le"))
    add("not an object", lambda ps, cp, text: json.dumps([dossier(p) for p in ps], ensure_ascii=False).encode())
    add("data not an array", lambda ps, cp, text: _call([], cp, data={"0": dossier(ps[0])}))
    add("agency an object", lambda ps, cp, text: _call([dossier(p) for p in ps], cp, MaDinhDanhDV={"ma": cp.id}),
        read=2)
    add("sync time a phone", lambda ps, cp, text: _call([dossier(p) for p in ps], cp, ThoiGianDongBo=cp.phone),
        read=2)
    add("sync time an ID number", lambda ps, cp, text: _call([dossier(p) for p in ps], cp, ThoiGianDongBo=cp.id)
        .decode().encode("utf-16"), read=2)
    add("personal values in the envelope's codes", lambda ps, cp, text: _call(
        [dossier(p) for p in ps], cp, LoaiDongBo=cp.email, KetQua={"error_code": cp.id, "message": cp.name}),
        read=2, loaded=2)
    add("objects in the envelope's codes", lambda ps, cp, text: _call(
        [dossier(p) for p in ps], cp, LoaiDongBo={"x": cp.name}, KetQua={"error_code": [cp.phone]}),
        read=2, loaded=2)
    return files


# --- CSV sources ----------------------------------------------------------------------------------

PAYMENT_HEADER = ("MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,"
                  "ThoiGianGiaoDich,NgayDoiSoat")
AGENCY_HEADER = "MaDinhDanh,TenCoQuan,CapCoQuan,MaCoQuanCha,MaDVHC,NgayHieuLuc,NgayHetHieuLuc,MaCoQuanKeThua"
CATALOG_HEADER = ("MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,CapThucHien,MaCoQuanChuTri,MucDo,DuDieuKienToanTrinh,"
                  "ThoiHanGiaiQuyet,DonViThoiHan,PhiLePhi,CoPhiLePhi,CoKetQuaGiay,DoiTuongCongDan,KetNoiCSDLDanCu,"
                  "NgayQuyetDinhCongBo,NgayHieuLucVanBan,NgayCongKhai,SoBoPhanCongKhai")
PERSONAL_COLUMNS = ",NguoiLienHe,DienThoai,Email"  # columns outside the contract, holding personal data
CsvRow = tuple[str, Plant, bytes]


def _cells(cells: dict[str, str]) -> str:
    return ",".join(f'"{v}"' if "," in v else v for v in cells.values())


def _payment(p: Plant, **changes: str) -> str:
    return _cells({"MaGiaoDich": f"T{p.n}", "MaTrungGian": "VCB", "KenhThanhToan": "1", "MaHoSo": "HS1",
                   "MaTTHC": "1.004227", "LoaiPhiLePhi": "2", "SoTien": "50000", "TrangThai": "00",
                   "ThoiGianGiaoDich": "2025-07-02 09:10:00", "NgayDoiSoat": "2025-07-02"} | changes)


def broken_payment_rows() -> Iterator[CsvRow]:
    """Payment rows each quarantined on its own (none holds bytes that are not UTF-8)."""
    for name in ("KenhThanhToan", "LoaiPhiLePhi", "SoTien", "TrangThai", "ThoiGianGiaoDich", "NgayDoiSoat"):
        for bad in (lambda p: p.id + "x", lambda p: p.phone + "đ", lambda p: p.name, lambda p: p.email):
            p = plant()
            yield f"{name} wrong", p, _payment(p, **{name: bad(p)}).encode()
    p = plant()
    yield "ID number in the status", p, _payment(p, TrangThai=p.id).encode()
    p = plant()
    yield "phone in the channel", p, _payment(p, KenhThanhToan=p.phone).encode()
    p = plant()
    yield "phone in the amount", p, _payment(p, SoTien="+84" + p.phone[1:]).encode()
    p = plant()
    yield "an extra column with the payer", p, (_payment(p) + f",{p.name},{p.phone},{p.email}").encode()
    p = plant()
    yield "too few columns", p, f"T{p.n},VCB,{p.name},{p.id},{p.email}".encode()
    p = plant()  # last: its quote runs to the end of the file
    yield "unbalanced quote", p, f'T{p.n},VCB,1,HS1,1.004227,2,"{p.name},00,{p.email},2025-07-02'.encode()


def _agency(p: Plant, **changes: str) -> str:
    return _cells({"MaDinhDanh": f"000.{p.n % 100:02d}.01.H62", "TenCoQuan": "Sở Tư pháp", "CapCoQuan": "TINH",
                   "MaCoQuanCha": "", "MaDVHC": "25", "NgayHieuLuc": "2025-07-01", "NgayHetHieuLuc": "",
                   "MaCoQuanKeThua": ""} | changes) + f",{p.name},{p.phone},{p.email}"


def broken_agency_rows() -> Iterator[CsvRow]:
    """Agency rows with personal columns, each quarantined on its own."""
    for name in ("NgayHieuLuc", "NgayHetHieuLuc"):
        for bad in (lambda p: p.id + "x", lambda p: p.phone, lambda p: p.name, lambda p: p.email):
            p = plant()
            yield f"{name} wrong", p, _agency(p, **{name: bad(p)}).encode()
    p = plant()
    yield "no MaDinhDanh", p, _agency(p, MaDinhDanh="").encode()
    p = plant()
    yield "too few columns", p, f"000.00.01.H62,{p.name},{p.id},{p.email}".encode()


def _service(p: Plant, **changes: str) -> str:
    return _cells({"MaTTHC": f"1.{p.n:06d}", "TenTTHC": "Đăng ký khai sinh", "MaLinhVuc": "HT",
                   "TenLinhVuc": "Hộ tịch", "CapThucHien": "XA", "MaCoQuanChuTri": "", "MucDo": "4",
                   "DuDieuKienToanTrinh": "1", "ThoiHanGiaiQuyet": "0", "DonViThoiHan": "", "PhiLePhi": "0",
                   "CoPhiLePhi": "0", "CoKetQuaGiay": "1", "DoiTuongCongDan": "1", "KetNoiCSDLDanCu": "1",
                   "NgayQuyetDinhCongBo": "", "NgayHieuLucVanBan": "", "NgayCongKhai": "", "SoBoPhanCongKhai": "7"}
                  | changes) + f",{p.name},{p.phone},{p.email}"


def broken_catalog_rows() -> Iterator[CsvRow]:
    """Catalog rows with personal columns, each quarantined on its own."""
    for name in ("MucDo", "DuDieuKienToanTrinh", "ThoiHanGiaiQuyet", "PhiLePhi", "CoPhiLePhi", "SoBoPhanCongKhai",
                 "NgayQuyetDinhCongBo", "NgayCongKhai"):
        for bad in (lambda p: p.id + "x", lambda p: p.phone + "đ", lambda p: p.name, lambda p: p.email):
            p = plant()
            yield f"{name} wrong", p, _service(p, **{name: bad(p)}).encode()
    p = plant()
    yield "MucDo an ID number", p, _service(p, MucDo=p.id).encode()  # out of its 8-bit column
    p = plant()
    yield "no MaTTHC", p, _service(p, MaTTHC="").encode()
    p = plant()
    yield "an extra column", p, (_service(p) + f",{p.id}").encode()


def _csv(header: str, rows: list[bytes]) -> bytes:
    return b"\r\n".join([header.encode(), *rows]) + b"\r\n"


def _not_utf8(p: Plant) -> bytes:
    """A CSV line with bytes that are not UTF-8 after planted values: its file is quarantined whole."""
    return f"{p.name},{p.id},{p.phone},{p.email}".encode() + b"\xff\xfe"


# --- checks ---------------------------------------------------------------------------------------


def _needles(plants: list[Plant]) -> list[str]:
    return [n for p in plants for n in p.needles()]


def _found(needles: list[str], text: str) -> list[str]:
    return [n for n in needles if n in text]


def _dossier_call(cases: list[Case]) -> tuple[ParsedFile, Plant]:
    call_plant = plant()
    return parse_sync_call_file(_call([c.record for c in cases], call_plant), KEY, "dossiers"), call_plant


def _assert_outcomes(parsed: ParsedFile, cases: list[Case]) -> None:
    """Each case loaded or quarantined as expected, at its position."""
    assert parsed.file_error is None
    assert parsed.rows_read == len(cases) == len(parsed.rows) + len(parsed.quarantined)
    assert [r["_line_number"] for r in parsed.rows] == [i for i, c in enumerate(cases, 1) if c.loads]
    assert [q["line_number"] for q in parsed.quarantined] == [i for i, c in enumerate(cases, 1) if not c.loads]


def _assert_csv_clean(parsed: ParsedFile, rows: list[CsvRow], loaded: int = 0) -> None:
    """Each broken row quarantined once, no planted value anywhere in what the parser returned."""
    assert parsed.rows_read == len(rows) + loaded and len(parsed.rows) == loaded
    assert len(parsed.quarantined) == len(rows)
    assert_clean(parsed, [p for _, p, _ in rows])


DOSSIER_KINDS = sorted({c.kind for c in broken_dossier_records()})
STEP_KINDS = sorted({c.kind for c in broken_steps()})


def test_reasons_carry_no_value_from_the_record() -> None:
    cases = broken_dossier_records()
    assert len(DOSSIER_KINDS) >= 60 and len(cases) > 300 and sum(c.loads for c in cases) > 50
    parsed, call_plant = _dossier_call(cases)
    needles = _needles([c.plant for c in cases] + [call_plant])
    assert not [(q["line_number"], q["reason"]) for q in parsed.quarantined if _found(needles, q["reason"])]
    _assert_outcomes(parsed, cases)
    steps = broken_steps()
    parsed = parse_sync_call_file(_call([c.record for c in steps], call_plant), KEY, "processing")
    needles = _needles([c.plant for c in steps] + [call_plant])
    assert not [(q["line_number"], q["reason"]) for q in parsed.quarantined if _found(needles, q["reason"])]
    _assert_outcomes(parsed, steps)


@pytest.mark.parametrize("kind", DOSSIER_KINDS)
def test_each_broken_dossier_record_is_quarantined_or_masked_without_personal_data(kind: str) -> None:
    cases = [c for c in broken_dossier_records() if c.kind == kind]
    parsed, call_plant = _dossier_call(cases)
    _assert_outcomes(parsed, cases)
    assert_clean(parsed, [c.plant for c in cases] + [call_plant])


@pytest.mark.parametrize("kind", STEP_KINDS)
def test_each_broken_step_is_quarantined_or_dropped_without_personal_data(kind: str) -> None:
    cases = [c for c in broken_steps() if c.kind == kind]
    call_plant = plant()
    parsed = parse_sync_call_file(_call([c.record for c in cases], call_plant), KEY, "processing")
    _assert_outcomes(parsed, cases)
    assert_clean(parsed, [c.plant for c in cases] + [call_plant])


@pytest.mark.parametrize("kind", [f.kind for f in odd_call_files()])
def test_each_odd_call_file_keeps_no_personal_data(kind: str) -> None:
    [file] = [f for f in odd_call_files() if f.kind == kind]
    parsed = parse_sync_call_file(file.data, KEY, "dossiers")
    assert (parsed.rows_read, len(parsed.rows)) == (file.read, file.loaded)
    assert (parsed.file_error is None) == (file.loaded > 0)
    assert_clean(parsed, file.plants)


def test_a_name_sent_as_a_key_stays_out_of_the_audit() -> None:
    """v1 read no key outside the contract; v2 reports them (sources.md v2: never silently dropped).
    A name used as a key (a sender's bug) must not get into the lake through that report."""
    p = plant()
    parsed = parse_sync_call_file(_call([dossier(p) | {p.name: p.id}], p), KEY, "dossiers")
    assert len(parsed.rows) == 1
    assert not _found(p.needles(), serialised(parsed)), parsed.unknown_columns
    assert parsed.unknown_columns == ["***"]  # still reported, as a key outside the contract


def test_payment_catalog_and_agency_rows_keep_no_personal_data() -> None:
    payments = list(broken_payment_rows())
    _assert_csv_clean(parse_payment_file(_csv(PAYMENT_HEADER, [row for _, _, row in payments])), payments)
    catalog = list(broken_catalog_rows())
    parsed = parse_catalog_file(_csv(CATALOG_HEADER + PERSONAL_COLUMNS, [row for _, _, row in catalog]))
    _assert_csv_clean(parsed, catalog)
    assert parsed.unknown_columns == ["NguoiLienHe", "DienThoai", "Email"]
    agencies = list(broken_agency_rows())
    parsed = parse_agency_file(_csv(AGENCY_HEADER + PERSONAL_COLUMNS, [row for _, _, row in agencies]))
    _assert_csv_clean(parsed, agencies)
    # A header with personal columns the contract does not have: a good row loads without them, a broken
    # one is masked.
    good, bad = plant(), plant()
    rows = [f"{_payment(good)},{good.name},{good.phone},{good.email}".encode(),
            f"{_payment(bad, SoTien='x')},{bad.name},{bad.phone},{bad.email}".encode()]
    parsed = parse_payment_file(_csv(PAYMENT_HEADER + ",ChuHoSo,SoDienThoai,Email", rows))
    _assert_csv_clean(parsed, [("personal columns", bad, rows[1])], loaded=1)
    assert_clean(parsed, [good])
    # A file with bytes that are not UTF-8 is quarantined whole: each line a length and a hash.
    for parse, header in ((parse_payment_file, PAYMENT_HEADER), (parse_catalog_file, CATALOG_HEADER),
                          (parse_agency_file, AGENCY_HEADER)):
        plants = [plant(), plant()]
        parsed = parse(_csv(header, [_not_utf8(p) for p in plants]))
        assert parsed.file_error is not None and parsed.file_error.startswith("not UTF-8 (")
        _assert_csv_clean(parsed, [("not UTF-8", p, b"") for p in plants])


def test_an_unparsed_file_or_record_keeps_only_its_length_and_a_hash() -> None:
    p = plant()
    text = _call([dossier(p)], p)
    for data, size in ((text[:300], 300), (text[:299] + b"\xff", 300), (text[:300].decode("utf-8", "ignore")
                                                                         .encode("utf-16"), None)):
        [entry] = parse_sync_call_file(data, KEY, "dossiers").quarantined
        size = size or len(data) - 2  # without the byte-order mark
        assert re.fullmatch(rf"<unparsed: {size} bytes, hmac-sha256 [0-9a-f]{{16}}>", entry["raw_text"]), entry
        [other] = parse_sync_call_file(data, b"another key", "dossiers").quarantined
        assert other["raw_text"] != entry["raw_text"]  # keyed: a short file cannot be guessed from its hash
    big = parse_sync_call_file(_call([dossier(p, GhiChu=f"{p.name} " + "x" * MAX_RECORD_CHARS)], p), KEY,
                               "dossiers")
    assert re.fullmatch(r"<unparsed: \d{7,} bytes, hmac-sha256 [0-9a-f]{16}>", big.quarantined[0]["raw_text"])
    line = _not_utf8(p)
    [entry] = parse_payment_file(_csv(PAYMENT_HEADER, [line]), KEY).quarantined
    assert re.fullmatch(rf"<unparsed: {len(line)} bytes, hmac-sha256 [0-9a-f]{{16}}>", entry["raw_text"])


def test_a_parsed_record_keeps_its_shape_and_codes_with_personal_fields_masked() -> None:
    p = plant()
    parsed = parse_sync_call_file(_call([dossier(p, TrangThaiHoSo="11", NguoiNop={"ChuHoSo": p.name})], p), KEY,
                                  "dossiers")
    [entry] = parsed.quarantined
    assert entry["reason"] == "TrangThaiHoSo: not in the contract's code set"
    masked = json.loads(entry["raw_text"])
    assert (masked["TrangThaiHoSo"], masked["MaTTHC"], masked["NgayNopHoSo"]) == ("11", "1.004227", "20250702083000")
    assert masked["DanhSachLePhi"][0]["Gia"] == "50000" and masked["TaiLieuNop"][0]["TepDinhKemId"] == "F1"
    for name in ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "Fax", "MaDoiTuong", "DinhDanhCHS",
                 "TrichYeuHoSo", "ThongTinTra", "GhiChu"):
        assert masked[name] == "***", name
    rounds = masked["DanhSachHoSoBoSung"][0]
    assert rounds["NguoiYeuCauBoSung"] == rounds["NguoiTiepNhanBoSung"] == "***"
    assert rounds["NgayBoSung"] == "20250703090000"
    assert masked[next(k for k in masked if k.startswith("<other field"))] == "***"  # NguoiNop, a key outside
    assert_clean(parsed, [p])
    steps = parse_sync_call_file(_call([step(p, TrangThai="99")], p), KEY, "processing")
    masked = json.loads(steps.quarantined[0]["raw_text"])
    assert masked["NguoiXuLy"] == masked["NoiDungXuLy"] == "***"
    assert (masked["TrangThai"], masked["PhongBanXuLy"]) == ("99", "Bộ phận một cửa")


def test_reasons_are_a_field_and_a_rule_of_the_vocabulary() -> None:
    call_plant = plant()
    parsed = [parse_sync_call_file(_call([c.record for c in broken_dossier_records()], call_plant), KEY, "dossiers"),
              parse_sync_call_file(_call([c.record for c in broken_steps()], call_plant), KEY, "processing"),
              *(parse_sync_call_file(f.data, KEY, "dossiers") for f in odd_call_files()),
              parse_payment_file(_csv(PAYMENT_HEADER, [r for _, _, r in broken_payment_rows()])),
              parse_catalog_file(_csv(CATALOG_HEADER + PERSONAL_COLUMNS, [r for _, _, r in broken_catalog_rows()])),
              parse_agency_file(_csv(AGENCY_HEADER + PERSONAL_COLUMNS, [r for _, _, r in broken_agency_rows()]))]
    reasons = {q["reason"] for file in parsed for q in file.quarantined}
    assert len(reasons) > 30
    for reason in reasons:
        field, _, rule = reason.partition(": ")
        assert reason in LINE_RULES or is_file_rule(reason) or (field in REASON_FIELDS and rule in FIELD_RULES), reason


def test_pathological_inputs_are_quarantined_and_counted() -> None:
    """Inputs that made a parser raise (and a whole landing stop) are quarantined like any other."""
    p = plant()
    for data in (b"[" * 100_000, b'{"a":' * 5000, b'{"data": [' + b'{"a":' * 5000):
        parsed = parse_sync_call_file(data, KEY, "dossiers")
        assert (parsed.rows_read, len(parsed.quarantined), parsed.rows) == (1, 1, []), parsed.file_error
    deep = json.loads('{"a":' * 500 + "1" + "}" * 500)
    records = [dossier(p, KenhThucHien="@7"), dossier(p, DanhSachLePhi=[{"Gia": "@9"}]),
               dossier(p, DanhSachLePhi=[{"Gia": 2**63}]), dossier(p, TrangThaiHoSo="@e"),
               dossier(p, NgayNopHoSo="@e"), dossier(p, GhiChu=deep),
               dossier(p, GhiChu="x" * MAX_RECORD_CHARS), dossier(p, DonViXuLy="x" * 200_000)]
    data = _call(records, p).replace(b'"@7"', b"7" * 5000).replace(b'"@9"', b"9" * 5000).replace(b'"@e"', b"1e999")
    parsed = parse_sync_call_file(data, KEY, "dossiers")
    assert parsed.rows_read == len(parsed.quarantined) == len(records) and not parsed.rows
    assert [q["reason"] for q in parsed.quarantined] == [
        "KenhThucHien: over the size limit", "DanhSachLePhi.Gia: out of range", "DanhSachLePhi.Gia: out of range",
        "TrangThaiHoSo: out of range", "NgayNopHoSo: not a timestamp yyyyMMddHHmmss", "record nested too deep",
        "record over the size limit", "DonViXuLy: over the size limit"]
    steps = _call([step(p, TrangThai="@9"), step(p, ThoiDiemXuLy="@e")], p).replace(b'"@9"', b"9" * 5000)
    parsed = parse_sync_call_file(steps.replace(b'"@e"', b"-1e999"), KEY, "processing")
    assert parsed.rows_read == len(parsed.quarantined) == 2
    payments = [_payment(p, SoTien="9" * 5000), _payment(p, SoTien=str(2**63)), _payment(p, MaHoSo="x" * 200_000)]
    parsed = parse_payment_file("\n".join([PAYMENT_HEADER, *payments]).encode())
    assert parsed.rows_read == len(parsed.quarantined) == len(payments)
    catalog = [_service(p, ThoiHanGiaiQuyet="2147483648"), _service(p, PhiLePhi=str(2**63)),
               _service(p, MucDo="9" * 5000), _service(p, TenTTHC="x" * 5000)]
    parsed = parse_catalog_file("\n".join([CATALOG_HEADER + PERSONAL_COLUMNS, *catalog]).encode())
    assert parsed.rows_read == len(parsed.quarantined) == len(catalog)
    agencies = [_agency(p, NgayHieuLuc="9" * 5000), _agency(p, TenCoQuan="x" * 5000),
                _agency(p, MaDinhDanh="x" * 200_000)]
    parsed = parse_agency_file("\n".join([AGENCY_HEADER + PERSONAL_COLUMNS, *agencies]).encode())
    assert parsed.rows_read == len(parsed.quarantined) == len(agencies)


# --- the whole landing ----------------------------------------------------------------------------


@dataclass
class _Reader:
    """An in-memory source: the files of each (source, batch day)."""

    files: dict[tuple[str, dt.date], list[tuple[str, bytes]]]

    def files_for(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes]]:
        yield from self.files.get((source, day), [])


def _lake_text(lake_dir: Path) -> tuple[str, bytes]:
    """Every value of every Parquet file under the lake as text, and every byte of every file."""
    texts, raw = [], []
    for path in sorted(lake_dir.rglob("*")):
        if path.is_file():
            raw.append(path.read_bytes())
            if path.suffix == ".parquet":
                texts.append(repr(pq.read_table(path).to_pylist()))
    return "\n".join(texts), b"\n".join(raw)


def test_landing_writes_no_planted_value_anywhere_in_the_lake(dvc_home: Path) -> None:
    settings = Settings.from_env()
    next_day = DAY + dt.timedelta(days=1)
    plants: list[Plant] = []
    expected: dict[str, tuple[int, int]] = {}  # source: (records read, loaded)

    # Dossiers: one call of good and broken records, a UTF-16 call, and the odd call files.
    good = [plant() for _ in range(5)]
    broken = broken_dossier_records()
    main_plant, u16_good, u16_plant = plant(), plant(), plant()
    records = [dossier(good[0]), dossier(good[1]), *(c.record for c in broken), *(dossier(p) for p in good[2:])]
    u16_broken = broken_dossiers()[:6]  # each quarantined (test_personal_data_v2: a UTF-16 call)
    utf16 = json.dumps(envelope([dossier(u16_good), *(r for _, r in u16_broken)], u16_plant), ensure_ascii=False)
    odd = odd_call_files()
    dossier_files = [("hoso_20250702083015_000.00.01.H62_1.json", _call(records, main_plant)),
                     ("hoso_20250702083015_000.00.01.H62_2.json", utf16.encode("utf-16")),
                     *((f"hoso_20250702090000_000.00.01.H62_{i}.json", f.data) for i, f in enumerate(odd, 3))]
    plants += [*good, *(c.plant for c in broken), main_plant, u16_good, u16_plant, *(p for p, _ in u16_broken),
               *(p for f in odd for p in f.plants)]
    expected["dossiers"] = (len(records) + 1 + len(u16_broken) + sum(f.read for f in odd),
                            len(good) + sum(c.loads for c in broken) + 1 + sum(f.loaded for f in odd))

    # Processing log: one call of good and broken steps, the same in UTF-16, and one cut short.
    steps = broken_steps()
    step_good, step_plant = [plant(), plant()], plant()
    step_call = _call([step(step_good[0]), *(c.record for c in steps), step(step_good[1])], step_plant)
    cut_plant = plant()
    processing_files = [("tiendo_1.json", step_call), ("tiendo_2.json", step_call.decode().encode("utf-16")),
                        ("tiendo_3.json", _call([step(cut_plant)], cut_plant)[:-30])]
    plants += [*step_good, step_plant, cut_plant, *(c.plant for c in steps)]
    step_loads = 2 + sum(c.loads for c in steps)
    expected["processing"] = (2 * (len(steps) + 2) + 1, 2 * step_loads)

    # Payments: broken rows in a file that loads its good row, a file with personal columns, and a file
    # quarantined whole (bytes that are not UTF-8).
    payments = list(broken_payment_rows())
    good_payment, columns_good, columns_bad, whole = plant(), plant(), plant(), [plant(), plant()]
    payment_files = [
        ("doisoat_20250702_VCB.csv", _csv(PAYMENT_HEADER, [_payment(good_payment).encode(),
                                                           *(r for _, _, r in payments)])),
        ("doisoat_20250702_BIDV.csv", _csv(PAYMENT_HEADER + ",ChuHoSo,SoDienThoai,Email", [
            f"{_payment(p, SoTien=amount)},{p.name},{p.phone},{p.email}".encode()
            for p, amount in ((columns_good, "50000"), (columns_bad, "5O000"))])),  # a letter O: not a number
        ("doisoat_20250702_MOMO.csv", b"\xef\xbb\xbf" + _csv(PAYMENT_HEADER, [_not_utf8(p) for p in whole])),
    ]
    plants += [good_payment, columns_good, columns_bad, *whole, *(p for _, p, _ in payments)]
    expected["payments"] = (1 + len(payments) + 2 + len(whole), 2)

    # Agencies and catalog: a snapshot of good and broken rows with personal columns, and the next day's
    # snapshot quarantined whole.
    agencies, catalog = list(broken_agency_rows()), list(broken_catalog_rows())
    agency_good, service_good = plant(), plant()
    agency_whole, catalog_whole = [plant(), plant()], [plant(), plant(), plant()]
    snapshots = {
        ("agencies", DAY): [("coquan_20250702.csv", _csv(AGENCY_HEADER + PERSONAL_COLUMNS, [
            _agency(agency_good).encode(), *(r for _, _, r in agencies)]))],
        ("agencies", next_day): [("coquan_20250703.csv", _csv(AGENCY_HEADER, [_not_utf8(p) for p in agency_whole]))],
        ("catalog", DAY): [("services_20250702.csv", _csv(CATALOG_HEADER + PERSONAL_COLUMNS, [
            _service(service_good).encode(), *(r for _, _, r in catalog)]))],
        ("catalog", next_day): [("services_20250703.csv", _csv(CATALOG_HEADER,
                                                               [_not_utf8(p) for p in catalog_whole]))],
    }
    plants += [agency_good, service_good, *agency_whole, *catalog_whole, *(p for _, p, _ in agencies),
               *(p for _, p, _ in catalog)]
    expected["agencies"] = (1 + len(agencies) + len(agency_whole), 1)
    expected["catalog"] = (1 + len(catalog) + len(catalog_whole), 1)

    reader = _Reader({("dossiers", DAY): dossier_files, ("processing", DAY): processing_files,
                      ("payments", DAY): payment_files, **snapshots})
    reports = {source: land(source, DAY, next_day + dt.timedelta(days=1), settings, reader=reader)
               for source in ("agencies", "catalog", "dossiers", "processing", "payments")}

    needles = _needles(plants)
    assert len(plants) == len({p.n for p in plants}) > 500
    values, raw = _lake_text(settings.lake_dir)
    assert not _found(needles, values)
    assert not [n for n in needles if n.encode("utf-8") in raw]

    for source, report in reports.items():
        assert report.rows_read == report.rows_loaded + report.rows_quarantined, source
        assert (report.rows_read, report.rows_loaded) == expected[source], source
        assert report.files == len([f for (s, _), files in reader.files.items() if s == source for f in files])
        table = lake.read_partitions(settings.lake_dir, lake.SOURCE_TABLES[source], [DAY, next_day])
        held = lake.read_partitions(settings.lake_dir, "quarantine", [DAY, next_day], source)
        assert (table.num_rows, held.num_rows) == (report.rows_loaded, report.rows_quarantined), source
        for audit in lake.read_partitions(settings.lake_dir, "load_audit", [DAY, next_day], source).to_pylist():
            assert audit["rows_read"] == audit["rows_loaded"] + audit["rows_quarantined"], audit["file_name"]
