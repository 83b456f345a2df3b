"""Typing dossier sync lines in DuckDB, with the Python parser as the judge.

`parsers.parse_dossier_file` is the contract's reference: it types one line at
a time in Python (≈ 50,000 lines/s per core). Almost every line a source
sends is well formed, so this module types the lines in bulk with DuckDB's
JSON functions and hands to the Python parser every line it is not *certain*
about. A line takes the fast path only when it is, to the letter, the common
shape the Python parser accepts:

- it is valid JSON to DuckDB, has no trailing comma (DuckDB accepts
  `{"a":1,}`, Python does not) and is an object with no repeated key
  (Python keeps the last value of a repeated key, DuckDB the first);
- text fields are JSON strings or null/absent; `MaHoSo` holds a letter or
  digit; code fields are JSON integers in the contract's set (absent gives 0
  where the parser defaults); timestamps are 14 ASCII digits that DuckDB
  parses and prints back unchanged, or empty/null/absent; the fee and
  supplement arrays are arrays (or null/absent) of objects of that shape;
- `SoGiayTo` is null/absent or ASCII letters, digits, spaces, dots and
  hyphens (so normalising it in SQL is the same as in Python).

Every other line (a float code, a number where text is expected, a
non-ASCII ID number, invalid JSON...) goes through the Python parser, which
loads or quarantines it with its reason, so the result is the Python
parser's, line for line (`tests/dichvucong/landing/test_fast_dossiers.py` checks it
on generated files and on a corpus of odd lines). The applicant key is the
same HMAC-SHA-256, computed in SQL from the key's inner and outer pads.
"""

from __future__ import annotations

import hashlib
import tempfile

import duckdb
import numpy as np
import pyarrow as pa

from dichvucong.landing import lake
from dichvucong.landing.parsers import MAX_RECORD_CHARS, ParsedFile, parse_dossier_file, parse_dossier_lines

_PATHS = ("MaHoSo", "MaTTHC", "MaCoQuan", "MaDiaBan", "KenhThucHien", "LoaiDoiTuong", "SoGiayTo",
          "TrangThaiHoSo", "DuocThanhToanTrucTuyen", "CoKetQuaDienTu", "DaSoHoa", "NgayNopHoSo",
          "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi", "NgayCapNhat",
          "DanhSachLePhi", "DanhSachBoSung",
          # personal data: never typed, only counted among the line's keys
          "ChuHoSo", "SoDienThoai")
_AT = {name: i + 1 for i, name in enumerate(_PATHS)}

_TS_RE = ("[1-9][0-9]{3}(0[1-9]|1[0-2])(0[1-9]|[12][0-9]|3[01])([01][0-9]|2[0-3])[0-5][0-9][0-5][0-9]")

# Each line is parsed a handful of times in all: for its validity, its keys, the types and the text
# of its fields (one call each for all fields), and its two arrays; the checks then work on lists.
_MACROS = rf"""
create or replace temp macro text_ok(ty) as coalesce(ty, 'NULL') in ('NULL', 'VARCHAR');
create or replace temp macro code_ok(ty, s, allowed) as
    ty = 'UBIGINT' and list_contains(allowed, try_cast(s as bigint));
create or replace temp macro code_or_zero_ok(ty, s, allowed) as ty is null or code_ok(ty, s, allowed);
create or replace temp macro code_of(s) as coalesce(s::bigint, 0)::tinyint;
create or replace temp macro ts_set(ty, s) as ty = 'VARCHAR' and s <> '';
create or replace temp macro ts_ok(ty, s) as
    coalesce(ty, 'NULL') = 'NULL'
    or (ty = 'VARCHAR' and (s = ''
        or (regexp_full_match(s, '{_TS_RE}') and try_strptime(s, '%Y%m%d%H%M%S') is not null)));
create or replace temp macro ts_of(ty, s) as case when ts_set(ty, s) then strptime(s, '%Y%m%d%H%M%S') end;
create or replace temp macro list_ok(ty) as coalesce(ty, 'NULL') in ('NULL', 'ARRAY');
create or replace temp macro entries(ty, x, paths) as
    case when ty = 'ARRAY' then list_transform(json_extract(x, '$[*]'), lambda e: {{
        'ty': json_type(e), 'nkeys': len(json_keys(e)), 'f': json_type(e, paths), 's': json_extract_string(e, paths)}})
    else [] end;
create or replace temp macro fee_ok(e) as
    e.ty = 'OBJECT' and e.nkeys = list_count(e.f) and text_ok(e.f[1]) and text_ok(e.f[2])
    and code_ok(e.f[3], e.s[3], [1, 2])
    and (e.f[4] in ('UBIGINT', 'BIGINT') and try_cast(e.s[4] as bigint) is not null
         or e.f[4] = 'VARCHAR' and regexp_full_match(e.s[4], '-?[0-9]{{1,18}}'));
create or replace temp macro round_ok(e) as
    e.ty = 'OBJECT' and e.nkeys = list_count(e.f) and ts_set(e.f[1], e.s[1]) and ts_ok(e.f[1], e.s[1])
    and ts_ok(e.f[2], e.s[2]);
"""


