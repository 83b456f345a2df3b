"""Spreadsheet-safe cells: the one rule every CSV and XLSX the product writes follows
(the dashboard's downloads and `publish.export_csv`).

A spreadsheet opening a file runs a text cell that starts like a formula
(`=HYPERLINK(...)`, `+1`, `-1+2`, `@SUM(A1)`) — CSV or formula injection. Source
texts (agency, service and intermediary names, dossier codes, quarantine
reasons, a request's filters) reach the files as they are, so a text cell that
would start a formula gets a leading single quote (OWASP's recommendation):
`=1+1` is written `'=1+1`, and read back as text. Only text is escaped: numbers,
booleans, dates and times stay what they are (a negative number stays a
number).

A text would start a formula when, after any leading characters a spreadsheet
may strip or ignore (whitespace of any kind, control characters, zero-width
characters), its first character is one of `= + - @`, a tab, CR or LF, or a
full-width, small or super/subscript form of `= + - @` (Unicode NFKC maps them
to the ASCII sign, and some spreadsheets do too) or U+2212 MINUS SIGN. Callers
escape last, on the text exactly as written (after any trimming, label or
format): a check made before trimming would let `\\t=1+1` through as `=1+1`.

The dashboard writes cells in Python (`safe_value`, `xlsx_cell`); the pipeline's
CSV exports are written by DuckDB `COPY` and escape in SQL (`safe_text_sql`),
from the same characters: the two agree on every text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

ESCAPE = "'"

# `= + - @` and every character NFKC maps to one of them, U+2212 MINUS SIGN, and the tab, CR and LF
# that OWASP lists (a spreadsheet may take the line that follows them for a new cell).
FORMULA_START = (
    "=+-@\t\r\n"
    "\u207c\u208c\ufe66\uff1d"  # ⁼ ₌ ﹦ ＝
    "\u207a\u208a\ufb29\ufe62\uff0b"  # ⁺ ₊ ﬩ ﹢ ＋
    "\ufe63\uff0d\u2212"  # ﹣ － −
    "\ufe6b\uff20"  # ﹫ ＠
)

# What a spreadsheet may strip or ignore before a cell's first character: every Unicode whitespace
# (str.isspace), the other control characters, and the zero-width ones.
LEADING_IGNORED = (
    "".join(chr(c) for c in range(0x20)) + " \x7f\x85\xa0\u1680\u180e"
    + "".join(chr(c) for c in range(0x2000, 0x200b))
    + "\u200b\u200c\u200d\u2028\u2029\u202f\u205f\u2060\u3000\ufeff"
)

# Characters openpyxl refuses in a worksheet (XML 1.0 forbids them): replaced, so that a hostile
# text cannot fail the export either.
_XLSX_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_REPLACEMENT = "\ufffd"


def _re2_class(characters: str) -> str:
    return "[" + "".join(f"\\x{{{ord(c):x}}}" for c in characters) + "]"


# The same rule as a pattern of DuckDB's regular expressions (RE2).
SQL_PATTERN = f"^{_re2_class(LEADING_IGNORED)}*{_re2_class(FORMULA_START)}"


def starts_formula(text: str) -> bool:
    """Whether a spreadsheet could read `text` as a formula (the rule of the module's docstring)."""
    for character in text:
        if character in FORMULA_START:  # before LEADING_IGNORED: a leading tab, CR or LF counts itself
            return True
        if character not in LEADING_IGNORED:
            return False
    return False


def safe_text(text: str) -> str:
    """`text`, with a leading `'` when it would start a formula."""
    return ESCAPE + text if starts_formula(text) else text


def safe_value(value: Any) -> Any:
    """A cell's value for a CSV or XLSX file: text made safe (`safe_text`), anything else unchanged."""
    return safe_text(value) if isinstance(value, str) else value


def safe_text_sql(expression: str) -> str:
    """SQL (DuckDB) of `safe_text` over a VARCHAR expression; NULL stays NULL."""
    return (f"case when regexp_matches({expression}, '{SQL_PATTERN}') "
            f"then '{ESCAPE * 2}' || {expression} else {expression} end")


def xlsx_cell(sheet: Worksheet, value: Any) -> Cell:
    """An openpyxl cell for `sheet.append`: text as a string cell — never a formula (openpyxl makes
    one of a text starting with `=`) nor an error (`#REF!`) — made safe, after the characters a
    worksheet cannot hold are replaced by U+FFFD; anything else as openpyxl types it."""
    from openpyxl.cell.cell import Cell

    if not isinstance(value, str):
        return Cell(sheet, value=value)
    cell = Cell(sheet, value=safe_text(_XLSX_ILLEGAL.sub(XLSX_REPLACEMENT, value)))
    cell.data_type = "s"
    return cell
