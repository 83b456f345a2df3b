"""The benchmark command runs end to end at its smallest scale (numbers are printed, not asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_bench_smoke_run_reports_every_stage(tmp_path: Path) -> None:
    results = tmp_path / "results"
    env = os.environ | {"DVC_PSEUDONYM_KEY": "bench-test-key"}
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--scale", "smoke", "--out", str(tmp_path / "home"),
         "--results", str(results)],
        env=env, capture_output=True, text=True, timeout=600, check=False)
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    summary = json.loads((results / "smoke.json").read_text())
    names = [stage["name"] for stage in summary["stages"]]
    for prefix in ("", "day: "):
        for name in ("land dossiers", "validate raw dossiers", "dbt build", "validate marts", "publish"):
            assert prefix + name in names
    assert "airflow: dag.test() overhead" in names
    builds = {s["name"]: s["extra"] for s in summary["stages"] if s["name"].endswith("dbt build")}
    assert builds["dbt build"]["mode"] == "full" and builds["day: dbt build"]["mode"] == "incremental"
    assert summary["generated"]["dossiers"] > 0 and summary["full_peak_rss_mb"] > 0
    assert 0 < summary["validation_share"] < 1
    assert not (tmp_path / "home" / "smoke").exists()  # cleaned up without --keep
