"""The field cases of `shared/field-cases/` (files people really exchange), landed as they are, with
the values their README states; and the kinds they stand for: every entry of a landing folder is
accounted for, whatever it is, and no file is half-loaded."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import socket
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from dichvucong.config import REPO_ROOT, Settings
from dichvucong.landing import lake
from dichvucong.landing.extract import land
from dichvucong.landing.parsers import MAX_RECORD_CHARS, parse_catalog_file, parse_payment_file
from dichvucong.quality.frames import files_frame
from dichvucong.tasks import check_landing_accounts
from tests.dichvucong.landing.test_parsers_v2 import CATALOG_HEADER, call, dossier, typed

FIELD_CASES = REPO_ROOT.parent / "shared" / "field-cases"
DAY = dt.date(2025, 3, 3)
V1_CATALOG = FIELD_CASES / "payments/quoted-newline/catalog_v1_services_20250301.csv"
QUOTED_NAME = "Cấp giấy phép xây dựng\n(công trình cấp III, cấp IV)"  # its quoted cell: a line break and a comma


def _v2_catalog() -> bytes:
    """The field case's v1 catalog under the v2 header (sources.md v2 §2), since the v1 catalog is
    no longer read: each v1 record's cells moved to their v2 columns (MaCoQuan -> MaCoQuanChuTri, the
    agency name dropped, the new columns filled), its procedure name cell copied as the v1 file
    writes it, quotes and line break included. Records are cut by a pattern, not by a CSV reader."""
    header, _, body = V1_CATALOG.read_text(encoding="utf-8").partition("\n")
    assert header == ("MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,MaCoQuan,TenCoQuan,CapThucHien,MucDo,ThoiHanGiaiQuyet,"
                      "PhiLePhi")
    records = list(re.finditer(r'^([^,"\n]+),("[^"]*"|[^,"\n]*),([^"\n]*)\n', body, re.MULTILINE))
    assert "".join(m.group(0) for m in records) == body and len(records) == 3
    lines = [CATALOG_HEADER]
    for record in records:
        code, name, rest = record.groups()
        field_code, field_name, agency, _agency_name, level, online, deadline, fee = rest.split(",")
        lines.append(",".join([code, name, field_code, field_name, level, agency, online, "1", deadline,
                               "NgayLamViec", fee, "1" if int(fee) else "0", "1", "1", "0", "", "", "", "7"]))
    text = "\n".join(lines) + "\n"
    assert f'"{QUOTED_NAME}"' in text  # the same quoted cell, spanning two lines
    return text.encode("utf-8")


def _landing(tmp_path: Path, case: str) -> Path:
    landing = tmp_path / "landing"
    shutil.copytree(FIELD_CASES / "payments" / case, landing / "payments")
    return landing


def _settings(landing: Path, **changes: Any) -> Settings:
    settings = Settings.from_env()
    return Settings(**{**settings.__dict__, "landing_dir": landing, **changes})


def _land(landing: Path, **changes: Any) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], list[dict]]:
    """Land the day's payments; the audit by file name, the loaded rows, the quarantine."""
    settings = _settings(landing, **changes)
    land("payments", DAY, DAY + dt.timedelta(days=1), settings)
    audit = pq.read_table(lake.partition_path(settings.lake_dir, "load_audit", DAY, "payments")).to_pylist()
    rows = pq.read_table(lake.partition_path(settings.lake_dir, "raw_payments", DAY)).to_pylist()
    held = pq.read_table(lake.partition_path(settings.lake_dir, "quarantine", DAY, "payments")).to_pylist()
    assert check_landing_accounts()["sources"]
    return {a["file_name"]: a for a in audit}, rows, held


def test_cr_line_ends_are_read_like_lf(dvc_home: Path, tmp_path: Path) -> None:
    audit, rows, held = _land(_landing(tmp_path, "cr-line-ends"))
    assert audit["doisoat_20250303_VNPTPAY.csv"]["rows_loaded"] == 2
    assert audit["doisoat_20250303_VCB.csv"]["rows_loaded"] == 1
    assert held == [] and all(a["file_error"] is None for a in audit.values())
    assert sorted(r["MaGiaoDich"] for r in rows) == ["VC1", "VP1", "VP2"]


