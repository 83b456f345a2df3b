"""The lake: typed Parquet partitions that extraction writes and dbt reads.

Layout, one folder per table and one partition per batch day:

    lake/raw_dossiers/batch_date=YYYY-MM-DD/data.parquet
    lake/raw_payments/batch_date=YYYY-MM-DD/data.parquet
    lake/raw_catalog/batch_date=YYYY-MM-DD/data.parquet     (the snapshot's day)
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
    "raw_dossiers": pa.schema([
        pa.field("MaHoSo", pa.string()),
        pa.field("MaTTHC", pa.string()),
        pa.field("MaCoQuan", pa.string()),
        pa.field("MaDiaBan", pa.string()),
        pa.field("KenhThucHien", pa.int8()),
        pa.field("LoaiDoiTuong", pa.int8()),
        pa.field("MaNguoiNop", pa.string()),  # HMAC of SoGiayTo; names and phones are not kept
        pa.field("NgayNopHoSo", TS),
        pa.field("NgayTiepNhan", TS),
        pa.field("NgayHenTra", TS),
        pa.field("NgayKetThucXuLy", TS),
        pa.field("NgayTra", TS),
        pa.field("NgayTuChoi", TS),
        pa.field("TrangThaiHoSo", pa.int8()),
        pa.field("DuocThanhToanTrucTuyen", pa.int8()),
        pa.field("CoKetQuaDienTu", pa.int8()),
        pa.field("DaSoHoa", pa.int8()),
        pa.field("DanhSachLePhi", pa.list_(pa.struct([
            pa.field("MaPhiLePhi", pa.string()),
            pa.field("TenPhiLePhi", pa.string()),
            pa.field("LoaiPhiLePhi", pa.int8()),
            pa.field("Gia", pa.int64()),
        ]))),
        pa.field("DanhSachBoSung", pa.list_(pa.struct([
            pa.field("NgayYeuCau", TS),
            pa.field("NgayBoSung", TS),
        ]))),
        pa.field("NgayCapNhat", TS),
        *_LINEAGE,
    ]),
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
    "raw_catalog": pa.schema([
        pa.field("MaTTHC", pa.string()),
        pa.field("TenTTHC", pa.string()),
        pa.field("MaLinhVuc", pa.string()),
        pa.field("TenLinhVuc", pa.string()),
        pa.field("MaCoQuan", pa.string()),
        pa.field("TenCoQuan", pa.string()),
        pa.field("CapThucHien", pa.string()),
        pa.field("MucDo", pa.int8()),
        pa.field("ThoiHanGiaiQuyet", pa.int32()),
        pa.field("PhiLePhi", pa.int64()),
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
        pa.field("unknown_columns", pa.list_(pa.string())),  # header names outside the contract
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

SOURCE_TABLES = {"dossiers": "raw_dossiers", "payments": "raw_payments", "catalog": "raw_catalog"}


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
