"""One province, two maps (metrics.md v2, "Units and their history"): the main job over two weeks of
the merged Phú Thọ scenario that cross 1 July 2025, with the marts compared, unit by unit and on both
geography bases, with the independent computation (tests/reference_metrics.py)."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests import reference_metrics as ref
from tests import test_end_to_end as e2e
from tests.conftest import main_job_env

START, END = dt.date(2025, 6, 23), dt.date(2025, 7, 8)
AS_OF = dt.datetime.combine(END, dt.time())
UNIT_TYPES = ("province", "department", "district", "commune", "agency")


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, subprocess.CompletedProcess[str]]:
    from dichvucong.simulator import generate

    landing = tmp_path_factory.mktemp("merged_landing")
    generate(landing, START, END, seed=7, scale=0.05, dirt_rate=0.01, scenario="phu-tho-2025")
    home = tmp_path_factory.mktemp("merged_home")
    env = main_job_env(home, DVC_PROVINCE_CODE="25", DVC_PROVINCE_NAME="Tỉnh Phú Thọ")
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    result = subprocess.run(["dichvucong", "run", "--landing", str(landing), "--start", START.isoformat(),
                             "--end", END.isoformat(), "--no-docs"], env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    return landing, home, result


@pytest.fixture(scope="module")
def published(merged) -> duckdb.DuckDBPyConnection:
    _, home, _ = merged
    con = duckdb.connect(str(home / "published" / "dichvucong.duckdb"), read_only=True)
    yield con
    con.close()


def test_both_bases_match_the_independent_computation_across_1_july(merged, published,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    landing, _, _ = merged
    monkeypatch.setattr(e2e, "AS_OF", AS_OF)
    monkeypatch.setattr(ref, "PROVINCE_OF_ORPHANS", "25")
    dossiers = ref.load_dossiers(landing, AS_OF)
    payments = ref.load_payments(landing)
    ref.reconcile(dossiers, payments)
    checked = 0
    for start, end in ((dt.datetime(2025, 6, 1), dt.datetime(2025, 7, 1)),
                       (dt.datetime(2025, 7, 1), dt.datetime(2025, 8, 1))):
        checked += e2e._check_period(published, (dossiers, payments), landing, "kpi_766", "month", start, end,
                                     UNIT_TYPES)
    assert checked > 500
    # The fixture exercises the rules: dossiers in flight on 30 June, ended under the successor.
    assert sum(1 for d in dossiers.values() if d.closed_on and d.ended and d.ended.date() >= d.closed_on) > 20


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


def test_june_is_the_three_old_provinces_as_was_and_the_merged_one_today(published) -> None:
    june = "period_type = 'month' and period_start = date '2025-06-01' and unit_type = 'province'"
    as_was = dict(_rows(published, f"select unit_code, dossiers_received from marts.kpi_766 "
                                   f"where geography_basis = 'as_was' and {june}"))
    current = dict(_rows(published, f"select unit_code, dossiers_received from marts.kpi_766 "
                                    f"where geography_basis = 'current' and {june}"))
    assert set(as_was) == {"17", "25", "26"} and all(as_was.values())
    assert current == {"25": sum(as_was.values())}
    # Districts only in periods that end by 1 July 2025.
    assert _rows(published, "select distinct period_start from marts.kpi_766 where unit_type = 'district' "
                            "and period_type = 'month'") == [(dt.date(2025, 6, 1),)]


def test_a_month_after_1_july_has_identical_rows_on_both_bases(published) -> None:
    columns = [r[0] for r in _rows(published, "select column_name from information_schema.columns "
                                              "where table_schema = 'marts' and table_name = 'kpi_766' "
                                              "and column_name <> 'geography_basis'")]
    select = ", ".join(f'"{c}"' for c in columns)
    july = "period_type = 'month' and period_start = date '2025-07-01'"
    for one, other in (("as_was", "current"), ("current", "as_was")):
        assert _rows(published, f"select count(*) from (select {select} from marts.kpi_766 where geography_basis = "
                                f"'{one}' and {july} except select {select} from marts.kpi_766 where "
                                f"geography_basis = '{other}' and {july})") == [(0,)]
    assert _rows(published, f"select count(*) from marts.kpi_766 where {july} and unit_type = 'commune' "
                            "and geography_basis = 'current'") == [(148,)]


def test_a_department_merged_from_three_keeps_one_series_today(published) -> None:
    # Each of today's departments has a row in June and July; in June as it was, three old ones stand
    # for it, and today's row counts their dossiers together.
    series = _rows(published, """
        select unit_code, count(distinct period_start), sum(dossiers_received) filter (
            where period_start = date '2025-06-01')
        from marts.kpi_766 where geography_basis = 'current' and unit_type = 'department' and period_type = 'month'
        group by unit_code""")
    assert len(series) == 15 and all(months == 2 for _, months, _ in series)
    old = _rows(published, """
        select a.successor_agency_code, count(*), sum(k.dossiers_received)
        from marts.kpi_766 as k inner join marts.dim_agencies as a on a.agency_code = k.unit_code
            and a.valid_to = date '2025-07-01'
        where k.geography_basis = 'as_was' and k.unit_type = 'department' and k.period_type = 'month'
            and k.period_start = date '2025-06-01'
        group by 1""")
    today = {code: june for code, _, june in series}
    assert len(old) == 15 and all(n == 3 for _, n, _ in old)
    assert all(today[code] == received for code, _, received in old)


def test_the_province_today_is_the_sum_of_its_agencies(published) -> None:
    """Every dossier has one of today's agencies: on the `current` basis and each month, the province's
    counts are its agencies' (as it was, an agency scores only the periods it exists at the end of)."""
    mismatches = _rows(published, """
        with p as (
            select geography_basis, period_start, sum(dossiers_received) as received, sum(ended_on_time) as on_time
            from marts.kpi_766 where unit_type = 'province' and period_type = 'month'
                and geography_basis = 'current' group by all),
        a as (
            select geography_basis, period_start, sum(dossiers_received) as received, sum(ended_on_time) as on_time
            from marts.kpi_766 where unit_type = 'agency' and period_type = 'month'
                and geography_basis = 'current' group by all)
        select * from p full join a using (geography_basis, period_start)
        where p.received is distinct from a.received or p.on_time is distinct from a.on_time""")
    assert not mismatches


def test_the_summary_shows_june_on_both_bases(merged) -> None:
    _, _, result = merged
    assert "06/2025" in result.stdout
