"""Parsers from the source contracts (`shared/spec/sources.md`) to typed rows.

Each parser takes one delivered file's bytes and returns the rows it could
type and the lines it could not, each with a reason. Nothing is dropped: every
data line read ends up in exactly one of the two lists. Personal data never
leaves a parser: names and phones are dropped, the ID number becomes a keyed
hash, and a quarantined line keeps neither:

- its reason is a contract field and a rule of a closed vocabulary (`Reason`),
  never a value of the line;
- its raw text is the decoded record masked (`masked_record`, `masked_cells`):
  a value is kept only under a contract field that holds no personal data and
  only when it has that field's shape (a code, a timestamp, an amount, a
  short text); a line that does not decode or parse keeps only its length and
  a hash (`unparsed`).
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import hmac
import io
import json
import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NewType

# Personal fields of the contract, v1 and v2 (`sources.md`, fields marked ◆): masked wherever they
# appear in a quarantined record, whatever they hold.
PERSONAL_FIELDS = frozenset({
    "ChuHoSo", "SoGiayTo", "SoDienThoai",  # v1
    "SoGiayToChuHoSo", "Email", "Fax", "MaDoiTuong", "DinhDanhCHS", "TrichYeuHoSo", "ThongTinTra", "GhiChu",
    "NguoiYeuCauBoSung", "NguoiTiepNhanBoSung", "NguoiXuLy", "NoiDungXuLy",
})

# The shape a value of each non-personal contract field has. Masking keeps a value only where its
# field is listed here and the value has the field's shape; any other value (a personal or unknown
# field, or an ID number in a status field) is masked. Free-text fields that may name people
# (NoiDungBoSung, attachment names and paths, the portal's message) are left out on purpose.
_TEXT, _CODE, _TIME, _NUMBER, _WORD, _LIST = "text", "code", "time", "number", "word", "list"
_SHAPES: dict[str, str] = {
    # dossiers, v1 and v2, with their nested entries and the sync-call envelope
    "MaHoSo": _TEXT, "MaTTHC": _TEXT, "TenTTHC": _TEXT, "MaLinhVuc": _TEXT, "TenLinhVuc": _TEXT,
    "MaCoQuan": _TEXT, "MaDiaBan": _TEXT, "DonViXuLy": _TEXT, "KenhThucHien": _CODE, "LoaiDoiTuong": _CODE,
    "TrangThaiHoSo": _CODE, "DuocThanhToanTrucTuyen": _CODE, "CoKetQuaDienTu": _CODE, "DaSoHoa": _CODE,
    "HinhThuc": _CODE, "NoiNopHoSo": _CODE, "HoSoCoThanhPhanSoHoa": _CODE, "TaiKhoanDuocXacThucVoiVNeID": _CODE,
    "NgayNopHoSo": _TIME, "NgayTiepNhan": _TIME, "NgayHenTra": _TIME, "NgayKetThucXuLy": _TIME, "NgayTra": _TIME,
    "NgayTuChoi": _TIME, "NgayCapNhat": _TIME,
    "DanhSachLePhi": _LIST, "MaPhiLePhi": _TEXT, "TenPhiLePhi": _TEXT, "LoaiPhiLePhi": _CODE, "Gia": _NUMBER,
    "HinhThucThu": _CODE,
    "DanhSachBoSung": _LIST, "NgayYeuCau": _TIME, "NgayBoSung": _TIME,
    "DanhSachHoSoBoSung": _LIST, "NgayTiepNhanBoSung": _TIME, "TrangThaiBoSung": _CODE, "NgayHenTraTruoc": _TIME,
    "NgayHenTraMoi": _TIME,
    "TaiLieuNop": _LIST, "TepDinhKemId": _TEXT, "IsDeleted": _CODE, "MaThanhPhanHoSo": _TEXT, "DuocSoHoa": _CODE,
    "DuocTaiSuDung": _CODE, "DuocLayTuKhoDMQG": _CODE, "MaKetQuaThayThe": _TEXT,
    "DanhSachGiayToKetQua": _LIST, "GiayToId": _TEXT, "MaGiayToKetQua": _TEXT,
    "DSKetNoiCSDL": _LIST, "MaCSDL": _TEXT,
    "MaDinhDanhDV": _TEXT, "ThoiGianDongBo": _TIME, "LoaiDongBo": _WORD, "KetQua": _LIST, "error_code": _CODE,
    "data": _LIST,
    # processing log (v2)
    "ChucDanh": _TEXT, "PhongBanXuLy": _TEXT, "TrangThai": _CODE, "ThoiDiemXuLy": _TIME, "NgayBatDau": _TIME,
    "NgayKetThucTheoQuyDinh": _TIME,
    # payments
    "MaGiaoDich": _TEXT, "MaTrungGian": _TEXT, "KenhThanhToan": _CODE, "SoTien": _NUMBER,
    "ThoiGianGiaoDich": _TIME, "NgayDoiSoat": _TIME,
    # catalog and agencies, v1 and v2
    "TenCoQuan": _TEXT, "CapThucHien": _WORD, "MucDo": _CODE, "ThoiHanGiaiQuyet": _NUMBER, "PhiLePhi": _NUMBER,
    "MaCoQuanChuTri": _TEXT, "DuDieuKienToanTrinh": _CODE, "DonViThoiHan": _WORD, "CoPhiLePhi": _CODE,
    "CoKetQuaGiay": _CODE, "DoiTuongCongDan": _CODE, "KetNoiCSDLDanCu": _CODE, "NgayQuyetDinhCongBo": _TIME,
    "NgayHieuLucVanBan": _TIME, "NgayCongKhai": _TIME, "SoBoPhanCongKhai": _CODE,
    "MaDinhDanh": _TEXT, "CapCoQuan": _WORD, "MaCoQuanCha": _TEXT, "MaDVHC": _TEXT, "NgayHieuLuc": _TIME,
    "NgayHetHieuLuc": _TIME, "MaCoQuanKeThua": _TEXT,
}
_SHAPE_OF = {
    _CODE: re.compile(r"\s*-?\d{1,3}(?:\.\d+)?\s*"),
    _TIME: re.compile(r"\s*(?:\d{8}|\d{14}|\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?)?)?\s*"),
    _NUMBER: re.compile(r"\s*-?\d{1,19}(?:\.\d+)?\s*"),
    _WORD: re.compile(r"[A-Za-z_; ]{0,40}"),
    _TEXT: re.compile(r".{0,300}", re.DOTALL),
}
assert PERSONAL_FIELDS.isdisjoint(_SHAPES)

# ID numbers (12-digit CCCD, 10-digit tax codes) and phones, not the 14-digit timestamps; e-mail addresses.
_LONG_DIGITS = re.compile(r"(?<!\d)\+?\d{9,12}(?!\d)")
_EMAIL = re.compile(r"[^\s@\"',;<>]+@[^\s@\"',;<>]+")
_SURROGATES = re.compile("[\ud800-\udfff]")
_MASK = "***"
_MAX_RAW = 2000
_MAX_DEPTH = 32
_MAX_ITEMS = 100

MaskedText = NewType("MaskedText", str)
"""A quarantined line's raw text, made by `masked_record`, `masked_cells` or `unparsed` only."""


