"""Parsers from the source contracts (`shared/spec/sources.md`) to typed rows.

Each parser takes one delivered file's bytes and returns the rows it could
type and the lines it could not, each with a reason. Nothing is dropped: every
data line read ends up in exactly one of the two lists. Personal data never
leaves a parser: names and phones are dropped, the ID number becomes a keyed
hash, and quarantined raw text is masked.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import hmac
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

PII_FIELDS = ("ChuHoSo", "SoGiayTo", "SoDienThoai")
_PII_JSON = re.compile(r'("(?:ChuHoSo|SoGiayTo|SoDienThoai)"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\s]*)')
# ID numbers (12-digit CCCD, 10-digit tax codes) and phones; not the 14-digit timestamps.
_LONG_DIGITS = re.compile(r"(?<!\d)\+?\d{9,12}(?!\d)")
_MAX_RAW = 2000


def mask_personal_data(text: str) -> str:
    """Mask what could be personal data in a raw line kept for quarantine."""
    text = _PII_JSON.sub(r'\1"***"', text)
    return _LONG_DIGITS.sub("***", text)[:_MAX_RAW]


@functools.lru_cache(maxsize=1 << 16)
def applicant_key(id_number: str | None, key: bytes) -> str | None:
    """HMAC-SHA-256 of the normalised citizen ID or tax code."""
    if id_number is None:
        return None
    normalised = re.sub(r"[\s.\-]", "", unicodedata.normalize("NFC", str(id_number))).upper()
    if not normalised:
        return None
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


class RowError(ValueError):
    """A value that does not fit the contract; its message is the quarantine reason."""


def parse_compact_ts(value: Any, name: str) -> dt.datetime | None:
    """`yyyyMMddHHmmss`, empty or null."""
    if value is None or value == "":
        return None
    return _parse_compact_text(value if isinstance(value, str) else str(value), name)


@functools.lru_cache(maxsize=1 << 16)
def _parse_compact_text(text: str, name: str) -> dt.datetime:
    # Cached: the syncs of one dossier repeat its submission, reception and due times.
    if len(text) != 14 or not text.isdigit():
        raise RowError(f"{name}: not yyyyMMddHHmmss")
    try:
        return dt.datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]),
                           int(text[8:10]), int(text[10:12]), int(text[12:14]))
    except ValueError as exc:
        raise RowError(f"{name}: impossible date") from exc


def _int_in(value: Any, name: str, allowed: range | set[int]) -> int:
    if isinstance(value, bool):
        raise RowError(f"{name}: not an integer")
    try:
        number = int(value)
    except (TypeError, ValueError) as exc:
        raise RowError(f"{name}: not an integer") from exc
    if isinstance(value, float) and value != number:
        raise RowError(f"{name}: not an integer")
    if number not in allowed:
        raise RowError(f"{name}: {number} not in the contract's code set")
    return number


def _int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise RowError(f"{name}: not an integer")
    if isinstance(value, int):
        return value
    text = str(value).strip() if value is not None else ""
    if not re.fullmatch(r"-?\d+", text):
        raise RowError(f"{name}: not an integer")
    return int(text)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return str(value)


@dataclass
class ParsedFile:
    rows: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0
    has_total_line: bool = False
    total_line_amount: int | None = None
    file_error: str | None = None

    def quarantine(self, line_number: int | None, reason: str, raw: str) -> None:
        self.quarantined.append(
            {"line_number": line_number, "reason": reason, "raw_text": mask_personal_data(raw)}
        )


def _decode_lines(data: bytes) -> list[tuple[int, str | None, bytes]]:
    """Split into lines, decoding each as UTF-8 (None where it is not)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    out: list[tuple[int, str | None, bytes]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        try:
            out.append((number, raw.decode("utf-8"), raw))
        except UnicodeDecodeError:
            out.append((number, None, raw))
    return out


# --- dossiers ---------------------------------------------------------------------------

_DOSSIER_TS = ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi",
               "NgayCapNhat")


