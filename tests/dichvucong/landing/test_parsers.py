"""Payments (sources.md §5, unchanged in v2) clean and dirty, the applicant key, and the cases of
the retired v1 dossier and catalog tests that test_parsers_v2.py does not cover, on v2 inputs: what
loads, what is quarantined and why, and that personal data never gets through.

The v1 cases test_parsers_v2.py covers were dropped here: a clean record typed and pseudonymised
(`test_a_realistic_dossier_call_types_every_column`), each dirty record's reason
(`RECORD_RULES`, `WHOLE_FILE`), a code outside its set (kept in v2:
`test_codes_outside_their_set_are_kept_as_sent`), a catalog row without MaTTHC
(`test_each_catalog_rule_costs_only_its_row`).
"""

from __future__ import annotations

import json
import re
import unicodedata

from dichvucong.landing.parsers import (
    applicant_key,
    is_file_rule,
    masked_record,
    parse_catalog_file,
    parse_payment_file,
)
from tests.dichvucong.landing.test_parsers_v2 import CATALOG_HEADER, KEY, call, dossier, dossiers, reasons, typed


def test_the_applicant_key_is_a_keyed_hash_of_the_normalised_id() -> None:
    assert applicant_key(" 026 090.001-234 ", KEY) == applicant_key("026090001234", KEY)
    assert applicant_key("026090001234", KEY) != applicant_key("026090001234", b"other")
    assert applicant_key("", KEY) is None and applicant_key(None, KEY) is None
    assert len(applicant_key("x", KEY) or "") == 64


# --- v1 dossier cases, on v2 sync calls -------------------------------------------------------------


def test_business_rule_breaches_are_kept_not_quarantined() -> None:
    """sources.md v2 §3: a record that breaks a rule is still a real dossier, kept for staging to flag."""
    round_ = {"NgayBoSung": "20250703090000", "NgayTiepNhanBoSung": "", "TrangThaiBoSung": "0"}
    records = [
        dossier(1, NgayTiepNhan="20250702090000", NgayKetThucXuLy="20250701090000", TrangThaiHoSo="9"),
        dossier(2, NgayNopHoSo="20250703083000"),  # submitted after it was received
        dossier(3, NgayHenTra=""),  # no due date
        dossier(4, NgayHenTra="20250701170000"),  # due before it was received
        dossier(5, NgayTiepNhan="", TrangThaiHoSo="4"),  # being processed, never received
        dossier(6, TrangThaiHoSo="10", NgayKetThucXuLy="", NgayTra=""),  # returned, with no end
        dossier(7, DanhSachLePhi=[{"MaPhiLePhi": "x", "TenPhiLePhi": "x", "LoaiPhiLePhi": "1", "Gia": "-5"}]),
        dossier(8, DanhSachHoSoBoSung=[round_ | {"NgayTiepNhanBoSung": "20250702090000", "TrangThaiBoSung": "1"}]),
        dossier(9, DanhSachHoSoBoSung=[round_]),  # unanswered: no answer yet
    ]
    parsed = dossiers(call(records))
    typed(parsed, "raw_dossier_syncs")
    assert len(parsed.rows) == len(records) and not parsed.quarantined
    first, *_, negative, answered_early, unanswered = parsed.rows
    assert first["NgayKetThucXuLy"].isoformat() == "2025-07-01T09:00:00" and first["TrangThaiHoSo"] == 9
    assert parsed.rows[2]["NgayHenTra"] is None and parsed.rows[4]["NgayTiepNhan"] is None
    assert negative["DanhSachLePhi"][0]["Gia"] == -5
    assert answered_early["DanhSachHoSoBoSung"][0]["NgayTiepNhanBoSung"].isoformat() == "2025-07-02T09:00:00"
    assert unanswered["DanhSachHoSoBoSung"][0]["NgayBoSung"].isoformat() == "2025-07-03T09:00:00"
    assert unanswered["DanhSachHoSoBoSung"][0]["NgayTiepNhanBoSung"] is None


