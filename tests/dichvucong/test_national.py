"""The national ranking over provinces' published files (dichvucong.national), on hand-built files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

from dichvucong.national import build_national
from dichvucong.provinces import Province

MONTH = dt.date(2025, 8, 1)


def _publish(home: Path, rows: list[tuple[str, str, float | None, int]], *, group_points: bool = True) -> None:
    """A published file with a points table of one scored indicator and kpi_766 province rows
    (unit_code, basis, points_total, dossiers_received)."""
    path = home / "published" / "dichvucong.duckdb"
    path.parent.mkdir(parents=True)
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts; create schema meta")
        con.execute("create table meta.publication as select timestamp '2025-09-01' as as_of, "
                    "now() as published_at, 'run-1' as run_id")
        con.execute("""create table marts.dim_766_indicators as select * from (values
            ('2.1', 'on_time_rate', '2', 'points_progress', true, true),
            ('5', null, '5', 'points_satisfaction', false, false))
            as t(indicator_code, indicator_name, group_code, group_column, is_measurable, is_scored)""")
        points = ", points_progress double" if group_points else ""
        con.execute(f"""create table marts.kpi_766 (geography_basis varchar, unit_type varchar, unit_code varchar,
            unit_name varchar, period_type varchar, period_start date, period_end date, is_complete boolean,
            measured_until timestamp, spans_reorganisation boolean, dossiers_received bigint, dossiers_ended bigint,
            on_time_rate double, points_on_time_rate double{points}, points_total double,
            points_measurable double)""")
        for code, basis, total, received in rows:
            con.execute(f"insert into marts.kpi_766 values (?, 'province', ?, ?, 'month', ?, ?, true, ?, false, ?, 0, "
                        f"0.9, ?{', ?' if group_points else ''}, ?, 80)",
                        [basis, code, f"Tỉnh {code}", MONTH, dt.date(2025, 9, 1), dt.datetime(2025, 9, 1),
                         received, total, *([total] if group_points else []), total])
            con.execute("insert into marts.kpi_766 values (?, 'commune', 'X', 'Xã X', 'month', ?, ?, true, ?, false, "
                        f"1, 0, 1, 20{', 20' if group_points else ''}, 99, 80)",
                        [basis, MONTH, dt.date(2025, 9, 1), dt.datetime(2025, 9, 1)])


def _province(tmp_path: Path, slug: str, code: str) -> Province:
    return Province(slug=slug, code=code, name=f"Tỉnh {code}", home=tmp_path / slug, landing=tmp_path / slug / "in")


def test_provinces_are_ranked_per_period_and_basis_from_their_published_rows(tmp_path: Path) -> None:
    a, b, c, d = (_province(tmp_path, s, code) for s, code in (("a", "25"), ("b", "24"), ("c", "22"), ("d", "27")))
    _publish(a.home, [("25", "as_was", 55.0, 10), ("25", "current", 55.0, 10)])
    _publish(b.home, [("24", "as_was", 60.0, 10), ("24", "current", 60.0, 10),
                      ("99", "as_was", 70.0, 0)])  # a province row with only orphan payments: not scored
    _publish(c.home, [("22", "as_was", 55.0, 10)], group_points=False)  # another points table: fewer columns
    target = tmp_path / "national" / "ranking.duckdb"
    summary = build_national([a, b, c, d], target)  # d has not published
    assert (summary["provinces_published"], summary["provinces"]) == (3, 4)
    with duckdb.connect(str(target), read_only=True) as con:
        ranked = con.execute("select geography_basis, province_code, points_total, national_rank, provinces_ranked "
                             "from national.kpi_766_provinces order by 1, 4, 2").fetchall()
        columns = [r[0] for r in con.execute("select column_name from duckdb_columns() "
                                             "where table_name = 'kpi_766_provinces'").fetchall()]
        publications = con.execute("select province_slug from national.publications order by 1").fetchall()
    # Dense rank, 1 = best; a tie shares its rank; only province rows, never a commune's 99 points.
    assert ranked == [("as_was", "24", 60.0, 1, 3), ("as_was", "22", 55.0, 2, 3), ("as_was", "25", 55.0, 2, 3),
                      ("current", "24", 60.0, 1, 2), ("current", "25", 55.0, 2, 2)]
    assert {"on_time_rate", "points_on_time_rate", "points_progress"} <= set(columns)
    assert "points_satisfaction" not in columns  # not in any province's kpi_766
    assert publications == [("a",), ("b",), ("c",)]
    assert not list(target.parent.glob("building-*"))  # built beside, renamed over
