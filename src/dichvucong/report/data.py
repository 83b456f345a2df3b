"""What the monthly report says, selected from the published marts and nothing else.

Every number is a value of a mart, or a sum or count of mart rows in SQL (the fees' reconciliation
line, the overdue backlog per agency); Python only picks the rows and hands them to the template.
The connection is read-only, with file access switched off once the published copy is open.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

_PARAM = re.compile(r"\$([a-z_]+)")
BASES = ("as_was", "current")
# The unit types of kpi_766, the widest first: a code that names several (a department is an agency
# too) is taken at the widest level unless the type is given.
UNIT_TYPES = ("province", "department", "district", "commune", "agency")
# The column of marts.fct_dossiers that places a dossier in a unit, per unit type and basis (as
# kpi_766 counts it, agg_unit_period_indicators); districts exist on the `as_was` basis only.
DOSSIER_UNIT_COLUMNS = {
    ("province", "as_was"): "province_code", ("province", "current"): "province_code_current",
    ("department", "as_was"): "department_code", ("department", "current"): "department_code_current",
    ("district", "as_was"): "district_code", ("district", "current"): "district_code",
    ("commune", "as_was"): "commune_code", ("commune", "current"): "commune_code_current",
    ("agency", "as_was"): "agency_code", ("agency", "current"): "current_agency_code",
}
# The units below a province whose score changes are listed as its biggest movers.
MOVER_LEVELS = ("department", "district", "commune")
MOVERS_SHOWN = 5
OVERDUE_AGENCIES_SHOWN = 10


class ReportError(ValueError):
    """The report cannot be made as asked (no such month, unit or basis in the marts): the same on
    every try."""


@dataclass(frozen=True)
class Indicator:
    code: str
    name: str
    max_points: float
    rate: float | None
    points: float | None

    @property
    def lost(self) -> float | None:
        return None if self.points is None else self.max_points - self.points


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    column: str
    points: float | None  # kpi_766.<group_column>; None for a group nothing here measures
    max_points: float  # of the indicators scored for this unit type
    not_measurable_points: float  # of the group's indicators no source here measures
    indicators: list[Indicator]

    @property
    def lost(self) -> float | None:
        return None if self.points is None else self.max_points - self.points


@dataclass(frozen=True)
class Report:
    month: dt.date
    basis: str
    unit_type: str
    unit_code: str
    unit_name: str
    province_name: str
    as_of: dt.datetime
    published_at: dt.datetime
    kpi: dict[str, Any]  # the unit's row of kpi_766 for the month
    units_in_level: int  # rows of kpi_766 of the same unit type, month and basis (rank_in_level ranks them)
    groups: list[Group]
    points_whole: float  # the whole index (100), measurable or not
    previous_month: dt.date | None  # the month agg_766_change compares with (None: not in the marts)
    indicator_moves: list[dict[str, Any]]  # agg_766_change rows of the unit, biggest first
    unit_moves: list[dict[str, Any]]  # the units below, by their total change (province report only)
    overdue: dict[str, Any]  # the backlog overdue at the as-of time: count, longest, median
    overdue_agencies: list[dict[str, Any]]
    fees: dict[str, Any]  # the month's fee totals and reconciliation line
    fees_by_intermediary: list[dict[str, Any]]
    reconciliation_states: list[dict[str, Any]]
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now().astimezone())

    @property
    def slug(self) -> str:
        return f"{self.month:%Y-%m}-{self.unit_code}"


def connect(published: Path) -> duckdb.DuckDBPyConnection:
    """The published marts, read-only, with no access to any other file."""
    if not published.exists():
        raise ReportError(f"no published marts at {published}: run the pipeline first")
    con = duckdb.connect(str(published), read_only=True, config={"threads": 2})
    con.execute("set enable_external_access = false")
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a query as dicts; the parameters bound are those its SQL names (DuckDB refuses others)."""
    named = set(_PARAM.findall(sql))
    cursor = con.execute(sql, {name: value for name, value in params.items() if name in named})
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    rows = _rows(con, sql, params)
    return rows[0] if rows else {}


def default_month(con: duckdb.DuckDBPyConnection) -> dt.date | None:
    """The last full month of the marts (ended by the as-of time), as the summary takes it."""
    row = con.execute(
        "select max(k.period_start) from marts.kpi_766 as k, meta.publication as p where k.unit_type = 'province' "
        "and k.period_type = 'month' and k.period_end <= p.as_of::date").fetchall()
    return row[0][0] if row else None


