"""The v2 parsers (sources.md v2): agency and catalog snapshots, dossier and processing sync calls.

Each test feeds real bytes, as a source writes them, through the parser and checks what loads,
what is quarantined and why, what the audit learns (unknown and missing keys, the envelope), and
that the rows fit the lake's v2 schemas.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import unicodedata
from typing import Any

import pyarrow as pa
import pytest

from dichvucong.landing import lake, parsers
from dichvucong.landing.parsers import (
    FIELD_RULES,
    LINE_RULES,
    MAX_FIELD_CHARS,
    MAX_RECORD_CHARS,
    MAX_RECORD_DEPTH,
    REASON_FIELDS,
    ParsedFile,
    applicant_key,
    is_file_rule,
    parse_agency_file,
    parse_catalog_file,
    parse_sync_call_file,
)

KEY = b"pseudonym-key"
ENVELOPE = {"MaDinhDanhDV": "000.00.01.H62", "ThoiGianDongBo": "20250702083015", "LoaiDongBo": "insert",
            "KetQua": {"error_code": "0", "message": ""}}


def dossier(n: int = 1, **changes: Any) -> dict[str, Any]:
    """A realistic HoSoDongBoDVC record: three attachments, two fee lines, one supplement round."""
    record: dict[str, Any] = {
        "MaHoSo": f"000.00.01.H62-250702-{n:04d}", "MaTTHC": "1.004227", "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HT", "TenLinhVuc": "Hộ tịch", "KenhThucHien": "2", "LoaiDoiTuong": "1",
        "ChuHoSo": "Nguyễn Văn An", "SoGiayToChuHoSo": "001 099.001-234", "SoDienThoai": "0912345678",
        "Email": "an@example.vn", "Fax": "", "MaDoiTuong": "acc-1",
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": "001099001234"}],
        "TrichYeuHoSo": "Khai sinh cho con", "ThongTinTra": "", "GhiChu": "",
        "NgayNopHoSo": "20250702083000", "NgayTiepNhan": "20250702090000", "NgayHenTra": "20250710170000",
        "NgayKetThucXuLy": "", "NgayTra": "", "NgayTuChoi": "", "TrangThaiHoSo": "4", "HinhThuc": "2",
        "DonViXuLy": "UBND xã Tam Đảo", "NoiNopHoSo": "2", "HoSoCoThanhPhanSoHoa": "1",
        "TaiKhoanDuocXacThucVoiVNeID": "1", "DuocThanhToanTrucTuyen": "1",
        "TaiLieuNop": [{"TepDinhKemId": f"F{k}", "TenTepDinhKem": "to_khai.pdf", "IsDeleted": "0",
                        "MaThanhPhanHoSo": f"TP{k}", "DuongDanTaiTepTin": f"/tep/{k}.pdf", "DuocSoHoa": "1",
                        "DuocTaiSuDung": "0", "DuocLayTuKhoDMQG": "0", "MaKetQuaThayThe": ""} for k in range(3)],
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "MaPhiLePhi": "LP1", "HinhThucThu": "1", "Gia": "50000",
                           "LoaiPhiLePhi": "2"},
                          {"TenPhiLePhi": "Phí", "MaPhiLePhi": "P1", "HinhThucThu": "4", "Gia": "8000",
                           "LoaiPhiLePhi": "1"}],
        "DanhSachHoSoBoSung": [{"NguoiYeuCauBoSung": "Cán bộ B", "NoiDungBoSung": "Bổ sung tờ khai",
                                "NgayBoSung": "20250703090000", "NguoiTiepNhanBoSung": "Cán bộ C",
                                "NgayTiepNhanBoSung": "20250704100000", "TrangThaiBoSung": "1",
                                "NgayHenTraTruoc": "20250710170000", "NgayHenTraMoi": "20250711170000"}],
        "DanhSachGiayToKetQua": [{"TenGiayTo": "Giấy khai sinh", "MaThanhPhanHoSo": "KQ1", "GiayToId": "G1",
                                  "DuongDanTepTinKetQua": "/kq/1.pdf", "MaGiayToKetQua": "KQ"}],
        "DSKetNoiCSDL": [{"MaCSDL": "CSDLDC"}],
    }
    return record | changes


def step(n: int = 1, **changes: Any) -> dict[str, Any]:
    """A QuaTrinhXuLyDongBoDVC record."""
    record = {"MaHoSo": f"000.00.01.H62-250702-{n:04d}", "NguoiXuLy": "Trần Thị Bình", "ChucDanh": "Chuyên viên",
              "PhongBanXuLy": "Bộ phận một cửa", "NoiDungXuLy": "Tiếp nhận hồ sơ", "TrangThai": "2",
              "ThoiDiemXuLy": "20250702090000", "NgayBatDau": "20250702083000",
              "NgayKetThucTheoQuyDinh": "20250702170000"}
    return record | changes


DROP = object()  # an envelope key left out


def call(records: list[Any], **envelope: Any) -> bytes:
    """One sync call's file: the envelope (with `envelope`'s changes) around `records`."""
    document = {**ENVELOPE, **envelope, "data": records}
    return json.dumps({k: v for k, v in document.items() if v is not DROP}, ensure_ascii=False).encode()


def schema(table: str) -> pa.Schema:
    return lake.parsed_schema(table)


def typed(parsed: ParsedFile, table: str) -> pa.Table:
    """The rows as the lake types them; also checks that every record read is accounted for."""
    assert parsed.rows_read == len(parsed.rows) + len(parsed.quarantined)
    names = {f.name for f in schema(table)}
    assert all(set(row) == names for row in parsed.rows)  # no column more, none less
    arrow = pa.Table.from_pylist(parsed.rows, schema=schema(table))
    assert arrow.num_rows == len(parsed.rows)
    return arrow


def dossiers(data: bytes) -> ParsedFile:
    return parse_sync_call_file(data, KEY, "dossiers")


def reasons(parsed: ParsedFile) -> list[str]:
    return [q["reason"] for q in parsed.quarantined]


# --- sync calls: typing ---------------------------------------------------------------------------


def test_a_realistic_dossier_call_types_every_column() -> None:
    parsed = dossiers(call([dossier(1), dossier(2)]))
    arrow = typed(parsed, "raw_dossier_syncs")
    assert parsed.file_error is None and not parsed.quarantined and arrow.num_rows == 2
    row = parsed.rows[0]
    assert (row["MaDinhDanhDV"], row["ThoiGianDongBo"].isoformat(), row["LoaiDongBo"], row["MaLoiKetQua"]) == (
        "000.00.01.H62", "2025-07-02T08:30:15", "insert", "0")
    assert row["MaHoSo"] == "000.00.01.H62-250702-0001" and row["_line_number"] == 1
    assert parsed.rows[1]["_line_number"] == 2
    assert (row["KenhThucHien"], row["TrangThaiHoSo"], row["DuocThanhToanTrucTuyen"]) == ("2", 4, "1")
    assert row["NgayTiepNhan"].isoformat() == "2025-07-02T09:00:00" and row["NgayTra"] is None
    assert row["MaNguoiNop"] == applicant_key("001099001234", KEY)
    assert [f["Gia"] for f in row["DanhSachLePhi"]] == [50000, 8000]
    assert [a["TepDinhKemId"] for a in row["TaiLieuNop"]] == ["F0", "F1", "F2"]
    assert row["TaiLieuNop"][0]["MaKetQuaThayThe"] is None
    assert row["DanhSachHoSoBoSung"][0]["NgayTiepNhanBoSung"].isoformat() == "2025-07-04T10:00:00"
    assert row["DanhSachGiayToKetQua"] == [{"GiayToId": "G1", "MaGiayToKetQua": "KQ", "MaThanhPhanHoSo": "KQ1",
                                            "CoTepTinKetQua": True}]
    assert row["DSKetNoiCSDL"] == ["CSDLDC"]
    assert len(row["_record_hash"]) == 64 and int(row["_record_hash"], 16) >= 0
    assert parsed.envelope == {"sync_agency_code": "000.00.01.H62", "sync_time": row["ThoiGianDongBo"],
                               "sync_kind": "insert", "sync_error_code": "0"}
    assert parsed.unknown_columns == [] and parsed.missing_columns == []


def test_blank_null_and_absent_all_mean_absent() -> None:
    record = dossier(KenhThucHien="", LoaiDoiTuong=None, HinhThuc="  ", HoSoCoThanhPhanSoHoa="\t", NgayTiepNhan="",
                     NgayHenTra=None, TrangThaiHoSo="", MaTTHC=None, DonViXuLy="", TaiLieuNop="", DanhSachLePhi=None,
                     DanhSachHoSoBoSung=[], DanhSachGiayToKetQua=[{"DuongDanTepTinKetQua": ""}])
    del record["NoiNopHoSo"], record["DSKetNoiCSDL"], record["NgayNopHoSo"]
    parsed = dossiers(call([record]))
    typed(parsed, "raw_dossier_syncs")
    [row] = parsed.rows
    for name in ("KenhThucHien", "LoaiDoiTuong", "HinhThuc", "HoSoCoThanhPhanSoHoa", "NoiNopHoSo", "NgayTiepNhan",
                 "NgayHenTra", "NgayNopHoSo", "TrangThaiHoSo", "MaTTHC", "DonViXuLy"):
        assert row[name] is None, name
    assert row["TaiLieuNop"] == row["DanhSachLePhi"] == row["DanhSachHoSoBoSung"] == row["DSKetNoiCSDL"] == []
    assert row["DanhSachGiayToKetQua"][0]["CoTepTinKetQua"] is False


def test_integral_decimals_are_integers_and_codes_are_trimmed_text() -> None:
    fees = [{"Gia": "50000.0", "LoaiPhiLePhi": "2.0"}, {"Gia": "50000.00", "HinhThucThu": " 01 "},
            {"Gia": "-5000", "LoaiPhiLePhi": "0"}]
    parsed = dossiers(call([dossier(KenhThucHien=" 02 ", TrangThaiHoSo="4.0", DanhSachLePhi=fees,
                                    MaTTHC=" 1.004227 ", DonViXuLy=" UBND xã ")]))
    typed(parsed, "raw_dossier_syncs")
    [row] = parsed.rows
    assert [f["Gia"] for f in row["DanhSachLePhi"]] == [50000, 50000, -5000]  # a negative fee: staging flags it
    assert row["DanhSachLePhi"][0]["LoaiPhiLePhi"] == "2" and row["DanhSachLePhi"][1]["HinhThucThu"] == "1"
    assert (row["KenhThucHien"], row["TrangThaiHoSo"], row["MaTTHC"]) == ("2", 4, "1.004227")
    assert row["DonViXuLy"] == " UBND xã "  # a name is kept as sent


def test_json_numbers_are_accepted_where_integral() -> None:
    text = call([dossier(MaTTHC="@MaTTHC", KenhThucHien="@Kenh", TrangThaiHoSo="@TT", NgayNopHoSo="@Nop",
                         DanhSachLePhi=[{"Gia": "@Gia", "LoaiPhiLePhi": "@Loai"}]),
                 dossier(2, MaTTHC="@Float")]).decode()
    for marker, number in (("@MaTTHC", "1004227"), ("@Kenh", "2.0"), ("@TT", "10"), ("@Nop", "20250702083000"),
                           ("@Gia", "5e4"), ("@Loai", "2.5"), ("@Float", "1.004227")):
        text = text.replace(f'"{marker}"', number)
    parsed = dossiers(text.encode())
    typed(parsed, "raw_dossier_syncs")
    [row] = parsed.rows
    assert (row["MaTTHC"], row["KenhThucHien"], row["TrangThaiHoSo"]) == ("1004227", "2", 10)
    assert row["NgayNopHoSo"].isoformat() == "2025-07-02T08:30:00"
    assert row["DanhSachLePhi"][0]["Gia"] == 50000 and row["DanhSachLePhi"][0]["LoaiPhiLePhi"] == "2.5"
    # A code written as a non-integral number may have lost its digits (1.004220 -> 1.00422): refused.
    assert reasons(parsed) == ["MaTTHC: not a text"]


def test_codes_outside_their_set_are_kept_as_sent() -> None:
    parsed = dossiers(call([dossier(KenhThucHien="web", DuocThanhToanTrucTuyen="9", HinhThuc=" X ",
                                    TaiKhoanDuocXacThucVoiVNeID=True,
                                    TaiLieuNop=[{"IsDeleted": "có", "DuocSoHoa": "2"}])],
                           LoaiDongBo=" upsert "))
    typed(parsed, "raw_dossier_syncs")
    [row] = parsed.rows
    assert (row["KenhThucHien"], row["DuocThanhToanTrucTuyen"], row["HinhThuc"]) == ("web", "9", "X")
    assert row["TaiKhoanDuocXacThucVoiVNeID"] == "true"
    assert row["TaiLieuNop"][0]["IsDeleted"] == "có" and row["LoaiDongBo"] == "upsert"


def test_the_applicant_key_falls_back_to_the_first_identity() -> None:
    identities = [{"LoaiDinhDanh": "1", "SoDinhDanh": ""}, {"LoaiDinhDanh": "2", "SoDinhDanh": "0101234567"},
                  {"LoaiDinhDanh": "1", "SoDinhDanh": "001099009999"}]
    long_id = "CCCD " + "1" * 100  # not an ID number, but what was sent: hashed all the same
    parsed = dossiers(call([dossier(SoGiayToChuHoSo="", DinhDanhCHS=identities),
                            dossier(2, SoGiayToChuHoSo=None, DinhDanhCHS=None),
                            dossier(3, SoGiayToChuHoSo="001.099.001.234"), dossier(4, SoGiayToChuHoSo=long_id)]))
    assert [r["MaNguoiNop"] for r in parsed.rows] == [applicant_key("0101234567", KEY), None,
                                                      applicant_key("001099001234", KEY),
                                                      applicant_key.__wrapped__(long_id, KEY)]


def test_unknown_keys_and_renamed_lists_are_reported_never_silently_dropped() -> None:
    renamed = dossier(DSHoSoBoSung=[{"NgayBoSung": "20250703090000"}])
    old_name = dossier(2, DanhSachBoSung=[{"NgayYeuCau": "20250703090000"}])
    del renamed["DanhSachHoSoBoSung"], old_name["DanhSachHoSoBoSung"]
    attachment = dossier(3, TaiLieuNop=[{"TepDinhKemId": "F", "KichThuoc": "12"}],
                         DinhDanhCHS=[{"SoDinhDanh": "001099001234", "NoiCap": "CA"}])
    parsed = dossiers(call([renamed, old_name, attachment], MaTinh="25", KetQua={"error_code": "0", "ma": "x"}))
    typed(parsed, "raw_dossier_syncs")
    assert len(parsed.rows) == 3 and parsed.rows[0]["DanhSachHoSoBoSung"] == []
    assert set(parsed.unknown_columns) == {"MaTinh", "KetQua.ma", "DSHoSoBoSung", "DanhSachBoSung",
                                           "TaiLieuNop.KichThuoc", "DinhDanhCHS.NoiCap"}


def test_keys_no_record_carries_are_missing_columns() -> None:
    records = [dossier(n) for n in range(3)]
    for record in records:
        del record["Fax"], record["DonViXuLy"], record["DanhSachGiayToKetQua"]  # a list may be absent
    parsed = dossiers(call(records, LoaiDongBo=DROP, KetQua=DROP))
    assert parsed.missing_columns == ["LoaiDongBo", "KetQua.error_code", "Fax", "DonViXuLy"]
    assert {r["MaLoiKetQua"] for r in parsed.rows} == {None} and parsed.envelope is not None
    assert parsed.envelope["sync_error_code"] is None and parsed.envelope["sync_kind"] is None
    one_has_it = dossiers(call([records[0], dossier(9)]))
    assert one_has_it.missing_columns == []


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_a_file_with_a_byte_order_mark_is_decoded_by_it(encoding: str) -> None:
    text = call([dossier(1), dossier(2, TrangThaiHoSo="12")]).decode()
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    parsed = dossiers(data)
    assert parsed.file_error is None and len(parsed.rows) == 1
    assert reasons(parsed) == ["TrangThaiHoSo: not in the contract's code set"]
    assert parsed.rows[0]["_record_hash"] == dossiers(text.encode()).rows[0]["_record_hash"]
    assert parsed.rows[0]["DonViXuLy"] == "UBND xã Tam Đảo"


def test_a_processing_call_types_the_steps() -> None:
    parsed = parse_sync_call_file(call([step(1), step(2, TrangThai="4", ThoiDiemXuLy="20250703100000"),
                                        step(3, TrangThai="0"), step(4, ThoiDiemXuLy="2025-07-03")]),
                                  KEY, "processing")
    typed(parsed, "raw_processing_steps")
    assert [r["TrangThai"] for r in parsed.rows] == [2, 4]
    assert parsed.rows[1]["ThoiDiemXuLy"].isoformat() == "2025-07-03T10:00:00"
    assert set(parsed.rows[0]) == {f.name for f in schema("raw_processing_steps")}
    assert reasons(parsed) == ["TrangThai: not in the contract's code set",
                               "ThoiDiemXuLy: not a timestamp yyyyMMddHHmmss"]
    assert [q["line_number"] for q in parsed.quarantined] == [3, 4]


def test_a_rejected_call_is_kept_with_its_error_code() -> None:
    rejected = dossiers(call([dossier(1), dossier(2)], KetQua={"error_code": "-1", "message": "Lỗi xác thực"}))
    typed(rejected, "raw_dossier_syncs")
    assert [r["MaLoiKetQua"] for r in rejected.rows] == ["-1", "-1"]
    assert rejected.envelope is not None and rejected.envelope["sync_error_code"] == "-1"
    for answer, code in ((DROP, None), ("ok", None), ({"error_code": " 0 "}, "0"), ({"error_code": None}, None),
                         ({"error_code": {"x": 1}}, None)):
        assert dossiers(call([dossier()], KetQua=answer)).rows[0]["MaLoiKetQua"] == code, answer
    numeric = call([dossier()], KetQua={"error_code": "@"}).replace(b'"@"', b"0")
    assert dossiers(numeric).rows[0]["MaLoiKetQua"] == "0"


def test_a_call_with_no_records_still_counts() -> None:
    parsed = dossiers(call([], LoaiDongBo="update"))
    assert (parsed.rows, parsed.quarantined, parsed.rows_read, parsed.file_error) == ([], [], 0, None)
    assert parsed.envelope is not None and parsed.envelope["sync_kind"] == "update"
    assert parsed.envelope["sync_time"].isoformat() == "2025-07-02T08:30:15"
    assert parsed.missing_columns == []


def test_a_lone_surrogate_escape_costs_only_a_record_that_keeps_it() -> None:
    """`\\ud800` is valid JSON but no Unicode text: no Parquet string can hold it."""
    records = [dossier(1, DonViXuLy="@lone"), dossier(2, GhiChu="@lone", DonViXuLy="@pair"),
               dossier(3, MaHoSo="X-@lone"), dossier(4, **{"Khoa@lone": "1"}),
               dossier(5, DanhSachLePhi=[{"TenPhiLePhi": "@lone"}])]
    text = call(records, LoaiDongBo="@lone").decode()
    data = text.replace("@lone", "\\udc80").replace("@pair", "\\ud83d\\ude00").encode()
    parsed = dossiers(data)
    arrow = typed(parsed, "raw_dossier_syncs")
    assert [r["_line_number"] for r in parsed.rows] == [2, 4]
    assert arrow.column("DonViXuLy").to_pylist() == ["\U0001f600", "UBND xã Tam Đảo"]
    assert reasons(parsed) == ["DonViXuLy: not a text", "MaHoSo: not a text", "DanhSachLePhi.TenPhiLePhi: not a text"]
    assert parsed.unknown_columns == ["***"] and parsed.rows[0]["LoaiDongBo"] is None  # not a field name: masked
    assert all(q["raw_text"].encode() for q in parsed.quarantined)  # encodable: no surrogate kept
    bad_agency = dossiers(call([dossier()], MaDinhDanhDV="@lone").decode().replace("@lone", "\\ud800").encode())
    assert bad_agency.file_error == "MaDinhDanhDV: not a text" and bad_agency.rows_read == 1


# --- sync calls: duplicates and conflicts ----------------------------------------------------------


def test_the_record_hash_tells_a_duplicate_from_a_conflict() -> None:
    record = dossier()
    reordered = dict(reversed(list(copy.deepcopy(record).items())))
    reordered["TaiLieuNop"][0] = dict(reversed(list(reordered["TaiLieuNop"][0].items())))
    spaced = json.dumps({**ENVELOPE, "data": [record]}, indent=4, ensure_ascii=True).encode()
    hashes = [r["_record_hash"] for r in dossiers(call([record, record, reordered])).rows]
    hashes.append(dossiers(spaced).rows[0]["_record_hash"])
    assert len(set(hashes)) == 1  # the same content, however written
    changed = [dossier(NgayTra="20250710090000"), dossier(SoDienThoai="0912345679"),
               dossier(DanhSachLePhi=[{"Gia": "50001"}]), dossier(GhiChu="x"), dossier(Extra="1")]
    others = [r["_record_hash"] for r in dossiers(call(changed)).rows]
    assert len(set(others)) == len(changed) and hashes[0] not in others
    assert parse_sync_call_file(call([record]), b"other key", "dossiers").rows[0]["_record_hash"] != hashes[0]
    canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()
    assert hashes[0] != hashlib.sha256(canonical).hexdigest()  # keyed: a short record cannot be guessed


def test_the_fast_canonical_encoder_writes_the_json_modules_bytes() -> None:
    """The hash is defined on the json module's canonical JSON; msgspec only makes it faster."""
    pytest.importorskip("msgspec")
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    keys = [every[i:i + 3] for i in range(0, 3000, 7)] + ["", "a", "B", "é", "\U0001f600", "\x00", "\u2028"]
    record: dict[str, Any] = {k: [k, None, True, False, {k[::-1]: ""}] for k in keys}
    record["all"] = every
    record["number"] = parsers._Number("1e400")
    assert parsers._canonical(record) == parsers._json_canonical(record)
    assert parsers._canonical(record)[1] is False
    lone = {"a": "\ud800"}
    assert parsers._canonical(lone) == parsers._json_canonical(lone) == (b'{"a":"\xed\xa0\x80"}', True)