def test_a_quoted_cell_may_span_lines_and_an_extra_column_is_a_finding(dvc_home: Path, tmp_path: Path) -> None:
    audit, rows, held = _land(_landing(tmp_path, "quoted-newline"))
    payment = audit["doisoat_20250303_VNPTPAY.csv"]
    assert (payment["rows_loaded"], payment["rows_quarantined"]) == (2, 0)
    assert payment["unknown_columns"] == ["NoiDung"]
    assert sorted(r["_line_number"] for r in rows) == [2, 4]  # the record on lines 2-3, then line 4
    # The extra column's values (free text naming a person) are not read into the lake.
    lake_bytes = b"".join(p.read_bytes() for p in (dvc_home / "lake").rglob("*.parquet"))
    assert b"nguoi thu nghiem" not in lake_bytes
    frame = files_frame(dvc_home / "lake", "payments", [DAY])
    assert frame.loc[frame["file_name"] == "doisoat_20250303_VNPTPAY.csv", "unknown_columns"].tolist() == [1]
    # The catalog's procedure name with a line break inside quotes is one procedure: 3, not 4.
    catalog = parse_catalog_file(_v2_catalog())
    typed(catalog, "raw_catalog")
    assert (len(catalog.rows), catalog.rows_read, catalog.quarantined, catalog.file_error) == (3, 3, [], None)
    assert [r["MaTTHC"] for r in catalog.rows] == ["1.000101", "1.000102", "1.000103"]
    assert catalog.rows[2]["TenTTHC"] == QUOTED_NAME and [r["_line_number"] for r in catalog.rows] == [2, 3, 4]


def test_extensions_match_whatever_their_case(dvc_home: Path, tmp_path: Path) -> None:
    audit, rows, _ = _land(_landing(tmp_path, "uppercase-ext"))
    assert audit["doisoat_20250303_VCB.CSV"]["rows_loaded"] == 2 and len(rows) == 2


def test_a_vietnamese_locale_file_is_quarantined_whole_unless_its_dialect_is_declared(
        dvc_home: Path, tmp_path: Path) -> None:
    landing = _landing(tmp_path, "excel-vn-locale")
    audit, rows, held = _land(landing)
    payment = audit["doisoat_20250303_VNPTPAY.csv"]
    assert rows == [] and payment["file_error"] == "separator ';', not ','"
    assert (payment["rows_read"], payment["rows_quarantined"]) == (1, 1)
    assert [q["reason"] for q in held] == ["separator ';', not ','"]
    frame = files_frame(dvc_home / "lake", "payments", [DAY])
    assert frame["file_error"].notna().all() and frame["day_quarantined_share"].tolist() == [1.0]

    # The example configuration declares this intermediary's dialect.
    audit, rows, held = _land(landing, payment_dialects_file=REPO_ROOT / "config" / "payment_dialects.example.yml")
    assert held == [] and audit["doisoat_20250303_VNPTPAY.csv"]["file_error"] is None
    assert [(r["SoTien"], r["ThoiGianGiaoDich"], r["NgayDoiSoat"]) for r in rows] == [
        (50000, dt.datetime(2025, 3, 3, 9, 0), DAY)]


def test_an_integral_decimal_is_an_integer_a_fraction_is_quarantined(dvc_home: Path, tmp_path: Path) -> None:
    audit, rows, held = _land(_landing(tmp_path, "decimal-money"))
    assert len(rows) == 3 and held == [] and sum(r["SoTien"] for r in rows) == 150_000
    header = (FIELD_CASES / "payments/decimal-money/2025-03-03/doisoat_20250303_VNPTPAY.csv").read_bytes()
    fractional = header.replace(b"50000.00", b"50000.5")
    parsed = parse_payment_file(fractional)
    assert len(parsed.rows) == 2 and [q["reason"] for q in parsed.quarantined] == ["SoTien: not an integer"]


