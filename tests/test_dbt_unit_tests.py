"""The dbt project's unit tests (`unit_tests:` in dbt_project/models/**/_*__unit_tests.yml), run once
over the main job's warehouse: a build leaves them out (transform.build), so this is where they run.
Each one names the metrics.md rule it checks; here every one defined must run and pass."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import yaml

from dichvucong import transform
from dichvucong.config import REPO_ROOT, Settings
from tests.conftest import SMALL_END, MainJobRuns


def _defined_unit_tests() -> set[str]:
    names = set()
    for path in (REPO_ROOT / "dbt_project" / "models").rglob("*.yml"):
        names |= {test["name"] for test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests", [])}
    return names


def test_every_dbt_unit_test_runs_and_passes(main_job_runs: MainJobRuns, dvc_home: Path) -> None:
    # A copy: dbt writes each test's fixtures into the warehouse it runs against.
    for part in ("warehouse", "lake"):
        shutil.copytree(main_job_runs.as_run / part, dvc_home / part)
    defined = _defined_unit_tests()
    assert len(defined) >= 17
    as_of = dt.datetime.combine(SMALL_END, dt.time())
    assert transform.unit_tests(Settings.from_env(), as_of) == len(defined)