def test_a_stray_byte_that_is_not_utf8_quarantines_the_call_whole() -> None:
    """v1 quarantined the one line; a v2 call is one document, not read record by record (sources.md v2)."""
    data = call([dossier(1), dossier(2, DonViXuLy="@")]).replace(b'"@"', b'"x\xff\xfe"')
    parsed = dossiers(data)
    assert parsed.rows == [] and parsed.envelope is None and parsed.rows_read == 1
    assert re.fullmatch(r"not UTF-8 \(.+\)", parsed.file_error or "") and is_file_rule(parsed.file_error or "")
    assert reasons(parsed) == [parsed.file_error] and parsed.quarantined[0]["line_number"] is None


def test_quarantined_raw_text_is_masked() -> None:
    # Cut mid-record: only the file's length and a keyed hash are kept.
    cut = call([dossier()])[:200]
    parsed = dossiers(cut)
    raw = parsed.quarantined[0]["raw_text"]
    assert re.fullmatch(rf"<unparsed: {len(cut)} bytes, hmac-sha256 [0-9a-f]{{16}}>", raw)
    assert "Nguyễn" not in raw
    # Parsed, then refused: personal fields and values that are not their field's shape are masked.
    # (Three attachments would take the masked text past its 2,000 characters, where it is cut.)
    parsed = dossiers(call([dossier(TrangThaiHoSo="026090001234", TaiLieuNop=[])]))
    assert reasons(parsed) == ["TrangThaiHoSo: out of range"]
    raw = parsed.quarantined[0]["raw_text"]
    assert "Nguyễn" not in raw and "001099001234" not in raw and "0912345678" not in raw
    assert "026090001234" not in raw and "an@example.vn" not in raw
    masked = json.loads(raw)
    assert masked["ChuHoSo"] == masked["SoGiayToChuHoSo"] == masked["TrangThaiHoSo"] == masked["DinhDanhCHS"] == "***"
    assert masked["NgayNopHoSo"] == "20250702083000" and masked["KenhThucHien"] == "2"
    assert masked["DanhSachLePhi"][0]["Gia"] == "50000"
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


# --- v1 catalog cases, on a v2 catalog -------------------------------------------------------------


def test_catalog_values_outside_their_set_are_kept_for_staging_to_flag() -> None:
    """v1 quarantined a level outside TINH/HUYEN/XA, MucDo 5 and a negative deadline; v2 keeps them
    (sources.md v2 §2), and staging flags them."""
    lines = [CATALOG_HEADER,
             "1.004227,Đăng ký khai sinh,HT,Hộ tịch,XA,,4,1,0,,0,0,1,1,1,,,,7",
             "1.000001.000.00.00.H62,Cấp phép,XD,Xây dựng,TINH,000.00.04.H62,2,0,15,,500000,1,1,1,0,,,,7",
             "1.1,x,x,x,TINH,,5,0,1,,1,1,1,1,0,,,,7",
             "1.2,x,x,x,QUAN,,3,0,1,,1,1,1,1,0,,,,7",
             "1.3,x,x,x,TINH,,3,0,-1,,1,1,1,1,0,,,,7"]
    parsed = parse_catalog_file("\n".join(lines).encode())
    typed(parsed, "raw_catalog")
    assert not parsed.quarantined and parsed.rows_read == 5
    assert [r["MaTTHC"] for r in parsed.rows] == ["1.004227", "1.000001.000.00.00.H62", "1.1", "1.2", "1.3"]
    assert parsed.rows[1]["PhiLePhi"] == 500000 and parsed.rows[1]["MaCoQuanChuTri"] == "000.00.04.H62"
    assert (parsed.rows[2]["MucDo"], parsed.rows[3]["CapThucHien"], parsed.rows[4]["ThoiHanGiaiQuyet"]) == (
        5, "QUAN", -1)
