"""Freshness under the real scheduler: from a day's ingestion runs starting to the published copy
carrying that day, with Airflow's api-server, dag-processor and scheduler running as background
processes (LocalExecutor, SQLite metadata), over a history already built.

    python bench/freshness.py --scale merged-province-month [--landing DIR] [--out DIR] [--no-preload]

1. History (not timed): the scale's sources (bench/run.py's SCALES; generated, or linked with
   --landing), landed, built and published as of the scale's end by the task functions the DAGs call.
2. The stack (dichvucong.local_airflow): every DAG unpaused; the latest interval of each ingestion
   DAG (yesterday in real time: no files) runs, and the build it triggers; all settle first.
3. The day: one manual run per ingestion DAG for the scale's end day (conf start/end), all at once,
   as the daily schedule's tick starts them (the day's files are in the landing directory by then);
   the build follows through the Assets. Freshness is from those triggers until the published
   copy's `meta.publication` carries the day.
4. The same day run in this process from the same state (bench/run.py's one-day run): the work.

Breakdown, along the critical path (the required source whose validation ended last, then the
build): scheduling latency = the gaps where no task of the path ran (trigger to the first task's
start, a task's end to the next one's start, the last validation to the build's first task);
task time = the path's task durations; of which work = the same stages in this process; task
start-up = task time - work. Prints a table and writes bench/results/freshness-<scale>.json. The
scheduler preloads the tasks' slow modules (src/airflow_local_settings.py); --no-preload measures
without (freshness-<scale>-no-preload.json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402 - bench/run.py, beside this file

REQUIRED = ("agencies", "catalog", "dossiers", "payments")  # the Assets that trigger build_marts
INGEST_TASKS = ("check_layout", "land", "validate")
BUILD_TASKS = ("check_landing", "check_freshness", "dbt_build", "validate_marts", "publish")
# The in-process stage each task's work is measured by (bench/run.py's stage names, "day: " runs).
WORK = {"land": "land {source}", "validate": "validate raw {source}", "check_landing": "landing checks",
        "dbt_build": "dbt build", "validate_marts": "validate marts", "publish": "publish"}


def _when(value: str | None) -> dt.datetime:
    if value is None:
        raise ValueError("a task of the critical path has no start or end time")
    return dt.datetime.fromisoformat(value).astimezone(dt.UTC)


def _published_as_of(home: Path) -> dt.datetime | None:
    path = home / "published" / "dichvucong.duckdb"
    if not path.exists():
        return None
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select max(as_of) from meta.publication").fetchall()[0][0]


def measure(stack: Any, home: Path, day: dt.date) -> dict[str, Any]:
    """Trigger the day's ingestion runs, wait for its publication, and read the path's timings."""
    from dichvucong.landing.layout import FILE_DROP_ONLY, SOURCES
    from dichvucong.local_airflow import wait_for

    ingest = [s for s in SOURCES if s not in FILE_DROP_ONLY]
    conf = {"start": day.isoformat(), "end": (day + dt.timedelta(days=1)).isoformat()}
    builds_before = len(stack.runs("build_marts"))
    triggered = dt.datetime.now(dt.UTC)
    started = time.monotonic()
    runs = {source: stack.trigger(f"ingest_{source}", conf) for source in ingest}
    target = dt.datetime.combine(day + dt.timedelta(days=1), dt.time())
    wait_for(lambda: (_published_as_of(home) or dt.datetime.min) >= target, 3600, "the day's publication", 0.5)
    freshness, seen = time.monotonic() - started, dt.datetime.now(dt.UTC)
    wait_for(lambda: stack.settled("build_marts", builds_before + 1), 600, "the build run to settle")

    with stack.db() as con:
        tis = {(r["dag_id"], r["run_id"], r["task_id"]): dict(r) for r in con.execute(
            "select dag_id, run_id, task_id, state, start_date, end_date, queued_dttm from task_instance")}
        build_runs = [dict(r) for r in con.execute(
            "select run_id, queued_at, start_date, end_date, state from dag_run where dag_id = 'build_marts' "
            "order by queued_at")]
    # The build that published the day: the first one queued after the last required validation ended.
    validations = {s: tis[(f"ingest_{s}", runs[s], "validate")] for s in ingest}
    if any(v["state"] != "success" for v in validations.values()):
        raise RuntimeError(f"an ingestion run failed: {validations}")
    last = max(REQUIRED, key=lambda s: _when(validations[s]["end_date"]))
    ready = _when(validations[last]["end_date"])
    build = next(r for r in build_runs if _when(r["queued_at"]) >= ready - dt.timedelta(seconds=1))
    path = [(f"ingest_{last}", runs[last], t) for t in INGEST_TASKS] + \
           [("build_marts", build["run_id"], t) for t in BUILD_TASKS]
    steps = []
    previous_end = triggered
    for dag_id, run_id, task_id in path:
        ti = tis[(dag_id, run_id, task_id)]
        start, end = _when(ti["start_date"]), _when(ti["end_date"])
        steps.append({"task": f"{dag_id}.{task_id}", "wait_seconds": round((start - previous_end).total_seconds(), 2),
                      "task_seconds": round((end - start).total_seconds(), 2)})
        previous_end = end
    published = (seen - previous_end).total_seconds()  # publish's end -> seen here (polled every 0.5 s)
    return {"freshness_seconds": round(freshness, 1), "last_required_source": last, "path": steps,
            "scheduling_latency_seconds": round(sum(s["wait_seconds"] for s in steps), 1),
            "task_seconds": round(sum(s["task_seconds"] for s in steps), 1),
            "ingestion_seconds": round((ready - triggered).total_seconds(), 1),
            "asset_to_build_start_seconds": round((_when(tis[("build_marts", build["run_id"], "check_landing")]
                                                         ["start_date"]) - ready).total_seconds(), 1),
            "observed_after_publish_seconds": round(max(published, 0.0), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(bench.SCALES), default="merged-province-month")
    parser.add_argument("--out", type=Path, default=Path("/tmp/dichvucong-bench"))
    parser.add_argument("--seed", type=int, default=2022)
    parser.add_argument("--landing", type=Path, help="sources generated before, linked (as bench/run.py)")
    parser.add_argument("--results", type=Path, default=bench.ROOT / "bench" / "results")
    parser.add_argument("--no-preload", action="store_true",
                        help="DVC_AIRFLOW_PRELOAD=false: every task imports GX itself (src/airflow_local_settings.py)")
    args = parser.parse_args(argv)
    start, end, scale = bench.SCALES[args.scale]
    if args.scale.startswith("merged-"):
        os.environ.setdefault("DVC_PROVINCE_CODE", "25")
        os.environ.setdefault("DVC_PROVINCE_NAME", "Tỉnh Phú Thọ")
    home = args.out / f"freshness-{args.scale}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    key = os.environ.get("DVC_PSEUDONYM_KEY", "bench-key")
    os.environ.update({"DVC_HOME": str(home), "DVC_LANDING_DIR": str(home / "landing"), "DVC_PSEUDONYM_KEY": key})
    os.environ.setdefault("DVC_LAND_WORKERS", str(os.cpu_count() or 1))
    from dichvucong.local_airflow import Stack, airflow_env, free_port, wait_for
    from dichvucong.simulator import generate

    print(f"freshness at {args.scale}: history {start} to {end}, the day {end}, home {home}", flush=True)
    history: list[bench.Stage] = []
    with bench.stage(history, "generate sources (not work)"):
        if args.landing:
            (home / "landing").symlink_to(args.landing.resolve())
        else:
            generate(home / "landing", start, end + dt.timedelta(days=1), seed=args.seed, scale=scale,
                     scenario="phu-tho-2025" if args.scale.startswith("merged-") else "vinh-phuc")
    bench.pipeline_stages(history, "history: ", start, end, first=True)

    port = free_port()
    province = {k: os.environ[k] for k in ("DVC_PROVINCE_CODE", "DVC_PROVINCE_NAME") if k in os.environ}
    env = airflow_env(home, port, "freshness-bench-secret-0123456789abcdef", DVC_HOME=str(home),
                      DVC_LANDING_DIR=str(home / "landing"), DVC_PSEUDONYM_KEY=key, DVC_LAND_WORKERS="1",
                      AIRFLOW__LOGGING__LOGGING_LEVEL="WARNING",
                      DVC_AIRFLOW_PRELOAD="false" if args.no_preload else "true", **province)
    (home / "airflow").mkdir()
    subprocess.run(["airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    subprocess.run(["airflow", "pools", "set", "duckdb_warehouse", "1", "single writer"], env=env, check=True,
                   capture_output=True)
    from dichvucong.landing.layout import SOURCES

    dag_ids = [f"ingest_{s}" for s in SOURCES] + ["build_marts"]
    stack = Stack(home, env, port)
    try:
        stack.start(set(dag_ids))
        stack.unpause(dag_ids)
        # Each ingestion DAG's latest interval (yesterday in real time, no files) runs on unpausing,
        # and builds once: settled before the measurement starts.
        wait_for(lambda: all(stack.settled(d, 1) for d in dag_ids if d != "build_marts"), 900, "the latest intervals")
        wait_for(lambda: stack.settled("build_marts", 1) and stack.pending_asset_events() == 0, 900, "their build")
        bench.save_state(home)
        result = measure(stack, home, end)
    finally:
        stack.stop()
    # The same day in this process, from the same state: the work of each stage.
    bench.restore_state(home)
    work: list[bench.Stage] = []
    bench.pipeline_stages(work, "day: ", end, end + dt.timedelta(days=1))
    seconds = {s.name.removeprefix("day: "): s.seconds for s in work}
    for step in result["path"]:
        dag_id, task = step["task"].split(".")
        name = WORK.get(task, "").format(source=dag_id.removeprefix("ingest_"))
        step["work_seconds"] = round(seconds.get(name, 0.0), 2)
        step["startup_seconds"] = round(step["task_seconds"] - step["work_seconds"], 2)
    result |= {"scale": args.scale, "executor": "LocalExecutor", "metadata": "SQLite", "preload": not args.no_preload,
               "work_seconds": round(sum(s["work_seconds"] for s in result["path"]), 1),
               "startup_seconds": round(sum(s["startup_seconds"] for s in result["path"]), 1),
               "in_process_day_seconds": round(sum(seconds.values()), 1)}
    result["airflow_overhead_seconds"] = round(result["freshness_seconds"] - result["work_seconds"], 1)
    print(f"{'task':<34} {'wait':>7} {'task':>7} {'work':>7} {'start-up':>9}")
    for step in result["path"]:
        print(f"{step['task']:<34} {step['wait_seconds']:7.1f} {step['task_seconds']:7.1f} "
              f"{step['work_seconds']:7.1f} {step['startup_seconds']:9.1f}")
    print(json.dumps({k: v for k, v in result.items() if k != "path"}, indent=2))
    args.results.mkdir(parents=True, exist_ok=True)
    name = f"freshness-{args.scale}{'-no-preload' if args.no_preload else ''}.json"
    (args.results / name).write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
