"""The lake: typed Parquet partitions that extraction writes and dbt reads.

Layout, one folder per table and one partition per batch day:

    lake/raw_agencies/batch_date=YYYY-MM-DD/data.parquet          (the snapshot's day)
    lake/raw_catalog/batch_date=YYYY-MM-DD/data.parquet           (the snapshot's day)
    lake/raw_dossier_syncs/batch_date=YYYY-MM-DD/data.parquet     (a record per dossier per sync call)
    lake/raw_processing_steps/batch_date=YYYY-MM-DD/data.parquet  (a record per processing step per call)
    lake/raw_payments/batch_date=YYYY-MM-DD/data.parquet
    lake/load_audit/<source>/batch_date=YYYY-MM-DD/data.parquet
    lake/quarantine/<source>/batch_date=YYYY-MM-DD/data.parquet
    lake/landing_findings/<source>/data.parquet              (entries outside the layout)

A partition is written to a temporary file and renamed into place, so a reader
never sees half a partition and a rerun replaces it whole. Extraction never
opens the DuckDB warehouse: dbt is its only writer.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

TS = pa.timestamp("us")

_LINEAGE = [
    pa.field("_source_file", pa.string()),
    pa.field("_line_number", pa.int32()),
    pa.field("_batch_date", pa.date32()),
]

SCHEMAS: dict[str, pa.Schema] = {
    "raw_payments": pa.schema([
        pa.field("MaGiaoDich", pa.string()),
        pa.field("MaTrungGian", pa.string()),
        pa.field("KenhThanhToan", pa.int8()),
        pa.field("MaHoSo", pa.string()),
        pa.field("MaTTHC", pa.string()),
        pa.field("LoaiPhiLePhi", pa.int8()),
        pa.field("SoTien", pa.int64()),
        pa.field("TrangThai", pa.string()),
        pa.field("ThoiGianGiaoDich", TS),
        pa.field("NgayDoiSoat", pa.date32()),
        *_LINEAGE,
    ]),
    "load_audit": pa.schema([
        pa.field("source", pa.string()),
        pa.field("batch_date", pa.date32()),
        pa.field("file_name", pa.string()),
        pa.field("sha256", pa.string()),
        pa.field("bytes", pa.int64()),
        pa.field("rows_read", pa.int64()),
        pa.field("rows_loaded", pa.int64()),
        pa.field("rows_quarantined", pa.int64()),
        pa.field("has_total_line", pa.bool_()),
        pa.field("total_line_amount", pa.int64()),
        pa.field("file_error", pa.string()),
        pa.field("unknown_columns", pa.list_(pa.string())),  # header names or record keys outside the contract
        pa.field("missing_columns", pa.list_(pa.string())),  # contract keys or columns no record carried
        pa.field("sync_agency_code", pa.string()),  # a sync call's envelope (null for CSV sources)
        pa.field("sync_time", TS),
        pa.field("sync_kind", pa.string()),
        pa.field("sync_error_code", pa.string()),
        # When the landing that wrote this partition started (UTC): the ledger's stamp of the
        # (source, batch day), the same on every file of it (landing.ledger).
        pa.field("landed_at", TS),
        # The landing code that typed the file (`ledger.landing_code()`): the same bytes landed by
        # other code may give other rows, so the ledger counts them as landed anew.
        pa.field("landed_by", pa.string()),
    ]),
    "quarantine": pa.schema([
        pa.field("source", pa.string()),
        pa.field("batch_date", pa.date32()),
        pa.field("file_name", pa.string()),
        pa.field("line_number", pa.int32()),
        pa.field("reason", pa.string()),
        pa.field("raw_text", pa.string()),  # personal data masked
    ]),
}


# --- the sources (sources.md v2) ------------------------------------------------------------------
# Typed rows of the five sources (payments above, unchanged from v1). Values arrive as strings; a
# code ("flag" or "code" below) is kept as text: trimmed, an integral number written as its
# integer ("2.0", " 02 " -> "2"), absent ("", null, no key) -> null, anything else kept as sent
# (trimmed) for staging to flag, unless it looks like an ID number, a phone or an e-mail (masked).
# Personal fields (◆) never reach these schemas: MaNguoiNop is the keyed hash of SoGiayToChuHoSo
# (or the first DinhDanhCHS), and names, phones, e-mails, free text, attachment and result paths
# are dropped. `_line_number` is a CSV row's line, or a sync-call record's 1-based position in `data`.
_CODE = pa.string()
_SYNC_CALL = [
    pa.field("MaDinhDanhDV", pa.string()),  # the call's agency (envelope)
    pa.field("ThoiGianDongBo", TS),  # when the call was made (envelope)
    pa.field("LoaiDongBo", pa.string()),  # insert | update, as sent
    pa.field("MaLoiKetQua", pa.string()),  # KetQua.error_code: "0" = accepted by the portal
    pa.field("_record_hash", pa.string()),  # keyed hash of the whole record as sent: duplicate vs conflict
]
_ONESTOP_SCHEMAS: dict[str, pa.Schema] = {
    "raw_agencies": pa.schema([
        pa.field("MaDinhDanh", pa.string()),
        pa.field("TenCoQuan", pa.string()),
        pa.field("CapCoQuan", pa.string()),
        pa.field("MaCoQuanCha", pa.string()),
        pa.field("MaDVHC", pa.string()),
        pa.field("NgayHieuLuc", pa.date32()),
        pa.field("NgayHetHieuLuc", pa.date32()),
        pa.field("MaCoQuanKeThua", pa.string()),
        *_LINEAGE,
    ]),
    "raw_catalog": pa.schema([
        pa.field("MaTTHC", pa.string()),
        pa.field("TenTTHC", pa.string()),
        pa.field("MaLinhVuc", pa.string()),
        pa.field("TenLinhVuc", pa.string()),
        pa.field("CapThucHien", pa.string()),
        pa.field("MaCoQuanChuTri", pa.string()),
        pa.field("MucDo", pa.int8()),
        pa.field("DuDieuKienToanTrinh", pa.int8()),
        pa.field("ThoiHanGiaiQuyet", pa.int32()),
        pa.field("DonViThoiHan", pa.string()),
        pa.field("PhiLePhi", pa.int64()),
        pa.field("CoPhiLePhi", pa.int8()),
        pa.field("CoKetQuaGiay", pa.int8()),
        pa.field("DoiTuongCongDan", pa.int8()),
        pa.field("KetNoiCSDLDanCu", pa.int8()),
        pa.field("NgayQuyetDinhCongBo", pa.date32()),
        pa.field("NgayHieuLucVanBan", pa.date32()),
        pa.field("NgayCongKhai", pa.date32()),
        pa.field("SoBoPhanCongKhai", pa.int8()),
        *_LINEAGE,
    ]),
    "raw_dossier_syncs": pa.schema([
        *_SYNC_CALL,
        pa.field("MaHoSo", pa.string()),
        pa.field("MaTTHC", pa.string()),
        pa.field("MaLinhVuc", pa.string()),
        pa.field("KenhThucHien", _CODE),
        pa.field("LoaiDoiTuong", _CODE),
        pa.field("MaNguoiNop", pa.string()),  # HMAC-SHA-256 of the normalised ID number
        pa.field("NgayNopHoSo", TS),
        pa.field("NgayTiepNhan", TS),
        pa.field("NgayHenTra", TS),
        pa.field("NgayKetThucXuLy", TS),
        pa.field("NgayTra", TS),
        pa.field("NgayTuChoi", TS),
        pa.field("TrangThaiHoSo", pa.int8()),  # 1-10, else the record is quarantined
        pa.field("HinhThuc", _CODE),
        pa.field("DonViXuLy", pa.string()),
        pa.field("NoiNopHoSo", _CODE),
        pa.field("HoSoCoThanhPhanSoHoa", _CODE),
        pa.field("TaiKhoanDuocXacThucVoiVNeID", _CODE),
        pa.field("DuocThanhToanTrucTuyen", _CODE),
        pa.field("TaiLieuNop", pa.list_(pa.struct([
            pa.field("TepDinhKemId", pa.string()),
            pa.field("MaThanhPhanHoSo", pa.string()),
            pa.field("IsDeleted", _CODE),
            pa.field("DuocSoHoa", _CODE),
            pa.field("DuocTaiSuDung", _CODE),
            pa.field("DuocLayTuKhoDMQG", _CODE),
            pa.field("MaKetQuaThayThe", pa.string()),
        ]))),
        pa.field("DanhSachLePhi", pa.list_(pa.struct([
            pa.field("MaPhiLePhi", pa.string()),
            pa.field("TenPhiLePhi", pa.string()),
            pa.field("HinhThucThu", _CODE),
            pa.field("LoaiPhiLePhi", _CODE),
            pa.field("Gia", pa.int64()),  # VND; not a number -> the record is quarantined
        ]))),
        pa.field("DanhSachHoSoBoSung", pa.list_(pa.struct([
            pa.field("NgayBoSung", TS),  # the supplement was requested
            pa.field("NgayTiepNhanBoSung", TS),  # the applicant's supplement was received
            pa.field("TrangThaiBoSung", _CODE),
            pa.field("NgayHenTraTruoc", TS),
            pa.field("NgayHenTraMoi", TS),
        ]))),
        pa.field("DanhSachGiayToKetQua", pa.list_(pa.struct([
            pa.field("GiayToId", pa.string()),
            pa.field("MaGiayToKetQua", pa.string()),
            pa.field("MaThanhPhanHoSo", pa.string()),
            pa.field("CoTepTinKetQua", pa.bool_()),  # DuongDanTepTinKetQua non-empty (the path is not kept)
        ]))),
        pa.field("DSKetNoiCSDL", pa.list_(pa.string())),  # MaCSDL of each entry
        *_LINEAGE,
    ]),
    "raw_processing_steps": pa.schema([
        *_SYNC_CALL,
        pa.field("MaHoSo", pa.string()),
        pa.field("ChucDanh", pa.string()),
        pa.field("PhongBanXuLy", pa.string()),
        pa.field("TrangThai", pa.int8()),  # 1-10, else the record is quarantined
        pa.field("ThoiDiemXuLy", TS),
        pa.field("NgayBatDau", TS),
        pa.field("NgayKetThucTheoQuyDinh", TS),
        *_LINEAGE,
    ]),
}
SCHEMAS.update(_ONESTOP_SCHEMAS)
# The portal's own 766 figures (landing/portal_files.py): one row per value read. `item_code` is the
# portal's name for it (a group key such as CKMB, an indicator CODE); units by the portal's id, or by
# code where the answer gives one; names are agency and commune names (no personal data).
SCHEMAS["raw_portal_scores"] = pa.schema([
    # report_tinh_766_service | report_xuhuongdiem_chiso_service | reporting/evaluation
    pa.field("service", pa.string()),
    pa.field("period_type", pa.string()),  # month | quarter | half_year | year
    pa.field("period_year", pa.int32()),
    pa.field("period_number", pa.int32()),  # month 1-12, quarter 1-4, half 1-2; null for a year
    pa.field("saved_at", TS),  # when the page made the call (HAR startedDateTime, UTC); null for a saved answer
    pa.field("portal_province_id", pa.string()),  # p_tinh_id of the request
    pa.field("portal_unit_id", pa.string()),
    pa.field("unit_code", pa.string()),  # MaDinhDanh or MaDVHC where the answer carries one
    pa.field("unit_name", pa.string()),
    pa.field("portal_unit_level", pa.string()),  # CAPDONVIID, else the request's p_loaidonvi
    pa.field("parent_unit_code", pa.string()),
    pa.field("rank", pa.int32()),  # ROW_STT
    pa.field("item_code", pa.string()),
    pa.field("item_name", pa.string()),
    pa.field("points", pa.float64()),
    pa.field("max_points", pa.float64()),
    pa.field("average_points", pa.float64()),  # TB_SCORE: the national average the portal shows beside it
    pa.field("numerator", pa.float64()),
    pa.field("denominator", pa.float64()),
    *_LINEAGE,
])
SOURCE_TABLES = {"agencies": "raw_agencies", "catalog": "raw_catalog", "dossiers": "raw_dossier_syncs",
                 "processing": "raw_processing_steps", "payments": "raw_payments", "portal": "raw_portal_scores"}


def parsed_schema(table: str) -> pa.Schema:
    """A lake table's schema as a parser types its rows (line number included), before landing
    adds the file name and batch day."""
    return pa.schema([f for f in SCHEMAS[table] if f.name not in ("_source_file", "_batch_date")])


def partition_path(lake: Path, table: str, day: dt.date, source: str | None = None) -> Path:
    base = lake / table / source if source else lake / table
    return base / f"batch_date={day.isoformat()}" / "data.parquet"


def findings_path(lake: Path, source: str) -> Path:
    """Audit rows (load_audit's schema, no batch day) of the entries of a source's landing folder
    that belong to no batch day: a folder not named as a date, a file beside the day folders, a
    catalog file with an impossible date. Rewritten by every landing of the source."""
    return lake / "landing_findings" / source / "data.parquet"


def write_partition(path: Path, table: str, rows: list[dict[str, Any]] | pa.Table) -> int:
    """Replace one partition with `rows` (an empty list writes an empty, typed partition)."""
    schema = SCHEMAS[table]
    arrow = rows.cast(schema) if isinstance(rows, pa.Table) else pa.Table.from_pylist(rows, schema=schema)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(arrow, tmp, compression="zstd")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return arrow.num_rows


def read_partitions(lake: Path, table: str, days: list[dt.date], source: str | None = None) -> pa.Table:
    paths = [p for d in days if (p := partition_path(lake, table, d, source)).exists()]
    if not paths:
        return SCHEMAS[table].empty_table()
    return pa.concat_tables([pq.read_table(p, schema=SCHEMAS[table]) for p in paths])


OPTIONAL_TABLES = ("raw_portal_scores",)
"""Lake tables a build reads that may have no partition at all (a sparse, optional source)."""


def ensure_readable(lake: Path, table: str) -> None:
    """An empty, typed file `<table>/_empty/data.parquet` when the table has no partition, so that the
    build's `read_parquet('<table>/*/data.parquet')` reads no rows instead of failing. Batch-day
    partitions are `batch_date=*`: the refresh plan and the accounts do not see this file."""
    folder = lake / table
    if not any(folder.glob("*/data.parquet")):
        write_partition(folder / "_empty" / "data.parquet", table, [])


def latest_day_with_rows(lake: Path, table: str) -> dt.date | None:
    """The latest batch day whose partition of `table` holds at least one row (the count read from
    the Parquet footer), or None. A day is landed even when it delivered nothing, so the newest
    folder is not the newest data: an ingestion run for a day with no files must neither make a
    stopped source look fresh nor move the default as-of time."""
    days = sorted(((p.parent.name.removeprefix("batch_date="), p)
                   for p in (lake / table).glob("batch_date=*/data.parquet")), reverse=True)
    return next((dt.date.fromisoformat(day) for day, path in days if pq.read_metadata(path).num_rows), None)

