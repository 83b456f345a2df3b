"""The dashboard's web application: pages, exports and the JSON API.

Read-only by construction: it opens only the published copy, read-only, with
file access off (`reader`); every filter reaches SQL as a bound parameter and
is checked against the periods and units the marts hold; the marts hold no
personal data. An optional login (HTTP basic, or a bearer token for API
clients) is switched on by configuration.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import inspect
import logging
import math
import secrets
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import duckdb
from fastapi import FastAPI, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, PackageLoader, select_autoescape

from dichvucong.config import Settings
from dichvucong.dashboard import labels, render
from dichvucong.dashboard.reader import (
    NotPublished,
    Publication,
    PublishedMarts,
    Result,
    build_failure,
    closed_gate,
    publication,
    run,
)
from dichvucong.dashboard.tables import (
    BASES,
    CHANGE_UNITS,
    DEFAULT_BASIS,
    GROUP_COLUMNS,
    RANKED_UNITS,
    SPLIT_UNITS,
    TABLES,
    TREND_RATES,
    WHY_AGENCIES,
    WHY_INDICATORS,
    WHY_LATE_OFFICES,
    WHY_TOTAL,
    Table,
)

log = logging.getLogger(__name__)

PeriodType = Literal["month", "quarter", "year"]
Lang = Literal["vi", "en"]
Format = Literal["json", "csv", "xlsx"]
CsvLocale = Literal["default", "vi"]
Basis = Literal["as_was", "current"]
UnitType = Literal["province", "agency", "department", "district", "commune"]  # tables.CHANGE_UNITS
UNIT_TYPES = (*RANKED_UNITS, "service")
# Pages whose tables read kpi_766 or agg_unit_period_indicators, and so show the basis filter.
BASIS_PAGES = ("province", *UNIT_TYPES, "services")
MAX_TEXT = 64

# Query parameters of the pages (module level: FastAPI resolves these annotations by name).
PageLang = Annotated[Lang, Query()]
PageP = Annotated[str | None, Query(max_length=30, description="period as type:start, e.g. month:2022-09-01")]
PageType = Annotated[PeriodType | None, Query()]
PageStart = Annotated[dt.date | None, Query()]
PageAgency = Annotated[str | None, Query(max_length=MAX_TEXT)]
PageBasis = Annotated[Basis, Query(description="as_was: the units as they were in each period; current: today's")]
PageCode = Annotated[str | None, Query(max_length=MAX_TEXT, description="the province's code (unit_code)")]
PageUnitType = Annotated[UnitType, Query(description="the type of the unit whose score moved")]
PageIndicator = Annotated[str | None, Query(max_length=MAX_TEXT, description="an indicator code, e.g. 2.1")]
PageAll = Annotated[bool, Query(alias="all", description="1: every row of every table, no cap")]


class LoginConfigError(ValueError):
    """A login configured by halves (a user without a password, or a password without a user)."""


@dataclass(frozen=True)
class Auth:
    """Optional login: HTTP basic (user + password) and/or a bearer token; none configured = open.

    Raises LoginConfigError, naming the variable missing, for a user without a password or a password
    without a user (an empty value is unset): such a dashboard would otherwise start open, or refuse
    every browser, with nothing said.
    """

    user: str = ""
    password: str = ""
    token: str = ""

    def __post_init__(self) -> None:
        if bool(self.user) != bool(self.password):
            missing, given = (("DVC_DASHBOARD_PASSWORD", "DVC_DASHBOARD_USER") if self.user
                              else ("DVC_DASHBOARD_USER", "DVC_DASHBOARD_PASSWORD"))
            raise LoginConfigError(
                f"dashboard login: {missing} is not set but {given} is; set both for HTTP basic login, or "
                f"neither (no login, or only the bearer token DVC_DASHBOARD_TOKEN)")

    @classmethod
    def from_env(cls) -> Auth:
        settings = Settings.from_env()
        return cls(settings.dashboard_user, settings.dashboard_password, settings.dashboard_token)

    @property
    def enabled(self) -> bool:
        return bool(self.token or (self.user and self.password))

    def allows(self, header: str) -> bool:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and self.token:
            return secrets.compare_digest(value.strip().encode(), self.token.encode())
        if scheme.lower() == "basic" and self.user and self.password:
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return secrets.compare_digest(user.encode(), self.user.encode()) & secrets.compare_digest(
                password.encode(), self.password.encode())
        return False


@dataclass(frozen=True)
class Period:
    period_type: str
    start: dt.date
    end: dt.date
    is_complete: bool

    def label(self, lang: str) -> str:
        if self.period_type == "month":
            return f"{self.start:%m/%Y}"
        if self.period_type == "quarter":  # after the type's word: "Quý 3/2022", "Quarter Q3/2022"
            return f"{'' if lang == 'vi' else 'Q'}{(self.start.month - 1) // 3 + 1}/{self.start.year}"
        return f"{self.start.year}"

    @property
    def key(self) -> str:
        return f"{self.period_type}:{self.start.isoformat()}"


@dataclass
class Context:
    """One request's view of the published copy: its cursor, as-of time and resolved filters."""

    cur: duckdb.DuckDBPyConnection
    publication: Publication
    periods: list[Period]
    lang: str
    basis: str = DEFAULT_BASIS
    period: Period | None = None
    code: str | None = None
    agency: str | None = None
    provinces: list[tuple[str, str]] = field(default_factory=list)  # the province units of the period
    extra: dict[str, Any] = field(default_factory=dict)
    show_all: bool = False  # ?all=1: every row of every table on the page, no cap

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cur.close()

    def params(self) -> dict[str, Any]:
        return {
            "period_type": self.period.period_type if self.period else None,
            "period_start": self.period.start if self.period else None,
            "period_end": self.period.end if self.period else None,
            "code": self.code,
            "agency": self.agency,
            "basis": self.basis,
            **self.extra,  # the change tables' unit_type and indicator
        }

    def query(self, **overrides: Any) -> str:
        """The query string that keeps this request's language and filters."""
        values: dict[str, Any] = {"lang": self.lang}
        if self.period:
            values.update(period_type=self.period.period_type, period_start=self.period.start.isoformat())
        if self.agency:
            values["agency"] = self.agency
        if self.basis != DEFAULT_BASIS:
            values["basis"] = self.basis
        values.update(overrides)
        return urllib.parse.urlencode({k: v for k, v in values.items() if v not in (None, "")})


def _periods(cur: duckdb.DuckDBPyConnection, basis: str) -> list[Period]:
    rows = cur.execute(
        "select distinct period_type, period_start, period_end, is_complete from marts.kpi_766 "
        "where geography_basis = ? and unit_type = 'province' order by period_type, period_start", [basis]).fetchall()
    return [Period(*row) for row in rows]