def test_the_fast_path_gives_the_careful_paths_rows(monkeypatch: pytest.MonkeyPatch) -> None:
    odd: list[Any] = [
        dossier(1), dossier(2, KenhThucHien=" 2"), dossier(3, KenhThucHien="02"), dossier(4, MaHoSo=" X "),
        dossier(5, MaTTHC=None), dossier(6, TaiLieuNop=[{"IsDeleted": None, "TepDinhKemId": None}]),
        dossier(7, DanhSachLePhi=[{"Gia": None}, {"Gia": "1.0"}, {"Gia": ""}]), dossier(8, TrangThaiHoSo="04"),
        dossier(9, TrangThaiHoSo=" 4 "), dossier(10, DSKetNoiCSDL=[{}, {"MaCSDL": " CSDLDC "}]),
        dossier(11, DanhSachGiayToKetQua=[{"DuongDanTepTinKetQua": "  "}]), dossier(12, TaiLieuNop={}),
        dossier(13, DanhSachLePhi=[["Gia"]]), dossier(14, MaTTHC={"a": 1}), dossier(15, KenhThucHien=[]),
        dossier(16, MaHoSo=None), dossier(17, MaHoSo="  "), dossier(18, HinhThuc=False),
        dossier(19, SoGiayToChuHoSo=False), dossier(20, SoGiayToChuHoSo=None), dossier(21, NgayTra="x"),
        dossier(22, DonViXuLy=["x"]), dossier(23, TrangThaiHoSo="0"), dossier(24, TrangThaiHoSo=None),
        dossier(25, DinhDanhCHS="x"), dossier(26, DanhSachHoSoBoSung=[{"NgayBoSung": "2025070309000"}]),
        dossier(27, NgayNopHoSo="20250702240000"), dossier(28, NgayNopHoSo="２０２５０７０２０８３０００"),
        dossier(29, TaiLieuNop=[{"MaKetQuaThayThe": "   "}]), dossier(30, DanhSachLePhi=[{"Gia": "9" * 30}]),
        dossier(31, LoaiDoiTuong="10"), dossier(32, LoaiDoiTuong="100"), dossier(33, KenhThucHien="\u00a02"),
    ]
    data = call(odd)
    fast = dossiers(data)
    monkeypatch.setattr(parsers._SyncCall, "fast_dossier_row", lambda self, record: {}["slow"])
    careful = dossiers(data)
    assert fast.rows == careful.rows and fast.quarantined == careful.quarantined
    assert len(fast.rows) > 15 and len(fast.quarantined) > 10
    typed(fast, "raw_dossier_syncs")


