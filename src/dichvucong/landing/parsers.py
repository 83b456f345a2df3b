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

One parser per source of sources.md v2: `parse_agency_file`, `parse_catalog_file`,
`parse_sync_call_file` (dossier and processing-log sync calls, one JSON envelope
per file) and `parse_payment_file` (the reconciliation files, unchanged from v1).
The v1 dossier lines (typed NDJSON) are no longer read.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import functools
import gc
import hashlib
import hmac
import io
import itertools
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Iterator
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
NOT_A_NUMBER = "not a number"
NOT_IN_CODE_SET = "not in the contract's code set"
OUT_OF_RANGE = "out of range"
NEGATIVE = "negative"
NOT_COMPACT_TIMESTAMP = "not a timestamp yyyyMMddHHmmss"
IMPOSSIBLE_DATE = "impossible date"
NOT_TIMESTAMP = "not a timestamp yyyy-MM-dd HH:mm:ss"
NOT_DATE = "not a date yyyy-MM-dd"
NOT_ARRAY = "not an array"
ENTRY_NOT_OBJECT = "entry is not an object"
# v2 limits (sources.md v2): a record nested deeper than any contract shape needs, and a kept value
# longer than any code or name is (a field of megabytes is not a procedure name).
RECORD_TOO_DEEP = "record nested too deep"
MAX_RECORD_DEPTH = _MAX_DEPTH
FIELD_TOO_LARGE = "over the size limit"
MAX_FIELD_CHARS = 4096

LINE_RULES = frozenset({*NOT_DECODED.values(), INVALID_JSON, *(rule for _, rule in _JSON_RULES), JSON_TOO_DEEP,
                        JSON_NUMBER_TOO_LONG, NOT_A_JSON_OBJECT, RECORD_TOO_LARGE, NOT_A_CSV_RECORD, FIELD_COUNT,
                        HEADER_LACKS_COLUMN, RECORD_TOO_DEEP})
FIELD_RULES = frozenset({MISSING, NOT_TEXT, NOT_INTEGER, NOT_A_NUMBER, NOT_IN_CODE_SET, OUT_OF_RANGE, NEGATIVE,
                         NOT_COMPACT_TIMESTAMP, IMPOSSIBLE_DATE, NOT_TIMESTAMP, NOT_DATE, NOT_ARRAY, ENTRY_NOT_OBJECT,
                         FIELD_TOO_LARGE})
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


# The entries of each list of a v2 dossier record (sources.md v2 §3): the keys typed into the lake,
# and the contract's keys that are dropped (personal data, free text, file names and paths). Any
# other key of an entry is an unknown column `<list>.<key>`.
_V2_ENTRIES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "DinhDanhCHS": (("SoDinhDanh",), ("LoaiDinhDanh",)),  # read only for the applicant key
    "TaiLieuNop": (("TepDinhKemId", "MaThanhPhanHoSo", "IsDeleted", "DuocSoHoa", "DuocTaiSuDung",
                    "DuocLayTuKhoDMQG", "MaKetQuaThayThe"), ("TenTepDinhKem", "DuongDanTaiTepTin")),
    "DanhSachLePhi": (("MaPhiLePhi", "TenPhiLePhi", "HinhThucThu", "LoaiPhiLePhi", "Gia"), ()),
    "DanhSachHoSoBoSung": (("NgayBoSung", "NgayTiepNhanBoSung", "TrangThaiBoSung", "NgayHenTraTruoc",
                            "NgayHenTraMoi"), ("NguoiYeuCauBoSung", "NoiDungBoSung", "NguoiTiepNhanBoSung")),
    "DanhSachGiayToKetQua": (("GiayToId", "MaGiayToKetQua", "MaThanhPhanHoSo", "DuongDanTepTinKetQua"),
                             ("TenGiayTo",)),
    "DSKetNoiCSDL": (("MaCSDL",), ()),
}
REASON_FIELDS = frozenset({*_SHAPES, *PERSONAL_FIELDS, "DanhSachLePhi.MaPhiLePhi", "DanhSachLePhi.TenPhiLePhi",
                           "DanhSachLePhi.LoaiPhiLePhi", "DanhSachLePhi.Gia", "DanhSachBoSung.NgayYeuCau",
                           "DanhSachBoSung.NgayBoSung",
                           *(f"{name}.{key}" for name, (typed, _) in _V2_ENTRIES.items() for key in typed),
                           # the portal's evaluation answers (landing/portal_files.py)
                           "ID", "CODE", "maDinhDanh", "chiSo", "period", "points", "max_points", "average_points",
                           "numerator", "denominator"})


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
    text = str(id_number)
    if text.isascii() and text.isalnum():  # the common ID number: nothing to normalise but case
        normalised = text.upper()
    else:
        normalised = re.sub(r"[\s.\-]", "", unicodedata.normalize("NFC", text)).upper()
    if not normalised:
        return None
    return hmac.digest(key, normalised.encode("utf-8"), "sha256").hex()


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
    unknown_columns: list[str] = field(default_factory=list)  # header names (v2: keys) outside the contract
    # v2: contract columns (or a sync call's scalar keys) that no record of the file carried, and a
    # sync call's envelope under the names of `lake.SCHEMAS["load_audit"]` (None for a CSV, or a call
    # quarantined whole), so that a call with no record still counts.
    missing_columns: list[str] = field(default_factory=list)
    envelope: dict[str, Any] | None = None

    def quarantine(self, line_number: int | None, reason: Reason, raw: MaskedText) -> None:
        """Quarantine one line: `reason` from the vocabulary, `raw` already masked."""
        self.quarantined.append({"line_number": line_number, "reason": str(reason), "raw_text": raw})


_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xfe\xff", "utf-16-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xef\xbb\xbf", "utf-8"))


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
        parsed.missing_columns = missing
        reason = Reason(None, HEADER_LACKS_COLUMN)
        for number, cells in records[1:]:
            parsed.rows_read += 1
            _quarantine_cells(parsed, number, reason, header, cells, key)
        return None
    parsed.unknown_columns = [_column_label(h) for h in header if h not in columns]
    return header, {name: header.index(name) for name in columns}, records[1:]


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,63}")


