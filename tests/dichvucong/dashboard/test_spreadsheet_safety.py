"""Spreadsheet (formula) injection: source texts that start like formulas reach the dashboard's CSV and
XLSX files as text, escaped with a leading `'`; numbers stay numbers. Files are read back as a
spreadsheet user would get them: CSV with the csv module, XLSX with openpyxl."""

from __future__ import annotations

import csv
import io
import sys
import unicodedata
from collections.abc import Iterator

import duckdb
import httpx
import pytest
from openpyxl import load_workbook

from dichvucong.dashboard import labels
from dichvucong.dashboard.app import Auth
from dichvucong.dashboard.tables import TABLES
from tests.dichvucong.dashboard.conftest import serve
from tests.dichvucong.dashboard.hostile import BENIGN, HOSTILE, TEXTS, escaped, write_published

TABLE_NAMES = ("agency_ranks", "overdue_dossiers", "overdue_by_agency")
FORMULA_CHARACTERS = tuple("=+-@\t\r\n") + ("＝", "＋", "－", "＠", "﹦", "﹢", "﹣", "﹫", "−")
# In XLSX a character a worksheet cannot hold is replaced before the check, and a CR reads back as LF
# (openpyxl writes it raw; XML parsers normalise line ends).
XLSX_FORM = {"\x01=1": "\ufffd=1", "\r=1": "'\n=1"}


@pytest.fixture(scope="module")
def hostile_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    published = write_published(tmp_path_factory.mktemp("hostile") / "published" / "dichvucong.duckdb")
    with serve(published, Auth()) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def _text_columns(table: str) -> list[int]:
    return [i for i, (_, kind) in enumerate(TABLES[table].columns) if kind == "text"]


def _number_columns(table: str) -> list[int]:
    return [i for i, (_, kind) in enumerate(TABLES[table].columns)
            if kind in ("int", "vnd", "rate", "points", "days")]


def _starts_like_a_formula(text: str) -> bool:
    return text.lstrip(" \u3000\u200b\x01").startswith(FORMULA_CHARACTERS) or text.startswith(FORMULA_CHARACTERS)


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_csv_cells_that_would_start_a_formula_are_escaped(hostile_client: httpx.Client, table: str) -> None:
    body = hostile_client.get(f"/api/v1/{table}").json()
    response = hostile_client.get(f"/api/v1/{table}", params={"format": "csv"})
    assert response.status_code == 200, response.text
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))
    assert len(rows) == len(body["rows"]) + 1
    assert rows[0] == [labels.column_label(name, "vi") for name in TABLES[table].column_names]
    seen: set[str] = set()
    for row, record in zip(rows[1:], body["rows"], strict=True):
        for index in _text_columns(table):
            raw = record[TABLES[table].column_names[index]]
            assert row[index] == escaped(raw), (table, raw, row[index])
            assert not _starts_like_a_formula(row[index]) or row[index].startswith("'"), row[index]
            seen.add(raw)
        for index in _number_columns(table):
            raw = record[TABLES[table].column_names[index]]
            if raw is not None:  # a number as written, a negative one unescaped
                assert float(row[index]) == pytest.approx(raw), (table, row[index])
    assert set(HOSTILE) <= seen, "every hostile text reached the file"
    assert set(BENIGN) <= seen


@pytest.mark.parametrize("table", TABLE_NAMES)
def test_xlsx_text_cells_are_strings_never_formulas(hostile_client: httpx.Client, table: str) -> None:
    body = hostile_client.get(f"/api/v1/{table}").json()
    response = hostile_client.get(f"/api/v1/{table}", params={"format": "xlsx"})
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == len(body["rows"])
    negatives = 0
    for cells, record in zip(rows, body["rows"], strict=True):
        for cell in cells:
            assert cell.data_type not in ("f", "e"), (table, cell.coordinate, cell.value)
            if isinstance(cell.value, str):
                assert not _starts_like_a_formula(cell.value) or cell.value.startswith("'"), cell.value
        for index in _text_columns(table):
            raw = record[TABLES[table].column_names[index]]
            cell = cells[index]
            assert cell.data_type == "s", (table, cell.coordinate, cell.value)
            assert cell.value == XLSX_FORM.get(raw, escaped(raw)), (table, raw, cell.value)
        for index in _number_columns(table):
            raw = record[TABLES[table].column_names[index]]
            cell = cells[index]
            if raw is not None:
                assert cell.data_type == "n" and isinstance(cell.value, int | float), (table, cell.value)
                assert cell.value == pytest.approx(raw)
                negatives += cell.value < 0
    if table == "agency_ranks":
        assert negatives, "negative points totals stay numbers"


def test_xlsx_filters_sheet_escapes_the_request(hostile_client: httpx.Client) -> None:
    """The agency filter is whatever the link says: it reaches the about sheet as text."""
    agency = '=HYPERLINK("http://x","y")'
    response = hostile_client.get("/api/v1/overdue_dossiers", params={"agency": agency, "format": "xlsx"})
    assert response.status_code == 200, response.text
    about = load_workbook(io.BytesIO(response.content)).worksheets[1]
    cells = [cell for row in about.iter_rows() for cell in row if cell.value is not None]
    assert all(cell.data_type != "f" for cell in cells), [(c.coordinate, c.value) for c in cells]
    assert any(cell.value == "'" + agency and cell.data_type == "s" for cell in cells)
    csv_file = hostile_client.get("/api/v1/overdue_dossiers", params={"agency": agency, "format": "csv"})
    rows = list(csv.reader(io.StringIO(csv_file.content.decode("utf-8-sig"), newline="")))
    column = rows[0].index(labels.column_label("agency_code", "vi"))
    assert [row[column] for row in rows[1:]] == ["'" + agency]  # the one dossier of that agency


def test_python_and_sql_escape_agree() -> None:
    """The dashboard escapes in Python and the exports in DuckDB's SQL: the same texts, the same way."""
    from dichvucong.dashboard.spreadsheet import (
        FORMULA_START,
        LEADING_IGNORED,
        safe_text,
        safe_text_sql,
        starts_formula,
    )

    # Every NFKC form of = + - @ and every whitespace a spreadsheet may trim are known to the rule.
    for code in range(sys.maxunicode + 1):
        character = chr(code)
        if unicodedata.normalize("NFKC", character) in ("=", "+", "-", "@"):
            assert character in FORMULA_START, hex(code)
        if character.isspace():
            assert character in LEADING_IGNORED, hex(code)
    samples = list(TEXTS) + ["", "=", "'=1", " ", "\t", " \t x", "\x00=", "\ufeff+1", "a\n=1", "--", "- 5",
                             "\u2028@", "\u00a0-", "é=1"]
    samples += [lead + start + "1" for lead in ("", " ", "\u3000", "\u200b", "\x7f")
                for start in FORMULA_START + "a9'"]
    with duckdb.connect() as con:
        escaped_sql = con.execute(f"select s, {safe_text_sql('s')} from unnest(?::varchar[]) as t(s)",
                                  [samples]).fetchall()
        assert con.execute(f"select {safe_text_sql('null::varchar')}").fetchall() == [(None,)]
    for text, in_sql in escaped_sql:
        assert in_sql == safe_text(text), repr(text)
        assert safe_text(text) == ("'" + text if starts_formula(text) else text)
    for text in HOSTILE:
        assert safe_text(text) == "'" + text
    for text in BENIGN:
        assert safe_text(text) == text