# --- sync calls: quarantine -----------------------------------------------------------------------

RECORD_RULES: list[tuple[Any, str]] = [
    (["a list"], "not a JSON object"),
    ("a text", "not a JSON object"),
    (None, "not a JSON object"),
    (dossier(MaHoSo=""), "MaHoSo: missing"),
    (dossier(MaHoSo="   "), "MaHoSo: missing"),
    (dossier(MaHoSo=None), "MaHoSo: missing"),
    ({k: v for k, v in dossier().items() if k != "MaHoSo"}, "MaHoSo: missing"),
    (dossier(MaHoSo={"id": "1"}), "MaHoSo: not a text"),
    (dossier(NgayTiepNhan="2025-07-02"), "NgayTiepNhan: not a timestamp yyyyMMddHHmmss"),
    (dossier(NgayTiepNhan="20251302083000"), "NgayTiepNhan: impossible date"),
    (dossier(NgayTra="20250702240000"), "NgayTra: impossible date"),
    (dossier(NgayHenTra=["20250710170000"]), "NgayHenTra: not a timestamp yyyyMMddHHmmss"),
    (dossier(TrangThaiHoSo="11"), "TrangThaiHoSo: not in the contract's code set"),
    (dossier(TrangThaiHoSo="0"), "TrangThaiHoSo: not in the contract's code set"),
    (dossier(TrangThaiHoSo="Đang xử lý"), "TrangThaiHoSo: not an integer"),
    (dossier(TrangThaiHoSo="4.5"), "TrangThaiHoSo: not an integer"),
    (dossier(DanhSachLePhi=[{"Gia": "nhiều"}]), "DanhSachLePhi.Gia: not an integer"),
    (dossier(DanhSachLePhi=[{"Gia": "50000.5"}]), "DanhSachLePhi.Gia: not an integer"),
    (dossier(DanhSachLePhi=[{"Gia": "50,000"}]), "DanhSachLePhi.Gia: not an integer"),
    (dossier(DanhSachLePhi=[{"Gia": "9223372036854775808"}]), "DanhSachLePhi.Gia: out of range"),
    (dossier(TaiLieuNop="tệp"), "TaiLieuNop: not an array"),
    (dossier(DanhSachLePhi={"Gia": "1"}), "DanhSachLePhi: not an array"),
    (dossier(DinhDanhCHS={"SoDinhDanh": "1"}), "DinhDanhCHS: not an array"),
    (dossier(DanhSachLePhi=["50000"]), "DanhSachLePhi: entry is not an object"),
    (dossier(DSKetNoiCSDL=["CSDLDC"]), "DSKetNoiCSDL: entry is not an object"),
    (dossier(DanhSachHoSoBoSung=[{"NgayBoSung": "hôm qua"}]),
     "DanhSachHoSoBoSung.NgayBoSung: not a timestamp yyyyMMddHHmmss"),
    (dossier(DanhSachGiayToKetQua=[{"DuongDanTepTinKetQua": {"url": "x"}}]),
     "DanhSachGiayToKetQua.DuongDanTepTinKetQua: not a text"),
    (dossier(KenhThucHien={"ma": "2"}), "KenhThucHien: not a text"),
    (dossier(SoGiayToChuHoSo=["001099001234"]), "SoGiayToChuHoSo: not a text"),
    (dossier(DonViXuLy="x" * (MAX_FIELD_CHARS + 1)), "DonViXuLy: over the size limit"),
    (dossier(Extra=json.loads("[" * 40 + "]" * 40)), "record nested too deep"),
    (dossier(GhiChu=json.loads('{"a":' * 40 + "1" + "}" * 40)), "record nested too deep"),
    (dossier(TaiLieuNop=[{"TenTepDinhKem": json.loads("[" * (MAX_RECORD_DEPTH - 2) + "]" * (MAX_RECORD_DEPTH - 2))}]),
     "record nested too deep"),
]


