"""The benchmark command runs end to end at its smoke scale (two weeks, a tenth of the province): numbers are
printed, not asserted; the floor's rows must be the published kpi_766's, with its rates where its rules
are metrics.md v2's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from dichvucong.landing.layout import SOURCES, SPARSE_SOURCES

ROOT = Path(__file__).resolve().parent.parent


def test_bench_smoke_run_reports_every_stage(tmp_path: Path) -> None:
    results = tmp_path / "results"
    env = os.environ | {"DVC_PSEUDONYM_KEY": "bench-test-key"}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--scale", "smoke", "--out", str(tmp_path / "home"),
         "--results", str(results), "--day-runs", "2"],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    summary = json.loads((results / "smoke.json").read_text())
    names = [stage["name"] for stage in summary["stages"]]
    for prefix in ("", "day: "):
        for name in (*(f"land {source}" for source in SOURCES), *(f"validate raw {source}" for source in SOURCES),
                     "dbt build", "validate marts", "publish"):
            assert prefix + name in names
    assert "airflow: dag.test() overhead" in names
    # The tasks' slow imports are timed apart, before the full run's stages, and not counted as its work.
    assert names.index("import task modules (not work)") < names.index("land agencies")
    assert summary["imports_seconds"] > 0
    assert summary["full_work_seconds"] == round(sum(
        s["seconds"] for s in summary["stages"]
        if not s["name"].startswith(("generate", "import", "day:", "floor", "airflow:"))), 1)
    builds = {s["name"]: s["extra"] for s in summary["stages"] if s["name"].endswith("dbt build")}
    assert builds["dbt build"]["mode"] == "full" and builds["day: dbt build"]["mode"] == "incremental"
    # The second one-day run starts from the full run's state again: it sees the same changed batches,
    # the day's batch of each source delivered every day (dossier calls, processing log, payments).
    day_batches = len([source for source in SOURCES if source not in SPARSE_SOURCES])
    assert len(summary["day_work_seconds_runs"]) == 2
    assert summary["day_changed_batches_runs"] == [day_batches, day_batches]
    assert summary["generated"]["dossiers"] > 0 and summary["full_peak_rss_mb"] > 0
    assert 0 < summary["validation_share"] < 1
    check = summary["floor_check"]
    assert check["floor_rows"] == check["matched_rows"] == check["equal_rates"] > 50
    assert not (tmp_path / "home" / "smoke").exists()  # cleaned up without --keep