def _kept(value: str | int | float, shape: str | None) -> str | int | float:
    """`value` if it has `shape` and no ID number, phone or e-mail in it, else the mask."""
    if shape is None or shape == _LIST:
        return _MASK
    if isinstance(value, float) and not math.isfinite(value) or isinstance(value, int) and abs(value) >= 10**20:
        return _MASK  # no code or amount is that large (and str() refuses an int of 4,300 digits)
    text = value if isinstance(value, str) else repr(value)
    if text and not _SHAPE_OF[shape].fullmatch(text) or _LONG_DIGITS.search(text) or _EMAIL.search(text):
        return _MASK
    return value


def _masked(value: Any, shape: str | None, depth: int) -> Any:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, (str, int, float)):
        return _kept(value, shape)
    if depth >= _MAX_DEPTH or shape != _LIST or not isinstance(value, (dict, list)):
        return _MASK  # an object or array where a code or a text belongs is not that field's shape
    if isinstance(value, list):
        items = [_masked(item, _LIST, depth + 1) for item in value[:_MAX_ITEMS]]
        return items + ([_MASK] if len(value) > _MAX_ITEMS else [])
    out: dict[str, Any] = {}
    for key, item in value.items():
        if key in _SHAPES:
            out[key] = _masked(item, _SHAPES[key], depth + 1)
        elif key in PERSONAL_FIELDS:
            out[key] = _MASK
        else:
            # A key outside the contract is data too (a name sent as a key): neither is kept.
            out[f"<other field {len(out) + 1}>"] = _MASK
    return out


def _finish(text: str) -> MaskedText:
    # JSON escapes can carry lone surrogates, which no Parquet string can hold.
    return MaskedText(_SURROGATES.sub("\ufffd", text)[:_MAX_RAW])


def masked_record(record: Any) -> MaskedText:
    """A decoded JSON line (object, array or scalar, nested at any depth), masked, as JSON text.

    Keeps null, booleans, the contract's field names, and a value only under a non-personal
    contract field whose shape it has (`_SHAPES`) and when it holds no 9-12-digit number or
    e-mail; everything else is `***` (a key outside the contract becomes `<other field n>`).
    Cut at 2,000 characters, after which it is no longer valid JSON.
    """
    return _finish(json.dumps(_masked(record, _LIST, 0), ensure_ascii=False))


def masked_cells(header: list[str], cells: list[str]) -> MaskedText:
    """A CSV record whose cells match the header, masked cell by cell as `masked_record` masks
    values (a cell under a header name outside the contract is masked), as one CSV line."""
    kept = [_kept(cell, _SHAPES.get(name.strip())) for name, cell in zip(header, cells, strict=True)]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(kept)
    return _finish(buffer.getvalue())


def unparsed(data: bytes, key: bytes | None = None) -> MaskedText:
    """What is kept of a line that did not decode or parse: its length in bytes and a hash of
    them (HMAC-SHA-256 under `key` when given, so short lines cannot be guessed from it), never
    the text: `<unparsed: 312 bytes, hmac-sha256 0123456789abcdef>`."""
    if key is None:
        label, digest = "sha256", hashlib.sha256(data).hexdigest()
    else:
        label, digest = "hmac-sha256", hmac.new(key, data, hashlib.sha256).hexdigest()
    return MaskedText(f"<unparsed: {len(data)} bytes, {label} {digest[:16]}>")


