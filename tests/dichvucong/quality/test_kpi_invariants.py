"""The kpi_766 invariants frame (`frames.kpi_invariants_frame`) on a small marts file: each invariant
holds on marts that keep the rules, and fails on marts that break it, per basis, level and period."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dichvucong.quality.frames import kpi_invariants_frame

FEB = dt.date(2024, 2, 1)
# (indicator_code, indicator_name, group_column, max_points, scored_units, is_measurable, is_scored)
POINTS_TABLE = [("1.4", "sync_rate", "points_transparency", 6.0, "all", True, True),
                ("2.1", "on_time_rate", "points_progress", 20.0, "all", True, True),
                ("3.1", "procedures_online_rate", "points_online_services", 0.0, "all", True, False),
                ("5", None, "points_satisfaction", 18.0, "all", False, False)]
COLUMNS = ("geography_basis", "unit_type", "unit_code", "period_type", "period_start", "dossiers_submitted",
           "dossiers_received", "dossiers_ended", "points_sync_rate", "points_on_time_rate", "points_transparency",
           "points_progress", "points_satisfaction", "points_total", "points_measurable", "rank_in_level")


def _row(basis: str, unit_type: str, code: str, received: int, sync: float, on_time: float, rank: int,
         **changes: Any) -> dict[str, Any]:
    row = {"geography_basis": basis, "unit_type": unit_type, "unit_code": code, "period_type": "month",
           "period_start": FEB, "dossiers_submitted": received, "dossiers_received": received,
           "dossiers_ended": received // 2, "points_sync_rate": sync, "points_on_time_rate": on_time,
           "points_transparency": sync, "points_progress": on_time, "points_satisfaction": None,
           "points_total": sync + on_time, "points_measurable": 26.0, "rank_in_level": rank}
    return row | changes


def _good() -> list[dict[str, Any]]:
    rows = []
    for basis, province in (("as_was", "26"), ("current", "25")):
        rows += [_row(basis, "province", province, 10, 6.0, 18.0, 1),
                 # an agency outside the agency list: its dossiers have no province
                 _row(basis, "agency", "A", 6, 6.0, 18.0, 1), _row(basis, "agency", "B", 4, 6.0, 18.0, 1),
                 _row(basis, "agency", "?", 3, 3.0, 10.0, 2),
                 _row(basis, "commune", "08707", 4, 6.0, 20.0, 1), _row(basis, "commune", "08710", 2, 3.0, 10.0, 2)]
    # The bases rank apart: on one basis a unit ranks 1, on the other 2, and each is dense.
    rows.append(_row("as_was", "commune", "08713", 1, 0.0, 5.0, 3))
    return rows


def _frame(tmp_path: Path, rows: list[dict[str, Any]]) -> Any:
    path = tmp_path / "warehouse.marts.duckdb"
    path.unlink(missing_ok=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_766_indicators (indicator_code varchar, indicator_name varchar, "
                    "group_column varchar, max_points double, scored_units varchar, is_measurable boolean, "
                    "is_scored boolean)")
        con.executemany("insert into marts.dim_766_indicators values (?, ?, ?, ?, ?, ?, ?)", POINTS_TABLE)
        con.execute("create table marts.kpi_766 (geography_basis varchar, unit_type varchar, unit_code varchar, "
                    "period_type varchar, period_start date, dossiers_submitted bigint, dossiers_received bigint, "
                    "dossiers_ended bigint, points_sync_rate double, points_on_time_rate double, "
                    "points_transparency double, points_progress double, points_satisfaction double, "
                    "points_total double, points_measurable double, rank_in_level bigint)")
        con.executemany(f"insert into marts.kpi_766 values ({', '.join(['?'] * len(COLUMNS))})",
                        [[row[c] for c in COLUMNS] for row in rows])
    return kpi_invariants_frame(path)


def _failing(frame: Any, column: str) -> set[tuple[str, str]]:
    return {(r.geography_basis, r.unit_type) for r in frame.itertuples() if not getattr(r, column)}


def test_marts_that_keep_the_rules_pass_every_invariant(tmp_path: Path) -> None:
    frame = _frame(tmp_path, _good())
    assert len(frame) == 6, "one row per basis, level and period"
    checks = ["ranks_are_dense", "points_within_measurable", "points_within_maxima", "agencies_cover_province"]
    assert frame[checks].all().all(), frame.to_string()


@pytest.mark.parametrize(("change", "column", "failing"), [
    # a gap in the ranks of the as_was communes
    (lambda rows: rows[-1].update(rank_in_level=4), "ranks_are_dense", {("as_was", "commune")}),
    # a total above the unit's measurable maximum
    (lambda rows: rows[1].update(points_measurable=20.0), "points_within_measurable", {("as_was", "agency")}),
    # an indicator above its maximum in the points table (20), the total unchanged
    (lambda rows: rows[7].update(points_on_time_rate=21.0, points_sync_rate=3.0),
     "points_within_maxima", {("current", "agency")}),
    # a group above the sum of its indicators' maxima
    (lambda rows: rows[4].update(points_transparency=6.5), "points_within_maxima", {("as_was", "commune")}),
    # the agencies holding fewer dossiers than the province (a dossier of the province with no agency)
    (lambda rows: rows[7].update(dossiers_received=1),
     "agencies_cover_province", {("current", u) for u in ("province", "agency", "commune")}),
])
def test_each_invariant_fails_where_the_marts_break_it(tmp_path: Path, change: Any, column: str,
                                                        failing: set[tuple[str, str]]) -> None:
    rows = _good()
    change(rows)
    frame = _frame(tmp_path, rows)
    assert _failing(frame, column) == failing
    others = [c for c in ("ranks_are_dense", "points_within_measurable", "points_within_maxima",
                          "agencies_cover_province") if c != column]
    assert frame[others].all().all(), frame.to_string()