def resolve_unit(con: duckdb.DuckDBPyConnection, month: dt.date, basis: str, code: str | None,
                 unit_type: str | None, province_code: str) -> dict[str, Any]:
    """The unit's kpi_766 row for the month. No code: the configured province when the month has it,
    else the province with the most dossiers received (as the summary does)."""
    params: dict[str, Any] = {"basis": basis, "month": month}
    base = ("select * from marts.kpi_766 where geography_basis = $basis and period_type = 'month' "
            "and period_start = $month")
    months = con.execute("select count(*) from marts.kpi_766 where period_type = 'month' and period_start = $month "
                         "and geography_basis = $basis", params).fetchall()[0][0]
    if not months:
        held = [f"{m:%Y-%m}" for (m,) in con.execute(
            "select distinct period_start from marts.kpi_766 where period_type = 'month' and geography_basis = $basis "
            "order by 1", {"basis": basis}).fetchall()]
        raise ReportError(f"the published marts hold no month {month:%Y-%m} on the {basis} basis "
                          f"(they hold {', '.join(held) or 'none'})")
    if code is None:
        provinces = _rows(con, base + " and unit_type = 'province' order by dossiers_received desc, unit_code", params)
        if not provinces:
            raise ReportError(f"no province row in kpi_766 for {month:%Y-%m} ({basis})")
        return next((p for p in provinces if p["unit_code"] == province_code), provinces[0])
    types = [unit_type] if unit_type else list(UNIT_TYPES)
    for kind in types:
        row = _one(con, base + " and unit_type = $type and unit_code = $code", params | {"type": kind, "code": code})
        if row:
            return row
    raise ReportError(f"no unit {code}" + (f" of type {unit_type}" if unit_type else "")
                      + f" in kpi_766 for {month:%Y-%m} on the {basis} basis")


def _groups(con: duckdb.DuckDBPyConnection, kpi: dict[str, Any]) -> tuple[list[Group], float]:
    """The six groups of the points table in force (dim_766_indicators), each with the unit's points
    and every indicator scored for its unit type."""
    indicators = _rows(con, "select * from marts.dim_766_indicators order by group_code, indicator_code", {})
    groups = []
    for code, name, column in dict.fromkeys((i["group_code"], i["group_name"], i["group_column"])
                                             for i in indicators):
        members = [i for i in indicators if i["group_code"] == code]
        scored = [i for i in members if i["is_scored"] and i["scored_units"] in ("all", kpi["unit_type"])]
        groups.append(Group(
            code=code, name=name, column=column,
            points=kpi.get(column) if scored else None,
            max_points=float(sum(i["max_points"] for i in scored)),
            not_measurable_points=float(sum(i["max_points"] for i in members if not i["is_measurable"])),
            indicators=[Indicator(i["indicator_code"], i["indicator_name"], float(i["max_points"]),
                                  kpi.get(i["indicator_name"]), kpi.get(f"points_{i['indicator_name']}"))
                        for i in scored],
        ))
    return groups, float(sum(i["max_points"] for i in indicators))


def _indicator_moves(con: duckdb.DuckDBPyConnection, kpi: dict[str, Any]) -> list[dict[str, Any]]:
    return _rows(con, """
        select indicator_code, indicator_name, group_column, rate_before, rate_after, rate_change, points_before,
            points_after, points_change, previous_period_start, points_total_before, points_total_after,
            points_total_change
        from marts.agg_766_change
        where geography_basis = $basis and unit_type = $type and unit_code = $code and period_type = 'month'
            and period_start = $month
        order by change_rank""", {"basis": kpi["geography_basis"], "type": kpi["unit_type"],
                                  "code": kpi["unit_code"], "month": kpi["period_start"]})