def test_a_file_the_csv_parser_rejects_is_quarantined_whole_and_the_day_goes_on(
        dvc_home: Path, tmp_path: Path) -> None:
    landing = _landing(tmp_path, "cr-line-ends")
    folder = landing / "payments" / DAY.isoformat()
    good = (folder / "doisoat_20250303_VCB.csv").read_bytes()
    (folder / "doisoat_20250303_MOMO.csv").write_bytes(good.replace(b"VCB", b"MOMO").replace(b"VC1", b"MO1\0"))
    (folder / "doisoat_20250303_BIDV.csv").write_bytes(
        good.replace(b"VCB", b"BIDV") + b"BI2,BIDV,1,HS-X," + b"9" * 200_000
        + b",2,1,00,2025-03-03 09:00:00,2025-03-03\n")
    (folder / "doisoat_20250303_AGRIBANK.csv").write_bytes(
        "MaGiaoDich,SoTien\nAG1,Nguyễn\n".encode("utf-16"))  # UTF-16, but a header that is not the contract's
    (folder / "doisoat_20250303_VIETINBANK.csv").write_bytes(good.decode().replace("VCB", "VIETINBANK")
                                                             .replace("HS-A3", "HS-Đ").encode("cp1258"))
    audit, rows, held = _land(landing)
    errors = {name: a["file_error"] for name, a in audit.items()}
    assert errors["doisoat_20250303_MOMO.csv"] == "CSV: line contains NUL"
    assert errors["doisoat_20250303_BIDV.csv"] == "CSV: field over the size limit"
    assert errors["doisoat_20250303_AGRIBANK.csv"].startswith("header: missing columns MaTrungGian")
    assert errors["doisoat_20250303_VIETINBANK.csv"].startswith("not UTF-8 (")
    assert errors["doisoat_20250303_VCB.csv"] is None and errors["doisoat_20250303_VNPTPAY.csv"] is None
    assert sorted(r["MaGiaoDich"] for r in rows) == ["VC1", "VP1", "VP2"]
    # Nothing of a file quarantined whole is loaded; the good files of the day are.
    loaded = {r["_source_file"] for r in rows}
    assert {"doisoat_20250303_MOMO.csv", "doisoat_20250303_BIDV.csv", "doisoat_20250303_AGRIBANK.csv"}.isdisjoint(
        loaded)
    assert audit["doisoat_20250303_BIDV.csv"]["rows_quarantined"] == 2
    assert "Nguyễn".encode() not in b"".join(p.read_bytes() for p in (dvc_home / "lake").rglob("*.parquet"))


def test_a_legacy_encoding_is_named(dvc_home: Path, tmp_path: Path) -> None:
    text = "MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,ThoiGianGiaoDich," \
           "NgayDoiSoat\n" + "".join(f"T{i},VCB,1,HS-Đường-{i},1.000101,2,50000,00,2025-03-03 09:00:00,2025-03-03\n"
                                     for i in range(3))
    parsed = parse_payment_file(text.encode("utf-16-le"))  # no byte-order mark: not UTF-8
    assert parsed.rows == [] and parsed.file_error is not None and parsed.file_error.startswith("not UTF-8 (")
    assert parsed.rows_read == len(parsed.quarantined) == 3
    bom = parse_payment_file(text.encode("utf-16"))  # with its byte-order mark: read
    assert len(bom.rows) == 3 and bom.file_error is None