@pytest.mark.parametrize(("record", "reason"), RECORD_RULES, ids=[r for _, r in RECORD_RULES])
def test_each_quarantine_rule_costs_only_its_record(record: Any, reason: str) -> None:
    parsed = dossiers(call([dossier(1), record, dossier(3)]))
    typed(parsed, "raw_dossier_syncs")
    assert [r["_line_number"] for r in parsed.rows] == [1, 3]
    assert parsed.quarantined[0]["line_number"] == 2 and reasons(parsed) == [reason]
    field, _, rule = reason.partition(": ")
    assert reason in LINE_RULES or (field in REASON_FIELDS and rule in FIELD_RULES)
    assert parsed.file_error is None


def test_nesting_the_contract_allows_is_not_too_deep() -> None:
    shallow = json.loads("[" * (MAX_RECORD_DEPTH - 4) + "]" * (MAX_RECORD_DEPTH - 4))
    parsed = dossiers(call([dossier(Extra=shallow, TaiLieuNop=[{"TenTepDinhKem": shallow}])]))
    assert len(parsed.rows) == 1 and not parsed.quarantined


# --- sync calls: limits ---------------------------------------------------------------------------


def test_a_record_over_the_size_limit_is_quarantined_and_the_rest_loads() -> None:
    parsed = dossiers(call([dossier(1), dossier(2, GhiChu="x" * MAX_RECORD_CHARS), dossier(3)]))
    assert [r["_line_number"] for r in parsed.rows] == [1, 3]
    [entry] = parsed.quarantined
    assert entry["reason"] == "record over the size limit" and entry["raw_text"].startswith("<unparsed: ")
    assert len(entry["raw_text"]) < 100


