"""`dichvucong run` checks its landing before it runs anything, and says what it does (issue 20.2, 20.4).

A landing directory without `catalog/` used to cost minutes of Airflow retries and end on a
traceback naming another cause ("nothing landed for raw_catalog"); a range with no batch day, a
wrong path, folders named outside the layout, the same. Now each is one message, at once, naming
what is missing and the expected layout; and a run logs each stage to stderr.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import time
from pathlib import Path

import pytest

from dichvucong.cli import LandingLayoutError, check_landing_layout, landing_range
from dichvucong.landing.layout import REQUIRED_SOURCES, SOURCES
from tests.conftest import SMALL_END, SMALL_START, main_job_env

LAYOUT = ("expected layout (shared/spec/sources.md v2): agencies/coquan_YYYYMMDD.csv, catalog/services_YYYYMMDD.csv, "
          "dossiers/YYYY-MM-DD/*.json, processing/YYYY-MM-DD/*.json, "
          "payments/YYYY-MM-DD/doisoat_YYYYMMDD_<MaTrungGian>.csv")


def _run(home: Path, *args: str, timeout: float = 120, **extra: str) -> tuple[subprocess.CompletedProcess[str], float]:
    began = time.monotonic()
    result = subprocess.run(["dichvucong", "run", *args], env=main_job_env(home, **extra), capture_output=True,
                            text=True, timeout=timeout, check=False)
    return result, time.monotonic() - began


def _landing_without(small_landing: Path, folder: Path, missing: str) -> Path:
    """The small landing, its source folders linked, less one."""
    folder.mkdir()
    for source in SOURCES:
        if source != missing:
            (folder / source).symlink_to(small_landing / source, target_is_directory=True)
    return folder


@pytest.mark.parametrize("missing", REQUIRED_SOURCES)
def test_a_landing_without_a_source_folder_is_refused_at_once(small_landing: Path, tmp_path: Path,
                                                             missing: str) -> None:
    landing = _landing_without(small_landing, tmp_path / "landing", missing)
    home = tmp_path / "home"
    result, seconds = _run(home, "--landing", str(landing))
    assert result.returncode == 2, result.stderr[-3000:]
    assert f"landing directory {landing} has no {missing}/ folder; {LAYOUT}" in result.stderr
    assert "(it holds: " in result.stderr and "Traceback" not in result.stderr
    assert seconds < 30, f"refused after {seconds:.0f} s"
    assert not home.exists(), "nothing is written for a landing that is refused"


def test_a_range_with_no_batch_day_is_refused_with_the_days_the_landing_holds(small_landing: Path,
                                                                            tmp_path: Path) -> None:
    result, seconds = _run(tmp_path / "home", "--landing", str(small_landing), "--start", "2023-01-01",
                           "--end", "2023-02-01")
    last = SMALL_END - dt.timedelta(days=1)
    assert result.returncode == 2, result.stderr[-3000:]
    assert (f"--start 2023-01-01 --end 2023-02-01 holds no dossier batch day of {small_landing}: it has "
            f"dossiers/ {SMALL_START} to {last} (28 days), payments/ {SMALL_START} to {last} (28 days)"
            ) in result.stderr
    assert "Traceback" not in result.stderr and seconds < 30


def test_the_layout_rules(small_landing: Path, tmp_path: Path) -> None:
    # The whole small landing: every batch day, both catalog snapshots.
    layout = check_landing_layout(small_landing)
    assert (layout.start, layout.end, layout.dossier_days, layout.payment_days, layout.catalog_snapshots) == (
        SMALL_START, SMALL_END, 28, 28, 2)
    # From between the two snapshots (5 and 15 Feb): the one in force at the start only.
    assert check_landing_layout(small_landing, dt.date(2024, 2, 20), SMALL_END).catalog_snapshots == 1

    # A path one level too deep: every folder missing is named, and what the path holds is shown.
    with pytest.raises(LandingLayoutError, match=r"has no agencies/ and no catalog/ and no dossiers/ and no payments/ "
                       r"folder; "
                       r".*\(it holds: 2024-02-05/, 2024-02-06/, .*, … 20 more\)"):
        check_landing_layout(small_landing / "dossiers")
    with pytest.raises(LandingLayoutError, match=r"landing directory .*/nowhere does not exist"):
        check_landing_layout(tmp_path / "nowhere")

    # Folders named outside the layout are no batch days (as the landing reads them).
    odd = tmp_path / "odd"
    for folder in ("agencies", "catalog", "dossiers/20240205", "dossiers/2024-13-45", "payments"):
        (odd / folder).mkdir(parents=True)
    (odd / "payments" / "2024-02-05").write_text("a file, not a batch folder", encoding="utf-8")
    with pytest.raises(LandingLayoutError, match=r"has no batch-day folder \(YYYY-MM-DD\) under dossiers/ or "
                                                 r"payments/"):
        check_landing_layout(odd)

    # Dossier days, but the only catalog snapshot comes after the range.
    (odd / "dossiers" / "2024-02-05").mkdir()
    (odd / "catalog" / "services_20240301.csv").write_text("MaTTHC\n", encoding="utf-8")
    with pytest.raises(LandingLayoutError, match=r"has no catalog snapshot delivered before 2024-02-06 "
                                                 r"\(the first is of 2024-03-01\)"):
        check_landing_layout(odd)
    (odd / "catalog" / "services_20240101.csv").write_text("MaTTHC\n", encoding="utf-8")
    # The agency list too must be in force: every dossier is read against it.
    with pytest.raises(LandingLayoutError, match=r"has no agencies snapshot delivered before 2024-02-06: the marts "
                                                 r"need the agency list in force; expected "
                                                 r"agencies/coquan_YYYYMMDD.csv \(it is empty\)"):
        check_landing_layout(odd)
    (odd / "agencies" / "coquan_20240101.csv").write_text("MaDinhDanh\n", encoding="utf-8")
    assert check_landing_layout(odd).catalog_snapshots == 1
    assert check_landing_layout(odd).agency_snapshots == 1

    # Payments alone in the range: no dossier day, said so.
    (odd / "payments" / "2024-02-10").mkdir()
    with pytest.raises(LandingLayoutError, match=r"holds no dossier batch day \(payments only\)"):
        check_landing_layout(odd, dt.date(2024, 2, 10), dt.date(2024, 2, 11))


def test_landing_range_counts_only_batch_folders(tmp_path: Path) -> None:
    """`date.fromisoformat` takes `20240105` since Python 3.11; the landing does not (it is an
    entry outside the layout), so the range must not either."""
    (tmp_path / "dossiers" / "20240105").mkdir(parents=True)
    (tmp_path / "payments").mkdir()
    (tmp_path / "payments" / "2024-01-09").write_text("", encoding="utf-8")  # a file, not a folder
    assert landing_range(tmp_path) is None
    (tmp_path / "dossiers" / "2024-01-07").mkdir()
    assert landing_range(tmp_path) == (dt.date(2024, 1, 7), dt.date(2024, 1, 8))


def test_a_generating_run_logs_its_stages_with_the_numbers(tmp_path: Path) -> None:
    """Without --landing, the job generates sources first: it says so, with the numbers of what it
    wrote, before Airflow loads. The DAGs folder is empty, so that the run stops right after (on
    "DAG ingest_agencies not found"); the full run's progress lines are checked in test_run_lock."""
    home = tmp_path / "home"
    (home / "airflow").mkdir(parents=True)
    subprocess.run(["airflow", "db", "migrate"], env=main_job_env(home), check=True, capture_output=True)
    (tmp_path / "no-dags").mkdir()
    result, _ = _run(home, "--start", "2024-02-05", "--end", "2024-02-08", "--scale", "0.01", "--scenario", "vinh-phuc",
                     AIRFLOW__CORE__DAGS_FOLDER=str(tmp_path / "no-dags"))
    assert result.returncode == 1 and "DAG ingest_agencies not found" in result.stderr, result.stderr[-3000:]
    lines = [line.split(" dichvucong: ", 1)[1] for line in result.stderr.splitlines() if " dichvucong: " in line]
    assert lines[0] == (f"generating synthetic sources for 2024-02-05 to 2024-02-07 (scale 0.01, seed 2022, "
                        f"scenario vinh-phuc) into {home / 'landing'}")
    calls = list((home / "landing" / "dossiers").rglob("*.json"))
    assert calls
    assert lines[1].startswith("generated in ") and f"sync records in {len(calls)} calls)" in lines[1]
    assert "1 agency and 1 catalog snapshot(s)" in lines[1]
    assert lines[2] == f"loading Airflow and the DAGs from {tmp_path / 'no-dags'}"
