"""Personal data never leaves landing through the quarantine.

Broken dossier lines, payment rows and catalog rows of many kinds, each carrying its own planted
name, ID number, phone and e-mail, go through the real parsers and through `land` into a
temporary lake. No planted value may show in a quarantine reason, in a quarantined raw text, or
anywhere in any file of the lake; and every record read is loaded or quarantined.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from dichvucong.config import Settings
from dichvucong.landing.extract import land
from dichvucong.landing.fast_dossiers import DossierTyper
from dichvucong.landing.parsers import ParsedFile, parse_catalog_file, parse_dossier_file, parse_payment_file

KEY = b"k"
DAY = dt.date(2024, 1, 5)
_serial = itertools.count(1)


@dataclass(frozen=True)
class Plant:
    """One line's own personal values: a name, a 12-digit ID number, a phone and an e-mail."""

    n: int

    @property
    def name(self) -> str:
        return f"Nguyễn Văn Planted{self.n:04d}"

    @property
    def id(self) -> str:
        return f"001099{self.n:06d}"

    @property
    def phone(self) -> str:
        return f"0912{self.n:06d}"

    @property
    def email(self) -> str:
        return f"planted{self.n}@example.vn"

    def needles(self) -> list[str]:
        """What must not be found: each value, its ASCII part, the digits a JSON number keeps
        (no leading zeros), and the ASCII parts as UTF-16 text misread as UTF-8 shows them."""
        ascii_parts = [f"Planted{self.n:04d}", self.id.lstrip("0"), self.phone.lstrip("0"), f"planted{self.n}@"]
        return [self.name, self.id, self.phone, self.email, *ascii_parts,
                *("\x00".join(part) for part in ascii_parts)]


def _plant() -> Plant:
    return Plant(next(_serial))


def _record(p: Plant, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "MaHoSo": f"000.00.02.H62-240105-{p.n:04d}", "MaTTHC": "1.004227", "MaCoQuan": "000.00.02.H62",
        "MaDiaBan": "243", "KenhThucHien": 2, "LoaiDoiTuong": 1, "ChuHoSo": p.name, "SoGiayTo": p.id,
        "SoDienThoai": p.phone, "Email": p.email, "NgayNopHoSo": "20240105083000",
        "NgayTiepNhan": "20240105090000", "NgayHenTra": "20240110170000", "NgayKetThucXuLy": "", "NgayTra": "",
        "NgayTuChoi": "", "TrangThaiHoSo": 4, "DuocThanhToanTrucTuyen": 1, "CoKetQuaDienTu": 0, "DaSoHoa": 1,
        "DanhSachLePhi": [{"MaPhiLePhi": "LP1", "TenPhiLePhi": "Lệ phí", "LoaiPhiLePhi": 2, "Gia": 50000}],
        "DanhSachBoSung": [{"NgayYeuCau": "20240106090000", "NgayBoSung": ""}], "NgayCapNhat": "20240106090000",
    }
    return base | changes


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


# A wrong value for a typed field, built from a line's plant: each kind of personal value, as text,
# as a JSON number, inside an object or a list.
BAD_VALUES: list[Callable[[Plant], Any]] = [
    lambda p: p.id, lambda p: int(p.id), lambda p: p.phone, lambda p: int(p.phone), lambda p: p.name,
    lambda p: p.email, lambda p: f"{p.name} {p.id}", lambda p: {"ChuHoSo": p.name, "x": p.phone},
    lambda p: [p.name, p.phone, p.email],
]
TYPED_FIELDS = ("KenhThucHien", "LoaiDoiTuong", "TrangThaiHoSo", "DuocThanhToanTrucTuyen", "CoKetQuaDienTu",
                "DaSoHoa", "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra",
                "NgayTuChoi", "NgayCapNhat", "DanhSachLePhi", "DanhSachBoSung")
TEXT_FIELDS = ("MaHoSo", "MaTTHC", "MaCoQuan", "MaDiaBan")  # any text is a code: only objects and lists are wrong


def _fee(**changes: Any) -> list[dict[str, Any]]:
    return [{"MaPhiLePhi": "LP1", "TenPhiLePhi": "Lệ phí", "LoaiPhiLePhi": 2, "Gia": 50000} | changes]