def _provinces(cur: duckdb.DuckDBPyConnection, basis: str, period: Period) -> list[tuple[str, str]]:
    """The province units of a period, the one with the most dossiers received first (the default)."""
    return [(code, name) for code, name in cur.execute(
        "select unit_code, coalesce(unit_name, '') from marts.kpi_766 where geography_basis = ? "
        "and unit_type = 'province' and period_type = ? and period_start = ? "
        "order by dossiers_received desc nulls last, unit_code", [basis, period.period_type, period.start]).fetchall()]


def _pick_period(periods: list[Period], period_type: str | None, period_start: dt.date | None,
                 optional: bool) -> Period | None:
    if period_start is None:
        if optional:
            return None
        candidates = [p for p in periods if p.period_type == (period_type or "month")]
        if not candidates:
            raise HTTPException(404, f"the marts hold no {period_type or 'month'} yet")
        complete = [p for p in candidates if p.is_complete]
        return (complete or candidates)[-1]
    period_type = period_type or "month"
    for period in periods:
        if period.period_type == period_type and period.start == period_start:
            return period
    raise HTTPException(404, f"no {period_type} starting {period_start} in the marts")


def _unit_name(cur: duckdb.DuckDBPyConnection, basis: str, unit_type: str, code: str) -> str | None:
    """The unit's name ('' when the sources give none); None when the marts do not know the unit on
    that basis."""
    rows = cur.execute(
        "select coalesce(arg_max(unit_name, period_start), '') from marts.agg_unit_period_indicators "
        "where geography_basis = ? and unit_type = ? and unit_code = ? having count(*) > 0",
        [basis, unit_type, code]).fetchall()
    return rows[0][0] if rows else None


# ------------------------------------------------------------------ pages

@dataclass(frozen=True)
class Chart:
    kind: Literal["line", "bars"]
    series: tuple[str, ...]
    title: str
    percent: bool = False
    ceiling_column: str | None = None  # the chart's top: the largest value of this column


@dataclass(frozen=True)
class Section:
    table: str
    charts: tuple[Chart, ...] = ()
    limit: int | None = None
    show_table: bool = True
    transpose: bool = False  # a one-row table shown as label / value pairs


def _trend_charts() -> tuple[Chart, ...]:
    return (Chart("line", ("points_total",), "points_chart", ceiling_column="points_measurable"),
            Chart("line", GROUP_COLUMNS, "groups_chart"),
            Chart("line", TREND_RATES, "rates_chart", percent=True))


def _unit_sections(unit: str) -> tuple[Section, ...]:
    return (
        Section(f"{unit}_points"),
        Section(f"{unit}_vs_province"),
        Section(f"{unit}_trend", charts=_trend_charts()),
        Section(f"{unit}_channel_volume",
                charts=(Chart("bars", ("received_in_person", "received_online", "received_postal"),
                              "volume_title"),)),
        Section(f"{unit}_services", limit=50),
    )


PAGE_SECTIONS: dict[str, tuple[Section, ...]] = {
    "province": (
        Section("province_points"),
        Section("province_trend", charts=_trend_charts()),
        *(Section(f"{unit}_ranks", limit=200 if unit == "commune" else None) for unit in RANKED_UNITS),
    ),
    **{unit: _unit_sections(unit) for unit in RANKED_UNITS},
    "services": (Section("services"),),  # every service: sorted and filtered on the page
    "service": (
        Section("service_summary", transpose=True),
        Section("service_trend", charts=(
            Chart("line", ("p50_processing_working_days", "p90_processing_working_days", "deadline_working_days"),
                  "trend_title"),
            Chart("line", ("digital_take_up", "on_time_rate", "supplement_rate"), "rates_chart", percent=True))),
        Section("service_channel_volume",
                charts=(Chart("bars", ("received_in_person", "received_online", "received_postal"),
                              "volume_title"),)),
    ),
    "overdue": (Section("overdue_by_agency"), Section("overdue_dossiers", limit=200)),
    "fees": (Section("fees_reconciliation"), Section("fees_gap"), Section("fees_by_intermediary"),
             Section("reconciliation_states"), Section("payment_anomalies")),
    "quality": (Section("quality_gates"), Section("quality_failures"), Section("load_totals"),
                Section("quarantine_reasons")),
    "portal": (Section("portal_province"), Section("portal_units", limit=200), Section("portal_unmatched")),
}

PAGE_NOTES = {"province": "score_note", "services": "services_note", "overdue": "overdue_note",
              "quality": "quality_note", "portal": "portal_note"}
# Notes under one table (table name -> labels.UI key).
TABLE_NOTES = {**{f"{unit}_ranks": "ranks_note" for unit in RANKED_UNITS},
               "fees_reconciliation": "fees_reconciliation_note",
               **{f"{unit}_services": "services_note" for unit in RANKED_UNITS}}
# Tables with a "slow only" box (the column whose true cells it keeps).
ONLY_BOXES = {"services": "is_slow", **{f"{unit}_services": "is_slow" for unit in RANKED_UNITS}}

# Cells that link to another page: column -> page (a ranking links its units by unit_code).
LINKS = {"service_code": "service", "agency_code": "agency"}


def _cell_links(table: Table) -> dict[str, str]:
    links = {column: page for column, page in LINKS.items() if column in table.column_names}
    unit = table.name.removesuffix("_ranks")
    if unit != table.name and unit in RANKED_UNITS:
        links["unit_code"] = unit
    return links


# ------------------------------------------------------------------ tables on pages

CellHook = Callable[[str, dict[str, Any]], dict[str, Any] | None]
ExtraColumn = tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]]]

# Changes, shown with their sign (+1,56 / −0,51; a rate's change in percentage points).
SIGNED = frozenset({"rate_change", "points_change", "points_total_change", "points_effect", "numerator_effect",
                    "denominator_effect", "rate_effect", "unit_rate_change", "unit_points_change", "late_change",
                    "points_difference", "total_difference", "largest_group_difference"})


def _scope_key(table: Table, ctx: Context) -> str:
    """The key of labels.SCOPES for a table: its name, or unit_<rest> for a unit's table; the overdue
    tables say whether they hold the whole backlog or only the dossiers received in the period."""
    if table.page == "overdue":
        return "overdue_period" if ctx.period is not None else "overdue_all"
    if table.name in labels.SCOPES:
        return table.name
    for unit in (*CHANGE_UNITS, "service"):
        if table.name.startswith(unit + "_"):
            return "unit_" + table.name.removeprefix(unit + "_")
    return table.name


def _sort_value(value: Any, kind: str) -> str | None:
    """A cell's value for sorting on the page (data-value): numbers as numbers, times as ISO text; None
    for text (sorted by what it shows)."""
    if kind in ("text", "label"):
        return None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if kind == "bool":
        return "1" if value else "0"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return repr(float(value))
    return str(value)