def _dossier_row(record: Any, key: bytes) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise RowError("not a JSON object")
    dossier_id = record.get("MaHoSo")
    if dossier_id is None or not str(dossier_id).strip():
        raise RowError("no MaHoSo")
    row: dict[str, Any] = {
        "MaHoSo": str(dossier_id),
        "MaTTHC": _text(record.get("MaTTHC")),
        "MaCoQuan": _text(record.get("MaCoQuan")),
        "MaDiaBan": _text(record.get("MaDiaBan")),
        "KenhThucHien": _int_in(record.get("KenhThucHien"), "KenhThucHien", {1, 2, 3}),
        "LoaiDoiTuong": _int_in(record.get("LoaiDoiTuong"), "LoaiDoiTuong", {1, 2, 3}),
        "MaNguoiNop": applicant_key(_text(record.get("SoGiayTo")), key),
        "TrangThaiHoSo": _int_in(record.get("TrangThaiHoSo"), "TrangThaiHoSo", range(1, 11)),
        "DuocThanhToanTrucTuyen": _int_in(record.get("DuocThanhToanTrucTuyen", 0), "DuocThanhToanTrucTuyen", {0, 1, 2}),
        "CoKetQuaDienTu": _int_in(record.get("CoKetQuaDienTu", 0), "CoKetQuaDienTu", {0, 1}),
        "DaSoHoa": _int_in(record.get("DaSoHoa", 0), "DaSoHoa", {0, 1}),
    }
    for name in _DOSSIER_TS:
        row[name] = parse_compact_ts(record.get(name), name)
    if row["NgayNopHoSo"] is None:
        raise RowError("NgayNopHoSo: missing")
    if row["NgayCapNhat"] is None:
        raise RowError("NgayCapNhat: missing")
    fees = record.get("DanhSachLePhi") or []
    if not isinstance(fees, list):
        raise RowError("DanhSachLePhi: not an array")
    fee_rows = []
    for fee in fees:
        if not isinstance(fee, dict):
            raise RowError("DanhSachLePhi: entry is not an object")
        fee_rows.append({
            "MaPhiLePhi": _text(fee.get("MaPhiLePhi")),
            "TenPhiLePhi": _text(fee.get("TenPhiLePhi")),
            "LoaiPhiLePhi": _int_in(fee.get("LoaiPhiLePhi"), "DanhSachLePhi.LoaiPhiLePhi", {1, 2}),
            "Gia": _int(fee.get("Gia"), "DanhSachLePhi.Gia"),
        })
    rounds = record.get("DanhSachBoSung") or []
    if not isinstance(rounds, list):
        raise RowError("DanhSachBoSung: not an array")
    round_rows = []
    for entry in rounds:
        if not isinstance(entry, dict):
            raise RowError("DanhSachBoSung: entry is not an object")
        asked = parse_compact_ts(entry.get("NgayYeuCau"), "DanhSachBoSung.NgayYeuCau")
        if asked is None:
            raise RowError("DanhSachBoSung.NgayYeuCau: missing")
        round_rows.append({"NgayYeuCau": asked,
                           "NgayBoSung": parse_compact_ts(entry.get("NgayBoSung"), "DanhSachBoSung.NgayBoSung")})
    row["DanhSachLePhi"] = fee_rows
    row["DanhSachBoSung"] = round_rows
    return row


def parse_dossier_file(data: bytes, key: bytes) -> ParsedFile:
    """One JSON Lines sync batch. Blank lines are not rows."""
    return parse_dossier_lines(_decode_lines(data), key)


def parse_dossier_lines(lines: Iterable[tuple[int, str | None, bytes]], key: bytes) -> ParsedFile:
    """Numbered lines of a sync batch (text None where the bytes are not UTF-8)."""
    parsed = ParsedFile()
    for number, text, raw in lines:
        if text is None:
            parsed.rows_read += 1
            parsed.quarantine(number, "not UTF-8", raw.decode("utf-8", errors="replace"))
            continue
        if not text.strip():
            continue
        parsed.rows_read += 1
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            parsed.quarantine(number, f"invalid JSON: {exc.msg}", text)
            continue
        try:
            row = _dossier_row(record, key)
        except RowError as exc:
            parsed.quarantine(number, str(exc), text)
            continue
        row["_line_number"] = number
        parsed.rows.append(row)
    return parsed


# --- payments ---------------------------------------------------------------------------

PAYMENT_COLUMNS = ("MaGiaoDich", "MaTrungGian", "KenhThanhToan", "MaHoSo", "MaTTHC", "LoaiPhiLePhi",
                   "SoTien", "TrangThai", "ThoiGianGiaoDich", "NgayDoiSoat")
_TOTAL_LINE = re.compile(r"^\s*t[ổo]ng\s*c[ộo]ng", re.IGNORECASE)


def _is_total_line(first_cell: str) -> bool:
    return bool(_TOTAL_LINE.match(unicodedata.normalize("NFC", first_cell)))


def _csv_table(data: bytes, columns: tuple[str, ...], parsed: ParsedFile) -> tuple[
        list[str], dict[str, int], list[tuple[int, str | None, bytes]]] | None:
    """Header and non-blank body lines of a CSV file, one record per line.

    When the header lacks a contract column, every body line is quarantined
    with that reason and None is returned.
    """
    lines = _decode_lines(data)
    header_at = next((i for i, (_, text, _) in enumerate(lines) if text is None or text.strip()), None)
    if header_at is None:
        return None
    header_text = lines[header_at][1]
    header = [h.strip() for h in next(csv.reader([header_text]))] if header_text is not None else []
    body = [line for line in lines[header_at + 1:] if line[1] is None or line[1].strip()]
    missing = [c for c in columns if c not in header]
    if missing:
        parsed.file_error = f"header: missing columns {', '.join(missing)}"
        for number, text, raw in body:
            parsed.rows_read += 1
            parsed.quarantine(number, parsed.file_error, text if text is not None else raw.decode("utf-8", "replace"))
        return None
    return header, {name: header.index(name) for name in columns}, body