def broken_dossier_lines() -> Iterator[tuple[str, Plant, bytes]]:
    """(kind, plant, line bytes) for every broken line: wrong types in each typed field, then the
    odd shapes a source sends."""
    for name, bad in itertools.product(TYPED_FIELDS, BAD_VALUES):
        p = _plant()
        yield f"{name} wrong", p, _json(_record(p, **{name: bad(p)}))
    for name, bad in itertools.product(TEXT_FIELDS, BAD_VALUES[-2:]):
        p = _plant()
        yield f"{name} not text", p, _json(_record(p, **{name: bad(p)}))
    for bad in BAD_VALUES:
        p = _plant()
        yield "fee kind wrong", p, _json(_record(p, DanhSachLePhi=_fee(LoaiPhiLePhi=bad(p))))
        p = _plant()
        yield "supplement request wrong", p, _json(_record(p, DanhSachBoSung=[{"NgayYeuCau": bad(p)}]))
    for bad in (lambda p: f"{p.phone} đồng", lambda p: "+84" + p.phone[1:], lambda p: p.name, lambda p: p.email,
                lambda p: {"SoDienThoai": p.phone}, lambda p: [p.id]):
        p = _plant()
        yield "amount wrong", p, _json(_record(p, DanhSachLePhi=_fee(Gia=bad(p))))

    p = _plant()
    yield "truncated JSON", p, _json(_record(p))[:420]
    p = _plant()
    text = _json(_record(p)).decode()
    yield "truncated after the e-mail", p, text[:text.index(p.email) + len(p.email) + 2].encode()
    p = _plant()
    yield "array instead of object", p, _json([_record(p)])
    p = _plant()
    yield "nested object with the name inside", p, _json(_record(
        p, TrangThaiHoSo="x", NguoiNop={"HoTen": p.name, "LienHe": {"DienThoai": p.phone, "Email": p.email}}))
    p = _plant()
    yield "personal field holding an object", p, _json(_record(
        p, KenhThucHien=9, ChuHoSo={"Ho": p.name, "SoGiayTo": p.id}, SoDienThoai=[p.phone]))
    p = _plant()
    yield "raw control characters", p, _json(_record(p)).replace(p.name.encode(), f"{p.name}\x01\x1f".encode())
    p = _plant()
    yield "escaped control characters", p, _json(_record(p, ChuHoSo=f"{p.name}\x00\x07", TrangThaiHoSo=0))
    p = _plant()
    yield "invalid UTF-8", p, _json(_record(p)).replace(p.name.encode(), p.name.encode() + b"\xff\xfe")
    p = _plant()
    yield "invalid UTF-8 in a Latin-1 name", p, _json(_record(p)).replace(
        p.name.encode(), f"Planted{p.n:04d} Tr\xe2m".encode("latin-1"))
    p = _plant()
    yield "missing MaHoSo", p, _json({k: v for k, v in _record(p).items() if k != "MaHoSo"})
    p = _plant()
    yield "bare string", p, _json(f"{p.name} {p.id} {p.phone} {p.email}")
    p = _plant()
    yield "extra nesting", p, _json({"HoSo": {"HoSo": {"HoSo": _record(p)}}})
    p = _plant()
    yield "status out of range", p, _json(_record(p, TrangThaiHoSo=11))
    p = _plant()
    yield "date that is not a date", p, _json(_record(p, NgayNopHoSo="hôm qua"))
    p = _plant()
    yield "ID number in the status field", p, _json(_record(p, TrangThaiHoSo=p.id))
    p = _plant()
    yield "phone in a code field", p, _json(_record(p, KenhThucHien=int(p.phone)))
    p = _plant()
    yield "name as a key", p, _json(_record(p, TrangThaiHoSo=None) | {p.name: p.id, p.email: 1})
    p = _plant()
    yield "trailing comma", p, _json(_record(p))[:-1] + b", }"
    p = _plant()
    yield "v2 record", p, _json({
        "MaHoSo": f"000.00.02.H62-240105-{p.n:04d}", "MaTTHC": "1.004227", "KenhThucHien": "2",
        "LoaiDoiTuong": "1", "ChuHoSo": p.name, "SoGiayToChuHoSo": p.id, "SoDienThoai": p.phone, "Email": p.email,
        "Fax": p.phone, "MaDoiTuong": p.email, "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": p.id}],
        "TrichYeuHoSo": f"Đăng ký khai sinh cho con của {p.name}", "ThongTinTra": f"Gọi {p.phone}",
        "GhiChu": p.email, "NgayNopHoSo": "20240105083000", "TrangThaiHoSo": "4",
        "TaiLieuNop": [{"TenTepDinhKem": f"CCCD {p.name}.pdf", "DuocSoHoa": "1"}],
        "DanhSachHoSoBoSung": [{"NguoiYeuCauBoSung": p.name, "NguoiTiepNhanBoSung": p.name,
                                "NoiDungBoSung": f"Ông {p.name} bổ sung bản sao {p.id}",
                                "NgayBoSung": "20240106090000"}],
    })