def _table_view(table: Table, result: Result, ctx: Context, *, limit: int | None = None,
                columns: tuple[str, ...] | None = None, cell: CellHook | None = None,
                extra: tuple[ExtraColumn, ...] = (), export_keys: dict[str, Any] | None = None) -> dict[str, Any]:
    """A table as a page shows it: its first `limit` rows, the `columns` asked for (default: all) and
    `extra` ones made from each row, cells formatted for the language (a `cell` hook may change a cell),
    links, and the exports of the whole table (with the request's filters, and `export_keys`)."""
    lang = ctx.lang
    if ctx.show_all:
        limit = None
    shown = result.rows[: limit] if limit else result.rows
    links = _cell_links(table)
    names = table.column_names
    wanted = [(name, kind) for name, kind in table.columns if columns is None or name in columns]
    scoring = names.index("scoring") if "scoring" in names else None
    rows, row_classes = [], []
    for row in shown:
        row_classes.append("subtotal" if scoring is not None and row[scoring] in ("group", "total") else "")
        record = dict(zip(names, row, strict=True))
        cells = []
        for name, kind in wanted:
            value = record[name]
            href = None
            if name in links and value is not None:
                href = f"/{links[name]}/{urllib.parse.quote(str(value), safe='')}?{ctx.query()}"
            elif name == "unit_code" and value is not None and record.get("unit_type") in RANKED_UNITS:
                # A table of several unit types (the portal's units) links each row to its unit's page.
                href = f"/{record['unit_type']}/{urllib.parse.quote(str(value), safe='')}?{ctx.query()}"
            text = _signed(value, kind, lang) if name in SIGNED else render.fmt(value, kind, lang)
            if name == "is_slow":
                text = labels.ui("slow", lang) if value else ""
            shown_cell = {"text": text, "href": href, "kind": kind, "column": name, "value": _sort_value(value, kind)}
            if cell is not None:
                shown_cell.update(cell(name, record) or {})
            cells.append(shown_cell)
        for name, kind, make in extra:
            cells.append({"text": "", "href": None, "kind": kind, "column": name, "value": None} | make(record))
        rows.append(cells)
    keys = export_keys if export_keys is not None else {"code": ctx.code if "$code" in table.sql else None}
    export = f"/api/v1/{table.name}?{ctx.query(**keys)}"
    period = _period_words(ctx.period.period_type, ctx.period.start, lang) if ctx.period else ""
    truncated = len(shown) < len(result.rows)
    return {
        "name": table.name,
        "title": labels.ui(table.title, lang),
        "scope": _capitalised(labels.scope(_scope_key(table, ctx), lang, period)),
        "note": labels.ui(TABLE_NOTES[table.name], lang) if table.name in TABLE_NOTES else "",
        "only_column": ONLY_BOXES.get(table.name, ""),
        "total_rows": len(result.rows),
        "headers": [{"text": labels.column_label(n, lang), "kind": k, "column": n} for n, k in wanted]
        + [{"text": labels.column_label(n, lang), "kind": k, "column": n} for n, k, _ in extra],
        "rows": rows,
        "row_classes": row_classes,
        "charts": [],
        "show_table": True,
        "transpose": False,
        "truncated": labels.ui("shown_first", lang).format(shown=len(shown), total=len(result.rows))
        if truncated else "",
        "show_all": labels.ui("show_all", lang).format(total=render.fmt(len(result.rows), "int", lang))
        if truncated else "",
        "export_csv": export + "&format=csv",
        "export_csv_vi": export + "&format=csv&locale=vi",
        "export_xlsx": export + "&format=xlsx",
        "export_json": export + "&format=json",
    }


# ------------------------------------------------------------------ why did the score move?

def _signed(value: Any, kind: str, lang: str) -> str:
    """A change with its sign, as the page says it: +1,56 / −0,51 (a true minus) / 0,00; a rate's change
    in percentage points."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    number = float(value)
    if kind == "rate":
        text = render.fmt(abs(number) * 100, "points", lang) + " " + labels.ui("why_pp", lang)
    else:
        text = render.fmt(abs(number), "int" if kind == "int" else "points", lang)
    if not any(c in "123456789" for c in text.split(" ")[0]):
        return text  # rounds to nothing: no sign
    return ("+" if number > 0 else "\u2212") + text


def _previous_start(period: Period) -> dt.date:
    """The start of the period of the same type before `period` (the one agg_766_change compares with)."""
    months = {"month": 1, "quarter": 3, "year": 12}[period.period_type]
    index = period.start.year * 12 + period.start.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


def _period_words(period_type: str, start: dt.date, lang: str) -> str:
    return labels.ui(f"why_{period_type}", lang).format(m=start.month, y=start.year, q=(start.month - 1) // 3 + 1)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _unit_words(unit_type: str, code: str, name: str, lang: str) -> str:
    """The unit as the sentence names it: "tỉnh" for the province, else its name (or type and code)."""
    if unit_type == "province":
        return labels.ui("why_province_unit", lang)
    if name:
        return name
    if unit_type == "agency":
        return labels.ui("why_agency_unit", lang).format(name=code)
    return f"{labels.ui(unit_type, lang).lower()} {code}"


def _why_sentence(total: dict[str, Any], indicators: list[dict[str, Any]], unit: str, period: str,
                  previous: str, lang: str) -> str:
    """One sentence: the total's change, and the (up to three) indicators that moved it most."""
    change = float(total["points_total_change"])
    points = render.fmt(abs(change), "points", lang)
    if not any(c in "123456789" for c in points):
        text = labels.ui("why_sentence_same", lang).format(
            period=period, unit=unit, points=render.fmt(total["points_total_after"], "points", lang),
            previous=previous)
    else:
        text = labels.ui("why_sentence", lang).format(
            period=period, unit=unit, moved=labels.ui("why_up" if change > 0 else "why_down", lang), points=points,
            previous=previous)
    items = []
    for indicator in indicators:  # the one that moved most first (change_rank)
        signed = _signed(indicator["points_change"], "points", lang)
        if signed.startswith(("+", "\u2212")):
            items.append(f"{indicator['indicator_code']} ({signed} {labels.ui('why_points_unit', lang)})")
        if len(items) == 3:
            break
    if items:
        joined = items[0] if len(items) == 1 else \
            ", ".join(items[:-1]) + f" {labels.ui('why_and', lang)} {items[-1]}"
        text += ": " + labels.ui("why_most" if len(items) == 1 else "why_most_many", lang).format(items=joined)
    return _capitalised(text + ".")


def _change_starts(cur: duckdb.DuckDBPyConnection, basis: str, unit_type: str, code: str,
                   period_type: str) -> set[dt.date]:
    """The periods of a type in which the unit has a previous period to compare with."""
    return {row[0] for row in cur.execute(
        "select distinct period_start from marts.agg_766_change where geography_basis = ? and unit_type = ? "
        "and unit_code = ? and period_type = ?", [basis, unit_type, code, period_type]).fetchall()}


