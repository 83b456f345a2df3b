"""Personal data never leaves the v2 parsers (sources.md v2, fields marked ◆, and the free text,
file names and paths the lake drops).

Every record carries its own planted name, ID numbers, phones and e-mail in every personal field:
at the top level, in DinhDanhCHS, in the supplement rounds, in attachment and result names and
paths, in the portal's message and in the processing log. Valid records, broken records of every
kind and files quarantined whole (UTF-8 and UTF-16) go through the parsers; everything they return
is serialised and searched, and no planted value may be found.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from dichvucong.landing import lake
from dichvucong.landing.parsers import (
    MAX_RECORD_CHARS,
    ParsedFile,
    applicant_key,
    parse_agency_file,
    parse_sync_call_file,
)

KEY = b"pseudonym-key"
_serial = itertools.count(1)


@dataclass(frozen=True)
class Plant:
    """One record's own personal values."""

    n: int

    @property
    def name(self) -> str:
        return f"Nguyễn Văn Planted{self.n:04d}"

    @property
    def officer(self) -> str:
        return f"Trần Thị Officer{self.n:04d}"

    @property
    def id(self) -> str:
        return f"0010{self.n:08d}"

    @property
    def tax_code(self) -> str:
        return f"0109{self.n:06d}"

    @property
    def phone(self) -> str:
        return f"0913{self.n:06d}"

    @property
    def fax(self) -> str:
        return f"0243{self.n:06d}"

    @property
    def email(self) -> str:
        return f"planted{self.n}@example.vn"

    def needles(self) -> list[str]:
        """What must not be found: each value, its ASCII part, its digits without leading zeros
        (a JSON number keeps no zeros), and the ASCII parts as UTF-16 misread as bytes shows them."""
        parts = [f"Planted{self.n:04d}", f"Officer{self.n:04d}", self.id.lstrip("0"), self.tax_code.lstrip("0"),
                 self.phone.lstrip("0"), self.fax.lstrip("0"), f"planted{self.n}@"]
        return [self.name, self.officer, self.id, self.tax_code, self.phone, self.fax, self.email, *parts,
                *("\x00".join(part) for part in parts)]


def plant() -> Plant:
    return Plant(next(_serial))


def dossier(p: Plant, **changes: Any) -> dict[str, Any]:
    """A dossier record with `p` in every personal and dropped field."""
    record: dict[str, Any] = {
        "MaHoSo": f"000.00.01.H62-250702-{p.n:04d}", "MaTTHC": "1.004227", "TenTTHC": "Đăng ký khai sinh",
        "MaLinhVuc": "HT", "TenLinhVuc": "Hộ tịch", "KenhThucHien": "2", "LoaiDoiTuong": "1",
        "ChuHoSo": p.name, "SoGiayToChuHoSo": p.id, "SoDienThoai": p.phone, "Email": p.email, "Fax": p.fax,
        "MaDoiTuong": p.email, "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": p.id},
                                               {"LoaiDinhDanh": "3", "SoDinhDanh": p.tax_code}],
        "TrichYeuHoSo": f"Khai sinh cho con của {p.name}, ĐT {p.phone}",
        "ThongTinTra": f"Gửi {p.name}, {p.email}", "GhiChu": f"CCCD {p.id}, MST {p.tax_code}",
        "NgayNopHoSo": "20250702083000", "NgayTiepNhan": "20250702090000", "NgayHenTra": "20250710170000",
        "TrangThaiHoSo": "5", "HinhThuc": "2", "DonViXuLy": "UBND xã Tam Đảo", "NoiNopHoSo": "2",
        "TaiLieuNop": [{"TepDinhKemId": "F1", "TenTepDinhKem": f"CCCD_{p.id}_{p.name}.pdf", "IsDeleted": "0",
                        "MaThanhPhanHoSo": "TP1", "DuongDanTaiTepTin": f"/tep/{p.id}/{p.email}.pdf",
                        "DuocSoHoa": "1", "DuocTaiSuDung": "0", "DuocLayTuKhoDMQG": "0", "MaKetQuaThayThe": ""}],
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí", "MaPhiLePhi": "LP1", "HinhThucThu": "1", "Gia": "50000",
                           "LoaiPhiLePhi": "2"}],
        "DanhSachHoSoBoSung": [{"NguoiYeuCauBoSung": p.officer, "NoiDungBoSung": f"Gọi {p.phone} bổ sung",
                                "NgayBoSung": "20250703090000", "NguoiTiepNhanBoSung": p.officer,
                                "NgayTiepNhanBoSung": "", "TrangThaiBoSung": "0"}],
        "DanhSachGiayToKetQua": [{"TenGiayTo": f"Giấy khai sinh {p.name}", "MaThanhPhanHoSo": "KQ1",
                                  "GiayToId": "G1", "DuongDanTepTinKetQua": f"/kq/{p.id}.pdf",
                                  "MaGiayToKetQua": "KQ"}],
        "DSKetNoiCSDL": [{"MaCSDL": "CSDLDC"}],
    }
    return record | changes