def good_dossier_lines(count: int) -> list[tuple[Plant, bytes]]:
    """Valid lines, with personal values in their fields: loaded pseudonymised."""
    return [(p, _json(_record(p))) for p in (_plant() for _ in range(count))]


PAYMENT_HEADER = ("MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,"
                  "ThoiGianGiaoDich,NgayDoiSoat")


def _payment(p: Plant, **changes: str) -> str:
    cells = {"MaGiaoDich": f"T{p.n}", "MaTrungGian": "VCB", "KenhThanhToan": "1", "MaHoSo": "HS1",
             "MaTTHC": "1.004227", "LoaiPhiLePhi": "2", "SoTien": "50000", "TrangThai": "00",
             "ThoiGianGiaoDich": "2024-01-05 09:10:00", "NgayDoiSoat": "2024-01-05"} | changes
    return ",".join(f'"{v}"' if "," in v else v for v in cells.values())


def broken_payment_rows() -> Iterator[tuple[str, Plant, bytes]]:
    for name in ("KenhThanhToan", "LoaiPhiLePhi", "SoTien", "TrangThai", "ThoiGianGiaoDich", "NgayDoiSoat"):
        for bad in (lambda p: p.id + "x", lambda p: p.phone + "đ", lambda p: p.name, lambda p: p.email):
            p = _plant()
            yield f"{name} wrong", p, _payment(p, **{name: bad(p)}).encode()
    p = _plant()
    yield "ID number in the status", p, _payment(p, TrangThai=p.id).encode()
    p = _plant()
    yield "phone in the channel", p, _payment(p, KenhThanhToan=p.phone).encode()
    p = _plant()
    yield "phone in the amount", p, _payment(p, SoTien="+84" + p.phone[1:]).encode()
    p = _plant()
    yield "an extra column with the payer", p, (_payment(p) + f",{p.name},{p.phone},{p.email}").encode()
    p = _plant()
    yield "too few columns", p, f"T{p.n},VCB,{p.name},{p.id},{p.email}".encode()
    p = _plant()
    yield "invalid UTF-8", p, (_payment(p, TrangThai="9") + f",{p.name}").encode() + b"\xff"
    p = _plant()
    yield "unbalanced quote", p, f'T{p.n},VCB,1,HS1,1.004227,2,"{p.name},00,{p.email},2024-01-05'.encode()


def broken_catalog_rows() -> Iterator[tuple[str, Plant, bytes]]:
    for name in ("CapThucHien", "MucDo", "ThoiHanGiaiQuyet", "PhiLePhi"):
        for bad in (lambda p: p.id + "x", lambda p: p.phone, lambda p: p.name, lambda p: p.email):
            if name in ("ThoiHanGiaiQuyet", "PhiLePhi") and bad(Plant(1)).isdigit():
                continue  # digits are a valid number there
            p = _plant()
            cells = {"CapThucHien": "TINH", "MucDo": "3", "ThoiHanGiaiQuyet": "1", "PhiLePhi": "0"}
            cells[name] = bad(p)
            yield f"{name} wrong", p, (f"1.{p.n},Thủ tục,HT,Hộ tịch,000.00.02.H62,Sở Tư pháp,"
                                       + ",".join(cells.values())).encode()
    p = _plant()
    yield "an extra column", p, f"1.{p.n},Thủ tục,HT,Hộ tịch,X,Sở,TINH,3,1,0,{p.name},{p.id}".encode()
    p = _plant()
    yield "invalid UTF-8", p, f"1.{p.n},{p.name},HT,Hộ tịch,X,Sở,TINH,3,1,{p.email}".encode() + b"\xff"


CATALOG_HEADER = "MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,MaCoQuan,TenCoQuan,CapThucHien,MucDo,ThoiHanGiaiQuyet,PhiLePhi"


def _found(needles: list[str], text: str) -> list[str]:
    return [n for n in needles if n in text]


def _all_needles(plants: list[Plant]) -> list[str]:
    return [n for p in plants for n in p.needles()]


def _assert_clean(parsed: ParsedFile, kinds: list[tuple[str, Plant, bytes]]) -> None:
    """No line's planted value in any reason or raw text; each broken line quarantined once."""
    assert len(parsed.quarantined) == len(kinds), "every broken line is quarantined"
    assert not parsed.rows
    assert parsed.rows_read == len(kinds)
    needles = _all_needles([p for _, p, _ in kinds])
    for entry, (kind, _, _) in zip(parsed.quarantined, kinds, strict=True):
        assert not _found(needles, entry["reason"]), (kind, entry["reason"])
        assert not _found(needles, entry["raw_text"]), (kind, entry["raw_text"])