# --- reasons ----------------------------------------------------------------------------

# The rules a line can break. A reason is one of these for the whole line, or `<field>: <rule>`.
NOT_DECODED = {"utf-8": "not UTF-8", "utf-16-le": "not UTF-16", "utf-16-be": "not UTF-16",
               "utf-32-le": "not UTF-32", "utf-32-be": "not UTF-32"}
INVALID_JSON = "invalid JSON"
_JSON_RULES = (  # json's messages (C and Python scanners) to ours; the Python ones quote the input
    ("Expecting value", "invalid JSON: expecting a value"),
    ("Expecting property name", "invalid JSON: expecting a property name"),
    ("Expecting ':' delimiter", "invalid JSON: expecting ':'"),
    ("Expecting ',' delimiter", "invalid JSON: expecting ','"),
    ("Unterminated string", "invalid JSON: unterminated string"),
    ("Invalid control character", "invalid JSON: control character in a string"),
    ("Invalid \\escape", "invalid JSON: invalid escape"),
    ("Invalid \\uXXXX escape", "invalid JSON: invalid escape"),
    ("Extra data", "invalid JSON: data after the value"),
    ("Illegal trailing comma", "invalid JSON: trailing comma"),
)
JSON_TOO_DEEP = "invalid JSON: nested too deep"
JSON_NUMBER_TOO_LONG = "invalid JSON: number too long"
NOT_A_JSON_OBJECT = "not a JSON object"
RECORD_TOO_LARGE = "record over the size limit"
# A dossier record is a few kilobytes; one of millions of characters is not one, and reading it
# would cost the landing its memory (sources.md v2: limits on record size).
MAX_RECORD_CHARS = 4 * 2**20
NOT_A_CSV_RECORD = "not a CSV record"
FIELD_COUNT = "field count differs from the header"
HEADER_LACKS_COLUMN = "header lacks a contract column"
MISSING = "missing"
NOT_TEXT = "not a text"
NOT_INTEGER = "not an integer"
NOT_IN_CODE_SET = "not in the contract's code set"
OUT_OF_RANGE = "out of range"
NEGATIVE = "negative"
NOT_COMPACT_TIMESTAMP = "not a timestamp yyyyMMddHHmmss"
IMPOSSIBLE_DATE = "impossible date"
NOT_TIMESTAMP = "not a timestamp yyyy-MM-dd HH:mm:ss"
NOT_DATE = "not a date yyyy-MM-dd"
NOT_ARRAY = "not an array"
ENTRY_NOT_OBJECT = "entry is not an object"

LINE_RULES = frozenset({*NOT_DECODED.values(), INVALID_JSON, *(rule for _, rule in _JSON_RULES), JSON_TOO_DEEP,
                        JSON_NUMBER_TOO_LONG, NOT_A_JSON_OBJECT, RECORD_TOO_LARGE, NOT_A_CSV_RECORD, FIELD_COUNT,
                        HEADER_LACKS_COLUMN})
FIELD_RULES = frozenset({MISSING, NOT_TEXT, NOT_INTEGER, NOT_IN_CODE_SET, OUT_OF_RANGE, NEGATIVE,
                         NOT_COMPACT_TIMESTAMP, IMPOSSIBLE_DATE, NOT_TIMESTAMP, NOT_DATE, NOT_ARRAY, ENTRY_NOT_OBJECT})
REASON_RULES = LINE_RULES | FIELD_RULES
# Whole-file rules, with a parameter from a closed set (a codec's name, a separator, contract
# column names): what was found, never what the file says.
_SEPARATOR_NAMES = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}
_FILE_RULE_PATTERNS = (
    re.compile(r"not UTF-8 \((?:looks like [a-z0-9_]{1,24}|encoding unknown)\)"),
    re.compile(r"separator (?:','|';'|tab|'\|'), not (?:','|';'|tab|'\|')"),
    re.compile(r"CSV: (?:line contains NUL|field over the size limit|unreadable)"),
)


def is_file_rule(rule: str) -> bool:
    """Whether `rule` is one of the whole-file rules (a file quarantined whole gives each of its
    lines this reason)."""
    return any(pattern.fullmatch(rule) for pattern in _FILE_RULE_PATTERNS)