def _change_period(cur: duckdb.DuckDBPyConnection, basis: str, unit_type: str, code: str,
                   periods: list[Period], period_type: str) -> Period:
    """The default period of the change pages: the latest complete one the unit can be compared in; else
    the latest it can be compared in (not complete yet); else the latest complete one."""
    starts = _change_starts(cur, basis, unit_type, code, period_type)
    candidates = [p for p in periods if p.period_type == period_type and p.start in starts]
    if candidates:
        return ([p for p in candidates if p.is_complete] or candidates)[-1]
    chosen = _pick_period(periods, period_type, None, False)
    assert chosen is not None
    return chosen


def _why_keys(ctx: Context, indicator: bool = False) -> dict[str, Any]:
    """The query keys of the change pages and tables beyond those `Context.query` keeps."""
    keys = {"unit_type": ctx.extra["unit_type"], "code": ctx.code}
    if indicator:
        keys["indicator"] = ctx.extra["indicator"]
    return keys


def _split_indicators(ctx: Context) -> list[dict[str, Any]]:
    """The indicators of the unit and period that its agencies' parts split, the one that moved most first."""
    assert ctx.period is not None
    unit = [ctx.basis, ctx.extra["unit_type"], ctx.code, ctx.period.period_type, ctx.period.start]
    rows = ctx.cur.execute(
        "select indicator_code, indicator_name from marts.agg_766_change where geography_basis = ? "
        "and unit_type = ? and unit_code = ? and period_type = ? and period_start = ? and indicator_code in ("
        "select indicator_code from marts.agg_766_change_by_agency where geography_basis = ? and unit_type = ? "
        "and unit_code = ? and period_type = ? and period_start = ?) order by change_rank", unit + unit).fetchall()
    return [{"code": code, "label": labels.value_label(name, ctx.lang), "selected": False} for code, name in rows]


def _agency_words(record: dict[str, Any], lang: str) -> str:
    if record["agency_code"] is None:
        return labels.ui("why_rest", lang)
    return record["agency_name"] or record["agency_code"]


def _reason_words(record: dict[str, Any], lang: str) -> str:
    """Why an agency moved the unit's rate, in words with its counts: more or fewer misses (e.g. late
    dossiers for 2.1), or more or fewer dossiers counted."""
    reason = record["reason"]
    if reason in ("more_misses", "fewer_misses"):
        before, after = record["misses_before"], record["misses_after"]
    elif reason in ("more_dossiers", "fewer_dossiers"):
        before, after = record["denominator_before"], record["denominator_after"]
    else:
        return labels.ui("why_no_effect", lang)
    return labels.ui(f"why_{reason}", lang).format(
        miss=labels.misses(record["indicator_name"], lang), before=render.fmt(before, "int", lang),
        after=render.fmt(after, "int", lang))


def _why_agency_cell(column: str, record: dict[str, Any], lang: str) -> dict[str, Any] | None:
    if column == "agency_name" and record["agency_code"] is None:
        return {"text": labels.ui("why_rest", lang)}
    if column == "reason":
        return {"text": _reason_words(record, lang)}
    return None


def _why_office_cell(column: str, record: dict[str, Any], lang: str) -> dict[str, Any] | None:
    if column == "office_name" and record["office_name"] is None:
        return {"text": labels.ui("why_no_office", lang)}
    return None