def test_dossier_reasons_carry_no_value_from_the_line() -> None:
    kinds = list(broken_dossier_lines())
    assert len({k for k, _, _ in kinds}) >= 12 and len(kinds) > 150
    parsed = parse_dossier_file(b"\n".join(line for _, _, line in kinds), KEY)
    needles = _all_needles([p for _, p, _ in kinds])
    leaked = [(q["line_number"], q["reason"]) for q in parsed.quarantined if _found(needles, q["reason"])]
    assert not leaked
    assert parsed.rows_read == len(parsed.rows) + len(parsed.quarantined) == len(kinds)


@pytest.mark.parametrize("kind", sorted({k for k, _, _ in broken_dossier_lines()}))
def test_each_broken_dossier_line_is_quarantined_without_personal_data(kind: str) -> None:
    kinds = [k for k in broken_dossier_lines() if k[0] == kind]
    _assert_clean(parse_dossier_file(b"\n".join(line for _, _, line in kinds), KEY), kinds)
    with DossierTyper(KEY) as typer:  # the bulk typing path used by landing
        [(table, parsed)] = typer.parse_many([b"\n".join(line for _, _, line in kinds)])
    assert table.num_rows == 0
    _assert_clean(parsed, kinds)


def test_payment_and_catalog_rows_keep_no_personal_data() -> None:
    payments = list(broken_payment_rows())
    parsed = parse_payment_file(b"\n".join([PAYMENT_HEADER.encode(), *(row for _, _, row in payments)]))
    _assert_clean(parsed, payments)
    catalog = list(broken_catalog_rows())
    parsed = parse_catalog_file(b"\n".join([CATALOG_HEADER.encode(), *(row for _, _, row in catalog)]))
    _assert_clean(parsed, catalog)
    # A header with personal columns the contract does not have: the broken rows are masked too.
    p = _plant()
    header = PAYMENT_HEADER + ",ChuHoSo,SoDienThoai,Email"
    rows = [f"{_payment(p, SoTien='x')},{p.name},{p.phone},{p.email}".encode()]
    _assert_clean(parse_payment_file(b"\n".join([header.encode(), *rows])), [("personal columns", p, rows[0])])


def test_an_unparsed_line_keeps_only_its_length_and_a_hash() -> None:
    p = _plant()
    line = _json(_record(p))[:300]
    [entry] = parse_dossier_file(line, KEY).quarantined
    assert re.fullmatch(r"<unparsed: 300 bytes, [a-z0-9-]+ [0-9a-f]{16,64}>", entry["raw_text"]), entry["raw_text"]
    [entry] = parse_dossier_file(line[:-1] + b"\xff", KEY).quarantined
    assert re.fullmatch(r"<unparsed: 300 bytes, [a-z0-9-]+ [0-9a-f]{16,64}>", entry["raw_text"]), entry["raw_text"]


def test_a_parsed_record_keeps_its_shape_and_codes_with_personal_fields_masked() -> None:
    p = _plant()
    [entry] = parse_dossier_file(_json(_record(p, TrangThaiHoSo=11, NguoiNop={"ChuHoSo": p.name})), KEY).quarantined
    masked = json.loads(entry["raw_text"])
    assert masked["TrangThaiHoSo"] == 11 and masked["MaTTHC"] == "1.004227"
    assert masked["DanhSachLePhi"][0]["Gia"] == 50000
    assert masked["ChuHoSo"] == masked["SoGiayTo"] == masked["Email"] == "***"
    assert p.name not in entry["raw_text"]


def test_reasons_are_a_field_and_a_rule_of_the_vocabulary() -> None:
    from dichvucong.landing.parsers import FIELD_RULES, LINE_RULES, REASON_FIELDS, is_file_rule

    parsed = [parse_dossier_file(b"\n".join(line for _, _, line in broken_dossier_lines()), KEY),
              parse_payment_file(b"\n".join([PAYMENT_HEADER.encode(), *(r for _, _, r in broken_payment_rows())])),
              parse_catalog_file(b"\n".join([CATALOG_HEADER.encode(), *(r for _, _, r in broken_catalog_rows())]))]
    reasons = {q["reason"] for file in parsed for q in file.quarantined}
    assert len(reasons) > 15
    for reason in reasons:
        field, _, rule = reason.partition(": ")
        assert reason in LINE_RULES or is_file_rule(reason) or (field in REASON_FIELDS and rule in FIELD_RULES), reason


