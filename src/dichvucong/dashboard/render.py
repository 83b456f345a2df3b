"""Numbers as officials read them, small SVG charts, and the CSV / XLSX files.

Pages round for display (Vietnamese: 35.453 and 96,85 %; English: 35,453 and
96.85 %); files keep full precision and let the spreadsheet format it. Every
text cell of a file is spreadsheet-safe (`spreadsheet`): text that would start a
formula is written with a leading `'`, and XLSX text cells are string cells.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from dichvucong.config import LOCAL_TZ
from dichvucong.dashboard import labels
from dichvucong.dashboard.reader import Publication, Result
from dichvucong.dashboard.spreadsheet import safe_value, xlsx_cell


def _group(number: str, sep: str) -> str:
    head, _, tail = number.partition(".")
    sign = "-" if head.startswith("-") else ""
    head = head.lstrip("-")
    groups: list[str] = []
    while len(head) > 3:
        groups.insert(0, head[-3:])
        head = head[:-3]
    groups.insert(0, head)
    return sign + sep.join(groups) + (("," if sep == "." else ".") + tail if tail else "")


def fmt(value: Any, kind: str, lang: str) -> str:
    """A cell as shown on a page."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    sep = "." if lang == "vi" else ","
    if kind == "label":
        return labels.value_label(value, lang)
    if kind == "bool":
        return "✔" if value else ""
    if kind in ("int", "vnd"):
        return _group(f"{int(value)}", sep)
    if kind == "rate":
        return _group(f"{float(value) * 100:.2f}", sep) + " %"
    if kind == "points":
        return _group(f"{float(value):.2f}", sep)
    if kind == "days":
        number = float(value)
        return _group(f"{number:.0f}" if number == int(number) else f"{number:.1f}", sep)
    if kind == "month":
        return value.strftime("%m/%Y")
    if kind == "date":
        return value.strftime("%d/%m/%Y")
    if kind == "timestamp":
        if value.tzinfo is not None:  # validation times are kept in UTC: show them in local time
            value = value.astimezone(ZoneInfo(LOCAL_TZ))
        return value.strftime("%d/%m/%Y %H:%M")
    return str(value)