def step(p: Plant, **changes: Any) -> dict[str, Any]:
    return {"MaHoSo": f"000.00.01.H62-250702-{p.n:04d}", "NguoiXuLy": p.officer, "ChucDanh": "Chuyên viên",
            "PhongBanXuLy": "Bộ phận một cửa", "NoiDungXuLy": f"Đã gọi {p.name} qua {p.phone}, {p.email}",
            "TrangThai": "4", "ThoiDiemXuLy": "20250702090000", "NgayBatDau": "20250702083000",
            "NgayKetThucTheoQuyDinh": "20250702170000"} | changes


def envelope(records: list[Any], p: Plant, **changes: Any) -> dict[str, Any]:
    return {"MaDinhDanhDV": "000.00.01.H62", "ThoiGianDongBo": "20250702083015", "LoaiDongBo": "update",
            "KetQua": {"error_code": "-1", "message": f"Sai định danh {p.id} của {p.name}"}, "data": records} | changes


def deep(p: Plant) -> Any:
    value: Any = [p.name, p.id]
    for _ in range(40):
        value = {"x": value}
    return value


def broken_dossiers() -> list[tuple[Plant, Any]]:
    """A record of each kind the parser refuses, each with its own plant."""
    kinds = [
        lambda p: dossier(p, TrangThaiHoSo="11"),
        lambda p: dossier(p, TrangThaiHoSo=p.id),
        lambda p: dossier(p, MaHoSo=""),
        lambda p: dossier(p, MaHoSo={"ChuHoSo": p.name}),
        lambda p: dossier(p, NgayTiepNhan=f"{p.phone}"),
        lambda p: dossier(p, DanhSachLePhi=[{"Gia": f"{p.phone} đồng"}]),
        lambda p: dossier(p, TaiLieuNop=f"{p.name}.pdf"),
        lambda p: dossier(p, DanhSachLePhi=[p.email]),
        lambda p: dossier(p, DanhSachHoSoBoSung=[{"NguoiYeuCauBoSung": p.name, "NgayBoSung": p.id}]),
        lambda p: dossier(p, SoGiayToChuHoSo={"so": p.id}),
        lambda p: dossier(p, DinhDanhCHS={"SoDinhDanh": p.id}),
        lambda p: dossier(p, DinhDanhCHS=[p.id]),
        lambda p: dossier(p, GhiChu=deep(p)),
        lambda p: dossier(p, GhiChu=f"{p.name} {p.id} " + "x" * MAX_RECORD_CHARS),
        lambda p: [p.name, p.id, p.phone, p.email],
        lambda p: f"{p.name} {p.id} {p.email}",
        lambda p: dossier(p, **{p.email.replace("@", "_"): p.name}),  # an unknown key: its value is not kept
    ]
    out = []
    for kind in kinds:
        p = plant()
        out.append((p, kind(p)))
    return out


def schema(table: str) -> pa.Schema:
    return lake.parsed_schema(table)


def serialised(parsed: ParsedFile) -> str:
    """Everything a parser returns, as text."""
    return "\n".join([repr(parsed), json.dumps(parsed.rows, default=str, ensure_ascii=False),
                      json.dumps(parsed.quarantined, ensure_ascii=False), repr(parsed.unknown_columns),
                      repr(parsed.missing_columns), repr(parsed.envelope), repr(parsed.file_error)])


def assert_clean(parsed: ParsedFile, plants: list[Plant]) -> None:
    text = serialised(parsed)
    found = [needle for p in plants for needle in p.needles() if needle in text]
    assert not found, found[:5]
    assert parsed.rows_read == len(parsed.rows) + len(parsed.quarantined)


def test_no_personal_value_leaves_a_dossier_call() -> None:
    good = [plant() for _ in range(3)]
    broken = broken_dossiers()
    records = [dossier(good[0]), *(r for _, r in broken[:8]), dossier(good[1]), *(r for _, r in broken[8:]),
               dossier(good[2])]
    call_plant = plant()
    parsed = parse_sync_call_file(json.dumps(envelope(records, call_plant), ensure_ascii=False).encode(), KEY,
                                  "dossiers")
    assert len(parsed.rows) == 4 and len(parsed.quarantined) == len(broken) - 1  # the unknown key loads
    pa.Table.from_pylist(parsed.rows, schema=schema("raw_dossier_syncs"))
    assert parsed.rows[0]["MaNguoiNop"] == applicant_key(good[0].id, KEY)
    assert {r["MaLoiKetQua"] for r in parsed.rows} == {"-1"}
    assert_clean(parsed, [*good, *(p for p, _ in broken), call_plant])


