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
                        JSON_NUMBER_TOO_LONG, NOT_A_JSON_OBJECT, NOT_A_CSV_RECORD, FIELD_COUNT,
                        HEADER_LACKS_COLUMN})
FIELD_RULES = frozenset({MISSING, NOT_TEXT, NOT_INTEGER, NOT_IN_CODE_SET, OUT_OF_RANGE, NEGATIVE,
                         NOT_COMPACT_TIMESTAMP, IMPOSSIBLE_DATE, NOT_TIMESTAMP, NOT_DATE, NOT_ARRAY, ENTRY_NOT_OBJECT})
REASON_RULES = LINE_RULES | FIELD_RULES
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
        if self.field is None and self.rule not in LINE_RULES:
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


def _int_in(value: Any, name: str, allowed: range | set[int]) -> int:
    if isinstance(value, bool):
        raise RowError(name, NOT_INTEGER)
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError) as exc:  # OverflowError: an infinite float
        raise RowError(name, NOT_INTEGER) from exc
    if isinstance(value, float) and value != number:
        raise RowError(name, NOT_INTEGER)
    if number not in allowed:
        raise RowError(name, NOT_IN_CODE_SET)
    return number


def _int(value: Any, name: str, bits: int = 64) -> int:
    """An integer (JSON integer or text of digits) that fits the lake's signed `bits`-bit column."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise RowError(name, NOT_INTEGER)
    if isinstance(value, int):
        number = value
    else:
        text = value.strip()
        if not re.fullmatch(r"-?\d+", text):
            raise RowError(name, NOT_INTEGER)
        try:
            number = int(text)
        except ValueError as exc:  # more digits than int() converts
            raise RowError(name, OUT_OF_RANGE) from exc
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


def _cells(text: str) -> list[str] | None:
    """One line's CSV cells; None where the csv module refuses it (a field over its size limit)."""
    try:
        return next(csv.reader([text]))
    except csv.Error:
        return None


def _quarantine_cells(parsed: ParsedFile, number: int, reason: Reason, header: list[str], text: str,
                      cells: list[str] | None, key: bytes | None) -> None:
    if cells is not None and len(cells) == len(header):
        parsed.quarantine(number, reason, masked_cells(header, cells))
    else:
        parsed.quarantine(number, reason, unparsed(text.encode("utf-8"), key))


def _csv_table(data: bytes, columns: tuple[str, ...], parsed: ParsedFile, key: bytes | None) -> tuple[
        list[str], dict[str, int], list[Line], str] | None:
    """Header, contract column positions, non-blank body lines and encoding of a CSV file, one
    record per line.

    When the header lacks a contract column, every body line is quarantined
    with that reason and None is returned.
    """
    codec, lines = decode_lines(data)
    header_at = next((i for i, (_, text, _) in enumerate(lines) if text is None or text.strip()), None)
    if header_at is None:
        return None
    header_text = lines[header_at][1]
    header_cells = _cells(header_text) if header_text is not None else None
    header = [h.strip() for h in header_cells or []]
    body = [line for line in lines[header_at + 1:] if line[1] is None or line[1].strip()]
    missing = [c for c in columns if c not in header]
    if missing:
        # Contract column names only: the file's own header is data.
        parsed.file_error = f"header: missing columns {', '.join(missing)}"
        reason = Reason(None, HEADER_LACKS_COLUMN)
        for number, text, raw in body:
            parsed.rows_read += 1
            if text is None:
                parsed.quarantine(number, reason, unparsed(raw, key))
            else:
                _quarantine_cells(parsed, number, reason, header, text, _cells(text), key)
        return None
    return header, {name: header.index(name) for name in columns}, body, codec


def parse_payment_file(data: bytes, key: bytes | None = None) -> ParsedFile:
    """One intermediary's daily reconciliation CSV (BOM, CRLF and a total line allowed).

    `key`, when given, keys the hash kept of a line that does not parse (`unparsed`).
    """
    parsed = ParsedFile()
    table = _csv_table(data, PAYMENT_COLUMNS, parsed, key)
    if table is None:
        return parsed
    header, position, body, codec = table
    for index, (number, text, raw) in enumerate(body):
        if text is None:
            parsed.rows_read += 1
            parsed.quarantine(number, Reason(None, NOT_DECODED[codec]), unparsed(raw, key))
            continue
        cells = _cells(text)
        if cells and _is_total_line(cells[0]) and index == len(body) - 1:
            parsed.has_total_line = True
            amounts = [c for c in cells[1:] if re.fullmatch(r"\s*-?\d{1,18}\s*", c)]
            parsed.total_line_amount = int(amounts[0]) if amounts else None
            continue
        parsed.rows_read += 1
        if cells is None or len(cells) != len(header):
            reason = Reason(None, NOT_A_CSV_RECORD if cells is None else FIELD_COUNT)
            parsed.quarantine(number, reason, unparsed(text.encode("utf-8"), key))
            continue
        value = {name: cells[i].strip() for name, i in position.items()}
        try:
            row = _payment_row(value)
        except RowError as exc:
            parsed.quarantine(number, exc.reason, masked_cells(header, cells))
            continue
        row["_line_number"] = number
        parsed.rows.append(row)
    return parsed


def _payment_row(value: dict[str, str]) -> dict[str, Any]:
    if not value["MaGiaoDich"]:
        raise RowError("MaGiaoDich", MISSING)
    if not value["MaTrungGian"]:
        raise RowError("MaTrungGian", MISSING)
    if value["TrangThai"] not in {"00", "01", "02"}:
        raise RowError("TrangThai", NOT_IN_CODE_SET)
    try:
        paid_at = dt.datetime.strptime(value["ThoiGianGiaoDich"], "%Y-%m-%d %H:%M:%S")
    except ValueError as exc:
        raise RowError("ThoiGianGiaoDich", NOT_TIMESTAMP) from exc
    try:
        settled = dt.datetime.strptime(value["NgayDoiSoat"], "%Y-%m-%d").date()
    except ValueError as exc:
        raise RowError("NgayDoiSoat", NOT_DATE) from exc
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
    header, position, body, codec = table
    for number, text, raw in body:
        parsed.rows_read += 1
        if text is None:
            parsed.quarantine(number, Reason(None, NOT_DECODED[codec]), unparsed(raw, key))
            continue
        cells = _cells(text)
        if cells is None or len(cells) != len(header):
            reason = Reason(None, NOT_A_CSV_RECORD if cells is None else FIELD_COUNT)
            parsed.quarantine(number, reason, unparsed(text.encode("utf-8"), key))
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