class Dashboard:
    def __init__(self, published_path: Path, auth: Auth | None = None) -> None:
        self.marts = PublishedMarts(published_path)
        self.auth = auth or Auth()
        self.templates = Environment(loader=PackageLoader("dichvucong.dashboard", "templates"),
                                     autoescape=select_autoescape(["html"]))

    def context(self, lang: str, *, period_type: str | None = None, period_start: dt.date | None = None,
                period_optional: bool = False, code: str | None = None,
                agency: str | None = None, basis: str = DEFAULT_BASIS, province: bool = False,
                strict: bool = True) -> Context:
        """One request's view. With `province`, `code` is a province of the period (its units on the
        basis), the one with the most dossiers received when not given, or (not `strict`: a page whose
        basis or period just changed) when not a province of the period."""
        if basis not in BASES:
            raise HTTPException(422, f"basis must be one of {', '.join(BASES)}")
        cur = self.marts.cursor()
        try:
            periods = _periods(cur, basis)
            ctx = Context(cur, publication(cur), periods, lang, basis=basis, code=code, agency=agency or None)
            ctx.period = _pick_period(periods, period_type, period_start, period_optional)
            if province and ctx.period is not None:
                ctx.provinces = _provinces(cur, basis, ctx.period)
                known = {c for c, _ in ctx.provinces}
                if (code is None or (code not in known and not strict)) and ctx.provinces:
                    ctx.code = ctx.provinces[0][0]
                elif code not in known:
                    raise HTTPException(404, f"no province {code!r} in {ctx.period.key} on the {basis} basis")
        except BaseException:
            cur.close()
            raise
        return ctx

    def page(self, page: str, ctx: Context, title: str, subtitle: str = "") -> HTMLResponse:
        lang = ctx.lang
        sections = []
        for section in PAGE_SECTIONS[page]:
            table = TABLES[section.table]
            result = run(ctx.cur, table, ctx.params())
            charts = []
            for chart in section.charts:
                if chart.kind == "line":
                    ceiling = None
                    if chart.ceiling_column:
                        index = table.column_names.index(chart.ceiling_column)
                        ceiling = max((row[index] for row in result.rows if row[index] is not None), default=None)
                    svg = render.line_chart(result, table.column_names[0], list(chart.series), lang,
                                            percent=chart.percent, ceiling=ceiling)
                else:
                    svg = render.stacked_bars(result, table.column_names[0], list(chart.series), lang)
                if svg:
                    charts.append({"title": labels.ui(chart.title, lang), "svg": svg})
            view = _table_view(table, result, ctx, limit=section.limit)
            view.update(charts=charts, show_table=section.show_table, transpose=section.transpose,
                        show_all_href=self._show_all_href(ctx, page))
            sections.append(view)
        template = self.templates.get_template("page.html")
        # The province and every scored unit's page link to why their score moved (the unit and period kept).
        why_href = f"/why?{ctx.query(unit_type=page, code=ctx.code)}" if page in CHANGE_UNITS and ctx.code else ""
        return HTMLResponse(template.render(banner=self._banner(ctx), build_banner=self._build_banner(ctx),
            print_header=self._print_header(ctx, title, subtitle),
            page=page, title=title, subtitle=subtitle, sections=sections, ctx=ctx, ui=lambda k: labels.ui(k, lang),
            note=labels.ui(PAGE_NOTES[page], lang) if page in PAGE_NOTES else "",
            period_options=self._period_options(ctx, optional=page == "overdue"),
            basis_options=self._basis_options(ctx) if page in BASIS_PAGES else [],
            province_options=[{"code": c, "name": n, "selected": c == ctx.code} for c, n in ctx.provinces]
            if page == "province" and len(ctx.provinces) > 1 else [],
            agencies=self._agencies(ctx) if page == "overdue" else [],
            other_lang="en" if lang == "vi" else "vi", why_href=why_href,
        ))

    def _show_all_href(self, ctx: Context, page: str, **keys: Any) -> str:
        """This page with every row (?all=1), its filters kept (a unit's code is in the path)."""
        if page == "province":
            keys.setdefault("code", ctx.code)
        return "?" + ctx.query(**keys, all=1)

    def _print_header(self, ctx: Context, title: str, subtitle: str) -> str:
        """The line a printed page starts with: the page and unit, the period, the data's as-of time."""
        period = (labels.ui(ctx.period.period_type, ctx.lang) + " " + ctx.period.label(ctx.lang)
                  if ctx.period is not None else labels.ui("overdue_all", ctx.lang))
        as_of = labels.ui("as_of", ctx.lang) + " " + render.fmt(ctx.publication.as_of, "timestamp", ctx.lang)
        return " · ".join(part for part in (title, subtitle, period, as_of) if part)

    def _build_banner(self, ctx: Context) -> str:
        """A banner when the pipeline's last build failed after the publication shown (publish.BUILD_STATE_FILE)."""
        failure = build_failure(self.marts.path, ctx.publication.published_at)
        if failure is None:
            return ""
        at, error = failure
        # The error's kind in words; its text (a model's name, DuckDB's message) is the operators' (alerts, logs).
        said = error.lower()
        kind = ("build_error_memory" if "memory" in said else "build_error_dbt" if "dbt" in said
                else "build_error_other")
        return labels.ui("build_failed", ctx.lang).format(
            at=render.fmt(at, "timestamp", ctx.lang), error=labels.ui(kind, ctx.lang),
            published=render.fmt(ctx.publication.published_local, "timestamp", ctx.lang))

    def _banner(self, ctx: Context) -> str:
        gate = closed_gate(ctx.cur, ctx.publication.published_at)
        return labels.ui("gate_closed", ctx.lang).format(
            at=render.fmt(gate[0], "timestamp", ctx.lang), suite=gate[1],
            published=render.fmt(ctx.publication.published_local, "timestamp", ctx.lang)) if gate else ""

    def _basis_options(self, ctx: Context) -> list[dict[str, Any]]:
        return [{"value": b, "label": labels.ui(b, ctx.lang), "selected": b == ctx.basis} for b in BASES]

    # -------------------------------------------------------------- why did the score move?

    def why_context(self, lang: str, *, period_type: str | None, period_start: dt.date | None, basis: str,
                    unit_type: str, code: str | None, indicator: str | None, strict: bool) -> Context:
        """The view of the change pages and tables: a unit (a province when `code` is left out: the one
        with the most dossiers received), and a period (when left out: the latest complete one the unit
        has a previous one to compare with; else the latest it has one for; else the latest complete).
        Not `strict` (a page whose basis or period just changed): a province not of the period is
        replaced by the default one, and an unknown indicator by the default one."""
        if unit_type not in CHANGE_UNITS:
            raise HTTPException(422, f"unit_type must be one of {', '.join(CHANGE_UNITS)}")
        ctx = self.context(lang, period_type=period_type, period_start=period_start, period_optional=True,
                           basis=basis)
        try:
            cur = ctx.cur
            if unit_type == "province":
                at = ctx.period or _pick_period(ctx.periods, period_type, None, False)
                assert at is not None
                ctx.provinces = _provinces(cur, basis, at)
                known = {c for c, _ in ctx.provinces}
                if (code is None or (code not in known and not strict)) and ctx.provinces:
                    code = ctx.provinces[0][0]
                elif code not in known:
                    raise HTTPException(404, f"no province {code!r} in {at.key} on the {basis} basis")
            elif not code:
                raise HTTPException(422, f"code: the {unit_type}'s unit_code is required")
            elif _unit_name(cur, basis, unit_type, code) is None:
                raise HTTPException(404, f"no {unit_type} {code!r} in the marts on the {basis} basis")
            if indicator and not cur.execute("select 1 from marts.dim_766_indicators where indicator_code = ?",
                                             [indicator]).fetchall():
                if strict:
                    raise HTTPException(404, f"no indicator {indicator!r} in the points table")
                indicator = None
            ctx.code = code
            if ctx.period is None:
                ctx.period = _change_period(cur, basis, unit_type, code or "", ctx.periods, period_type or "month")
            ctx.extra.update(unit_type=unit_type, indicator=indicator or None)
        except BaseException:
            ctx.cur.close()
            raise
        return ctx

    def why_page(self, ctx: Context) -> HTMLResponse:
        lang, unit_type, code = ctx.lang, ctx.extra["unit_type"], ctx.code or ""
        assert ctx.period is not None
        period = ctx.period

        def ui(key: str) -> str:
            return labels.ui(key, lang)

        name = _unit_name(ctx.cur, ctx.basis, unit_type, code) or ""
        previous = _previous_start(period)
        period_words, previous_words = _period_words(period.period_type, period.start, lang), \
            _period_words(period.period_type, previous, lang)
        total_rows = run(ctx.cur, WHY_TOTAL, ctx.params()).dicts()
        total = total_rows[0] if total_rows else None
        indicators_result = run(ctx.cur, WHY_INDICATORS, ctx.params())
        indicators = indicators_result.dicts()
        latest = latest_href = ""
        if total is None:
            sentence = _capitalised(ui("why_no_previous").format(period=period_words, previous=previous_words))
            best = _change_period(ctx.cur, ctx.basis, unit_type, code, ctx.periods, period.period_type)
            if best != period and best.start in _change_starts(ctx.cur, ctx.basis, unit_type, code,
                                                               period.period_type):
                latest = ui("why_latest").format(period=_period_words(best.period_type, best.start, lang))
                latest_href = "/why?" + ctx.query(period_type=best.period_type,
                                                  period_start=best.start.isoformat(), **_why_keys(ctx))
        else:
            sentence = _why_sentence(total, indicators, _unit_words(unit_type, code, name, lang), period_words,
                                     previous_words, lang)
        sections = [_table_view(WHY_INDICATORS, indicators_result, ctx, columns=(
            "indicator_code", "indicator_name", "rate_before", "rate_after", "rate_change", "points_before",
            "points_after", "points_change"), export_keys=_why_keys(ctx))]

        # The agencies that moved the chosen fraction indicator (the top one by default).
        options = _split_indicators(ctx) if unit_type in SPLIT_UNITS else []
        if ctx.extra["indicator"] not in {o["code"] for o in options}:
            ctx.extra["indicator"] = None
        agencies = run(ctx.cur, WHY_AGENCIES, ctx.params())
        records = agencies.dicts()
        chosen = records[0]["indicator_code"] if records else (options[0]["code"] if options else None)
        for option in options:
            option["selected"] = option["code"] == chosen
        lead = ""
        if records and chosen:
            moved = next((i for i in indicators if i["indicator_code"] == chosen), None)
            top = records[0]
            if moved and top["rate_effect"]:
                label = labels.value_label(moved["indicator_name"], lang)
                lead = ui("why_agencies_lead").format(
                    name=label if chosen in label else f"{label} ({chosen})",
                    before=render.fmt(moved["rate_before"], "rate", lang),
                    after=render.fmt(moved["rate_after"], "rate", lang),
                    points=_signed(moved["points_change"], "points", lang),
                    agency=_agency_words(top, lang), effect=_signed(top["points_effect"], "points", lang),
                    reason=_reason_words(top, lang))
            elif moved and _signed(moved["points_change"], "points", lang).startswith(("+", "\u2212")):
                lead = ui("why_agencies_unsplit").format(code=chosen)
            elif moved:
                lead = ui("why_agencies_none").format(code=chosen)
        agency_view = _table_view(
            WHY_AGENCIES, agencies, ctx, limit=15, export_keys=_why_keys(ctx, indicator=True),
            columns=("agency_code", "agency_name", "points_effect", "reason", "numerator_effect",
                     "denominator_effect"),
            cell=lambda column, record: _why_agency_cell(column, record, lang))
        agency_view.update(lead=lead, note=ui("why_agencies_note"),
                           empty="" if unit_type in SPLIT_UNITS else ui("why_not_split"))
        sections.append(agency_view)
        show_all_href = self._show_all_href(ctx, "why", **_why_keys(ctx, indicator=True))

        # 2.1: the offices where the late dossiers of the period and of the one before first ran over.
        late = run(ctx.cur, WHY_LATE_OFFICES, ctx.params())
        late_records = late.dicts()
        late_view = _table_view(
            WHY_LATE_OFFICES, late, ctx, export_keys=_why_keys(ctx),
            cell=lambda column, record: _why_office_cell(column, record, lang),
            extra=(("overdue_now", "text", lambda record: {
                "text": ui("why_overdue_now"),
                "href": "/overdue?" + urllib.parse.urlencode({"lang": lang, "p": "", "agency": record["agency_code"]})}
                if record["agency_code"] else {"text": ""}),))
        late_view.update(
            lead=ui("why_late_lead").format(
                before=render.fmt(sum(r["late_before"] for r in late_records), "int", lang),
                after=render.fmt(sum(r["late_after"] for r in late_records), "int", lang),
                previous=previous_words, period=period_words),
            note=ui("why_late_note"))
        sections.append(late_view)
        for view in sections:
            view["show_all_href"] = show_all_href

        back = f"/?{ctx.query(code=code)}" if unit_type == "province" else \
            f"/{unit_type}/{urllib.parse.quote(code, safe='')}?{ctx.query()}"
        template = self.templates.get_template("why.html")
        return HTMLResponse(template.render(
            page="why", title=ui("why_title"), subtitle=f"{labels.ui(unit_type, lang)}: {name or code} ({code})",
            ctx=ctx, ui=ui, banner=self._banner(ctx), sections=sections, sentence=sentence,
            build_banner=self._build_banner(ctx), print_header=self._print_header(
                ctx, ui("why_title"), f"{labels.ui(unit_type, lang)}: {name or code} ({code})"),
            points_change=repr(float(total["points_total_change"])) if total else "",
            totals=ui("why_totals").format(before=render.fmt(total["points_total_before"], "points", lang),
                                           after=render.fmt(total["points_total_after"], "points", lang))
            if total else "",
            latest=latest, latest_href=latest_href, back=back,
            incomplete="" if period.is_complete else _capitalised(ui("why_incomplete").format(
                period=period_words, as_of=render.fmt(ctx.publication.as_of, "timestamp", lang))),
            unit_type=unit_type, code=code, indicator_options=options,
            period_options=self._period_options(ctx, optional=False), basis_options=self._basis_options(ctx),
            province_options=[{"code": c, "name": n, "selected": c == code} for c, n in ctx.provinces]
            if unit_type == "province" and len(ctx.provinces) > 1 else [],
            other_lang="en" if lang == "vi" else "vi",
            switch_href="?" + ctx.query(lang="en" if lang == "vi" else "vi", **_why_keys(ctx, indicator=True)),
        ))

    def _period_options(self, ctx: Context, optional: bool) -> list[dict[str, Any]]:
        """The period select; `optional` (overdue now): the whole backlog first, then "only the dossiers
        received in" each period."""
        options = [{"value": "", "label": labels.ui("overdue_all", ctx.lang), "selected": ctx.period is None}] \
            if optional else []
        prefix = labels.ui("overdue_received_in", ctx.lang) + " " if optional else ""
        order = {"month": 0, "quarter": 1, "year": 2}
        for period in sorted(ctx.periods, key=lambda p: (order[p.period_type], p.start), reverse=False):
            suffix = "" if period.is_complete else f" ({labels.ui('incomplete', ctx.lang)})"
            word = labels.ui(period.period_type, ctx.lang)
            options.append({"value": period.key, "label": prefix + (word.lower() if prefix else word) + " "
                            + period.label(ctx.lang) + suffix, "selected": period == ctx.period})
        return options

    def _agencies(self, ctx: Context) -> list[dict[str, Any]]:
        rows = ctx.cur.execute(
            "select agency_code, coalesce(arg_max(agency_name, valid_from), '') from marts.dim_agencies "
            "group by 1 order by 1").fetchall()
        return [{"code": code, "name": name, "selected": code == ctx.agency} for code, name in rows]