REASON_FIELDS = frozenset({*_SHAPES, *PERSONAL_FIELDS, "DanhSachLePhi.MaPhiLePhi", "DanhSachLePhi.TenPhiLePhi",
                           "DanhSachLePhi.LoaiPhiLePhi", "DanhSachLePhi.Gia", "DanhSachBoSung.NgayYeuCau",
                           "DanhSachBoSung.NgayBoSung"})


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a line is quarantined: a contract field (None: the whole line) and a rule.

    Both come from closed vocabularies (`REASON_FIELDS`, `LINE_RULES`, `FIELD_RULES`), so a
    reason never carries a value of the line: reasons are published and shown to officials.
    Raises ValueError for a field or rule outside them.
    """

    field: str | None
    rule: str

    def __post_init__(self) -> None:
        if self.field is None and self.rule not in LINE_RULES and not is_file_rule(self.rule):
            raise ValueError("not a line rule")
        if self.field is not None and (self.field not in REASON_FIELDS or self.rule not in FIELD_RULES):
            raise ValueError("not a contract field and a field rule")

    def __str__(self) -> str:
        return self.rule if self.field is None else f"{self.field}: {self.rule}"


def json_reason(exc: ValueError | RecursionError) -> Reason:
    """The reason for a line `json.loads` refused, from the kind of error only (its message can
    quote the line)."""
    if isinstance(exc, RecursionError):
        return Reason(None, JSON_TOO_DEEP)
    if not isinstance(exc, json.JSONDecodeError):
        return Reason(None, JSON_NUMBER_TOO_LONG)  # the only other ValueError: int's digit limit
    return Reason(None, next((rule for prefix, rule in _JSON_RULES if exc.msg.startswith(prefix)), INVALID_JSON))


class RowError(ValueError):
    """A value that does not fit the contract: `reason` names its field and the rule it breaks."""

    def __init__(self, field: str | None, rule: str) -> None:
        self.reason = Reason(field, rule)
        super().__init__(str(self.reason))


# --- values -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)
def applicant_key(id_number: str | None, key: bytes) -> str | None:
    """HMAC-SHA-256 of the normalised citizen ID or tax code."""
    if id_number is None:
        return None
    normalised = re.sub(r"[\s.\-]", "", unicodedata.normalize("NFC", str(id_number))).upper()
    if not normalised:
        return None
    return hmac.new(key, normalised.encode("utf-8"), hashlib.sha256).hexdigest()


def parse_compact_ts(value: Any, name: str) -> dt.datetime | None:
    """`yyyyMMddHHmmss` (text or a JSON integer), empty or null. RowError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RowError(name, NOT_COMPACT_TIMESTAMP)
    return _parse_compact_text(value if isinstance(value, str) else str(value), name)


@functools.lru_cache(maxsize=1 << 16)
def _parse_compact_text(text: str, name: str) -> dt.datetime:
    # Cached: the syncs of one dossier repeat its submission, reception and due times.
    if len(text) != 14 or not text.isdigit():
        raise RowError(name, NOT_COMPACT_TIMESTAMP)
    try:
        return dt.datetime(int(text[0:4]), int(text[4:6]), int(text[6:8]),
                           int(text[8:10]), int(text[10:12]), int(text[12:14]))
    except ValueError as exc:
        raise RowError(name, IMPOSSIBLE_DATE) from exc


def _integral(value: Any, name: str) -> int:
    """A JSON integer, an integral float, or a text of digits with an optional all-zero decimal
    part (`"50000.00"`): sources.md v2, an integral decimal is an integer. Raises RowError."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise RowError(name, NOT_INTEGER)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise RowError(name, NOT_INTEGER)
        return int(value)
    match = re.fullmatch(r"\s*(-?\d+)(?:\.0*)?\s*", value)
    if match is None:
        raise RowError(name, NOT_INTEGER)
    try:
        return int(match.group(1))
    except ValueError as exc:  # more digits than int() converts
        raise RowError(name, OUT_OF_RANGE) from exc


def _int_in(value: Any, name: str, allowed: range | set[int]) -> int:
    number = _integral(value, name)
    if number not in allowed:
        raise RowError(name, NOT_IN_CODE_SET)
    return number


def _int(value: Any, name: str, bits: int = 64) -> int:
    """An integer (as `_integral`) that fits the lake's signed `bits`-bit column."""
    number = _integral(value, name)
    if not -(1 << (bits - 1)) <= number < 1 << (bits - 1):
        raise RowError(name, OUT_OF_RANGE)
    return number


def _text(value: Any, name: str) -> str | None:
    """A text field: JSON text, number or null (an object or array is not a code)."""
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        raise RowError(name, NOT_TEXT)
    return str(value)