def _column_label(name: str) -> str:
    """An unknown column's header name (or a record's key) as the audit keeps it: kept only where it
    has a field name's shape (ASCII letters, digits, `_` and `.`, at most 64 characters) and holds no
    ID number or phone; anything else (a person's name sent as a key, a Vietnamese phrase, an
    e-mail) is masked whole: a header is data."""
    if _FIELD_NAME.fullmatch(name) and not _LONG_DIGITS.search(name):
        return name
    return _MASK


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


# --- contract v2: values ----------------------------------------------------------------------
# sources.md v2: every value is a string; "", null and an absent key all mean absent; an integral
# decimal is an integer; a JSON number where a string is expected is accepted when integral. JSON
# numbers are read as their text (`_Number`), never converted by the JSON parser: `1e400`, `NaN`,
# a 5,000-digit integer or 10^30 then cost only the record that holds them, in the field that holds
# them, and no digit of a code written as a number is lost to a float.


class _Number(str):
    """A JSON number (or `NaN`, `Infinity`) as the digits the sender wrote."""

    __slots__ = ()


_CONTAINERS = (dict, list)
_INTEGRAL = re.compile(r"\s*(-?)([0-9]+)(?:\.0+)?\s*")
_NUMERIC = re.compile(r"\s*(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?\s*")
_ISO_DATE = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})\s*")


def _integral_text(text: str) -> str | None:
    """The integer an integral decimal writes (`"2.0"`, `" 02 "` -> `"2"`), as text (never through
    `int`, which refuses 4,300 digits); None for any other text."""
    match = _INTEGRAL.fullmatch(text)
    if match is None:
        return None
    digits = match.group(2).lstrip("0")
    return match.group(1) + digits if digits else "0"


def _whole(text: str, name: str, bits: int = 64) -> int | None:
    """An integer column's value: digits with an optional all-zero decimal part, or an integral
    number in exponent form (a JSON number); None where blank. RowError: not an integer, or
    outside the lake's signed `bits`-bit column (decided on the digits, before any conversion)."""
    if text.isascii() and text.isdigit() and len(text) <= 18:
        number = int(text)
    else:
        match = _NUMERIC.fullmatch(text)
        if match is None:
            if not text.strip():
                return None
            raise RowError(name, OUT_OF_RANGE if text.strip().lstrip("+-") == "Infinity" else NOT_INTEGER)
        sign, whole, fraction, exponent = match.groups()
        digits, point = whole + (fraction or ""), len(whole)
        if exponent is not None:
            if len(exponent.lstrip("+-").lstrip("0")) > 7:  # 10^(10^7): no column holds it, none is that small
                if not digits.strip("0"):
                    return 0
                raise RowError(name, NOT_INTEGER if exponent.startswith("-") else OUT_OF_RANGE)
            point += int(exponent)
        if digits[max(point, 0):].strip("0"):
            raise RowError(name, NOT_INTEGER)
        integer = digits[:max(point, 0)].lstrip("0")
        zeros = max(point - len(digits), 0)
        if not integer:
            number = 0
        elif len(integer) + zeros > 19:
            raise RowError(name, OUT_OF_RANGE)
        else:
            number = int(integer + "0" * zeros) * (-1 if sign else 1)
    low, high = _BOUNDS[bits]
    if not low <= number < high:
        raise RowError(name, OUT_OF_RANGE)
    return number


_BOUNDS = {bits: (-(1 << (bits - 1)), 1 << (bits - 1)) for bits in (8, 16, 32, 64)}


def _v2_int(value: Any, name: str, bits: int = 64) -> int | None:
    """A v2 integer: text (or a JSON number) as `_whole`; null or absent is None."""
    if value is None:
        return None
    if value.__class__ is str or value.__class__ is _Number:
        return _whole(value, name, bits)
    raise RowError(name, NOT_INTEGER)  # a boolean, an object or an array


def _v2_status(value: Any, name: str) -> int | None:
    """A dossier status, 1-10 (sources.md v2 §3, §4): any other value is quarantined."""
    status = _v2_int(value, name, 8)
    if status is not None and not 1 <= status <= 10:
        raise RowError(name, NOT_IN_CODE_SET)
    return status


def _v2_text(value: Any, name: str) -> str | None:
    """A name, kept as sent (staging normalises it); an integral JSON number as its digits."""
    if value.__class__ is str:
        if len(value) > MAX_FIELD_CHARS:
            raise RowError(name, FIELD_TOO_LARGE)
        return value or None
    if value is None:
        return None
    if value.__class__ is _Number:
        if len(value) > MAX_FIELD_CHARS:
            raise RowError(name, FIELD_TOO_LARGE)
        digits = _integral_text(value)
        if digits is not None:
            return digits
    raise RowError(name, NOT_TEXT)


def _v2_id(value: Any, name: str) -> str | None:
    """An identifier (a dossier, procedure, agency or attachment code): trimmed; blank is None."""
    text = _v2_text(value, name)
    if text is None:
        return None
    return text.strip() or None


def _v2_code(value: Any, name: str) -> str | None:
    """A value of a code set, as text (lake `_CODE`): trimmed, an integral number as its integer
    (`"2.0"`, `" 02 "` -> `"2"`), blank is None; a value outside its set is kept for staging to
    flag, except one that looks like an ID number, a phone or an e-mail, which is masked (`_MASK`):
    a sender that puts personal data in a code field must not get it into the lake. Only an object,
    an array or a value over the size limit is refused."""
    cls = value.__class__
    if cls is str and len(value) == 1 and value.isascii() and value.isalnum():  # "1": nothing to do
        return value
    if value is None:
        return None
    if cls is str or cls is _Number:
        if len(value) > MAX_FIELD_CHARS:
            raise RowError(name, FIELD_TOO_LARGE)
        text = value.strip()
        if not text:
            return None
        code = _integral_text(text) or str(text)
        return _MASK if _LONG_DIGITS.search(code) or _EMAIL.search(code) else code
    if cls is bool:
        return "true" if value else "false"
    raise RowError(name, NOT_TEXT)


def _reads_hour_24() -> bool:
    try:
        dt.datetime.fromisoformat("20250101T240000")
    except ValueError:
        return False
    return True