def _period_from_page(p: str | None, period_type: str | None, period_start: dt.date | None
                      ) -> tuple[str | None, dt.date | None]:
    """Pages take the period select's value `type:start`, or the API's two parameters."""
    if p:
        kind, _, start = p.partition(":")
        if kind not in ("month", "quarter", "year"):
            raise HTTPException(422, "period must be month:, quarter: or year: and a date")
        try:
            return kind, dt.date.fromisoformat(start)
        except ValueError as exc:
            raise HTTPException(422, "period must be month:, quarter: or year: and a date") from exc
    return period_type, period_start


# ------------------------------------------------------------------ the app

API_DESCRIPTION = """Read-only access to the published marts of the Vĩnh Phúc online public services
pipeline: every table the dashboard pages show, as JSON, CSV (UTF-8 with BOM) or XLSX.

Periods are those of `marts.kpi_766` (month, quarter, year); without `period_start` a table takes the
latest complete period of `period_type`. Unit codes are the marts' (`unit_code`). Tables over the 766
index take `basis`: `as_was` (default; each period on the units that existed in it) or `current`
(history recast onto today's units, after the reorganisation of 1 July 2025); the indicators, groups
and maxima are those of `marts.dim_766_indicators`. Rates are fractions
(0.9685 = 96.85 %); money is in VND. No table holds personal data."""