@dataclass
class ParsedFile:
    """What a parser made of one file: typed rows, and quarantined lines as dicts of
    `line_number`, `reason` (text of a `Reason`) and `raw_text` (a `MaskedText`); `rows_read`
    counts both (a payment file's total line is neither)."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    quarantined: list[dict[str, Any]] = field(default_factory=list)
    rows_read: int = 0
    has_total_line: bool = False
    total_line_amount: int | None = None
    file_error: str | None = None
    unknown_columns: list[str] = field(default_factory=list)  # header names outside the contract

    def quarantine(self, line_number: int | None, reason: Reason, raw: MaskedText) -> None:
        """Quarantine one line: `reason` from the vocabulary, `raw` already masked."""
        self.quarantined.append({"line_number": line_number, "reason": str(reason), "raw_text": raw})


Line = tuple[int, str | None, bytes]
"""A numbered line: its text (None where its bytes do not decode) and its bytes."""

_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xfe\xff", "utf-16-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xef\xbb\xbf", "utf-8"))


def _split_units(data: bytes, newline: bytes) -> list[bytes]:
    """Split at `newline` where it starts on a code unit (UTF-16/32: a newline's bytes can also
    straddle two units)."""
    size, lines, start = len(newline), [], 0
    index = data.find(newline)
    while index != -1:
        if (index - start) % size == 0:
            lines.append(data[start:index])
            start = index + size
            index = data.find(newline, start)
        else:
            index = data.find(newline, index + 1)
    lines.append(data[start:])
    return lines


def decode_lines(data: bytes) -> tuple[str, list[Line]]:
    """A file's encoding and its numbered lines, each decoded on its own.

    UTF-8 unless the file starts with a UTF-8, UTF-16 or UTF-32 byte-order mark (`sources.md`),
    which is dropped; a trailing CR is dropped from each line. A line whose bytes do not decode
    has text None, so that one bad line does not cost the file.
    """
    codec = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            data, codec = data[len(bom):], name
            break
    newline = "\n".encode(codec)
    if codec == "utf-8":
        pieces = [raw.rstrip(b"\r") for raw in data.split(newline)]
    else:
        pieces = _split_units(data, newline)
    out: list[Line] = []
    for number, raw in enumerate(pieces, start=1):
        try:
            out.append((number, raw.decode(codec).rstrip("\r"), raw))
        except UnicodeDecodeError:
            out.append((number, None, raw))
    return codec, out


# --- dossiers ---------------------------------------------------------------------------

_DOSSIER_TS = ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi",
               "NgayCapNhat")


def _dossier_row(record: Any, key: bytes) -> dict[str, Any]:
    if not isinstance(record, dict):
        raise RowError(None, NOT_A_JSON_OBJECT)
    dossier_id = _text(record.get("MaHoSo"), "MaHoSo")
    if dossier_id is None or not dossier_id.strip():
        raise RowError("MaHoSo", MISSING)
    row: dict[str, Any] = {
        "MaHoSo": dossier_id,
        "MaTTHC": _text(record.get("MaTTHC"), "MaTTHC"),
        "MaCoQuan": _text(record.get("MaCoQuan"), "MaCoQuan"),
        "MaDiaBan": _text(record.get("MaDiaBan"), "MaDiaBan"),
        "KenhThucHien": _int_in(record.get("KenhThucHien"), "KenhThucHien", {1, 2, 3}),
        "LoaiDoiTuong": _int_in(record.get("LoaiDoiTuong"), "LoaiDoiTuong", {1, 2, 3}),
        "MaNguoiNop": applicant_key(_text(record.get("SoGiayTo"), "SoGiayTo"), key),
        "TrangThaiHoSo": _int_in(record.get("TrangThaiHoSo"), "TrangThaiHoSo", range(1, 11)),
        "DuocThanhToanTrucTuyen": _int_in(record.get("DuocThanhToanTrucTuyen", 0), "DuocThanhToanTrucTuyen", {0, 1, 2}),
        "CoKetQuaDienTu": _int_in(record.get("CoKetQuaDienTu", 0), "CoKetQuaDienTu", {0, 1}),
        "DaSoHoa": _int_in(record.get("DaSoHoa", 0), "DaSoHoa", {0, 1}),
    }
    for name in _DOSSIER_TS:
        row[name] = parse_compact_ts(record.get(name), name)
    if row["NgayNopHoSo"] is None:
        raise RowError("NgayNopHoSo", MISSING)
    if row["NgayCapNhat"] is None:
        raise RowError("NgayCapNhat", MISSING)
    fees = record.get("DanhSachLePhi") or []
    if not isinstance(fees, list):
        raise RowError("DanhSachLePhi", NOT_ARRAY)
    fee_rows = []
    for fee in fees:
        if not isinstance(fee, dict):
            raise RowError("DanhSachLePhi", ENTRY_NOT_OBJECT)
        fee_rows.append({
            "MaPhiLePhi": _text(fee.get("MaPhiLePhi"), "DanhSachLePhi.MaPhiLePhi"),
            "TenPhiLePhi": _text(fee.get("TenPhiLePhi"), "DanhSachLePhi.TenPhiLePhi"),
            "LoaiPhiLePhi": _int_in(fee.get("LoaiPhiLePhi"), "DanhSachLePhi.LoaiPhiLePhi", {1, 2}),
            "Gia": _int(fee.get("Gia"), "DanhSachLePhi.Gia"),
        })
    rounds = record.get("DanhSachBoSung") or []
    if not isinstance(rounds, list):
        raise RowError("DanhSachBoSung", NOT_ARRAY)
    round_rows = []
    for entry in rounds:
        if not isinstance(entry, dict):
            raise RowError("DanhSachBoSung", ENTRY_NOT_OBJECT)
        asked = parse_compact_ts(entry.get("NgayYeuCau"), "DanhSachBoSung.NgayYeuCau")
        if asked is None:
            raise RowError("DanhSachBoSung.NgayYeuCau", MISSING)
        round_rows.append({"NgayYeuCau": asked,
                           "NgayBoSung": parse_compact_ts(entry.get("NgayBoSung"), "DanhSachBoSung.NgayBoSung")})
    row["DanhSachLePhi"] = fee_rows
    row["DanhSachBoSung"] = round_rows
    return row


def parse_dossier_file(data: bytes, key: bytes) -> ParsedFile:
    """One JSON Lines sync batch (encoding as `decode_lines`). Blank lines are not rows.

    `key` is the pseudonym key: it keys the applicant hash and the hash of unparsed lines.
    """
    codec, lines = decode_lines(data)
    return parse_dossier_lines(lines, key, codec)


def parse_dossier_lines(lines: Iterable[Line], key: bytes, codec: str = "utf-8") -> ParsedFile:
    """Numbered lines of a sync batch (text None where the bytes are not `codec`)."""
    parsed = ParsedFile()
    for number, text, raw in lines:
        if text is None:
            parsed.rows_read += 1
            parsed.quarantine(number, Reason(None, NOT_DECODED[codec]), unparsed(raw, key))
            continue
        if not text.strip():
            continue
        parsed.rows_read += 1
        if len(text) > MAX_RECORD_CHARS:
            parsed.quarantine(number, Reason(None, RECORD_TOO_LARGE),
                              unparsed(text.encode("utf-8", "surrogateescape"), key))
            continue
        try:
            record = json.loads(text)
        except (ValueError, RecursionError) as exc:
            parsed.quarantine(number, json_reason(exc), unparsed(text.encode("utf-8"), key))
            continue
        try:
            row = _dossier_row(record, key)
        except RowError as exc:
            parsed.quarantine(number, exc.reason, masked_record(record))
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


@dataclass(frozen=True)
class CsvDialect:
    """How one sender writes its CSV files. The contract's is the default; a province declares
    another for an intermediary that really sends it (sources.md §5: a dialect is configuration,
    `DVC_PAYMENT_DIALECTS_FILE`). `thousands` is the grouping mark of amounts (`"."` for `50.000`),
    `columns` maps the sender's header names to the contract's."""

    delimiter: str = ","
    thousands: str = ""
    decimal: str = "."
    timestamp_format: str = "%Y-%m-%d %H:%M:%S"
    date_format: str = "%Y-%m-%d"
    columns: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> CsvDialect:
        known = {f for f in cls.__dataclass_fields__}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown dialect settings {sorted(unknown)} (known: {sorted(known)})")
        values = dict(values)
        if "columns" in values:
            values["columns"] = tuple(sorted((str(k), str(v)) for k, v in dict(values["columns"]).items()))
        dialect = cls(**values)
        if dialect.delimiter not in _SEPARATOR_NAMES:
            raise ValueError(f"delimiter must be one of {sorted(_SEPARATOR_NAMES)}")
        return dialect

    def amount(self, text: str, name: str) -> int:
        """An amount in VND written in this dialect (`50.000`, `50000,00`), as `_int`."""
        text = text.strip()
        if self.thousands and re.fullmatch(rf"-?\d{{1,3}}(?:{re.escape(self.thousands)}\d{{3}})+"
                                           rf"(?:{re.escape(self.decimal)}\d+)?", text):
            text = text.replace(self.thousands, "")
        if self.decimal != ".":
            text = text.replace(self.decimal, ".", 1) if "." not in text else text + "x"
        return _int(text, name)


DEFAULT_DIALECT = CsvDialect()
CsvRecord = tuple[int, list[str]]
"""A CSV record: the number of the line it starts on, and its cells."""

_LINE_BREAKS = re.compile(rb"\r\n|\r|\n")


def _file_lines(data: bytes, codec: str) -> list[bytes]:
    """A file's physical lines (CR, LF or CRLF) as bytes, for keeping what is left of a file that
    cannot be read as records."""
    if codec == "utf-8":
        return _LINE_BREAKS.split(data)
    return [line.encode(codec) for line in data.decode(codec, errors="replace").splitlines()]


def _quarantine_file(parsed: ParsedFile, reason: Reason, lines: list[bytes], key: bytes | None) -> None:
    """Quarantine a file whole: every non-blank line after the first (its header) with the file's
    reason, kept as length and hash; nothing of it is loaded (no file is ever half-loaded)."""
    parsed.file_error = str(reason)
    body = [(number, raw) for number, raw in enumerate(lines, start=1) if raw.strip(b"\x00\r\n\t ")]
    for number, raw in body[1:]:
        parsed.rows_read += 1
        parsed.quarantine(number, reason, unparsed(raw, key))


def _decode_whole(data: bytes) -> tuple[str, bytes, str | None]:
    """A file's codec (by its byte-order mark, UTF-8 otherwise), its bytes without the mark, and
    its text (None where the file is not in that codec). Undecodable bytes in a few records of a
    UTF-8 file are kept as surrogates, so that those records alone are quarantined."""
    codec = "utf-8"
    for bom, name in _BOMS:
        if data.startswith(bom):
            data, codec = data[len(bom):], name
            break
    try:
        return codec, data, data.decode(codec, errors="surrogateescape" if codec == "utf-8" else "strict")
    except UnicodeDecodeError:
        return codec, data, None


def _foreign_encoding(codec: str, body: bytes, text: str | None) -> str | None:
    """Why a file is not text in its codec, naming the encoding it looks like (charset-normalizer,
    requests' own detector); None when it is. Files are UTF-8 unless a byte-order mark says
    otherwise (sources.md), so another encoding is quarantined whole: UTF-16 without its mark
    decodes as UTF-8 full of NULs, a legacy code page as UTF-8 with invalid bytes."""
    if codec != "utf-8":
        return NOT_DECODED[codec] if text is None else None
    if text is not None and _SURROGATES.search(text) is None and "\x00" not in text:
        return None
    invalid = text is None or _SURROGATES.search(text) is not None
    from charset_normalizer import from_bytes

    best = from_bytes(body[:1 << 20]).best()
    name = (best.encoding if best is not None else "").lower()
    if not invalid and name in {"", "ascii", "utf_8"}:
        return None  # UTF-8 with a NUL in it: the CSV reader's matter
    return f"not UTF-8 (looks like {name})" if re.fullmatch(r"[a-z0-9_]{1,24}", name) else \
        "not UTF-8 (encoding unknown)"


def _csv_error(exc: csv.Error) -> str:
    message = str(exc)
    if "NUL" in message:
        return "CSV: line contains NUL"
    if "field larger than field limit" in message:
        return "CSV: field over the size limit"
    return "CSV: unreadable"


def _csv_records(text: str, dialect: CsvDialect) -> list[CsvRecord]:
    """RFC 4180 records, read as a stream: CR, LF and CRLF end a record, a quoted cell may hold
    line breaks. Blank records are dropped. Raises csv.Error where the file cannot be read."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=dialect.delimiter, strict=False)
    records: list[CsvRecord] = []
    start = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            records.append((start, cells))
        start = reader.line_num + 1
    return records


def _found_separator(first_line: str, dialect: CsvDialect, columns: tuple[str, ...]) -> str | None:
    """The separator a header that lacks the contract's columns really uses, where another one
    gives them (csv.Sniffer): a sender in another dialect (Excel in a Vietnamese locale: `;`)."""
    try:
        found = csv.Sniffer().sniff(first_line, delimiters="".join(_SEPARATOR_NAMES)).delimiter
    except csv.Error:
        return None
    if found == dialect.delimiter:
        return None
    cells = {c.strip() for c in next(csv.reader([first_line], delimiter=found), [])}
    return found if cells >= set(columns) else None


def _csv_table(data: bytes, columns: tuple[str, ...], parsed: ParsedFile, key: bytes | None,
               dialect: CsvDialect = DEFAULT_DIALECT) -> tuple[list[str], dict[str, int], list[CsvRecord]] | None:
    """Header (in the contract's names), contract column positions and body records of a CSV
    file; None when the file is quarantined whole (`_quarantine_file`), with the reason that names
    what was found: another encoding, a CSV the parser rejects, another separator, a header
    without the contract's columns. Header names outside the contract are the file's
    `unknown_columns` (their values are not read)."""
    codec, body, text = _decode_whole(data)
    rule = _foreign_encoding(codec, body, text)
    if rule is not None:
        _quarantine_file(parsed, Reason(None, rule), _file_lines(body, codec), key)
        return None
    assert text is not None
    try:
        if "\x00" in text:  # a binary file, or a broken export: not a text CSV (Python's csv would read it)
            raise csv.Error("line contains NUL")
        records = _csv_records(text, dialect)
    except csv.Error as exc:
        _quarantine_file(parsed, Reason(None, _csv_error(exc)), _file_lines(body, codec), key)
        return None
    if not records:
        return None
    renamed = dict(dialect.columns)
    header = [renamed.get(name, name) for name in
              (unicodedata.normalize("NFC", h.strip().lstrip("\ufeff")) for h in records[0][1])]
    missing = [c for c in columns if c not in header]
    if missing:
        first_line = text.splitlines()[0] if text else ""
        separator = _found_separator(first_line, dialect, columns)
        if separator is not None:
            rule = f"separator {_SEPARATOR_NAMES[separator]}, not {_SEPARATOR_NAMES[dialect.delimiter]}"
            _quarantine_file(parsed, Reason(None, rule), _file_lines(body, codec), key)
            return None
        parsed.file_error = f"header: missing columns {', '.join(missing)}"  # contract names only
        reason = Reason(None, HEADER_LACKS_COLUMN)
        for number, cells in records[1:]:
            parsed.rows_read += 1
            _quarantine_cells(parsed, number, reason, header, cells, key)
        return None
    parsed.unknown_columns = [_column_label(h) for h in header if h not in columns]
    return header, {name: header.index(name) for name in columns}, records[1:]


def _column_label(name: str) -> str:
    """An unknown column's header name as the audit keeps it: at most 64 characters, an ID number,
    phone or e-mail in it masked (a header is data)."""
    return _EMAIL.sub(_MASK, _LONG_DIGITS.sub(_MASK, name))[:64]


def _record_bytes(cells: list[str], dialect: CsvDialect) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=dialect.delimiter).writerow(cells)
    return buffer.getvalue().encode("utf-8", errors="surrogateescape")