# `fromisoformat` reads 14 ASCII digits as `_parse_compact_text` does, ten times as fast, except
# where a Python reads hour 24 as the next midnight (ISO 8601 allows it; the contract does not).
_HOUR_24 = _reads_hour_24()


def _v2_ts(value: Any, name: str) -> dt.datetime | None:
    """A `yyyyMMddHHmmss` timestamp (text, or an integral JSON number); blank is None."""
    if (value.__class__ is str and len(value) == 14 and value.isascii() and value.isdigit()
            and not (_HOUR_24 and value[8:10] == "24")):
        try:
            return dt.datetime.fromisoformat(f"{value[:8]}T{value[8:]}")
        except ValueError as exc:
            raise RowError(name, IMPOSSIBLE_DATE) from exc
    if value is None:
        return None
    if value.__class__ is _Number:
        digits = _integral_text(value) if len(value) <= 64 else None
        if digits is None or len(digits) != 14:
            raise RowError(name, NOT_COMPACT_TIMESTAMP)
        return _parse_compact_text(digits, name)
    if value.__class__ is not str:
        raise RowError(name, NOT_COMPACT_TIMESTAMP)
    text = value.strip()
    if not text:
        return None
    if len(text) != 14 or not text.isascii():
        raise RowError(name, NOT_COMPACT_TIMESTAMP)
    return _parse_compact_text(text, name)


def _v2_date(value: str, name: str) -> dt.date | None:
    """A `yyyy-MM-dd` date of an agency or catalog row; blank is None."""
    if not value.strip():
        return None
    match = _ISO_DATE.fullmatch(value)
    if match is None:
        raise RowError(name, NOT_DATE)
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError as exc:
        raise RowError(name, IMPOSSIBLE_DATE) from exc


def _v2_entries(value: Any, name: str) -> list[dict[str, Any]]:
    """A list field: absent, null, `""` and `[]` are empty; anything but a list of objects is
    refused."""
    if value is None or value == "":
        return []
    if value.__class__ is not list:
        raise RowError(name, NOT_ARRAY)
    for entry in value:
        if entry.__class__ is not dict:
            raise RowError(name, ENTRY_NOT_OBJECT)
    return value  # type: ignore[no-any-return]