def parse_payment_file(data: bytes) -> ParsedFile:
    """One intermediary's daily reconciliation CSV (BOM, CRLF and a total line allowed)."""
    parsed = ParsedFile()
    table = _csv_table(data, PAYMENT_COLUMNS, parsed)
    if table is None:
        return parsed
    header, position, body = table
    for index, (number, text, raw) in enumerate(body):
        if text is None:
            parsed.rows_read += 1
            parsed.quarantine(number, "not UTF-8", raw.decode("utf-8", errors="replace"))
            continue
        cells = next(csv.reader([text]))
        if cells and _is_total_line(cells[0]) and index == len(body) - 1:
            parsed.has_total_line = True
            amounts = [c for c in cells[1:] if re.fullmatch(r"\s*-?\d+\s*", c)]
            parsed.total_line_amount = int(amounts[0]) if amounts else None
            continue
        parsed.rows_read += 1
        if len(cells) != len(header):
            parsed.quarantine(number, f"{len(cells)} fields, header has {len(header)}", text)
            continue
        value = {name: cells[i].strip() for name, i in position.items()}
        try:
            row = _payment_row(value)
        except RowError as exc:
            parsed.quarantine(number, str(exc), text)
            continue
        row["_line_number"] = number
        parsed.rows.append(row)
    return parsed


def _payment_row(value: dict[str, str]) -> dict[str, Any]:
    if not value["MaGiaoDich"]:
        raise RowError("no MaGiaoDich")
    if not value["MaTrungGian"]:
        raise RowError("no MaTrungGian")
    if value["TrangThai"] not in {"00", "01", "02"}:
        raise RowError(f"TrangThai: {value['TrangThai']!r} not in the contract's code set")
    try:
        paid_at = dt.datetime.strptime(value["ThoiGianGiaoDich"], "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise RowError("ThoiGianGiaoDich: not yyyy-MM-dd HH:mm:ss") from exc
    try:
        settled = dt.datetime.strptime(value["NgayDoiSoat"], "%Y-%m-%d").date()
    except ValueError as exc:
        raise RowError("NgayDoiSoat: not yyyy-MM-dd") from exc
    return {
        "MaGiaoDich": value["MaGiaoDich"],
        "MaTrungGian": value["MaTrungGian"],
        "KenhThanhToan": _int_in(value["KenhThanhToan"], "KenhThanhToan", {1, 2}),
        "MaHoSo": value["MaHoSo"] or None,
        "MaTTHC": value["MaTTHC"] or None,
        "LoaiPhiLePhi": _int_in(value["LoaiPhiLePhi"], "LoaiPhiLePhi", {1, 2}),
        "SoTien": _int(value["SoTien"], "SoTien"),
        "TrangThai": value["TrangThai"],
        "ThoiGianGiaoDich": paid_at,
        "NgayDoiSoat": settled,
    }


# --- catalog ----------------------------------------------------------------------------

CATALOG_COLUMNS = ("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaCoQuan", "TenCoQuan", "CapThucHien",
                   "MucDo", "ThoiHanGiaiQuyet", "PhiLePhi")


def parse_catalog_file(data: bytes) -> ParsedFile:
    """One full catalog snapshot.

    MucDo accepts 1-4: the catalog also lists procedures that are not offered
    online (levels 1 and 2 before Decree 42/2022), which `metrics.md` needs to
    tell online services (3, 4) from the rest.
    """
    parsed = ParsedFile()
    table = _csv_table(data, CATALOG_COLUMNS, parsed)
    if table is None:
        return parsed
    header, position, body = table
    for number, text, raw in body:
        parsed.rows_read += 1
        if text is None:
            parsed.quarantine(number, "not UTF-8", raw.decode("utf-8", errors="replace"))
            continue
        cells = next(csv.reader([text]))
        if len(cells) != len(header):
            parsed.quarantine(number, f"{len(cells)} fields, header has {len(header)}", text)
            continue
        raw_text = text
        value = {name: cells[i] for name, i in position.items()}
        try:
            code = value["MaTTHC"].strip()
            if not code:
                raise RowError("no MaTTHC")
            level = value["CapThucHien"].strip()
            if level not in {"TINH", "HUYEN", "XA"}:
                raise RowError(f"CapThucHien: {level!r} not in the contract's code set")
            deadline = _int(value["ThoiHanGiaiQuyet"], "ThoiHanGiaiQuyet")
            fee = _int(value["PhiLePhi"], "PhiLePhi")
            if deadline < 0:
                raise RowError("ThoiHanGiaiQuyet: negative")
            if fee < 0:
                raise RowError("PhiLePhi: negative")
            row = {
                "MaTTHC": value["MaTTHC"],
                "TenTTHC": value["TenTTHC"],
                "MaLinhVuc": value["MaLinhVuc"],
                "TenLinhVuc": value["TenLinhVuc"],
                "MaCoQuan": value["MaCoQuan"],
                "TenCoQuan": value["TenCoQuan"],
                "CapThucHien": level,
                "MucDo": _int_in(value["MucDo"].strip(), "MucDo", range(1, 5)),
                "ThoiHanGiaiQuyet": deadline,
                "PhiLePhi": fee,
                "_line_number": number,
            }
        except RowError as exc:
            parsed.quarantine(number, str(exc), raw_text)
            continue
        parsed.rows.append(row)
    return parsed