def _unit_moves(con: duckdb.DuckDBPyConnection, kpi: dict[str, Any]) -> list[dict[str, Any]]:
    """The units below a province (departments, districts, communes whose dossiers it holds) whose
    total moved most, down first, then up: each with the indicator that moved it most."""
    if kpi["unit_type"] != "province":
        return []
    basis = kpi["geography_basis"]
    inside = " union all ".join(
        f"select distinct '{level}' as unit_type, {DOSSIER_UNIT_COLUMNS[(level, basis)]} as unit_code "
        f"from marts.fct_dossiers where {DOSSIER_UNIT_COLUMNS[('province', basis)]} = $code"
        for level in MOVER_LEVELS if (level, basis) in DOSSIER_UNIT_COLUMNS and not (level == "district"
                                                                                     and basis == "current"))
    rows = _rows(con, f"""
        with inside as ({inside}),
        moves as (
            select c.unit_type, c.unit_code, c.unit_name, c.points_total_before, c.points_total_after,
                c.points_total_change, c.indicator_code, c.indicator_name, c.points_change
            from marts.agg_766_change as c
            inner join inside as i using (unit_type, unit_code)
            where c.geography_basis = $basis and c.period_type = 'month' and c.period_start = $month
                and c.change_rank = 1 and c.points_total_change <> 0
        )
        (select 'down' as direction, * from moves where points_total_change < 0
         order by points_total_change, unit_type, unit_code limit {MOVERS_SHOWN})
        union all
        (select 'up' as direction, * from moves where points_total_change > 0
         order by points_total_change desc, unit_type, unit_code limit {MOVERS_SHOWN})""",
                 {"basis": basis, "month": kpi["period_start"], "code": kpi["unit_code"]})
    return sorted(rows, key=lambda r: (r["direction"] != "down", -abs(r["points_total_change"]), r["unit_code"]))


def _overdue(con: duckdb.DuckDBPyConnection, kpi: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The unit's whole backlog overdue at the data's as-of time (not only what was received in the
    month), in whole days past the due date net of the applicant's waits (fct_dossiers.days_overdue_at_as_of,
    as the dashboard shows it)."""
    column = DOSSIER_UNIT_COLUMNS[(kpi["unit_type"], kpi["geography_basis"])]
    overdue = f"""
        with overdue as (
            select f.agency_code, f.agency_name, f.days_overdue_at_as_of as days_overdue
            from marts.fct_dossiers as f
            where f.is_overdue_at_as_of and f.{column} = $code
        )"""
    params = {"code": kpi["unit_code"]}
    totals = _one(con, overdue + """
        select count(*) as dossiers, max(days_overdue) as longest_days,
            quantile_cont(days_overdue, 0.5) as median_days, count(distinct agency_code) as agencies
        from overdue""", params)
    agencies = _rows(con, overdue + f"""
        select agency_code, any_value(agency_name) as agency_name, count(*) as dossiers,
            max(days_overdue) as longest_days, quantile_cont(days_overdue, 0.5) as median_days
        from overdue group by agency_code
        order by dossiers desc, longest_days desc, agency_code limit {OVERDUE_AGENCIES_SHOWN}""", params)
    return totals, agencies


def _fees(con: duckdb.DuckDBPyConnection, kpi: dict[str, Any]
          ) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The unit's fees settled in the month (marts.agg_fees_unit_monthly: the payments of its dossiers; the
    province of a month scored with one province has every payment, orphans included), the province's
    reconciliation line net = matched + timing + orphans + gap (marts.agg_fees_reconciliation_lines, the
    dashboard's line too; none for a unit below the province, nor for one of several provinces), and the
    states of the dossiers received in the month (fct_dossiers). Selection only: dbt computes the numbers."""
    month = kpi["period_start"]
    column = DOSSIER_UNIT_COLUMNS[(kpi["unit_type"], kpi["geography_basis"])]
    params = {"month": month, "end": kpi["period_end"], "code": kpi["unit_code"], "basis": kpi["geography_basis"],
              "type": kpi["unit_type"]}
    # The reconciliation line is the province's when the month has one province on this basis (orphans are
    # credited to it); before a merger the as-was month has several, and each has only its dossiers' payments.
    whole = kpi["unit_type"] == "province" and con.execute(
        "select count(*) from marts.kpi_766 where geography_basis = $basis and unit_type = 'province' "
        "and period_type = 'month' and period_start = $month",
        {"basis": kpi["geography_basis"], "month": month}).fetchall()[0][0] == 1
    unit = ("f.geography_basis = $basis and f.unit_type = $type and f.unit_code = $code "
            "and f.month_start = $month")
    totals = _one(con, f"""
        select coalesce(sum(payments_succeeded), 0)::bigint as payments, coalesce(sum(collected_vnd), 0)::bigint
                as collected_vnd, coalesce(sum(refunds), 0)::bigint as refunds,
            coalesce(sum(refunded_vnd), 0)::bigint as refunded_vnd, coalesce(sum(net_vnd), 0)::bigint as net_vnd,
            coalesce(sum(payments_pending), 0)::bigint as pending, coalesce(sum(pending_vnd), 0)::bigint
                as pending_vnd, coalesce(sum(payments_failed), 0)::bigint as failed,
            coalesce(sum(orphan_payments), 0)::bigint as orphans, coalesce(sum(orphan_vnd), 0)::bigint
                as orphan_vnd, coalesce(sum(duplicate_rows), 0)::bigint as duplicate_rows
        from marts.agg_fees_unit_monthly as f
        where {unit}""", params)
    by_intermediary = _rows(con, f"""
        select f.intermediary_code, i.intermediary_name, f.payment_channel, f.payments_succeeded as payments,
            f.collected_vnd, f.refunds, f.refunded_vnd, f.net_vnd, f.payments_pending as pending,
            f.payments_failed as failed
        from marts.agg_fees_unit_monthly as f
        left join reference.intermediaries as i using (intermediary_code)
        where {unit}
        order by f.collected_vnd desc, f.intermediary_code, f.payment_channel""", params)
    # A month with no succeeded payment has no line: zeros, as the line of nothing.
    line = _one(con, """
        select coalesce(l.matched_vnd, 0) as matched_vnd, coalesce(l.timing_vnd, 0) as timing_vnd,
            coalesce(l.orphan_vnd, 0) as line_orphan_vnd, coalesce(l.gap_vnd, 0) as gap_vnd,
            coalesce(l.gap_payments, 0) as gap_payments
        from (select $month::date as month_start) as m
        left join marts.agg_fees_reconciliation_lines as l using (month_start)""", params) if whole else {}
    fees = totals | line
    fees["whole_province"] = whole
    states = _rows(con, f"""
        select reconciliation_state, count(*) as dossiers, coalesce(sum(fee_expected_vnd), 0)::bigint
                as fee_expected_vnd, coalesce(sum(fee_paid_vnd), 0)::bigint as fee_paid_vnd
        from marts.fct_dossiers
        where is_received and received_at >= $month and received_at < $end and {column} = $code
            and reconciliation_state <> 'not_applicable'
        group by 1 order by dossiers desc, reconciliation_state""", params)
    return fees, by_intermediary, states