def _quarantine_cells(parsed: ParsedFile, number: int, reason: Reason, header: list[str], cells: list[str],
                      key: bytes | None, dialect: CsvDialect = DEFAULT_DIALECT) -> None:
    if len(cells) == len(header) and not any(_SURROGATES.search(c) for c in cells):
        parsed.quarantine(number, reason, masked_cells(header, cells))
    else:
        parsed.quarantine(number, reason, unparsed(_record_bytes(cells, dialect), key))


def _body_record_error(cells: list[str], header: list[str]) -> Reason | None:
    """Why a body record cannot be typed before its values are read: undecodable bytes, or not
    as many cells as the header."""
    if any(_SURROGATES.search(c) for c in cells):
        return Reason(None, NOT_DECODED["utf-8"])
    if len(cells) != len(header):
        return Reason(None, FIELD_COUNT)
    return None


def parse_payment_file(data: bytes, key: bytes | None = None, dialect: CsvDialect = DEFAULT_DIALECT) -> ParsedFile:
    """One intermediary's daily reconciliation CSV (BOM, CR/LF/CRLF line ends, quoted cells
    spanning lines and a last total line allowed), in the sender's `dialect`.

    `key`, when given, keys the hash kept of a line that does not parse (`unparsed`).
    """
    parsed = ParsedFile()
    table = _csv_table(data, PAYMENT_COLUMNS, parsed, key, dialect)
    if table is None:
        return parsed
    header, position, body = table
    for index, (number, cells) in enumerate(body):
        if cells and _is_total_line(cells[0]) and index == len(body) - 1:
            parsed.has_total_line = True
            amounts = []
            for cell in cells[1:]:
                try:
                    amounts.append(dialect.amount(cell, "SoTien"))
                except RowError:
                    continue
            parsed.total_line_amount = amounts[0] if amounts else None
            continue
        parsed.rows_read += 1
        error = _body_record_error(cells, header)
        if error is not None:
            _quarantine_cells(parsed, number, error, header, cells, key, dialect)
            continue
        value = {name: cells[i].strip() for name, i in position.items()}
        try:
            row = _payment_row(value, dialect)
        except RowError as exc:
            parsed.quarantine(number, exc.reason, masked_cells(header, cells))
            continue
        row["_line_number"] = number
        parsed.rows.append(row)
    return parsed