@pytest.mark.parametrize(("number", "reason"), [
    ("Infinity", "out of range"), ("-Infinity", "out of range"), ("NaN", "not an integer"),
    ("1e400", "out of range"), ("9" * 5000, "out of range"), ("1" + "0" * 30, "out of range"),
    ("1E-400", "not an integer"), ("1e99999999999", "out of range"), ("-9223372036854775809", "out of range"),
])
def test_an_absurd_json_number_costs_only_its_record(number: str, reason: str) -> None:
    text = call([dossier(1), dossier(2, DanhSachLePhi=[{"Gia": "@"}]), dossier(3, GhiChu="@", Extra="@"),
                 dossier(4, TrangThaiHoSo="@"), dossier(5, KenhThucHien="@")]).replace(b'"@"', number.encode())
    parsed = dossiers(text)
    typed(parsed, "raw_dossier_syncs")
    assert parsed.file_error is None
    quarantined = dict(zip((q["line_number"] for q in parsed.quarantined), reasons(parsed), strict=True))
    assert quarantined[2] == f"DanhSachLePhi.Gia: {reason}"
    assert quarantined[4].startswith("TrangThaiHoSo: ")
    loaded = {r["_line_number"]: r for r in parsed.rows}
    assert 1 in loaded and 3 in loaded  # a dropped or unknown field holds anything
    if len(number) <= MAX_FIELD_CHARS:  # a code is kept as sent, unless it has an ID number's or phone's digits
        assert loaded[5]["KenhThucHien"] == ("***" if re.search(r"(?<!\d)\d{9,12}(?!\d)", number) else number)
    else:
        assert quarantined[5] == "KenhThucHien: over the size limit"