def build_report(con: duckdb.DuckDBPyConnection, month: dt.date, basis: str = "as_was", unit: str | None = None,
                 unit_type: str | None = None, province_code: str = "", province_name: str = "") -> Report:
    """The monthly report of one unit (default: the province) for one month on one geography basis."""
    if basis not in BASES:
        raise ReportError(f"basis must be one of {', '.join(BASES)}, not {basis!r}")
    if unit_type is not None and unit_type not in UNIT_TYPES:
        raise ReportError(f"unit type must be one of {', '.join(UNIT_TYPES)}, not {unit_type!r}")
    month = month.replace(day=1)
    as_of, published_at = con.execute("select as_of, published_at from meta.publication").fetchall()[0]
    kpi = resolve_unit(con, month, basis, unit, unit_type, province_code)
    groups, whole = _groups(con, kpi)
    (units_in_level,) = con.execute(
        "select count(*) from marts.kpi_766 where geography_basis = $basis and unit_type = $type "
        "and period_type = 'month' and period_start = $month",
        {"basis": basis, "type": kpi["unit_type"], "month": month}).fetchall()[0]
    moves = _indicator_moves(con, kpi)
    overdue, overdue_agencies = _overdue(con, kpi)
    fees, by_intermediary, states = _fees(con, kpi)
    if kpi["unit_type"] == "province":
        province = kpi["unit_name"] or province_name
    else:
        province = province_name
    return Report(
        month=month, basis=basis, unit_type=kpi["unit_type"], unit_code=kpi["unit_code"],
        unit_name=kpi["unit_name"] or kpi["unit_code"], province_name=province, as_of=as_of,
        published_at=published_at, kpi=kpi, units_in_level=units_in_level, groups=groups, points_whole=whole,
        previous_month=moves[0]["previous_period_start"] if moves else None,
        indicator_moves=[m for m in moves if m["points_change"] or m["rate_change"]],
        unit_moves=_unit_moves(con, kpi), overdue=overdue, overdue_agencies=overdue_agencies, fees=fees,
        fees_by_intermediary=by_intermediary, reconciliation_states=states,
    )