def test_every_entry_of_a_landing_folder_is_accounted_for(dvc_home: Path, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    landing = _landing(tmp_path, "cr-line-ends")
    folder = landing / "payments" / DAY.isoformat()
    outside = tmp_path / "outside.csv"
    outside.write_text("secret,outside\n", encoding="utf-8")
    (folder / "notes.txt").write_text("not data", encoding="utf-8")
    (folder / "doisoat_20250303_LINK.csv").symlink_to(outside)
    (folder / "doisoat_20250303_GONE.csv").symlink_to(tmp_path / "missing.csv")
    (folder / "doisoat_20250303_LOOP.csv").symlink_to(folder / "doisoat_20250303_LOOP.csv")
    (folder / "doisoat_20250303_DIR.csv").mkdir()
    os.mkfifo(folder / "doisoat_20250303_FIFO.csv")
    server = socket.socket(socket.AF_UNIX)
    monkeypatch.chdir(folder)  # a socket's path is short
    server.bind("doisoat_20250303_SOCK.csv")
    for name in ("2025-13-45", "20250303"):
        (landing / "payments" / name).mkdir()
        (landing / "payments" / name / "doisoat_20250303_VCB.csv").write_bytes(
            (folder / "doisoat_20250303_VCB.csv").read_bytes())
    (landing / "payments" / "readme.md").write_text("notes", encoding="utf-8")
    try:
        audit, rows, _ = _land(landing)
    finally:
        server.close()
    errors = {name: a["file_error"] for name, a in audit.items()}
    assert errors == {
        "doisoat_20250303_VCB.csv": None, "doisoat_20250303_VNPTPAY.csv": None,
        "notes.txt": "name outside the layout (expected payments/YYYY-MM-DD/doisoat_YYYYMMDD_<MaTrungGian>.csv)",
        "doisoat_20250303_LINK.csv": "resolves outside the landing directory",
        "doisoat_20250303_GONE.csv": "a link that leads nowhere",
        "doisoat_20250303_LOOP.csv": "a link that leads nowhere",
        "doisoat_20250303_DIR.csv": "not a regular file",
        "doisoat_20250303_FIFO.csv": "not a regular file",
        "doisoat_20250303_SOCK.csv": "cannot be opened",
    }
    assert len(rows) == 3
    assert b"secret" not in b"".join(p.read_bytes() for p in (dvc_home / "lake").rglob("*.parquet"))
    findings = pq.read_table(lake.findings_path(dvc_home / "lake", "payments")).to_pylist()
    assert sorted((f["file_name"], f["file_error"]) for f in findings) == [
        (name, "entry outside the layout (expected payments/YYYY-MM-DD/doisoat_YYYYMMDD_<MaTrungGian>.csv)")
        for name in ("2025-13-45", "20250303", "readme.md")]
    frame = files_frame(dvc_home / "lake", "payments", [DAY])
    assert frame["file_error"].notna().sum() == 7 + 3


def test_a_catalog_file_with_an_impossible_date_is_a_finding_not_a_crash(dvc_home: Path, tmp_path: Path) -> None:
    from dichvucong.cli import snapshot_start

    landing = tmp_path / "landing"
    (landing / "catalog").mkdir(parents=True)
    (landing / "catalog" / "SERVICES_20250301.CSV").write_bytes(_v2_catalog())
    (landing / "catalog" / "services_20221345.csv").write_text("x", encoding="utf-8")
    assert snapshot_start(landing, dt.date(2025, 3, 5)) == dt.date(2025, 3, 1)
    report = land("catalog", dt.date(2025, 3, 1), dt.date(2025, 3, 2), _settings(landing))
    assert (report.files, report.rows_loaded, report.unplaced) == (1, 3, 1)


@pytest.mark.parametrize("amount", ["1e400", "Infinity", "9" * 5000, "1" + "0" * 30, "NaN"])
def test_an_absurd_amount_is_quarantined_with_its_reason(amount: str) -> None:
    data = (FIELD_CASES / "payments/decimal-money/2025-03-03/doisoat_20250303_VNPTPAY.csv").read_bytes()
    parsed = parse_payment_file(data.replace(b"50000.00", amount.encode()))
    assert len(parsed.rows) == 2 and len(parsed.quarantined) == 1
    assert parsed.quarantined[0]["reason"] in {"SoTien: not an integer", "SoTien: out of range"}


def test_a_record_over_the_size_limit_is_quarantined_and_its_file_loads(dvc_home: Path, tmp_path: Path) -> None:
    """A sync call whose one record is over `MAX_RECORD_CHARS` (a procedure name of megabytes) lands
    its other records; the big one is quarantined as a length and a hash."""
    landing = tmp_path / "landing"
    folder = landing / "dossiers" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "hoso_20250303_000.00.01.H62_1.json").write_bytes(
        call([dossier(1, TenTTHC="x" * (MAX_RECORD_CHARS + 1)), dossier(2)]))
    settings = _settings(landing)
    report = land("dossiers", DAY, DAY + dt.timedelta(days=1), settings)
    assert (report.files, report.rows_read, report.rows_loaded, report.rows_quarantined) == (1, 2, 1, 1)
    [audit] = pq.read_table(lake.partition_path(settings.lake_dir, "load_audit", DAY, "dossiers")).to_pylist()
    assert audit["file_error"] is None and (audit["rows_read"], audit["rows_loaded"]) == (2, 1)
    rows = pq.read_table(lake.partition_path(settings.lake_dir, "raw_dossier_syncs", DAY)).to_pylist()
    assert [r["MaHoSo"] for r in rows] == [dossier(2)["MaHoSo"]]
    [held] = pq.read_table(lake.partition_path(settings.lake_dir, "quarantine", DAY, "dossiers")).to_pylist()
    assert (held["reason"], held["line_number"]) == ("record over the size limit", 1)
    assert held["raw_text"].startswith("<unparsed: ") and len(held["raw_text"]) < 100