def _nests_deeper(value: dict[str, Any] | list[Any], levels: int) -> bool:
    """Whether objects and arrays nest more than `levels` deep in `value` (itself one level)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > levels:
            return True
        for child in item.values() if item.__class__ is dict else item:
            if child.__class__ in _CONTAINERS:
                stack.append((child, depth + 1))
    return False


def _label(name: str) -> str:
    """A key outside the contract as the audit keeps it (`_column_label`, no lone surrogate)."""
    return _SURROGATES.sub("\ufffd", _column_label(name))


MAX_UNKNOWN_COLUMNS = 100  # a record of a million odd keys must not make a million-entry audit cell


def _note_unknown(found: dict[str, None], names: Iterable[str], prefix: str = "") -> None:
    for name in names:
        if len(found) >= MAX_UNKNOWN_COLUMNS:
            return
        found[_label(prefix + name)] = None


# --- contract v2: agencies and catalog --------------------------------------------------------

# How each CSV column is typed: an identifier or a code-set word (trimmed), a name (as sent), a date,
# or an integer of the lake column's width. A value outside a code set (a level `QUAN`, MucDo 7) is
# kept for staging to flag: only a row with no key, a non-integer, an integer the column cannot hold,
# a value that is not a date or a cell over the size limit is quarantined (sources.md v2 §1-2).
_ID, _NAME, _DATE = "id", "name", "date"
_AGENCY_TYPES: dict[str, str | int] = {
    "MaDinhDanh": _ID, "TenCoQuan": _NAME, "CapCoQuan": _ID, "MaCoQuanCha": _ID, "MaDVHC": _ID,
    "NgayHieuLuc": _DATE, "NgayHetHieuLuc": _DATE, "MaCoQuanKeThua": _ID,
}
_CATALOG_V2_TYPES: dict[str, str | int] = {
    "MaTTHC": _ID, "TenTTHC": _NAME, "MaLinhVuc": _ID, "TenLinhVuc": _NAME, "CapThucHien": _ID,
    "MaCoQuanChuTri": _ID, "MucDo": 8, "DuDieuKienToanTrinh": 8, "ThoiHanGiaiQuyet": 32, "DonViThoiHan": _ID,
    "PhiLePhi": 64, "CoPhiLePhi": 8, "CoKetQuaGiay": 8, "DoiTuongCongDan": 8, "KetNoiCSDLDanCu": 8,
    "NgayQuyetDinhCongBo": _DATE, "NgayHieuLucVanBan": _DATE, "NgayCongKhai": _DATE, "SoBoPhanCongKhai": 8,
}
AGENCY_COLUMNS = tuple(_AGENCY_TYPES)
CATALOG_COLUMNS = tuple(_CATALOG_V2_TYPES)


def _snapshot_cell(cell: str, name: str, kind: str | int) -> Any:
    if isinstance(kind, int):
        return _whole(cell, name, kind)
    if kind == _DATE:
        return _v2_date(cell, name)
    if len(cell) > MAX_FIELD_CHARS:
        raise RowError(name, FIELD_TOO_LARGE)
    if kind == _ID:
        return cell.strip() or None
    return cell or None


def _parse_snapshot(data: bytes, key: bytes | None, types: dict[str, str | int], key_column: str) -> ParsedFile:
    """A v2 snapshot CSV (agencies or catalog): `_csv_table` reads it (BOM, CR/LF/CRLF, quoted
    cells spanning lines, header names outside the contract as `unknown_columns`), each body record
    is typed as `types` says, and a record with a blank `key_column` is quarantined."""
    parsed = ParsedFile()
    table = _csv_table(data, tuple(types), parsed, key)
    if table is None:
        return parsed
    header, position, body = table
    for number, cells in body:
        parsed.rows_read += 1
        error = _body_record_error(cells, header)
        if error is not None:
            _quarantine_cells(parsed, number, error, header, cells, key)
            continue
        try:
            row = {name: _snapshot_cell(cells[position[name]], name, kind) for name, kind in types.items()}
            if row[key_column] is None:
                raise RowError(key_column, MISSING)
        except RowError as exc:
            parsed.quarantine(number, exc.reason, masked_cells(header, cells))
            continue
        row["_line_number"] = number
        parsed.rows.append(row)
    return parsed


def parse_agency_file(data: bytes, key: bytes | None = None) -> ParsedFile:
    """One agency list snapshot, `agencies/coquan_YYYYMMDD.csv` (sources.md v2 §1), as rows of
    `lake.SCHEMAS["raw_agencies"]` (with `_line_number`, without file and batch day).

    Codes are trimmed and names kept as sent; a blank cell is null. A row without MaDinhDanh, or
    with a date that is not a `yyyy-MM-dd` day, is quarantined; a level outside TINH/HUYEN/XA or
    a row without NgayHieuLuc is kept for staging to flag. `key` keys the hash kept of a record
    that cannot be read (`unparsed`).
    """
    return _parse_snapshot(data, key, _AGENCY_TYPES, "MaDinhDanh")


def parse_catalog_file(data: bytes, key: bytes | None = None) -> ParsedFile:
    """One v2 catalog snapshot, `catalog/services_YYYYMMDD.csv` (sources.md v2 §2), as rows of
    `lake.SCHEMAS["raw_catalog"]`.

    Integer columns take an integral decimal (`"50000.0"` -> 50000) and must fit their lake column
    (MucDo and the flags 8 bits, ThoiHanGiaiQuyet 32, PhiLePhi 64); a value outside its set or
    range of meaning (MucDo 7, a negative fee, CapThucHien `TINH;QUAN`) is kept for staging to
    flag. An empty DonViThoiHan stays null (the contract reads it as working days). `key` as for
    `parse_agency_file`.
    """
    return _parse_snapshot(data, key, _CATALOG_V2_TYPES, "MaTTHC")


# --- contract v2: sync calls (dossiers §3, processing log §4) -------------------------------------

SYNC_KINDS = ("dossiers", "processing")
_ENVELOPE_KEYS = frozenset({"MaDinhDanhDV", "ThoiGianDongBo", "LoaiDongBo", "KetQua", "data"})
_KETQUA_KEYS = frozenset({"error_code", "message"})
# Top-level keys of a dossier record: scalars (typed or dropped) and lists (`_V2_ENTRIES`).
_DOSSIER_SCALARS = ("MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "KenhThucHien", "LoaiDoiTuong",
                    "ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "Fax", "MaDoiTuong", "TrichYeuHoSo",
                    "ThongTinTra", "GhiChu", "NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy",
                    "NgayTra", "NgayTuChoi", "TrangThaiHoSo", "HinhThuc", "DonViXuLy", "NoiNopHoSo",
                    "HoSoCoThanhPhanSoHoa", "TaiKhoanDuocXacThucVoiVNeID", "DuocThanhToanTrucTuyen")
_PROCESSING_SCALARS = ("MaHoSo", "NguoiXuLy", "ChucDanh", "PhongBanXuLy", "NoiDungXuLy", "TrangThai",
                       "ThoiDiemXuLy", "NgayBatDau", "NgayKetThucTheoQuyDinh")
_RECORD_KEYS = {"dossiers": frozenset({*_DOSSIER_SCALARS, *_V2_ENTRIES}),
                "processing": frozenset(_PROCESSING_SCALARS)}
_RECORD_SCALARS = {"dossiers": _DOSSIER_SCALARS, "processing": _PROCESSING_SCALARS}
_ENTRY_KEYS = {name: frozenset(typed + dropped) for name, (typed, dropped) in _V2_ENTRIES.items()}
# Records come from `json.loads`, so they hold no cycle to check for.
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"), check_circular=False)
# The code values of a string-valued record as `_v2_code` types them, for `_fast_dossier_row`; any
# other value (a padded or decimal code, a word, an object) is not in it and takes the careful path.
_COMMON_CODES: dict[str | None, str | None] = {None: None, "": None, **{str(i): str(i) for i in range(100)}}
_COMMON_STATUSES: dict[str | None, int | None] = {None: None, "": None, **{str(i): i for i in range(1, 11)}}
# Where the fast path gives up on a record, and the careful path types or quarantines it.
_NOT_COMMON = (KeyError, TypeError, AttributeError, RowError)


def _json_document(text: str) -> tuple[Any, bool]:
    """The whole file as JSON, numbers kept as their text (`_Number`), and whether it holds any
    number. Raises ValueError or RecursionError (nested deeper than the interpreter's stack)."""
    numbers = False

    def number(digits: str) -> _Number:
        nonlocal numbers
        numbers = True
        return _Number(digits)

    return json.loads(text, parse_int=number, parse_float=number, parse_constant=number), numbers


def _json_canonical(record: dict[str, Any]) -> tuple[bytes, bool]:
    """The record's canonical JSON, UTF-8: compact, keys sorted, non-ASCII as is; what
    `_record_hash` is taken of. A JSON number is written as its text in quotes, so `2` and `"2"` are
    the same content (they type alike). With it, whether the record holds a lone surrogate (a
    `\\ud800` escape), which is kept in the bytes as sent. Raises RecursionError."""
    text = _CANONICAL.encode(record)
    try:
        return text.encode("utf-8"), False
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass"), True


try:
    from msgspec.json import Encoder as _Encoder
except ImportError:  # pragma: no cover - msgspec comes with Airflow
    _canonical = _json_canonical
else:
    # An accelerator only (five times as fast as the json module, a quarter of the time of a call):
    # its output is `_json_canonical`'s byte for byte (tests/dichvucong/landing/test_parsers_v2.py
    # checks every code point), so a record's hash does not depend on it being installed.
    _encode_sorted = _Encoder(order="sorted", enc_hook=str).encode

    def _canonical(record: dict[str, Any]) -> tuple[bytes, bool]:
        """`_json_canonical(record)`."""
        try:
            return _encode_sorted(record), False
        except Exception:  # a lone surrogate, or nested too deep: the json module decides
            return _json_canonical(record)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a call's records and rows are built: they hold no
    cycle, and the collector would walk every one of them again and again as they pile up (a third
    of the time of a large call)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _decoded(data: bytes) -> tuple[bytes, str | None, str | None]:
    """A file's bytes without their byte-order mark, its text, and the rule it breaks where it is
    not text (as `_decode_whole` and `_foreign_encoding`, UTF-8 without a NUL checked first)."""
    body = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if b"\x00" not in body and not body.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return body, body.decode("utf-8"), None
        except UnicodeDecodeError:
            pass
    codec, body, decoded = _decode_whole(data)
    return body, decoded, _foreign_encoding(codec, body, decoded)


class _SyncCall:
    """The state of reading one sync call: the pseudonym key, the envelope's columns that every
    row carries, and what the records' keys say about the contract (unknown and missing keys)."""

    def __init__(self, key: bytes, kind: str, parsed: ParsedFile, numbers: bool) -> None:
        self.key, self.kind, self.parsed = key, kind, parsed
        self.unknown: dict[str, None] = {}
        self.unseen = set(_RECORD_SCALARS[kind])
        self.known = _RECORD_KEYS[kind]
        self.envelope_columns: dict[str, Any] = {}
        # A call of strings only (the contract's shape) can take the fast path; a JSON number
        # anywhere sends every record of the call through the careful one.
        self.fast = kind == "dossiers" and not numbers

    def note_keys(self, record: dict[str, Any]) -> None:
        """Note the contract keys the record carries, and the keys outside the contract: its own,
        and its list entries' (`<list>.<key>`)."""
        if self.unseen:
            self.unseen = set(itertools.filterfalse(record.__contains__, self.unseen))
        if not self.known.issuperset(record):
            _note_unknown(self.unknown, sorted(record.keys() - self.known))
        if self.kind == "processing":
            return
        for name, known in _ENTRY_KEYS.items():
            entries = record.get(name)
            if isinstance(entries, list):
                for entry in entries:
                    if entry.__class__ is dict and not known.issuperset(entry):
                        _note_unknown(self.unknown, sorted(entry.keys() - known), f"{name}.")

    def applicant(self, record: dict[str, Any]) -> str | None:
        """MaNguoiNop: the applicant key of SoGiayToChuHoSo, else of the first DinhDanhCHS entry with
        a SoDinhDanh (DinhDanhCHS must be a list of objects either way)."""
        identities = _v2_entries(record.get("DinhDanhCHS"), "DinhDanhCHS")
        applicant = self._applicant(_v2_text(record.get("SoGiayToChuHoSo"), "SoGiayToChuHoSo"), "SoGiayToChuHoSo")
        for identity in identities:
            if applicant is not None:
                break
            applicant = self._applicant(_v2_text(identity.get("SoDinhDanh"), "DinhDanhCHS.SoDinhDanh"),
                                        "DinhDanhCHS.SoDinhDanh")
        return applicant

    def _applicant(self, id_number: str | None, name: str) -> str | None:
        if id_number is None:
            return None
        if _SURROGATES.search(id_number):  # hashed as UTF-8, which it is not
            raise RowError(name, NOT_TEXT)
        if len(id_number) > 64:  # no ID number is that long: hashed, not kept in the cache for the process
            return applicant_key.__wrapped__(id_number, self.key)
        return applicant_key(id_number, self.key)

    def dossier_row(self, record: dict[str, Any]) -> dict[str, Any]:
        """A `HoSoDongBoDVC` record as a row of raw_dossier_syncs (without hash and position)."""
        get = record.get
        dossier = _v2_id(get("MaHoSo"), "MaHoSo")
        if dossier is None:
            raise RowError("MaHoSo", MISSING)
        return {
            **self.envelope_columns,
            "MaHoSo": dossier,
            "MaTTHC": _v2_id(get("MaTTHC"), "MaTTHC"),
            "MaLinhVuc": _v2_id(get("MaLinhVuc"), "MaLinhVuc"),
            "KenhThucHien": _v2_code(get("KenhThucHien"), "KenhThucHien"),
            "LoaiDoiTuong": _v2_code(get("LoaiDoiTuong"), "LoaiDoiTuong"),
            "MaNguoiNop": self.applicant(record),
            "NgayNopHoSo": _v2_ts(get("NgayNopHoSo"), "NgayNopHoSo"),
            "NgayTiepNhan": _v2_ts(get("NgayTiepNhan"), "NgayTiepNhan"),
            "NgayHenTra": _v2_ts(get("NgayHenTra"), "NgayHenTra"),
            "NgayKetThucXuLy": _v2_ts(get("NgayKetThucXuLy"), "NgayKetThucXuLy"),
            "NgayTra": _v2_ts(get("NgayTra"), "NgayTra"),
            "NgayTuChoi": _v2_ts(get("NgayTuChoi"), "NgayTuChoi"),
            "TrangThaiHoSo": _v2_status(get("TrangThaiHoSo"), "TrangThaiHoSo"),
            "HinhThuc": _v2_code(get("HinhThuc"), "HinhThuc"),
            "DonViXuLy": _v2_text(get("DonViXuLy"), "DonViXuLy"),
            "NoiNopHoSo": _v2_code(get("NoiNopHoSo"), "NoiNopHoSo"),
            "HoSoCoThanhPhanSoHoa": _v2_code(get("HoSoCoThanhPhanSoHoa"), "HoSoCoThanhPhanSoHoa"),
            "TaiKhoanDuocXacThucVoiVNeID": _v2_code(get("TaiKhoanDuocXacThucVoiVNeID"),
                                                    "TaiKhoanDuocXacThucVoiVNeID"),
            "DuocThanhToanTrucTuyen": _v2_code(get("DuocThanhToanTrucTuyen"), "DuocThanhToanTrucTuyen"),
            "TaiLieuNop": [{
                "TepDinhKemId": _v2_id(e.get("TepDinhKemId"), "TaiLieuNop.TepDinhKemId"),
                "MaThanhPhanHoSo": _v2_id(e.get("MaThanhPhanHoSo"), "TaiLieuNop.MaThanhPhanHoSo"),
                "IsDeleted": _v2_code(e.get("IsDeleted"), "TaiLieuNop.IsDeleted"),
                "DuocSoHoa": _v2_code(e.get("DuocSoHoa"), "TaiLieuNop.DuocSoHoa"),
                "DuocTaiSuDung": _v2_code(e.get("DuocTaiSuDung"), "TaiLieuNop.DuocTaiSuDung"),
                "DuocLayTuKhoDMQG": _v2_code(e.get("DuocLayTuKhoDMQG"), "TaiLieuNop.DuocLayTuKhoDMQG"),
                "MaKetQuaThayThe": _v2_id(e.get("MaKetQuaThayThe"), "TaiLieuNop.MaKetQuaThayThe"),
            } for e in _v2_entries(get("TaiLieuNop"), "TaiLieuNop")],
            "DanhSachLePhi": [{
                "MaPhiLePhi": _v2_id(e.get("MaPhiLePhi"), "DanhSachLePhi.MaPhiLePhi"),
                "TenPhiLePhi": _v2_text(e.get("TenPhiLePhi"), "DanhSachLePhi.TenPhiLePhi"),
                "HinhThucThu": _v2_code(e.get("HinhThucThu"), "DanhSachLePhi.HinhThucThu"),
                "LoaiPhiLePhi": _v2_code(e.get("LoaiPhiLePhi"), "DanhSachLePhi.LoaiPhiLePhi"),
                "Gia": _v2_int(e.get("Gia"), "DanhSachLePhi.Gia"),
            } for e in _v2_entries(get("DanhSachLePhi"), "DanhSachLePhi")],
            "DanhSachHoSoBoSung": [{
                "NgayBoSung": _v2_ts(e.get("NgayBoSung"), "DanhSachHoSoBoSung.NgayBoSung"),
                "NgayTiepNhanBoSung": _v2_ts(e.get("NgayTiepNhanBoSung"), "DanhSachHoSoBoSung.NgayTiepNhanBoSung"),
                "TrangThaiBoSung": _v2_code(e.get("TrangThaiBoSung"), "DanhSachHoSoBoSung.TrangThaiBoSung"),
                "NgayHenTraTruoc": _v2_ts(e.get("NgayHenTraTruoc"), "DanhSachHoSoBoSung.NgayHenTraTruoc"),
                "NgayHenTraMoi": _v2_ts(e.get("NgayHenTraMoi"), "DanhSachHoSoBoSung.NgayHenTraMoi"),
            } for e in _v2_entries(get("DanhSachHoSoBoSung"), "DanhSachHoSoBoSung")],
            "DanhSachGiayToKetQua": [{
                "GiayToId": _v2_id(e.get("GiayToId"), "DanhSachGiayToKetQua.GiayToId"),
                "MaGiayToKetQua": _v2_id(e.get("MaGiayToKetQua"), "DanhSachGiayToKetQua.MaGiayToKetQua"),
                "MaThanhPhanHoSo": _v2_id(e.get("MaThanhPhanHoSo"), "DanhSachGiayToKetQua.MaThanhPhanHoSo"),
                "CoTepTinKetQua": _v2_id(e.get("DuongDanTepTinKetQua"),
                                         "DanhSachGiayToKetQua.DuongDanTepTinKetQua") is not None,
            } for e in _v2_entries(get("DanhSachGiayToKetQua"), "DanhSachGiayToKetQua")],
            "DSKetNoiCSDL": [_v2_id(e.get("MaCSDL"), "DSKetNoiCSDL.MaCSDL")
                             for e in _v2_entries(get("DSKetNoiCSDL"), "DSKetNoiCSDL")],
        }

    def fast_dossier_row(self, record: dict[str, Any]) -> dict[str, Any]:
        """`dossier_row` for the common record of a call of strings only: identifiers are strings
        (or absent), codes are in `_COMMON_CODES`, and the record is shorter than `MAX_FIELD_CHARS`
        (so no field is over it). Raises one of `_NOT_COMMON` for any other record, which
        `dossier_row` then types or refuses (tests/dichvucong/landing/test_parsers_v2.py checks
        that both give the same row)."""
        get = record.get
        code = _COMMON_CODES
        dossier = get("MaHoSo", "").strip()
        if not dossier:
            raise KeyError("MaHoSo")
        return {
            **self.envelope_columns,
            "MaHoSo": dossier,
            "MaTTHC": get("MaTTHC", "").strip() or None,
            "MaLinhVuc": get("MaLinhVuc", "").strip() or None,
            "KenhThucHien": code[get("KenhThucHien")],
            "LoaiDoiTuong": code[get("LoaiDoiTuong")],
            "MaNguoiNop": self.applicant(record),
            "NgayNopHoSo": _v2_ts(get("NgayNopHoSo"), "NgayNopHoSo"),
            "NgayTiepNhan": _v2_ts(get("NgayTiepNhan"), "NgayTiepNhan"),
            "NgayHenTra": _v2_ts(get("NgayHenTra"), "NgayHenTra"),
            "NgayKetThucXuLy": _v2_ts(get("NgayKetThucXuLy"), "NgayKetThucXuLy"),
            "NgayTra": _v2_ts(get("NgayTra"), "NgayTra"),
            "NgayTuChoi": _v2_ts(get("NgayTuChoi"), "NgayTuChoi"),
            "TrangThaiHoSo": _COMMON_STATUSES[get("TrangThaiHoSo")],
            "HinhThuc": code[get("HinhThuc")],
            "DonViXuLy": _v2_text(get("DonViXuLy"), "DonViXuLy"),
            "NoiNopHoSo": code[get("NoiNopHoSo")],
            "HoSoCoThanhPhanSoHoa": code[get("HoSoCoThanhPhanSoHoa")],
            "TaiKhoanDuocXacThucVoiVNeID": code[get("TaiKhoanDuocXacThucVoiVNeID")],
            "DuocThanhToanTrucTuyen": code[get("DuocThanhToanTrucTuyen")],
            "TaiLieuNop": [{
                "TepDinhKemId": e.get("TepDinhKemId", "").strip() or None,
                "MaThanhPhanHoSo": e.get("MaThanhPhanHoSo", "").strip() or None,
                "IsDeleted": code[e.get("IsDeleted")],
                "DuocSoHoa": code[e.get("DuocSoHoa")],
                "DuocTaiSuDung": code[e.get("DuocTaiSuDung")],
                "DuocLayTuKhoDMQG": code[e.get("DuocLayTuKhoDMQG")],
                "MaKetQuaThayThe": e.get("MaKetQuaThayThe", "").strip() or None,
            } for e in _v2_entries(get("TaiLieuNop"), "TaiLieuNop")],
            "DanhSachLePhi": [{
                "MaPhiLePhi": e.get("MaPhiLePhi", "").strip() or None,
                "TenPhiLePhi": _v2_text(e.get("TenPhiLePhi"), "DanhSachLePhi.TenPhiLePhi"),
                "HinhThucThu": code[e.get("HinhThucThu")],
                "LoaiPhiLePhi": code[e.get("LoaiPhiLePhi")],
                "Gia": _whole(e.get("Gia", ""), "DanhSachLePhi.Gia"),
            } for e in _v2_entries(get("DanhSachLePhi"), "DanhSachLePhi")],
            "DanhSachHoSoBoSung": [{
                "NgayBoSung": _v2_ts(e.get("NgayBoSung"), "DanhSachHoSoBoSung.NgayBoSung"),
                "NgayTiepNhanBoSung": _v2_ts(e.get("NgayTiepNhanBoSung"), "DanhSachHoSoBoSung.NgayTiepNhanBoSung"),
                "TrangThaiBoSung": code[e.get("TrangThaiBoSung")],
                "NgayHenTraTruoc": _v2_ts(e.get("NgayHenTraTruoc"), "DanhSachHoSoBoSung.NgayHenTraTruoc"),
                "NgayHenTraMoi": _v2_ts(e.get("NgayHenTraMoi"), "DanhSachHoSoBoSung.NgayHenTraMoi"),
            } for e in _v2_entries(get("DanhSachHoSoBoSung"), "DanhSachHoSoBoSung")],
            "DanhSachGiayToKetQua": [{
                "GiayToId": e.get("GiayToId", "").strip() or None,
                "MaGiayToKetQua": e.get("MaGiayToKetQua", "").strip() or None,
                "MaThanhPhanHoSo": e.get("MaThanhPhanHoSo", "").strip() or None,
                "CoTepTinKetQua": bool(e.get("DuongDanTepTinKetQua", "").strip()),
            } for e in _v2_entries(get("DanhSachGiayToKetQua"), "DanhSachGiayToKetQua")],
            "DSKetNoiCSDL": [e.get("MaCSDL", "").strip() or None
                             for e in _v2_entries(get("DSKetNoiCSDL"), "DSKetNoiCSDL")],
        }

    def processing_row(self, record: dict[str, Any]) -> dict[str, Any]:
        """A `QuaTrinhXuLyDongBoDVC` record as a row of raw_processing_steps."""
        get = record.get
        dossier = _v2_id(get("MaHoSo"), "MaHoSo")
        if dossier is None:
            raise RowError("MaHoSo", MISSING)
        return {
            **self.envelope_columns,
            "MaHoSo": dossier,
            "ChucDanh": _v2_text(get("ChucDanh"), "ChucDanh"),
            "PhongBanXuLy": _v2_text(get("PhongBanXuLy"), "PhongBanXuLy"),
            "TrangThai": _v2_status(get("TrangThai"), "TrangThai"),
            "ThoiDiemXuLy": _v2_ts(get("ThoiDiemXuLy"), "ThoiDiemXuLy"),
            "NgayBatDau": _v2_ts(get("NgayBatDau"), "NgayBatDau"),
            "NgayKetThucTheoQuyDinh": _v2_ts(get("NgayKetThucTheoQuyDinh"), "NgayKetThucTheoQuyDinh"),
        }

    def row(self, record: dict[str, Any], size: int, surrogates: bool) -> dict[str, Any]:
        """The record's row (`size`: its canonical JSON's bytes; `surrogates`: whether it holds a
        lone surrogate), by the fast path where it applies. RowError where it is refused."""
        if self.fast and size <= MAX_FIELD_CHARS and not surrogates:
            try:
                return self.fast_dossier_row(record)
            except _NOT_COMMON:
                pass
        row = self.dossier_row(record) if self.kind == "dossiers" else self.processing_row(record)
        if surrogates:
            _refuse_surrogates(row)
        return row

    def read(self, number: int, record: Any) -> None:
        """Type one record of `data` (at 1-based `number`), or quarantine it with its reason."""
        parsed = self.parsed
        parsed.rows_read += 1
        if record.__class__ is not dict:
            parsed.quarantine(number, Reason(None, NOT_A_JSON_OBJECT), masked_record(record))
            return
        self.note_keys(record)
        try:
            canonical, surrogates = _canonical(record)
        except RecursionError:
            parsed.quarantine(number, Reason(None, RECORD_TOO_DEEP), masked_record(record))
            return
        # Both limits are measured on the canonical bytes, which the hash needs anyway: a record of
        # millions of characters is not a dossier, and one with fewer brackets than the depth limit
        # cannot nest deeper than it (the contract's shapes nest three deep).
        if len(canonical) > MAX_RECORD_CHARS:
            parsed.quarantine(number, Reason(None, RECORD_TOO_LARGE), unparsed(canonical, self.key))
            return
        if (canonical.count(b"[") + canonical.count(b"{") > MAX_RECORD_DEPTH
                and _nests_deeper(record, MAX_RECORD_DEPTH)):
            parsed.quarantine(number, Reason(None, RECORD_TOO_DEEP), masked_record(record))
            return
        try:
            row = self.row(record, len(canonical), surrogates)
        except RowError as exc:
            parsed.quarantine(number, exc.reason, masked_record(record))
            return
        row["_record_hash"] = hmac.digest(self.key, canonical, "sha256").hex()
        row["_line_number"] = number
        parsed.rows.append(row)


def _refuse_surrogates(row: dict[str, Any]) -> None:
    """RowError where a kept text holds a lone surrogate (a `\\ud800` escape): it is no Unicode text,
    and no Parquet string holds it."""
    for name, value in row.items():
        if value.__class__ is str and _SURROGATES.search(value):
            raise RowError(name, NOT_TEXT)
        if value.__class__ is list:
            for entry in value:
                items = entry.items() if entry.__class__ is dict else [("MaCSDL", entry)]
                for key, item in items:
                    if item.__class__ is str and _SURROGATES.search(item):
                        raise RowError(f"{name}.{key}", NOT_TEXT)


def _envelope_error(call: dict[str, Any]) -> Reason | None:
    """Why a sync call's envelope cannot be read: no `data` list, no agency code, no valid time."""
    entries = call.get("data")
    if entries is None:
        return Reason("data", MISSING)
    if entries.__class__ is not list:
        return Reason("data", NOT_ARRAY)
    try:
        agency = _v2_id(call.get("MaDinhDanhDV"), "MaDinhDanhDV")
        if agency is None:
            return Reason("MaDinhDanhDV", MISSING)
        if _SURROGATES.search(agency):
            return Reason("MaDinhDanhDV", NOT_TEXT)
        if _v2_ts(call.get("ThoiGianDongBo"), "ThoiGianDongBo") is None:
            return Reason("ThoiGianDongBo", MISSING)
    except RowError as exc:
        return exc.reason
    return None


def _optional_code(value: Any) -> str | None:
    """An envelope code that no rule requires (LoaiDongBo, KetQua.error_code): as `_v2_code`,
    null where it is not one (an object, an array, a lone surrogate, over the size limit)."""
    try:
        code = _v2_code(value, "LoaiDongBo")
    except RowError:
        return None
    return None if code is None or _SURROGATES.search(code) else code


def parse_sync_call_file(data: bytes, key: bytes, kind: str) -> ParsedFile:
    """One sync call, `dossiers/YYYY-MM-DD/*.json` (kind "dossiers", `HoSoDongBoDVC` records, rows of
    `lake.SCHEMAS["raw_dossier_syncs"]`) or `processing/YYYY-MM-DD/*.json` (kind "processing",
    `QuaTrinhXuLyDongBoDVC`, rows of `raw_processing_steps`), sources.md v2 §3-4.

    Every row carries the envelope (MaDinhDanhDV, ThoiGianDongBo, LoaiDongBo trimmed, MaLoiKetQua =
    KetQua.error_code: null where KetQua is absent or not an object, so the call is not known to be
    accepted; a rejected call's rows are kept), `_line_number` (the record's 1-based position in
    `data`) and `_record_hash`: HMAC-SHA-256 under `key` (the pseudonym key) of the record's
    canonical JSON (`_json_canonical`), which tells a dossier sent twice unchanged (same hash) from one
    sent twice with different content, and keeps no personal data. MaNguoiNop is the applicant key
    of SoGiayToChuHoSo, or of the first non-blank DinhDanhCHS SoDinhDanh where that is absent.

    A record is quarantined only when it is not an object, has no MaHoSo, nests deeper than
    `MAX_RECORD_DEPTH`, is over `MAX_RECORD_CHARS` (bytes of its canonical JSON), or holds a value
    no field allows (a date that is not one, a status outside 1-10, a non-integral or out-of-range
    Gia, a list that is not a list of objects, an object where a value belongs, a kept text over
    `MAX_FIELD_CHARS`). A file that cannot be read as a whole (encoding, JSON, envelope) is
    quarantined whole: one row per entry of its `data` list, or one row for the file where it has
    none; `file_error` says why.
    """
    if kind not in SYNC_KINDS:
        raise ValueError(f"kind must be one of {SYNC_KINDS}")
    with _collector_paused():
        return _parse_sync_call(data, key, kind)


def _parse_sync_call(data: bytes, key: bytes, kind: str) -> ParsedFile:
    parsed = ParsedFile()
    body, text, rule = _decoded(data)
    reason = Reason(None, rule) if rule is not None else None
    call: Any = None
    numbers = False
    if reason is None:
        assert text is not None
        try:
            call, numbers = _json_document(text)
        except (ValueError, RecursionError) as exc:
            reason = json_reason(exc)
    if reason is None and call.__class__ is not dict:
        reason = Reason(None, NOT_A_JSON_OBJECT)
    if reason is None:
        reason = _envelope_error(call)
        if reason is not None and call.get("data").__class__ is list:
            parsed.file_error = str(reason)
            for number, entry in enumerate(call["data"], start=1):
                parsed.rows_read += 1
                parsed.quarantine(number, reason, masked_record(entry))
            return parsed
    if reason is not None:
        parsed.file_error = str(reason)
        parsed.rows_read = 1
        parsed.quarantine(None, reason, unparsed(body, key))
        return parsed

    reader = _SyncCall(key, kind, parsed, numbers)
    _note_unknown(reader.unknown, sorted(call.keys() - _ENVELOPE_KEYS))
    answer = call.get("KetQua")
    if answer.__class__ is dict:
        _note_unknown(reader.unknown, sorted(answer.keys() - _KETQUA_KEYS), "KetQua.")
    missing = [name for name, present in (("LoaiDongBo", "LoaiDongBo" in call),
                                          ("KetQua.error_code", answer.__class__ is dict and "error_code" in answer))
               if not present]
    envelope = {"sync_agency_code": _v2_id(call["MaDinhDanhDV"], "MaDinhDanhDV"),
                "sync_time": _v2_ts(call["ThoiGianDongBo"], "ThoiGianDongBo"),
                "sync_kind": _optional_code(call.get("LoaiDongBo")),
                "sync_error_code": _optional_code(answer.get("error_code")) if answer.__class__ is dict else None}
    parsed.envelope = envelope
    reader.envelope_columns = {"MaDinhDanhDV": envelope["sync_agency_code"], "ThoiGianDongBo": envelope["sync_time"],
                               "LoaiDongBo": envelope["sync_kind"], "MaLoiKetQua": envelope["sync_error_code"]}
    records = call["data"]
    for number, record in enumerate(records, start=1):
        reader.read(number, record)
    if records:
        missing += [name for name in _RECORD_SCALARS[kind] if name in reader.unseen]
    parsed.missing_columns = missing
    parsed.unknown_columns = list(reader.unknown)
    return parsed