def _ty(name: str) -> str:
    return f"ty[{_AT[name]}]"


def _s(name: str) -> str:
    return f"s[{_AT[name]}]"


def _ts_ok(name: str) -> str:
    return f"ts_ok({_ty(name)}, {_s(name)})"


def _ts_of(name: str) -> str:
    return f"ts_of({_ty(name)}, {_s(name)})"


_JSON_PATHS = str([f"$.{p}" for p in _PATHS])
_FEE_PATHS = "['$.MaPhiLePhi', '$.TenPhiLePhi', '$.LoaiPhiLePhi', '$.Gia']"
_ROUND_PATHS = "['$.NgayYeuCau', '$.NgayBoSung']"

_FAST = f"""
create or replace temp table typed as
with objects as materialized (
    select f, n, t from lines
    where not regexp_matches(t, ',\\s*[\\]}}]')
      and case when json_valid(t) then json_type(t) = 'OBJECT' else false end
),
fields as materialized (
    -- every key a contract field and none repeated: as many keys as contract fields present
    select f, n, len(json_keys(t)) as nkeys,
        json_type(t, {_JSON_PATHS}) as ty, json_extract_string(t, {_JSON_PATHS}) as s,
        json_extract(t, '$.DanhSachLePhi') as fee_json, json_extract(t, '$.DanhSachBoSung') as round_json
    from objects
),
nested as materialized (
    select f, n, nkeys, ty, s,
        entries({_ty('DanhSachLePhi')}, fee_json, {_FEE_PATHS}) as fees,
        entries({_ty('DanhSachBoSung')}, round_json, {_ROUND_PATHS}) as rounds
    from fields
)
select f, n, ty, s, fees, rounds from nested
where nkeys = list_count(ty) and {_ty('MaHoSo')} = 'VARCHAR' and regexp_matches({_s('MaHoSo')}, '[0-9A-Za-z]')
    and text_ok({_ty('MaTTHC')}) and text_ok({_ty('MaCoQuan')}) and text_ok({_ty('MaDiaBan')})
    and code_ok({_ty('KenhThucHien')}, {_s('KenhThucHien')}, [1, 2, 3])
    and code_ok({_ty('LoaiDoiTuong')}, {_s('LoaiDoiTuong')}, [1, 2, 3])
    and code_ok({_ty('TrangThaiHoSo')}, {_s('TrangThaiHoSo')}, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    and code_or_zero_ok({_ty('DuocThanhToanTrucTuyen')}, {_s('DuocThanhToanTrucTuyen')}, [0, 1, 2])
    and code_or_zero_ok({_ty('CoKetQuaDienTu')}, {_s('CoKetQuaDienTu')}, [0, 1])
    and code_or_zero_ok({_ty('DaSoHoa')}, {_s('DaSoHoa')}, [0, 1])
    and (coalesce({_ty('SoGiayTo')}, 'NULL') = 'NULL'
         or {_ty('SoGiayTo')} = 'VARCHAR' and regexp_full_match({_s('SoGiayTo')}, '[0-9A-Za-z .\\-]*'))
    and ts_set({_ty('NgayNopHoSo')}, {_s('NgayNopHoSo')}) and ts_set({_ty('NgayCapNhat')}, {_s('NgayCapNhat')})
    and {' and '.join(_ts_ok(p) for p in _PATHS if p.startswith('Ngay'))}
    and list_ok({_ty('DanhSachLePhi')}) and list_ok({_ty('DanhSachBoSung')})
    and coalesce(list_bool_and(list_transform(fees, lambda e: coalesce(fee_ok(e), false))), true)
    and coalesce(list_bool_and(list_transform(rounds, lambda e: coalesce(round_ok(e), false))), true)
"""

_ROWS = f"""
select
    {_s('MaHoSo')} as MaHoSo,
    {_s('MaTTHC')} as MaTTHC,
    {_s('MaCoQuan')} as MaCoQuan,
    {_s('MaDiaBan')} as MaDiaBan,
    code_of({_s('KenhThucHien')}) as KenhThucHien,
    code_of({_s('LoaiDoiTuong')}) as LoaiDoiTuong,
    case when id <> '' then sha256($opad || unhex(sha256($ipad || encode(id)))) end as MaNguoiNop,
    {_ts_of('NgayNopHoSo')} as NgayNopHoSo,
    {_ts_of('NgayTiepNhan')} as NgayTiepNhan,
    {_ts_of('NgayHenTra')} as NgayHenTra,
    {_ts_of('NgayKetThucXuLy')} as NgayKetThucXuLy,
    {_ts_of('NgayTra')} as NgayTra,
    {_ts_of('NgayTuChoi')} as NgayTuChoi,
    code_of({_s('TrangThaiHoSo')}) as TrangThaiHoSo,
    code_of({_s('DuocThanhToanTrucTuyen')}) as DuocThanhToanTrucTuyen,
    code_of({_s('CoKetQuaDienTu')}) as CoKetQuaDienTu,
    code_of({_s('DaSoHoa')}) as DaSoHoa,
    list_transform(fees, lambda e: {{
        'MaPhiLePhi': e.s[1], 'TenPhiLePhi': e.s[2], 'LoaiPhiLePhi': e.s[3]::tinyint, 'Gia': e.s[4]::bigint}})
        as DanhSachLePhi,
    list_transform(rounds, lambda e: {{
        'NgayYeuCau': ts_of(e.f[1], e.s[1]), 'NgayBoSung': ts_of(e.f[2], e.s[2])}}) as DanhSachBoSung,
    {_ts_of('NgayCapNhat')} as NgayCapNhat,
    n::integer as _line_number,
    f as _file
from (
    select *, upper(regexp_replace(coalesce({_s('SoGiayTo')}, ''), '[ .\\-]', '', 'g')) as id from typed
)
order by f, n
"""

