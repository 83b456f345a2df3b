"""Each kind of row of sources.md, clean and dirty: what loads, what is
quarantined and why, and that personal data never gets through."""

from __future__ import annotations

import json
import unicodedata

from dichvucong.landing.parsers import (
    applicant_key,
    masked_record,
    parse_catalog_file,
    parse_dossier_file,
    parse_payment_file,
)

KEY = b"k"
GOOD = {
    "MaHoSo": "000.00.02.H62-240105-0001", "MaTTHC": "1.004227", "MaCoQuan": "000.00.02.H62", "MaDiaBan": "243",
    "KenhThucHien": 2, "LoaiDoiTuong": 1, "ChuHoSo": "Nguyễn Văn An", "SoGiayTo": "026090001234",
    "SoDienThoai": "0912345678", "NgayNopHoSo": "20240105083000", "NgayTiepNhan": "20240105090000",
    "NgayHenTra": "20240110170000", "NgayKetThucXuLy": "", "NgayTra": "", "NgayTuChoi": "", "TrangThaiHoSo": 4,
    "DuocThanhToanTrucTuyen": 1, "CoKetQuaDienTu": 0, "DaSoHoa": 1,
    "DanhSachLePhi": [{"MaPhiLePhi": "LP1", "TenPhiLePhi": "Lệ phí", "LoaiPhiLePhi": 2, "Gia": 50000}],
    "DanhSachBoSung": [{"NgayYeuCau": "20240106090000", "NgayBoSung": ""}], "NgayCapNhat": "20240106090000",
}


def _line(**changes: object) -> str:
    return json.dumps(GOOD | changes, ensure_ascii=False)


def test_a_clean_record_loads_typed_and_pseudonymised() -> None:
    parsed = parse_dossier_file((_line() + "\n").encode(), KEY)
    assert parsed.rows_read == 1 and not parsed.quarantined
    row = parsed.rows[0]
    assert row["MaHoSo"] == GOOD["MaHoSo"]
    assert row["NgayTiepNhan"].isoformat() == "2024-01-05T09:00:00"
    assert row["NgayKetThucXuLy"] is None
    assert row["DanhSachLePhi"][0]["Gia"] == 50000
    assert row["DanhSachBoSung"][0]["NgayBoSung"] is None
    assert "ChuHoSo" not in row and "SoGiayTo" not in row and "SoDienThoai" not in row
    assert row["MaNguoiNop"] == applicant_key("026090001234", KEY)
    assert "026090001234" not in json.dumps(row, default=str)


def test_the_applicant_key_is_a_keyed_hash_of_the_normalised_id() -> None:
    assert applicant_key(" 026 090.001-234 ", KEY) == applicant_key("026090001234", KEY)
    assert applicant_key("026090001234", KEY) != applicant_key("026090001234", b"other")
    assert applicant_key("", KEY) is None and applicant_key(None, KEY) is None
    assert len(applicant_key("x", KEY) or "") == 64


def test_each_dirty_dossier_line_is_quarantined_with_its_reason() -> None:
    lines = [
        _line(),
        _line()[:60],  # broken JSON, cut mid-record
        _line(MaHoSo=""),
        _line(MaHoSo=None),
        _line(NgayTiepNhan="2024-01-05"),
        _line(NgayHenTra="20241305170000"),
        _line(TrangThaiHoSo=11),
        _line(KenhThucHien="web"),
        "[1, 2]",
        "",  # blank: not a row
        _line(DanhSachLePhi=[{"LoaiPhiLePhi": 2, "Gia": "nhiều"}]),
    ]
    data = "\n".join(lines).encode() + b"\n" + b'{"MaHoSo": "\xff\xfe"}\n'
    parsed = parse_dossier_file(data, KEY)
    reasons = [q["reason"] for q in parsed.quarantined]
    assert parsed.rows_read == 11 == len(parsed.rows) + len(parsed.quarantined)
    assert len(parsed.rows) == 1
    assert reasons[0] == "invalid JSON: expecting ','"
    assert reasons[1:3] == ["MaHoSo: missing", "MaHoSo: missing"]
    assert reasons[3] == "NgayTiepNhan: not a timestamp yyyyMMddHHmmss"
    assert reasons[4] == "NgayHenTra: impossible date"
    assert reasons[5] == "TrangThaiHoSo: not in the contract's code set"
    assert reasons[6] == "KenhThucHien: not an integer"
    assert reasons[7] == "not a JSON object"
    assert reasons[8] == "DanhSachLePhi.Gia: not an integer"
    assert reasons[9] == "not UTF-8"
    assert [q["line_number"] for q in parsed.quarantined][:2] == [2, 3]


def test_business_rule_breaches_are_kept_not_quarantined() -> None:
    out_of_order = _line(NgayTiepNhan="20240105090000", NgayKetThucXuLy="20240101090000", TrangThaiHoSo=9)
    no_due = _line(NgayHenTra="")
    negative_fee = _line(DanhSachLePhi=[{"MaPhiLePhi": "x", "TenPhiLePhi": "x", "LoaiPhiLePhi": 1, "Gia": -5}])
    parsed = parse_dossier_file("\n".join([out_of_order, no_due, negative_fee]).encode(), KEY)
    assert len(parsed.rows) == 3 and not parsed.quarantined