def test_an_amount_at_the_edge_of_int64_loads() -> None:
    parsed = dossiers(call([dossier(DanhSachLePhi=[{"Gia": "9223372036854775807"}, {"Gia": "-9223372036854775808"},
                                                   {"Gia": "9.223372036854775807e18"}])]))
    typed(parsed, "raw_dossier_syncs")
    assert [f["Gia"] for f in parsed.rows[0]["DanhSachLePhi"]] == [2**63 - 1, -(2**63), 2**63 - 1]


# --- sync calls: files quarantined whole ----------------------------------------------------------

WHOLE_FILE: list[tuple[bytes, str]] = [
    (b"", "invalid JSON: expecting a value"),
    (call([dossier()]).rstrip(b"}"), "invalid JSON: expecting ','"),
    (call([dossier()])[:-40], "invalid JSON: unterminated string"),
    (call([dossier()]) + b"\n{}", "invalid JSON: data after the value"),
    (b'{"data": [' + b"[" * 100_000 + b"]" * 100_000 + b"]}", "invalid JSON: nested too deep"),
    (json.dumps([dossier()]).encode(), "not a JSON object"),
    (b'"just a text"', "not a JSON object"),
    (json.dumps({**ENVELOPE}).encode(), "data: missing"),
    (json.dumps({**ENVELOPE, "data": None}).encode(), "data: missing"),
    (json.dumps({**ENVELOPE, "data": {"0": dossier()}}).encode(), "data: not an array"),
    (b"\xff\xfe" + b"{\x00\xd8", "not UTF-16"),
]


@pytest.mark.parametrize(("data", "reason"), WHOLE_FILE, ids=[r for _, r in WHOLE_FILE])
def test_a_file_that_cannot_be_read_is_one_quarantined_row(data: bytes, reason: str) -> None:
    parsed = dossiers(data)
    assert parsed.file_error == reason and parsed.rows == [] and parsed.envelope is None
    assert parsed.rows_read == 1 and reasons(parsed) == [reason]
    assert parsed.quarantined[0]["line_number"] is None
    assert parsed.quarantined[0]["raw_text"].startswith("<unparsed: ")
    assert reason in LINE_RULES or is_file_rule(reason) or reason.partition(": ")[0] in REASON_FIELDS