def _payment_row(value: dict[str, str], dialect: CsvDialect = DEFAULT_DIALECT) -> dict[str, Any]:
    if not value["MaGiaoDich"]:
        raise RowError("MaGiaoDich", MISSING)
    if not value["MaTrungGian"]:
        raise RowError("MaTrungGian", MISSING)
    if value["TrangThai"] not in {"00", "01", "02"}:
        raise RowError("TrangThai", NOT_IN_CODE_SET)
    try:
        paid_at = dt.datetime.strptime(value["ThoiGianGiaoDich"], dialect.timestamp_format)
    except ValueError as exc:
        raise RowError("ThoiGianGiaoDich", NOT_TIMESTAMP) from exc
    try:
        settled = dt.datetime.strptime(value["NgayDoiSoat"], dialect.date_format).date()
    except ValueError as exc:
        raise RowError("NgayDoiSoat", NOT_DATE) from exc
    return {
        "MaGiaoDich": value["MaGiaoDich"],
        "MaTrungGian": value["MaTrungGian"],
        "KenhThanhToan": _int_in(value["KenhThanhToan"], "KenhThanhToan", {1, 2}),
        "MaHoSo": value["MaHoSo"] or None,
        "MaTTHC": value["MaTTHC"] or None,
        "LoaiPhiLePhi": _int_in(value["LoaiPhiLePhi"], "LoaiPhiLePhi", {1, 2}),
        "SoTien": dialect.amount(value["SoTien"], "SoTien"),
        "TrangThai": value["TrangThai"],
        "ThoiGianGiaoDich": paid_at,
        "NgayDoiSoat": settled,
    }