def json_value(value: Any) -> Any:
    """A cell in the JSON API: numbers stay numbers, times are ISO 8601."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


# ---------------------------------------------------------------- files

CSV_LOCALES = ("default", "vi")


def to_csv(result: Result, lang: str, locale: str = "default") -> bytes:
    """UTF-8 with a byte order mark (so that Excel shows Vietnamese), headers in the chosen language,
    full-precision values; text that would start a formula begins with `'` (`spreadsheet.safe_text`).
    `locale` "default": comma-separated, decimal point; "vi": the form a Vietnamese-locale Excel reads as
    numbers, `;`-separated with a decimal comma (numbers never grouped)."""
    out = io.StringIO()
    vietnamese = locale == "vi"
    writer = csv.writer(out, lineterminator="\r\n", delimiter=";" if vietnamese else ",")
    writer.writerow([safe_value(labels.column_label(name, lang)) for name in result.table.column_names])
    for row in result.rows:
        cells = []
        for (_, kind), value in zip(result.table.columns, row, strict=True):
            if value is None:
                cells.append("")
            elif kind == "label":
                cells.append(labels.value_label(value, lang))
            elif isinstance(value, dt.datetime | dt.date):
                cells.append(value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat())
            else:
                cells.append(json_value(value))
        # Escaped last, on the text as written: a label or a format could change how it starts. A number
        # is written after (a decimal comma, in the Vietnamese form): a negative number stays a number.
        safe = [safe_value(cell) for cell in cells]
        if vietnamese:
            safe = [repr(cell).replace(".", ",") if isinstance(cell, float) else cell for cell in safe]
        writer.writerow(safe)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


XLSX_FORMATS = {
    "int": "#,##0",
    "vnd": "#,##0",
    "rate": "0.00%",
    "points": "0.00",
    "days": "0.0",
    "month": "mm/yyyy",
    "date": "dd/mm/yyyy",
    "timestamp": "dd/mm/yyyy hh:mm",
}


XLSX_MAX_WIDTH = 60


def _shown_width(value: Any, kind: str) -> int:
    """About how many characters a cell shows in its number format (for the column's width)."""
    if value is None:
        return 0
    if kind in ("int", "vnd") and isinstance(value, int | float):
        return len(f"{value:,.0f}")
    if kind == "rate" and isinstance(value, int | float):
        return len(f"{value * 100:.2f}%")
    if kind in ("points", "days") and isinstance(value, int | float):
        return len(f"{value:,.2f}")
    if kind == "month":
        return 7
    if kind == "date":
        return 10
    if kind == "timestamp":
        return 16
    return max((len(line) for line in str(value).splitlines()), default=0)


def to_xlsx(result: Result, lang: str, publication: Publication, filters: dict[str, Any]) -> bytes:
    """A workbook: the table (headers in the chosen language, numbers as numbers with formats), and a
    sheet saying what it is, as of when, and with which filters (a request's, so untrusted). Text is
    in string cells, never formulas, escaped as in CSV (`spreadsheet.xlsx_cell`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    sheet.title = result.table.name[:31]
    sheet.append([xlsx_cell(sheet, labels.column_label(name, lang)) for name in result.table.column_names])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in result.rows:
        values = []
        for (_, kind), value in zip(result.table.columns, row, strict=True):
            if kind == "label":
                value = labels.value_label(value, lang) if value is not None else None
            elif isinstance(value, Decimal):
                value = float(value)
            elif isinstance(value, dt.datetime) and value.tzinfo is not None:
                value = value.astimezone(ZoneInfo(LOCAL_TZ)).replace(tzinfo=None)
            elif isinstance(value, float) and math.isnan(value):
                value = None
            values.append(xlsx_cell(sheet, value))
        sheet.append(values)
    for index, (name, kind) in enumerate(result.table.columns, start=1):
        letter = get_column_letter(index)
        number_format = XLSX_FORMATS.get(kind)
        widest = len(labels.column_label(name, lang))
        for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
            if number_format:
                cell.number_format = number_format
            widest = max(widest, _shown_width(cell.value, kind))
        # Fitted to the content (an id is never cut), within bounds; the header's filter button needs ~2.
        sheet.column_dimensions[letter].width = min(XLSX_MAX_WIDTH, max(8, widest + 3))
    sheet.freeze_panes = "A2"
    if result.rows:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(result.table.columns))}{len(result.rows) + 1}"
    sheet.print_title_rows = "1:1"  # the header on every printed page
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    about = book.create_sheet("info" if lang == "en" else "thong_tin")
    title = labels.ui("app_title", lang) + (f" · {publication.province_name}" if publication.province_name else "")
    lines: list[list[Any]] = [[title], [labels.ui(result.table.title, lang)],
                              [labels.ui("as_of", lang), publication.as_of],
                              [labels.ui("published_at", lang), publication.published_local]]
    lines += [[key, value] for key, value in filters.items()]
    for line in lines:
        about.append([xlsx_cell(about, value) for value in line])
    about["B3"].number_format = about["B4"].number_format = "dd/mm/yyyy hh:mm"
    about.column_dimensions["A"].width = 28
    about.column_dimensions["B"].width = 24
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- charts

PALETTE = ("#1f5fa8", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#5f3dc4")


def _legend(series: list[str], lang: str, left: int, width: int, baseline: int) -> tuple[list[str], int]:
    """Legend entries laid out left to right, wrapping; returns the SVG parts and the rows used."""
    parts, x, row = [], left, 0
    for n, name in enumerate(series):
        text = "■ " + labels.column_label(name, lang)
        span = 7 * len(text) + 16
        if x + span > width and x > left:
            x, row = left, row + 1
        parts.append(f'<text x="{x}" y="{baseline + 14 * row}" fill="{PALETTE[n % len(PALETTE)]}">'
                     f"{escape(text)}</text>")
        x += span
    return parts, row + 1


# The reorganisation of 1 July 2025 (provinces merged, districts abolished; dbt var reorganisation_dates):
# a trend that crosses it is marked, since the units before and after it differ.
REORGANISATION = dt.date(2025, 7, 1)
REORGANISATION_LABEL = {"vi": "01/07/2025: sắp xếp đơn vị hành chính", "en": "1 July 2025: units reorganised"}


def _reorganisation_marker(records: list[dict[str, Any]], x: str, position: Any, top: float, bottom: float,
                           lang: str) -> list[str]:
    """A dashed line between the last point before 1 July 2025 and the first after, with its label;
    nothing when the series does not cross that day. `position(i)` is the x of record i."""
    days = [r[x].date() if isinstance(r[x], dt.datetime) else r[x] if isinstance(r[x], dt.date) else None
            for r in records]
    for i in range(1, len(days)):
        before, after = days[i - 1], days[i]
        if before is not None and after is not None and before < REORGANISATION <= after:
            at = (position(i - 1) + position(i)) / 2
            return [f'<line x1="{at:.1f}" x2="{at:.1f}" y1="{top:.1f}" y2="{bottom:.1f}" class="reorganisation" '
                    f'stroke="#666" stroke-dasharray="4 3"/>',
                    f'<text x="{at + 4:.1f}" y="{top + 10:.1f}" class="reorganisation">'
                    f'{escape(REORGANISATION_LABEL.get(lang, REORGANISATION_LABEL["en"]))}</text>']
    return []


def line_chart(result: Result, x: str, series: list[str], lang: str, *, percent: bool,
               ceiling: float | None = None, height: int = 220, width: int = 640) -> str:
    """An inline SVG line chart of some columns of a result (one point per row)."""
    records = result.dicts()
    if not records:
        return ""
    values = [[None if r[s] is None else float(r[s]) for r in records] for s in series]
    present = [v for column in values for v in column if v is not None and not math.isnan(v)]
    if not present:
        return ""
    top = ceiling if ceiling is not None else (1.0 if percent else max(present) * 1.1 or 1.0)
    bottom = 0.0 if min(present) >= 0 else min(present)
    _, legend_rows = _legend(series, lang, 48, width, 0)
    height += 14 * (legend_rows - 1)
    left, right, upper, lower = 48, 32, 12, 26 + 14 * legend_rows
    plot_w, plot_h = width - left - right, height - upper - lower
    count = len(records)

    def px(i: int) -> float:
        return left + (plot_w * (i / (count - 1)) if count > 1 else plot_w / 2)

    def py(v: float) -> float:
        return upper + plot_h * (1 - (v - bottom) / ((top - bottom) or 1))

    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
             f'xmlns="http://www.w3.org/2000/svg">']
    for step in range(5):
        v = bottom + (top - bottom) * step / 4
        y = py(v)
        sep = "." if lang == "vi" else ","  # thousands; the decimal mark is the other one (35.453,5 / 35,453.5)
        tick = f"{v * 100:.0f} %" if percent else _group(f"{v:.0f}" if top >= 8 else f"{v:.1f}", sep)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(tick)}</text>')
    every = max(1, count // 12)
    for i, record in enumerate(records):
        if i % every == 0:
            label = record[x].strftime("%m/%Y") if hasattr(record[x], "strftime") else str(record[x])
            parts.append(f'<text x="{px(i):.1f}" y="{height - lower + 16}" text-anchor="middle">{label}</text>')
    for n, column in enumerate(values):
        color = PALETTE[n % len(PALETTE)]
        points = [(px(i), py(v)) for i, v in enumerate(column) if v is not None and not math.isnan(v)]
        if len(points) > 1:
            path = " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
            parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{path}"/>')
        for a, b in points:
            parts.append(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="3" fill="{color}"/>')
    parts += _reorganisation_marker(records, x, px, upper, upper + plot_h, lang)
    parts += _legend(series, lang, left, width, height - lower + 34)[0]
    parts.append("</svg>")
    return "".join(parts)


def stacked_bars(result: Result, x: str, series: list[str], lang: str, height: int = 220, width: int = 640) -> str:
    """An inline SVG stacked bar chart (one bar per row)."""
    records = result.dicts()
    if not records:
        return ""
    totals = [sum(int(r[s] or 0) for s in series) for r in records]
    top = max(totals) or 1
    _, legend_rows = _legend(series, lang, 56, width, 0)
    height += 14 * (legend_rows - 1)
    left, right, upper, lower = 56, 32, 12, 26 + 14 * legend_rows
    plot_w, plot_h = width - left - right, height - upper - lower
    slot = plot_w / len(records)
    bar = max(2.0, slot * 0.7)
    sep = "." if lang == "vi" else ","
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" xmlns="http://www.w3.org/2000/svg">']
    for step in range(5):
        v = top * step / 4
        y = upper + plot_h * (1 - v / top)
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_group(f"{v:.0f}", sep)}</text>')
    every = max(1, len(records) // 12)
    for i, record in enumerate(records):
        x0 = left + slot * i + (slot - bar) / 2
        base = float(upper + plot_h)
        for n, name in enumerate(series):
            h = plot_h * int(record[name] or 0) / top
            base -= h
            parts.append(f'<rect x="{x0:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[n % len(PALETTE)]}"/>')
        if i % every == 0:
            label = record[x].strftime("%m/%Y") if hasattr(record[x], "strftime") else str(record[x])
            parts.append(f'<text x="{x0 + bar / 2:.1f}" y="{height - lower + 16}" text-anchor="middle">'
                         f'{label}</text>')
    parts += _reorganisation_marker(records, x, lambda i: left + slot * i + slot / 2, upper, upper + plot_h, lang)
    parts += _legend(series, lang, left, width, height - lower + 34)[0]
    parts.append("</svg>")
    return "".join(parts)