class DataDocs(StaticFiles):
    """The GX Data Docs site, read-only (GET and HEAD only): Starlette's static files, which resolve
    every path (symbolic links included) and refuse one outside the folder, and turn `..`, an absolute
    path or a NUL into a 404. A site not built yet is a 404 too, not the error StaticFiles raises at
    its first request for a missing folder: the dashboard may start before the first validation."""

    async def check_config(self) -> None:
        return None


def create_app(published_path: Path | None = None, auth: Auth | None = None,
               data_docs: Path | None = None) -> FastAPI:
    """The app over `published_path` (default: DVC_PUBLISHED_PATH), with `auth` (default: from the
    DVC_DASHBOARD_* variables), serving the Data Docs site `data_docs` (default: the one GX builds
    under DVC_REPORTS_DIR, `alerts.data_docs_site`) at `alerts.DATA_DOCS_ROUTE`, where alerts link
    to it. Raises LoginConfigError for a login configured by halves."""
    from dichvucong.alerts import DATA_DOCS_ROUTE, data_docs_site

    if published_path is None or data_docs is None:
        from dichvucong.config import Settings

        settings = Settings.from_env()
        published_path = published_path or settings.published_path
        data_docs = data_docs or data_docs_site(settings.reports_dir)
    dash = Dashboard(published_path, auth or Auth.from_env())
    app = FastAPI(title="dichvucong — published marts", version="1", description=API_DESCRIPTION,
                  docs_url=None, redoc_url=None, openapi_url="/api/openapi.json")
    app.state.dashboard = dash

    @app.middleware("http")
    async def login_and_timing(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        if dash.auth.enabled and request.url.path != "/healthz" \
                and not dash.auth.allows(request.headers.get("authorization", "")):
            return Response("login required", status_code=401,
                            headers={"WWW-Authenticate": 'Basic realm="dichvucong", charset="UTF-8"'})
        started = time.perf_counter()
        response = await call_next(request)
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    @app.exception_handler(NotPublished)
    async def not_published(request: Request, exc: NotPublished) -> Response:
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/static/style.css", include_in_schema=False)
    def style() -> Response:
        css = (Path(__file__).parent / "templates" / "style.css").read_text(encoding="utf-8")
        return Response(css, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/static/table.js", include_in_schema=False)
    def table_script() -> Response:
        script = (Path(__file__).parent / "templates" / "table.js").read_text(encoding="utf-8")
        return Response(script, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def province(lang: PageLang = "vi", p: PageP = None, period_type: PageType = None,
                 period_start: PageStart = None, basis: PageBasis = "as_was", code: PageCode = None,
                 show_all: PageAll = False) -> HTMLResponse:
        kind, start = _period_from_page(p, period_type, period_start)
        with dash.context(lang, period_type=kind, period_start=start, basis=basis, code=code or None,
                          province=True, strict=False) as ctx:
            ctx.show_all = show_all
            name = dict(ctx.provinces).get(ctx.code or "", "")
            return dash.page("province", ctx, labels.ui("nav_province", lang),
                             subtitle=f"{ctx.code} {name}".strip() if ctx.code else "")

    def unit_page(unit_type: str, code: str, lang: str, p: str | None, period_type: str | None,
                  period_start: dt.date | None, basis: str, show_all: bool) -> HTMLResponse:
        if len(code) > MAX_TEXT:
            raise HTTPException(422, "unit code too long")
        kind, start = _period_from_page(p, period_type, period_start)
        with dash.context(lang, period_type=kind, period_start=start, code=code, basis=basis) as ctx:
            ctx.show_all = show_all
            name = _unit_name(ctx.cur, basis, unit_type, code)
            if name is None:
                raise HTTPException(404, f"no {unit_type} {code!r} in the marts on the {basis} basis")
            # The unit's own name says what it is ("Huyện Lập Thạch", "Sở Tư pháp"): the type's word goes in
            # the subtitle with the code, never in front of the name.
            return dash.page(unit_type, ctx, name or f"{labels.ui(unit_type, lang)} {code}",
                             subtitle=f"{labels.ui(unit_type, lang)} · {code}")

    for unit_type in UNIT_TYPES:
        def handler(code: str, lang: PageLang = "vi", p: PageP = None, period_type: PageType = None,
                    period_start: PageStart = None, basis: PageBasis = "as_was", show_all: PageAll = False,
                    unit_type: str = unit_type) -> HTMLResponse:
            return unit_page(unit_type, code, lang, p, period_type, period_start, basis, show_all)

        handler.__signature__ = inspect.signature(handler).replace(  # type: ignore[attr-defined]
            parameters=[p for name, p in inspect.signature(handler).parameters.items() if name != "unit_type"])
        app.get(f"/{unit_type}/{{code}}", response_class=HTMLResponse, include_in_schema=False)(handler)

    @app.get("/why", response_class=HTMLResponse, include_in_schema=False)
    def why(lang: PageLang = "vi", p: PageP = None, period_type: PageType = None, period_start: PageStart = None,
            basis: PageBasis = "as_was", unit_type: PageUnitType = "province", code: PageCode = None,
            indicator: PageIndicator = None, show_all: PageAll = False) -> HTMLResponse:
        """Why a unit's score moved since the previous period (default: the province, and the latest
        complete period it can be compared in)."""
        kind, start = (None, None) if p == "" else _period_from_page(p, period_type, period_start)
        with dash.why_context(lang, period_type=kind, period_start=start, basis=basis, unit_type=unit_type,
                              code=code or None, indicator=indicator or None, strict=False) as ctx:
            ctx.show_all = show_all
            return dash.why_page(ctx)

    for page in ("services", "overdue", "fees", "quality", "portal"):
        def simple(lang: PageLang = "vi", p: PageP = None, period_type: PageType = None,
                   period_start: PageStart = None, agency: PageAgency = None, basis: PageBasis = "as_was",
                   show_all: PageAll = False, page: str = page) -> HTMLResponse:
            # Overdue now: the whole backlog unless a period of reception is chosen (p= is the whole too).
            optional = page == "overdue"
            kind, start = (None, None) if optional and p == "" else _period_from_page(p, period_type, period_start)
            with dash.context(lang, period_type=kind, period_start=start, period_optional=optional,
                              agency=agency if page == "overdue" else None, basis=basis) as ctx:
                ctx.show_all = show_all
                return dash.page(page, ctx, labels.ui(f"nav_{page}", lang))

        simple.__signature__ = inspect.signature(simple).replace(  # type: ignore[attr-defined]
            parameters=[p for name, p in inspect.signature(simple).parameters.items() if name != "page"])
        app.get(f"/{page}", response_class=HTMLResponse, include_in_schema=False)(simple)

    @app.get("/api", response_class=HTMLResponse, include_in_schema=False)
    def api_index(lang: PageLang = "vi") -> HTMLResponse:
        template = dash.templates.get_template("api.html")
        return HTMLResponse(template.render(
            tables=list(TABLES.values()), ui=lambda k: labels.ui(k, lang), lang=lang,
            other_lang="en" if lang == "vi" else "vi", page="api", ctx=None))

    for table in TABLES.values():
        _add_api_route(app, dash, table)
    # Mounted, so behind the login middleware above like every page. Only the built site is served,
    # not the GX project around it (its config and stored results).
    app.mount(DATA_DOCS_ROUTE, DataDocs(directory=data_docs, html=True, check_dir=False), name="data_docs")
    return app


def _api_parameters(table: Table) -> list[inspect.Parameter]:
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = []
    if "period" in table.filters or "period_optional" in table.filters:
        optional = "period_optional" in table.filters
        if "unit" in table.filters:
            default = ("default: the latest complete one that the unit has a previous one of the same type to "
                       "compare with (else the latest it has one for)")
        else:
            default = "default: the latest complete one" + ("; leave out for all periods" if optional else "")
        params += [
            inspect.Parameter("period_type", keyword, default="month", annotation=Annotated[
                PeriodType, Query(description="month, quarter or year")]),
            inspect.Parameter("period_start", keyword, default=None, annotation=Annotated[
                dt.date | None, Query(description=f"first day of the period (ISO date); {default}")]),
        ]
    if "unit" in table.filters:
        params.append(inspect.Parameter("unit_type", keyword, default="province", annotation=Annotated[
            UnitType, Query(description="the unit's type: province (default), agency, department, district or "
                            "commune")]))
    if "code" in table.filters:
        params.append(inspect.Parameter("code", keyword, annotation=Annotated[
            str, Query(max_length=MAX_TEXT, description="the unit's code (marts unit_code)")]))
    if "province" in table.filters:
        params.append(inspect.Parameter("code", keyword, default=None, annotation=Annotated[
            str | None, Query(max_length=MAX_TEXT, description=(
                "the unit's code (marts unit_code), required but for a province; a province's default: "
                if "unit" in table.filters else "the province's code (marts unit_code); default: ")
                + "the province with the most dossiers received in the period")]))
    if table.takes_basis:
        params.append(inspect.Parameter("basis", keyword, default=DEFAULT_BASIS, annotation=Annotated[
            Basis, Query(description="geography basis: as_was (the units as they were in each period) or "
                         "current (history recast onto today's units)")]))
    if "agency" in table.filters:
        params.append(inspect.Parameter("agency", keyword, default=None, annotation=Annotated[
            str | None, Query(max_length=MAX_TEXT, description="only this agency's dossiers")]))
    if "indicator" in table.filters:
        params.append(inspect.Parameter("indicator", keyword, default=None, annotation=Annotated[
            str | None, Query(max_length=MAX_TEXT, description="the indicator's code (marts indicator_code, e.g. "
                              "2.1); default: the one of these indicators that moved the unit's points most")]))
    params += [
        inspect.Parameter("format", keyword, default="json", annotation=Annotated[
            Format, Query(description="json, csv (UTF-8 with BOM) or xlsx")]),
        inspect.Parameter("locale", keyword, default="default", annotation=Annotated[
            CsvLocale, Query(description="CSV only: default (comma-separated, decimal point) or vi (the form "
                             "a Vietnamese-locale Excel reads as numbers: ;-separated, decimal comma)")]),
        inspect.Parameter("lang", keyword, default="vi", annotation=Annotated[
            Lang, Query(description="language of headers and labels in files")]),
    ]
    return params


def _add_api_route(app: FastAPI, dash: Dashboard, table: Table) -> None:
    def endpoint(**kwargs: Any) -> Response:
        # A table without a period filter (the quality gates) reads no period.
        optional = "period" not in table.filters
        if "unit" in table.filters:
            view = dash.why_context(kwargs["lang"], period_type=kwargs.get("period_type"),
                                    period_start=kwargs.get("period_start"), basis=kwargs.get("basis", DEFAULT_BASIS),
                                    unit_type=kwargs["unit_type"], code=kwargs.get("code"),
                                    indicator=kwargs.get("indicator"), strict=True)
        else:
            view = dash.context(kwargs["lang"], period_type=kwargs.get("period_type"),
                                period_start=kwargs.get("period_start"), period_optional=optional,
                                code=kwargs.get("code"), agency=kwargs.get("agency"),
                                basis=kwargs.get("basis", DEFAULT_BASIS), province="province" in table.filters)
        with view as ctx:
            if "code" in table.filters:
                unit_type = table.page
                if _unit_name(ctx.cur, ctx.basis, unit_type, kwargs["code"]) is None:
                    raise HTTPException(404, f"no {unit_type} {kwargs['code']!r} in the marts on the "
                                        f"{ctx.basis} basis")
            result = run(ctx.cur, table, ctx.params())
            return _respond(result, ctx, kwargs["format"], kwargs.get("locale", "default"))

    endpoint.__signature__ = inspect.Signature(_api_parameters(table))  # type: ignore[attr-defined]
    endpoint.__name__ = f"get_{table.name}"
    app.get(f"/api/v1/{table.name}", summary=labels.ui(table.title, "en"), description=table.description,
            tags=[table.page], responses={
                200: {"content": {"text/csv": {}, "application/vnd.openxmlformats-officedocument."
                                  "spreadsheetml.sheet": {}}},
                404: {"description": "unknown period or unit"}})(endpoint)


def _respond(result: Result, ctx: Context, fmt: str, locale: str = "default") -> Response:
    filters = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in ctx.params().items()
               if v is not None and (k != "basis" or result.table.takes_basis)}
    stem = result.table.name + (f"_{ctx.period.period_type}_{ctx.period.start:%Y-%m-%d}" if ctx.period else "")
    if fmt == "csv":
        stem += "_vi" if locale == "vi" else ""
        return Response(render.to_csv(result, ctx.lang, locale), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.csv"'})
    if fmt == "xlsx":
        return Response(render.to_xlsx(result, ctx.lang, ctx.publication, filters),
                        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{stem}.xlsx"'})
    return JSONResponse({
        "table": result.table.name,
        "as_of": ctx.publication.as_of.isoformat(),
        "published_at": ctx.publication.published_at.isoformat(),
        "filters": filters,
        "columns": [{"name": n, "kind": k, "label": labels.column_label(n, ctx.lang)}
                    for n, k in result.table.columns],
        "rows": [{n: render.json_value(v) for n, v in zip(result.table.column_names, row, strict=True)}
                 for row in result.rows],
    })


def serve(host: str, port: int, published_path: Path | None = None) -> None:
    """Serve the app (the `dichvucong dashboard` command); a login configured by halves exits with
    its message, not a traceback."""
    import uvicorn

    try:
        app = create_app(published_path)
    except LoginConfigError as exc:
        raise SystemExit(f"error: {exc}") from exc
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