# --- catalog ----------------------------------------------------------------------------

CATALOG_COLUMNS = ("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaCoQuan", "TenCoQuan", "CapThucHien",
                   "MucDo", "ThoiHanGiaiQuyet", "PhiLePhi")


def parse_catalog_file(data: bytes, key: bytes | None = None) -> ParsedFile:
    """One full catalog snapshot.

    MucDo accepts 1-4: the catalog also lists procedures that are not offered
    online (levels 1 and 2 before Decree 42/2022), which `metrics.md` needs to
    tell online services (3, 4) from the rest. ThoiHanGiaiQuyet must fit 32 bits
    and PhiLePhi 64 (the lake's columns). `key` as for `parse_payment_file`.
    """
    parsed = ParsedFile()
    table = _csv_table(data, CATALOG_COLUMNS, parsed, key)
    if table is None:
        return parsed
    header, position, body = table
    for number, cells in body:
        parsed.rows_read += 1
        error = _body_record_error(cells, header)
        if error is not None:
            _quarantine_cells(parsed, number, error, header, cells, key)
            continue
        value = {name: cells[i] for name, i in position.items()}
        try:
            code = value["MaTTHC"].strip()
            if not code:
                raise RowError("MaTTHC", MISSING)
            level = value["CapThucHien"].strip()
            if level not in {"TINH", "HUYEN", "XA"}:
                raise RowError("CapThucHien", NOT_IN_CODE_SET)
            deadline = _int(value["ThoiHanGiaiQuyet"], "ThoiHanGiaiQuyet", bits=32)
            fee = _int(value["PhiLePhi"], "PhiLePhi")
            if deadline < 0:
                raise RowError("ThoiHanGiaiQuyet", NEGATIVE)
            if fee < 0:
                raise RowError("PhiLePhi", NEGATIVE)
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
            parsed.quarantine(number, exc.reason, masked_cells(header, cells))
            continue
        parsed.rows.append(row)
    return parsed
