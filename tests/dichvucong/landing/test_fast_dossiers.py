"""The bulk DuckDB typing of dossier lines gives, line for line, what the Python
reference parser gives: same rows (every typed value, the applicant key), same
quarantine with the same reasons, same counts, on odd lines and on generated files."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pyarrow as pa
import pytest

from dichvucong.landing.fast_dossiers import _OUTPUT, DossierTyper, hmac_pads
from dichvucong.landing.parsers import parse_dossier_file
from dichvucong.simulator import generate
from tests.dichvucong.landing.test_parsers import GOOD, KEY, _line

ODD_LINES = [
    _line(),
    _line(DuocThanhToanTrucTuyen=None),                 # explicit null is not the default
    _line(KenhThucHien=2.0), _line(KenhThucHien="2"), _line(KenhThucHien=" 2 "), _line(KenhThucHien=True),
    _line(KenhThucHien=2.5), _line(KenhThucHien=4), _line(TrangThaiHoSo=-1), _line(TrangThaiHoSo=10),
    _line(MaHoSo=123), _line(MaHoSo="  "), _line(MaHoSo="\u00a0"), _line(MaHoSo="Đ"), _line(MaHoSo=None),
    _line(MaTTHC=1.5), _line(MaCoQuan={"a": 1}), _line(MaDiaBan=None), _line(MaDiaBan=["243"]),
    _line(SoGiayTo="026 090.001-234"), _line(SoGiayTo="０２６"), _line(SoGiayTo="abc\u00e9"), _line(SoGiayTo=""),
    _line(SoGiayTo=" . - "), _line(SoGiayTo=26090001234), _line(SoGiayTo=None), _line(SoGiayTo="ab\tc"),
    _line(NgayNopHoSo="20240230083000"), _line(NgayNopHoSo="20241305083000"), _line(NgayNopHoSo="2024010508300"),
    _line(NgayNopHoSo=20240105083000), _line(NgayNopHoSo=""), _line(NgayNopHoSo=None),
    _line(NgayNopHoSo="00000105083000"),
    _line(NgayTra="20240105246000"), _line(NgayTra="20240105235960"), _line(NgayTra="２０２４０１０５０８３０００"),
    _line(NgayTiepNhan=None), _line(NgayCapNhat=""),
    _line(DanhSachLePhi=None), _line(DanhSachLePhi={}), _line(DanhSachLePhi=""), _line(DanhSachLePhi="x"),
    _line(DanhSachLePhi=[1]), _line(DanhSachLePhi=[{"LoaiPhiLePhi": 3, "Gia": 1}]),
    _line(DanhSachLePhi=[{"LoaiPhiLePhi": 1, "Gia": "1000"}]), _line(DanhSachLePhi=[{"LoaiPhiLePhi": 1, "Gia": 1.5}]),
    _line(DanhSachLePhi=[{"LoaiPhiLePhi": 1, "Gia": " 7 "}]), _line(DanhSachLePhi=[{"LoaiPhiLePhi": 1, "Gia": -5}]),
    _line(DanhSachLePhi=[{"LoaiPhiLePhi": 1}]), _line(DanhSachLePhi=[{"MaPhiLePhi": 7, "LoaiPhiLePhi": 1, "Gia": 1}]),
    _line(DanhSachBoSung=[{"NgayYeuCau": ""}]), _line(DanhSachBoSung=[{"NgayBoSung": "20240106090000"}]),
    _line(DanhSachBoSung=[{"NgayYeuCau": "20240106090000", "NgayBoSung": None}]), _line(DanhSachBoSung=[[]]),
    _line(Extra="kept out"), json.dumps({k: v for k, v in GOOD.items() if k != "DaSoHoa"}),
    json.dumps({k: v for k, v in GOOD.items() if k not in ("ChuHoSo", "SoDienThoai", "SoGiayTo")}),
    _line()[:-1] + ', "KenhThucHien": 1}',             # a repeated key: Python keeps the last value
    _line()[:-1] + ',}', _line().replace('"Gia": 50000}]', '"Gia": 50000},]'),  # trailing commas
    _line().replace('"KenhThucHien": 2', '"KenhThucHien": NaN'), '{"MaHoSo": "\\ud800x"}',
    '[1, 2]', '"text"', '42', 'null', '{}', '{"MaHoSo": "A"', 'not json', "\ufeff" + _line(), "   ", "",
    _line() + "\r", _line().replace("Nguyễn", "Nguy\\u1ec5n"),
]


def _reference(data: bytes) -> tuple[pa.Table, list[dict[str, object]], int]:
    parsed = parse_dossier_file(data, KEY)
    return pa.Table.from_pylist(parsed.rows, schema=_OUTPUT), parsed.quarantined, parsed.rows_read


def _assert_same(files: list[bytes]) -> tuple[int, int]:
    with DossierTyper(KEY) as typer:
        typed = typer.parse_many(files)
    rows = quarantined = 0
    for data, (table, parsed) in zip(files, typed, strict=True):
        expected_rows, expected_quarantine, expected_read = _reference(data)
        assert parsed.rows_read == expected_read
        assert parsed.quarantined == expected_quarantine
        assert table.to_pylist() == expected_rows.to_pylist()
        assert table.schema == _OUTPUT
        rows, quarantined = rows + table.num_rows, quarantined + len(parsed.quarantined)
    return rows, quarantined


def test_odd_lines_type_as_the_reference_parser_types_them() -> None:
    data = "\n".join(ODD_LINES).encode()
    rows, quarantined = _assert_same([data])
    assert rows > 20 and quarantined > 20  # both paths are exercised


@pytest.mark.parametrize("line", ODD_LINES[:60:7])
def test_each_odd_line_alone_and_among_good_ones(line: str) -> None:
    _assert_same([line.encode(), (_line() + "\n" + line + "\n" + _line()).encode(), b"", b"\n\n"])


def test_undecodable_bytes_fall_back_to_the_reference_parser() -> None:
    _assert_same([_line().encode() + b"\n\xff\xfe{\n" + _line().encode(), "\ufeff".encode() + _line().encode()])


def test_generated_files_type_identically(tmp_path) -> None:
    generate(tmp_path, dt.date(2022, 9, 1), dt.date(2022, 9, 8), seed=5, scale=0.05, dirt_rate=0.05)
    files = [p.read_bytes() for p in sorted(tmp_path.glob("dossiers/*/*.jsonl"))]
    rows, quarantined = _assert_same(files)
    assert rows > 300 and quarantined > 10


def test_the_applicant_key_is_the_rfc_2104_hmac() -> None:
    for key in (b"k", b"x" * 64, b"long" * 40):
        inner, outer = hmac_pads(key)
        digest = hashlib.sha256(outer + hashlib.sha256(inner + b"026090001234").digest()).hexdigest()
        assert digest == hmac.new(key, b"026090001234", hashlib.sha256).hexdigest()