def test_quarantined_raw_text_is_masked() -> None:
    # Cut mid-record: only its length and a keyed hash are kept.
    cut = _line()[:200].encode()
    parsed = parse_dossier_file(cut + b"\n", KEY)
    raw = parsed.quarantined[0]["raw_text"]
    assert raw.startswith(f"<unparsed: {len(cut)} bytes, hmac-sha256 ") and "Nguyễn" not in raw
    # Parsed, then refused: personal fields and values that are not their field's shape are masked.
    parsed = parse_dossier_file(_line(TrangThaiHoSo="026090001234").encode(), KEY)
    raw = parsed.quarantined[0]["raw_text"]
    assert "Nguyễn" not in raw and "026090001234" not in raw and "0912345678" not in raw
    masked = json.loads(raw)
    assert masked["ChuHoSo"] == masked["SoGiayTo"] == masked["TrangThaiHoSo"] == "***"
    assert masked["NgayNopHoSo"] == "20240105083000" and masked["KenhThucHien"] == 2
    assert json.loads(masked_record({"MaHoSo": "A", "Ghi": {"x": 1}, "MaTTHC": "gọi 0912345678"})) == {
        "MaHoSo": "A", "<other field 2>": "***", "MaTTHC": "***"}


PAYMENT_HEADER = ("MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,"
                  "ThoiGianGiaoDich,NgayDoiSoat")


def _payment(txn: str = "T1", amount: str = "50000", status: str = "00") -> str:
    return f"{txn},VCB,1,HS1,1.004227,2,{amount},{status},2024-01-05 09:10:00,2024-01-05"


def test_payment_file_with_bom_crlf_total_line_and_duplicates() -> None:
    body = "\r\n".join([PAYMENT_HEADER, _payment("T1"), _payment("T1"), _payment("T2", "-50000"),
                        "Tổng cộng,,,,,,50000,,,2024-01-05"]) + "\r\n"
    parsed = parse_payment_file(b"\xef\xbb\xbf" + body.encode())
    assert parsed.rows_read == 3 and len(parsed.rows) == 3 and not parsed.quarantined
    assert parsed.has_total_line and parsed.total_line_amount == 50000
    assert [r["SoTien"] for r in parsed.rows] == [50000, 50000, -50000]
    assert parsed.rows[0]["MaGiaoDich"] == "T1" and parsed.rows[0]["TrangThai"] == "00"


def test_a_decomposed_total_line_is_still_a_total_line() -> None:
    total = unicodedata.normalize("NFD", "Tổng cộng") + ",,,,,,1,,,2024-01-05"
    parsed = parse_payment_file("\n".join([PAYMENT_HEADER, _payment(), total]).encode())
    assert parsed.has_total_line and parsed.rows_read == 1


def test_dirty_payment_rows_are_quarantined() -> None:
    lines = [PAYMENT_HEADER, _payment(), _payment(amount="50000đ"), _payment(status="03"),
             _payment().replace("2024-01-05 09:10:00", "05/01/2024"), "T9,VCB,1", _payment(txn="")]
    parsed = parse_payment_file("\n".join(lines).encode())
    assert [q["reason"] for q in parsed.quarantined] == [
        "SoTien: not an integer", "TrangThai: not in the contract's code set",
        "ThoiGianGiaoDich: not a timestamp yyyy-MM-dd HH:mm:ss", "field count differs from the header",
        "MaGiaoDich: missing",
    ]
    assert parsed.rows_read == 6 and len(parsed.rows) == 1


def test_a_payment_file_missing_a_column_quarantines_every_row() -> None:
    header = PAYMENT_HEADER.replace(",TrangThai", "")
    parsed = parse_payment_file("\n".join([header, "a,b,c", "d,e,f"]).encode())
    assert parsed.file_error == "header: missing columns TrangThai"
    assert parsed.rows_read == 2 and len(parsed.quarantined) == 2 and not parsed.rows
    assert {q["reason"] for q in parsed.quarantined} == {"header lacks a contract column"}


CATALOG_HEADER = "MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,MaCoQuan,TenCoQuan,CapThucHien,MucDo,ThoiHanGiaiQuyet,PhiLePhi"


def test_catalog_rows() -> None:
    lines = [CATALOG_HEADER,
             "1.004227,Đăng ký khai sinh,HT,Hộ tịch,000.00.02.H62,Sở Tư pháp,XA,4,0,0",
             "1.000001.000.00.00.H62,Cấp phép,XD,Xây dựng,000.00.04.H62,Sở Xây dựng,TINH,2,15,500000",
             "1.1,x,x,x,x,x,TINH,5,1,1",
             "1.2,x,x,x,x,x,QUAN,3,1,1",
             "1.3,x,x,x,x,x,TINH,3,-1,1",
             ",x,x,x,x,x,TINH,3,1,1"]
    parsed = parse_catalog_file("\n".join(lines).encode())
    assert [r["MaTTHC"] for r in parsed.rows] == ["1.004227", "1.000001.000.00.00.H62"]
    assert [q["reason"] for q in parsed.quarantined] == [
        "MucDo: not in the contract's code set", "CapThucHien: not in the contract's code set",
        "ThoiHanGiaiQuyet: negative", "MaTTHC: missing",
    ]
    assert parsed.rows_read == 6
