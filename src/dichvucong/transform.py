"""Runs the dbt project (dbt-duckdb) in a child process: the only writer of the warehouse."""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dichvucong.config import Settings

log = logging.getLogger(__name__)


class TransformError(RuntimeError):
    """dbt failed: a model did not build or a dbt test with severity error failed."""


@dataclass(frozen=True)
class BuildReport:
    as_of: str
    nodes: int
    failures: int
    warnings: int
    elapsed_seconds: float


def landed_as_of(settings: Settings) -> dt.datetime:
    """Local midnight after the latest landed dossier batch: the default as-of time."""
    days = sorted(p.parent.name.removeprefix("batch_date=")
                  for p in (settings.lake_dir / "raw_dossiers").glob("batch_date=*/data.parquet"))
    if not days:
        raise TransformError("no dossier batch has been landed: run the ingestion DAGs first")
    return dt.datetime.combine(dt.date.fromisoformat(days[-1]) + dt.timedelta(days=1), dt.time())


def check_inputs(settings: Settings) -> None:
    from dichvucong.quality.history import ensure_table

    for table in ("raw_catalog", "raw_dossiers", "raw_payments"):
        if not any((settings.lake_dir / table).glob("batch_date=*/data.parquet")):
            raise TransformError(f"nothing landed for {table}: run its ingestion DAG first")
    ensure_table(settings.lake_dir)


def dbt_environment(settings: Settings) -> dict[str, str]:
    return {
        "DVC_LAKE_DIR": str(settings.lake_dir),
        "DVC_WAREHOUSE_PATH": str(settings.warehouse_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
        "DO_NOT_TRACK": "1",
    }


def run_dbt(settings: Settings, args: list[str]) -> dict[str, Any]:
    """Run dbt in a child process and return its run_results.json (empty for `docs`).

    A child process, not dbtRunner in-process: dbt-duckdb keeps its write
    connection open for the life of the process, which would lock the
    warehouse against the validation and publication that follow.
    """
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    work = settings.home / "dbt"
    target = work / "target"
    results_file = target / "run_results.json"
    results_file.unlink(missing_ok=True)
    command = [
        str(Path(sys.executable).with_name("dbt")), *args,
        "--project-dir", str(settings.dbt_project_dir),
        "--profiles-dir", str(settings.dbt_project_dir),
        "--target-path", str(target),
        "--log-path", str(work / "logs"),
    ]
    env = os.environ | dbt_environment(settings)
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    for line in completed.stdout.splitlines():
        log.info("dbt: %s", line)
    produces_results = args[0] != "docs"
    if completed.returncode not in (0, 1) or (produces_results and not results_file.exists()):
        log.error("dbt stderr: %s", completed.stderr[-4000:])
        raise TransformError(f"dbt {args[0]} could not run (exit {completed.returncode})")
    results: dict[str, Any] = json.loads(results_file.read_text()) if produces_results else {}
    results["returncode"] = completed.returncode
    return results


def build(settings: Settings, as_of: dt.datetime | None = None, select: str | None = None) -> BuildReport:
    """`dbt build` (seeds, models, dbt tests and unit tests) as of a local time."""
    check_inputs(settings)
    as_of = as_of or landed_as_of(settings)
    args = ["build", "--vars", json.dumps({"as_of": as_of.strftime("%Y-%m-%d %H:%M:%S")})]
    if select:
        args += ["--select", select]
    started = dt.datetime.now()
    results = run_dbt(settings, args)
    nodes = results.get("results", [])
    failures = [n for n in nodes if n["status"] in {"error", "fail"}]
    warnings = [n for n in nodes if n["status"] == "warn"]
    report = BuildReport(as_of.isoformat(), len(nodes), len(failures), len(warnings),
                         (dt.datetime.now() - started).total_seconds())
    log.info("dbt build %s", report)
    if failures or results["returncode"] != 0:
        names = ", ".join(f"{n['unique_id']} ({n['status']}: {(n.get('message') or '')[:200]})"
                          for n in failures[:10])
        raise TransformError(f"dbt build failed: {names or 'see the dbt log above'}")
    return report


def generate_docs(settings: Settings) -> Path:
    run_dbt(settings, ["docs", "generate", "--static"])
    return settings.home / "dbt" / "target" / "static_index.html"