def test_no_personal_value_leaves_a_utf16_call() -> None:
    good, call_plant = plant(), plant()
    broken = broken_dossiers()[:6]
    text = json.dumps(envelope([dossier(good), *(r for _, r in broken)], call_plant), ensure_ascii=False)
    for encoding in ("utf-16", "utf-16-be", "utf-32"):
        data = text.encode(encoding)
        if encoding == "utf-16-be":
            data = b"\xfe\xff" + data
        parsed = parse_sync_call_file(data, KEY, "dossiers")
        assert len(parsed.rows) == 1 and len(parsed.quarantined) == len(broken), encoding
        assert_clean(parsed, [good, call_plant, *(p for p, _ in broken)])


def test_no_personal_value_leaves_a_call_quarantined_whole() -> None:
    plants = [plant() for _ in range(3)]
    records = [dossier(p) for p in plants]
    call_plant = plant()
    text = json.dumps(envelope(records, call_plant), ensure_ascii=False)
    files = [
        text[:-50].encode(),  # cut: invalid JSON
        text[:-50].encode("utf-16"),
        json.dumps(envelope(records, call_plant, MaDinhDanhDV=""), ensure_ascii=False).encode(),  # each record
        json.dumps(envelope(records, call_plant, ThoiGianDongBo=call_plant.id), ensure_ascii=False).encode("utf-16"),
        json.dumps(envelope(records, call_plant, data={"0": records[0]}), ensure_ascii=False).encode(),
        json.dumps(records, ensure_ascii=False).encode(),  # not an object
        text.encode("utf-8")[:-3] + b"\xff\xfe}",  # not UTF-8
        text.replace("Nguyễn Văn", "Nguyen Van").replace("Trần Thị", "Tran Thi").encode("ascii", "ignore")
        .replace(b'"ChuHoSo": "', b'"ChuHoSo": "Fran\xe7ois '),  # Windows-1252
    ]
    for data in files:
        parsed = parse_sync_call_file(data, KEY, "dossiers")
        assert parsed.file_error is not None and parsed.rows == [] and parsed.quarantined
        assert_clean(parsed, [*plants, call_plant])


def test_no_personal_value_leaves_a_processing_call() -> None:
    good = [plant() for _ in range(2)]
    broken = [(p, step(p, TrangThai="99")) for p in (plant(),)] + [(p, step(p, MaHoSo="")) for p in (plant(),)]
    broken += [(p, step(p, ThoiDiemXuLy=p.phone)) for p in (plant(),)]
    broken += [(p, step(p, NguoiXuLy=deep(p))) for p in (plant(),)]
    broken += [(p, [p.officer, p.phone]) for p in (plant(),)]
    call_plant = plant()
    data = json.dumps(envelope([step(good[0]), *(r for _, r in broken), step(good[1])], call_plant),
                      ensure_ascii=False)
    for encoded in (data.encode(), data.encode("utf-16")):
        parsed = parse_sync_call_file(encoded, KEY, "processing")
        assert len(parsed.rows) == 2 and len(parsed.quarantined) == len(broken)
        pa.Table.from_pylist(parsed.rows, schema=schema("raw_processing_steps"))
        assert_clean(parsed, [*good, *(p for p, _ in broken), call_plant])


def test_no_personal_value_leaves_an_agency_list_through_an_extra_column() -> None:
    header = "MaDinhDanh,TenCoQuan,CapCoQuan,MaCoQuanCha,MaDVHC,NgayHieuLuc,NgayHetHieuLuc,MaCoQuanKeThua,LienHe"
    plants = [plant() for _ in range(3)]
    rows = [f"000.00.0{i}.H62,Sở {i},TINH,,,{date},,,{p.name} {p.phone} {p.email}"
            for i, (p, date) in enumerate(zip(plants, ["2025-07-01", "2025-02-30", "01/07/2025"], strict=True))]
    parsed = parse_agency_file("\r\n".join([header, *rows]).encode())
    assert len(parsed.rows) == 1 and len(parsed.quarantined) == 2 and parsed.unknown_columns == ["LienHe"]
    assert_clean(parsed, plants)
