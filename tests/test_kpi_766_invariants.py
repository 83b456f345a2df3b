"""The dbt tests of kpi_766's invariants (dbt_project/tests/assert_kpi_766_*.sql), run by dbt itself
(`dbt test`) over a hand-built marts file: each holds on marts that keep the rules, and fails on marts
that break it, with the rows that break it. One dbt run holds every break, each in its own period, so
that which test fails where is exact."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dichvucong import transform
from dichvucong.config import Settings

FEB, MAR, APR, MAY, JUN = (dt.date(2024, m, 1) for m in (2, 3, 4, 5, 6))
TESTS = ("assert_kpi_766_ranks_are_dense", "assert_kpi_766_points_within_measurable",
         "assert_kpi_766_points_within_maxima", "assert_kpi_766_agencies_cover_province")
# (indicator_code, indicator_name, group_column, max_points, is_measurable, is_scored)
POINTS_TABLE = [("1.4", "sync_rate", "points_transparency", 6.0, True, True),
                ("2.1", "on_time_rate", "points_progress", 20.0, True, True),
                ("3.1", "procedures_online_rate", "points_online_services", 0.0, True, False),
                ("5", None, "points_satisfaction", 18.0, False, False)]
COLUMNS = ("geography_basis", "unit_type", "unit_code", "period_type", "period_start", "dossiers_submitted",
           "dossiers_received", "dossiers_ended", "points_sync_rate", "points_on_time_rate", "points_transparency",
           "points_progress", "points_satisfaction", "points_total", "points_measurable", "rank_in_level")


def _row(basis: str, unit_type: str, code: str, received: int, sync: float, on_time: float, rank: int,
         month: dt.date, **changes: Any) -> dict[str, Any]:
    row = {"geography_basis": basis, "unit_type": unit_type, "unit_code": code, "period_type": "month",
           "period_start": month, "dossiers_submitted": received, "dossiers_received": received,
           "dossiers_ended": received // 2, "points_sync_rate": sync, "points_on_time_rate": on_time,
           "points_transparency": sync, "points_progress": on_time, "points_satisfaction": None,
           "points_total": sync + on_time, "points_measurable": 26.0, "rank_in_level": rank}
    return row | changes


def _good(month: dt.date) -> list[dict[str, Any]]:
    rows = []
    for basis, province in (("as_was", "26"), ("current", "25")):
        rows += [_row(basis, "province", province, 10, 6.0, 18.0, 1, month),
                 # an agency outside the agency list: its dossiers have no province
                 _row(basis, "agency", "A", 6, 6.0, 18.0, 1, month), _row(basis, "agency", "B", 4, 6.0, 18.0, 1, month),
                 _row(basis, "agency", "?", 3, 3.0, 10.0, 2, month),
                 _row(basis, "commune", "08707", 4, 6.0, 20.0, 1, month),
                 _row(basis, "commune", "08710", 2, 3.0, 10.0, 2, month)]
    # The bases rank apart: on one basis a unit ranks 1, on the other 2, and each is dense.
    rows.append(_row("as_was", "commune", "08713", 1, 0.0, 5.0, 3, month))
    return rows


def _write_marts(settings: Settings, rows: list[dict[str, Any]]) -> None:
    settings.marts_path.parent.mkdir(parents=True, exist_ok=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    with duckdb.connect(str(settings.marts_path)) as con:
        con.execute("create schema marts")
        con.execute("create table marts.dim_766_indicators (indicator_code varchar, indicator_name varchar, "
                    "group_column varchar, max_points double, is_measurable boolean, is_scored boolean)")
        con.executemany("insert into marts.dim_766_indicators values (?, ?, ?, ?, ?, ?)", POINTS_TABLE)
        con.execute("create table marts.kpi_766 (geography_basis varchar, unit_type varchar, unit_code varchar, "
                    "period_type varchar, period_start date, dossiers_submitted bigint, dossiers_received bigint, "
                    "dossiers_ended bigint, points_sync_rate double, points_on_time_rate double, "
                    "points_transparency double, points_progress double, points_satisfaction double, "
                    "points_total double, points_measurable double, rank_in_level bigint)")
        con.executemany(f"insert into marts.kpi_766 values ({', '.join(['?'] * len(COLUMNS))})",
                        [[row[c] for c in COLUMNS] for row in rows])


def _run(settings: Settings) -> dict[str, tuple[str, list[tuple[Any, ...]]]]:
    """Each test's status and failing rows (dbt stores them with --store-failures, in the warehouse)."""
    results = transform.run_dbt(settings, [
        "test", "--select", " ".join(TESTS), "--store-failures",
        "--vars", json.dumps(transform.province_vars(settings) | {"as_of": "2024-07-01 00:00:00"})])
    statuses = {n["unique_id"].split(".")[2]: n["status"] for n in results["results"]}
    assert set(statuses) == set(TESTS), results
    found = {}
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        for name in TESTS:
            relation = con.execute("select schema_name from duckdb_tables() where table_name = ?", [name]).fetchall()
            rows = con.execute(f'select * from "{relation[0][0]}"."{name}"').fetchall() if relation else []
            found[name] = (statuses[name], rows)
    return found


@pytest.fixture
def settings(dvc_home: Path) -> Settings:
    return Settings.from_env()


def test_marts_that_keep_the_rules_pass_every_invariant(settings: Settings) -> None:
    _write_marts(settings, _good(FEB))
    found = _run(settings)
    assert {name: status for name, (status, _) in found.items()} == dict.fromkeys(TESTS, "pass")


def test_each_invariant_fails_where_and_only_where_the_marts_break_it(settings: Settings) -> None:
    feb, mar, apr, may, jun = _good(FEB), _good(MAR), _good(APR), _good(MAY), _good(JUN)
    feb[-1].update(rank_in_level=4)  # a gap in the ranks of the as_was communes
    mar[1].update(points_measurable=20.0)  # a total above the unit's measurable maximum
    apr[7].update(points_on_time_rate=21.0, points_sync_rate=3.0)  # an indicator above its maximum (20)
    may[4].update(points_transparency=6.5)  # a group above the sum of its indicators' maxima (6)
    jun[7].update(dossiers_received=1)  # the agencies hold fewer dossiers than the province
    _write_marts(settings, feb + mar + apr + may + jun)
    found = _run(settings)

    status, rows = found["assert_kpi_766_ranks_are_dense"]
    assert status == "fail" and [(r[0], r[1], r[2], r[4]) for r in rows] == [("as_was", "commune", "08713", FEB)]
    status, rows = found["assert_kpi_766_points_within_measurable"]
    assert status == "fail" and [(r[0], r[1], r[2], r[4]) for r in rows] == [("as_was", "agency", "A", MAR)]
    status, rows = found["assert_kpi_766_points_within_maxima"]
    assert status == "fail"
    assert sorted((r[0], r[2], r[4], r[5], r[6], r[7]) for r in rows) == [
        ("as_was", "08707", MAY, "points_transparency", 6.5, 6.0),
        ("current", "A", APR, "points_on_time_rate", 21.0, 20.0)]
    # Severity warn: dirty dates can leave a dossier with the province alone. The build goes on, and
    # the build task alerts (alerts.from_dbt_warnings).
    status, rows = found["assert_kpi_766_agencies_cover_province"]
    assert status == "warn" and [(r[0], r[2]) for r in rows] == [("current", JUN)]
