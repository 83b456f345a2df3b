"""The main job's closing summary over the shared run's published marts: the province's last full month
on the units as they were, every indicator the points table scores and the six groups, the total out of
the row's measurable maximum; June 2025 on both bases only when the marts span 1 July 2025."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from dichvucong.config import Settings
from dichvucong.summary import build_summary
from tests.conftest import MainJobRuns


@pytest.fixture
def home(main_job_runs: MainJobRuns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shared run's published marts and lake, as DVC_HOME."""
    for part in ("published", "lake"):
        shutil.copytree(main_job_runs.as_run / part, tmp_path / part)
    monkeypatch.setenv("DVC_HOME", str(tmp_path))
    for name in ("DVC_PUBLISHED_PATH", "DVC_LAKE_DIR", "DVC_REPORTS_DIR", "DVC_WAREHOUSE_PATH", "DVC_PROVINCE_CODE"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_the_summary_scores_the_province_on_the_points_table(home: Path) -> None:
    text = build_summary(Settings.from_env())
    with duckdb.connect(str(home / "published" / "dichvucong.duckdb"), read_only=True) as con:
        indicators = con.execute("select indicator_code, indicator_name, max_points, is_scored, group_name "
                                 "from marts.dim_766_indicators").fetchall()
        province = con.execute(
            "select unit_code, points_total, points_measurable, points_on_time_rate from marts.kpi_766 "
            "where geography_basis = 'as_was' and unit_type = 'province' and period_type = 'month' "
            "and period_start = '2024-02-01'").fetchall()[0]
    assert "Province, 766 indicators for 02/2024 (last full month)" in text
    assert f": {province[0]} " in text, "the province as it was then"
    for code, name, top, scored, group in indicators:
        assert group in text, group
        if scored:
            assert re.search(rf"^\s+{re.escape(code)}\s+{name}\s.*/ {top:g}$", text, re.M), (code, name)
        elif name:
            assert not re.search(rf"^\s+{re.escape(code)}\s+{name}\s", text, re.M), f"{code} is not scored"
    assert re.search(rf"^\s+2\.1\s+on_time_rate\s.*\s{province[3]:.2f} / 20$", text, re.M)
    assert f"total {province[1]:.2f} / {province[2]:g} points" in text and "/ 80 points" in text
    assert "not measurable from these sources (18 points)" in text
    for level in ("Agencies", "Departments", "Districts", "Communes"):
        assert level in text
    assert "June 2025" not in text, "the run does not span 1 July 2025"


def test_june_2025_on_both_bases_when_the_marts_span_the_reorganisation(home: Path) -> None:
    """Months on both sides of 1 July 2025 (the shared run's February, moved there): June 2025 is shown
    on both bases, each province row of it."""
    published = home / "published" / "dichvucong.duckdb"
    with duckdb.connect(str(published)) as con:
        for month in ("2025-06-01", "2025-07-01"):
            con.execute(
                "insert into marts.kpi_766 select * replace (?::date as period_start, "
                "?::date + interval 1 month as period_end) from marts.kpi_766 "
                "where unit_type = 'province' and period_type = 'month' and period_start = '2024-02-01'",
                [month, month])
        rows = con.execute("select geography_basis, unit_code, points_total from marts.kpi_766 where "
                           "unit_type = 'province' and period_start = '2025-06-01' order by 1").fetchall()
    text = build_summary(Settings.from_env())
    block = text[text.index("June 2025"):].split("\n\n")[0].splitlines()[1:]
    assert [line.split()[0] for line in block] == [basis for basis, _, _ in rows] == ["as_was", "current"]
    for line, (_, code, points) in zip(block, rows, strict=True):
        assert f" {code} " in line and f"{points:6.2f} / 80" in line
    assert "Province, 766 indicators for 02/2024" in text, "the last full month is still the data's"