@pytest.mark.parametrize(("envelope", "reason"), [
    ({"MaDinhDanhDV": DROP}, "MaDinhDanhDV: missing"),
    ({"MaDinhDanhDV": "  "}, "MaDinhDanhDV: missing"),
    ({"MaDinhDanhDV": {"ma": "x"}}, "MaDinhDanhDV: not a text"),
    ({"ThoiGianDongBo": DROP}, "ThoiGianDongBo: missing"),
    ({"ThoiGianDongBo": "2025-07-02 08:30:15"}, "ThoiGianDongBo: not a timestamp yyyyMMddHHmmss"),
    ({"ThoiGianDongBo": "20250732083015"}, "ThoiGianDongBo: impossible date"),
])
def test_an_envelope_without_agency_or_time_quarantines_each_record(envelope: dict[str, Any], reason: str) -> None:
    parsed = dossiers(call([dossier(1), dossier(2), "x"], **envelope))
    assert parsed.file_error == reason and parsed.rows == [] and parsed.envelope is None
    assert parsed.rows_read == 3 and reasons(parsed) == [reason] * 3
    assert [q["line_number"] for q in parsed.quarantined] == [1, 2, 3]
    assert parsed.quarantined[0]["raw_text"].startswith('{"MaHoSo": "000.00.01.H62-250702-0001"')  # masked


def cp1258(text: str) -> bytes:
    """Vietnamese in Windows-1258, as legacy tools write it: a letter the code page lacks is its
    base letter (with the one mark the page has precomposed, as ô or ư) and combining tone marks."""
    out = bytearray()
    for char in unicodedata.normalize("NFC", text):
        try:
            out += char.encode("cp1258")
            continue
        except UnicodeEncodeError:
            pass
        base, *marks = unicodedata.normalize("NFD", char)
        for i in [None, *range(len(marks))]:
            head = base if i is None else unicodedata.normalize("NFC", base + marks[i])
            rest = "".join(m for j, m in enumerate(marks) if j != i)
            try:
                out += head.encode("cp1258") + rest.encode("cp1258")
                break
            except UnicodeEncodeError:
                continue
        else:
            raise ValueError(char)
    return bytes(out)


def test_a_legacy_encoded_call_is_quarantined_whole_naming_the_encoding() -> None:
    # Which code page a detector names is a guess from the bytes: a Windows one, for these.
    vietnamese = dossiers(cp1258(call([dossier(1), dossier(2)]).decode()))
    assert re.fullmatch(r"not UTF-8 \(looks like cp125\d\)", vietnamese.file_error or "") and vietnamese.rows == []
    assert vietnamese.rows_read == 1 and reasons(vietnamese) == [vietnamese.file_error]
    french = [{"MaHoSo": f"H-{n}", "TenTTHC": "Déclaration de naissance à la mairie", "ChuHoSo": "François Müller",
               "DonViXuLy": "Société générale, façade, élève"} for n in range(3)]
    western = dossiers(json.dumps({**ENVELOPE, "data": french}, ensure_ascii=False).encode("windows-1252"))
    assert western.file_error == "not UTF-8 (looks like cp1252)" and western.rows == []
    assert is_file_rule(western.file_error)


def test_a_sync_call_of_another_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        parse_sync_call_file(call([]), KEY, "payments")


# --- agencies and catalog -------------------------------------------------------------------------

AGENCY_HEADER = "MaDinhDanh,TenCoQuan,CapCoQuan,MaCoQuanCha,MaDVHC,NgayHieuLuc,NgayHetHieuLuc,MaCoQuanKeThua"
CATALOG_HEADER = ("MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,CapThucHien,MaCoQuanChuTri,MucDo,DuDieuKienToanTrinh,"
                  "ThoiHanGiaiQuyet,DonViThoiHan,PhiLePhi,CoPhiLePhi,CoKetQuaGiay,DoiTuongCongDan,KetNoiCSDLDanCu,"
                  "NgayQuyetDinhCongBo,NgayHieuLucVanBan,NgayCongKhai,SoBoPhanCongKhai")


def test_an_agency_list_with_cr_line_ends_and_a_multi_line_name_loads() -> None:
    lines = [AGENCY_HEADER + ",GhiChu",
             "000.00.01.H62,Sở Tư pháp,TINH,,25,2025-07-01,,,",
             '000.21.30.H62,"Ủy ban nhân dân\rxã Tam Đảo", XA ,000.00.21.H62,08866,2020-01-01,2025-07-01,'
             "000.30.30.H62,ghi chú",
             "000.00.02.H62,Sở Nội vụ,QUAN,,,2025-07-01,,,"]
    parsed = parse_agency_file("\r".join(lines).encode("utf-8-sig"))
    typed(parsed, "raw_agencies")
    assert parsed.file_error is None and parsed.unknown_columns == ["GhiChu"] and parsed.missing_columns == []
    assert [r["MaDinhDanh"] for r in parsed.rows] == ["000.00.01.H62", "000.21.30.H62", "000.00.02.H62"]
    commune = parsed.rows[1]
    assert commune["TenCoQuan"] == "Ủy ban nhân dân\rxã Tam Đảo" and commune["CapCoQuan"] == "XA"
    assert commune["MaDVHC"] == "08866" and commune["NgayHetHieuLuc"].isoformat() == "2025-07-01"
    assert commune["MaCoQuanKeThua"] == "000.30.30.H62" and commune["MaCoQuanCha"] == "000.00.21.H62"
    assert parsed.rows[0]["MaCoQuanCha"] is None and parsed.rows[0]["NgayHetHieuLuc"] is None
    assert parsed.rows[2]["CapCoQuan"] == "QUAN"  # outside the set: staging flags it
    assert [r["_line_number"] for r in parsed.rows] == [2, 3, 5]
    assert parsed.envelope is None