def test_pathological_lines_are_quarantined_and_counted() -> None:
    """Lines that made a parser raise (and a whole landing stop) are quarantined like any other."""
    p = _plant()
    dossiers = [b"[" * 100_000, b'{"a":' * 5000, _json(_record(p, KenhThucHien=float("inf"))).replace(b"Infinity",
                b"1e999"), _json(_record(p)).replace(b'"KenhThucHien": 2', b'"KenhThucHien": ' + b"7" * 5000),
                _json(_record(p, DanhSachLePhi=_fee(Gia="9" * 5000))),
                _json(_record(p, DanhSachLePhi=_fee(Gia=2**63)))]
    parsed = parse_dossier_file(b"\n".join(dossiers), KEY)
    assert parsed.rows_read == len(parsed.quarantined) == len(dossiers) and not parsed.rows
    with DossierTyper(KEY) as typer:
        [(table, fast)] = typer.parse_many([b"\n".join(dossiers)])
    assert fast.quarantined == parsed.quarantined and table.num_rows == 0
    payments = [_payment(p, SoTien="9" * 5000), _payment(p, SoTien=str(2**63)), _payment(p, MaHoSo="x" * 200_000)]
    parsed = parse_payment_file("\n".join([PAYMENT_HEADER, *payments]).encode())
    assert parsed.rows_read == len(parsed.quarantined) == len(payments)
    catalog = ["1.1,x,x,x,x,x,TINH,3,2147483648,0", "1.2,x,x,x,x,x,TINH,3,1," + str(2**63)]
    parsed = parse_catalog_file("\n".join([CATALOG_HEADER, *catalog]).encode())
    assert parsed.rows_read == len(parsed.quarantined) == len(catalog)


@dataclass
class _Reader:
    files: dict[str, list[tuple[str, bytes]]]

    def files_for(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes]]:
        yield from self.files.get(source, [])


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
    broken = list(broken_dossier_lines())
    good = good_dossier_lines(5)
    lines = [line for _, line in good[:2]] + [line for _, _, line in broken] + [line for _, line in good[2:]]
    # A UTF-16 file (the contract decodes it by its byte-order mark): one good line, one broken.
    u16_good, [(_, u16_plant, u16_broken)] = good_dossier_lines(1), list(itertools.islice(broken_dossier_lines(), 1))
    utf16 = "\ufeff" + "\r\n".join(line.decode("utf-8") for line in (u16_good[0][1], u16_broken)) + "\r\n"
    payments = list(broken_payment_rows())
    good_payment = _plant()
    catalog = list(broken_catalog_rows())
    reader = _Reader({
        "dossiers": [("hoso_1.jsonl", b"\n".join(lines) + b"\n"), ("hoso_2.jsonl", utf16.encode("utf-16-le"))],
        "payments": [("doisoat_20240105_VCB.csv", "\r\n".join(
            [PAYMENT_HEADER, _payment(good_payment), *(r.decode("utf-8", "surrogateescape") for _, _, r in payments)]
        ).encode("utf-8", "surrogateescape"))],
        "catalog": [("services_20240105.csv", b"\n".join(
            [CATALOG_HEADER.encode(), "1.004227,Đăng ký khai sinh,HT,Hộ tịch,X,Sở Tư pháp,XA,4,0,0".encode(),
             *(r for _, _, r in catalog)]))],
    })
    reports = {source: land(source, DAY, DAY + dt.timedelta(days=1), settings, reader=reader)
               for source in ("dossiers", "payments", "catalog")}

    plants = ([p for _, p, _ in broken] + [p for p, _ in good] + [u16_good[0][0], u16_plant, good_payment]
              + [p for _, p, _ in payments] + [p for _, p, _ in catalog])
    needles = _all_needles(plants)
    values, raw = _lake_text(settings.lake_dir)
    assert not _found(needles, values)
    assert not [n for n in needles if n.encode("utf-8") in raw]

    assert reports["dossiers"].rows_read == len(lines) + 2
    assert reports["dossiers"].rows_loaded == len(good) + 1
    assert reports["dossiers"].rows_quarantined == len(broken) + 1
    # Some broken rows of each CSV hold bytes that are not UTF-8: each file is quarantined whole
    # (sources.md v2: another encoding is not read record by record).
    assert (reports["payments"].rows_read, reports["payments"].rows_loaded) == (len(payments) + 1, 0)
    assert (reports["catalog"].rows_read, reports["catalog"].rows_loaded) == (len(catalog) + 1, 0)
    for report in reports.values():
        assert report.rows_read == report.rows_loaded + report.rows_quarantined