# Files typed in one query, up to this many bytes: a query's planning costs about as much as
# typing a thousand lines, and its memory grows with its lines.
BATCH_BYTES = 16 * 2**20
_MEMORY_LIMIT = "512MB"

_OUTPUT = lake.parsed_schema("raw_dossiers")


def hmac_pads(key: bytes) -> tuple[bytes, bytes]:
    """HMAC-SHA-256's inner and outer padded keys (RFC 2104)."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


class DossierTyper:
    """One DuckDB connection that types dossier files, line for line as `parse_dossier_file` would."""

    def __init__(self, key: bytes) -> None:
        # One thread (landing runs a process per core) and bounded memory: a batch's typed
        # lines spill to a temporary folder rather than grow the process.
        self._scratch = tempfile.TemporaryDirectory(prefix="dvc-typing-")
        self._con = duckdb.connect(config={"threads": 1, "memory_limit": _MEMORY_LIMIT,
                                           "temp_directory": self._scratch.name})
        self._con.execute(_MACROS)
        self._ipad, self._opad = hmac_pads(key)
        self._key = key

    def close(self) -> None:
        self._con.close()
        self._scratch.cleanup()

    def __enter__(self) -> DossierTyper:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def parse_many(self, files: list[bytes]) -> list[tuple[pa.Table, ParsedFile]]:
        """`parse_group` over groups of files of at most `BATCH_BYTES` (a larger file alone)."""
        out: list[tuple[pa.Table, ParsedFile]] = []
        group: list[bytes] = []
        size = 0
        for data in files:
            if group and size + len(data) > BATCH_BYTES:
                out += self.parse_group(group)
                group, size = [], 0
            group.append(data)
            size += len(data)
        return out + (self.parse_group(group) if group else [])

    def parse_group(self, files: list[bytes]) -> list[tuple[pa.Table, ParsedFile]]:
        """Per file, the typed rows (lake schema without lineage, in line order) and what the
        Python parser made of the other lines: its rows are in the table too, its quarantine in
        the ParsedFile, whose rows_read counts every line of the file. The files are typed in
        one query (a query's planning costs more than typing a thousand lines)."""
        texts: list[str | None] = []
        for data in files:
            if data.startswith(b"\xef\xbb\xbf"):
                data = data[3:]
            try:
                texts.append(data.decode("utf-8"))
            except UnicodeDecodeError:
                texts.append(None)  # undecodable bytes: the reference parser, line by line
        kept: list[list[tuple[int, str]]] = []
        for text in texts:
            numbered = enumerate(text.split("\n"), start=1) if text is not None else iter(())
            kept.append([(i, line.rstrip("\r")) for i, line in numbered if line.strip()])
        # A line over the record size limit never reaches DuckDB: the reference parser quarantines it.
        small = [[(i, line) for i, line in rows if len(line) <= MAX_RECORD_CHARS] for rows in kept]
        lines = pa.table({
            "f": pa.array([f for f, rows in enumerate(small) for _ in rows], pa.int32()),
            "n": pa.array([i for rows in small for i, _ in rows], pa.int64()),
            "t": pa.array([line for rows in small for _, line in rows], pa.string()),
        })
        con = self._con
        con.register("lines", lines)
        try:
            con.execute(_FAST)
            fast = con.sql(_ROWS, params={"ipad": self._ipad, "opad": self._opad}).to_arrow_table()
        finally:
            con.unregister("lines")
            con.execute("drop table if exists typed")
        files_of = fast.column("_file").to_numpy()
        bounds = np.searchsorted(files_of, np.arange(len(files) + 1))
        numbers = fast.column("_line_number").to_numpy()
        out = []
        for f, data in enumerate(files):
            table = fast.slice(bounds[f], bounds[f + 1] - bounds[f]).drop_columns(["_file"]).cast(_OUTPUT)
            if texts[f] is None:
                parsed = parse_dossier_file(data, self._key)
            else:
                typed = set(numbers[bounds[f]:bounds[f + 1]].tolist())
                parsed = parse_dossier_lines([(i, line, b"") for i, line in kept[f] if i not in typed], self._key)
                parsed.rows_read = len(kept[f])
            if parsed.rows:
                slow = pa.Table.from_pylist(parsed.rows, schema=_OUTPUT)
                table = pa.concat_tables([table, slow]).sort_by("_line_number")
                parsed.rows = []
            out.append((table, parsed))
        return out