def test_agency_rows_without_a_key_or_with_a_wrong_date_are_quarantined() -> None:
    rows = ["000.00.01.H62,Sở Tư pháp,TINH,,,2025-07-01,,", " ,Không mã,TINH,,,2025-07-01,,",
            "000.00.03.H62,Sở Y tế,TINH,,,2025-02-30,,", "000.00.04.H62,Sở Xây dựng,TINH,,,01/07/2025,,",
            "000.00.05.H62,Sở Tài chính,TINH,,,2025-07-01,,,", "000.00.06.H62,Sở Công Thương,TINH,,,,,"]
    parsed = parse_agency_file("\n".join([AGENCY_HEADER, *rows]).encode())
    typed(parsed, "raw_agencies")
    assert [r["MaDinhDanh"] for r in parsed.rows] == ["000.00.01.H62", "000.00.06.H62"]
    assert parsed.rows[1]["NgayHieuLuc"] is None  # kept: staging flags a row without its first day
    assert reasons(parsed) == ["MaDinhDanh: missing", "NgayHieuLuc: impossible date",
                               "NgayHieuLuc: not a date yyyy-MM-dd", "field count differs from the header"]
    assert parsed.quarantined[1]["raw_text"].startswith("000.00.03.H62,Sở Y tế,TINH,")  # masked, codes kept


def test_an_agency_file_without_a_contract_column_is_quarantined_whole() -> None:
    header = AGENCY_HEADER.replace(",MaCoQuanKeThua", "")
    parsed = parse_agency_file(f"{header}\n000.00.01.H62,Sở Tư pháp,TINH,,,2025-07-01,\n".encode())
    assert parsed.file_error == "header: missing columns MaCoQuanKeThua" and parsed.rows == []
    assert parsed.missing_columns == ["MaCoQuanKeThua"] and parsed.rows_read == 1
    legacy = parse_agency_file(cp1258("\n".join([AGENCY_HEADER, *(
        f"000.{i:02d}.01.H62,Sở Tư pháp tỉnh Phú Thọ — phòng Hộ tịch {i},TINH,,,2025-07-01,," for i in range(4))])))
    assert legacy.file_error == "not UTF-8 (looks like cp1258)" and legacy.rows_read == len(legacy.quarantined) == 4


def test_a_catalog_with_cr_line_ends_a_multi_line_name_and_decimal_fees_loads() -> None:
    rows = [CATALOG_HEADER,
            '1.004227,"Đăng ký khai sinh\r\nkết hợp cấp thẻ BHYT",HT,Hộ tịch,XA,,4,1,0,,50000.0,1,1,1,1,'
            "2024-03-01,2024-04-15,2024-03-20,7",
            "1.001234,Cấp giấy phép xây dựng,XD,Xây dựng,TINH;HUYEN,000.00.05.H62,3,0,15,NgayLamViec,"
            "100000.00,1,1,1,0,,,,5",
            "2.000001,Thủ tục không trực tuyến,TP,Tư pháp,TINH,,7,2,20,Ngay,-1,3,0,0,0,,,,9"]
    parsed = parse_catalog_file("\r".join(rows).encode())
    typed(parsed, "raw_catalog")
    assert parsed.file_error is None and len(parsed.rows) == 3 and parsed.rows_read == 3
    first, second, odd = parsed.rows
    assert first["TenTTHC"] == "Đăng ký khai sinh\r\nkết hợp cấp thẻ BHYT" and first["PhiLePhi"] == 50000
    assert first["MucDo"] == 4 and first["ThoiHanGiaiQuyet"] == 0 and first["DonViThoiHan"] is None
    assert first["NgayQuyetDinhCongBo"].isoformat() == "2024-03-01" and first["SoBoPhanCongKhai"] == 7
    assert second["CapThucHien"] == "TINH;HUYEN" and second["PhiLePhi"] == 100000
    assert second["MaCoQuanChuTri"] == "000.00.05.H62" and second["NgayCongKhai"] is None
    assert (odd["MucDo"], odd["DuDieuKienToanTrinh"], odd["PhiLePhi"], odd["SoBoPhanCongKhai"]) == (7, 2, -1, 9)


@pytest.mark.parametrize(("cells", "reason"), [
    ({"MaTTHC": ""}, "MaTTHC: missing"),
    ({"MucDo": "mức 4"}, "MucDo: not an integer"),
    ({"MucDo": "300"}, "MucDo: out of range"),
    ({"ThoiHanGiaiQuyet": "2147483648"}, "ThoiHanGiaiQuyet: out of range"),
    ({"ThoiHanGiaiQuyet": "1.5"}, "ThoiHanGiaiQuyet: not an integer"),
    ({"PhiLePhi": "50 000"}, "PhiLePhi: not an integer"),
    ({"PhiLePhi": "9" * 5000}, "PhiLePhi: out of range"),
    ({"PhiLePhi": "Infinity"}, "PhiLePhi: out of range"),
    ({"CoPhiLePhi": "có"}, "CoPhiLePhi: not an integer"),
    ({"NgayCongKhai": "2024-02-30"}, "NgayCongKhai: impossible date"),
    ({"NgayHieuLucVanBan": "15/04/2024"}, "NgayHieuLucVanBan: not a date yyyy-MM-dd"),
    ({"TenTTHC": "x" * (MAX_FIELD_CHARS + 1)}, "TenTTHC: over the size limit"),
])
def test_each_catalog_rule_costs_only_its_row(cells: dict[str, str], reason: str) -> None:
    row = "1.004227,Khai sinh,HT,Hộ tịch,XA,,4,1,0,,0,0,1,1,1,,,,7"
    good = dict(zip(CATALOG_HEADER.split(","), row.split(","), strict=True))
    bad = good | cells
    parsed = parse_catalog_file("\n".join([CATALOG_HEADER, ",".join(good.values()), ",".join(bad.values())])
                                   .encode())
    typed(parsed, "raw_catalog")
    assert len(parsed.rows) == 1 and reasons(parsed) == [reason]
    assert parsed.quarantined[0]["line_number"] == 3


def test_a_catalog_header_lacking_columns_names_them_and_has_no_envelope() -> None:
    parsed = parsers.parse_catalog_file(b"MaTTHC,TenTTHC\n1.1,x\n")
    assert parsed.file_error is not None and parsed.file_error.startswith("header: missing columns MaLinhVuc")
    assert parsed.envelope is None and parsed.missing_columns[0] == "MaLinhVuc"
