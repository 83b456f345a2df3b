"""The one-day run at two histories, measured in alternation: the growth target's ratio.

    python bench/day_ratio.py [--rounds 5] [--out DIR]

Needs the homes `bench/run.py --scale province-month --keep` and `--scale
province-year --keep` left under --out (each with the state after its full
run, `_after_full_run`). Each round restores both homes to that state and runs
the next day's stages in each, month then year (after an untimed warm-up
round), so that both runs of a round meet the same machine: this machine's speed moves by ±10 % within minutes,
more than the history changes a day's cost. Prints every round and the ratio
of the medians (and each round's own ratio), and writes
`bench/results/day_ratio.json`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run import ROOT, SAVED, SCALES, Stage, machine_speed, pipeline_stages, restore_state  # noqa: E402

SHORT, LONG = "province-month", "province-year"


def day_run(home: Path, scale: str) -> list[Stage]:
    end = SCALES[scale][1]
    os.environ.update({"DVC_HOME": str(home), "DVC_LANDING_DIR": str(home / "landing"),
                       "AIRFLOW_HOME": str(home / "airflow")})
    restore_state(home)
    run: list[Stage] = []
    pipeline_stages(run, "day: ", end, end + dt.timedelta(days=1))
    return run


def node_seconds(home: Path) -> dict[str, float]:
    """{dbt node: execution seconds} of the last build under `home` (dbt's run_results.json)."""
    results = json.loads((home / "dbt" / "target" / "run_results.json").read_text(encoding="utf-8"))
    return {r["unique_id"].split(".", 1)[0] + ":" + r["unique_id"].split(".")[2]: r["execution_time"]
            for r in results["results"]}


def medians(samples: list[dict[str, float]]) -> dict[str, float]:
    names = {name for sample in samples for name in sample}
    return {name: round(statistics.median(sample.get(name, 0.0) for sample in samples), 2) for name in names}


def where_it_grows(stages: dict[str, list[dict[str, float]]], nodes: dict[str, list[dict[str, float]]],
                   top: int = 15) -> dict[str, Any]:
    """The median seconds of each stage at both histories, and the dbt nodes whose median grows most
    from the month to the year: what the ratio is made of."""
    per_stage = {scale: medians(samples) for scale, samples in stages.items()}
    per_node = {scale: medians(samples) for scale, samples in nodes.items()}
    growth = sorted(((name, per_node[LONG].get(name, 0.0), per_node[SHORT].get(name, 0.0))
                     for name in set(per_node[SHORT]) | set(per_node[LONG])), key=lambda row: row[2] - row[1])
    return {
        "stages": {name: {"month": per_stage[SHORT].get(name, 0.0), "year": per_stage[LONG].get(name, 0.0)}
                   for name in per_stage[SHORT] | per_stage[LONG]},
        "dbt_node_seconds_total": {scale: round(sum(values.values()), 2) for scale, values in per_node.items()},
        "dbt_nodes_growing_most": [{"node": name, "month": month, "year": year}
                                   for name, year, month in growth[:top]],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/dichvucong-bench"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed rounds first: the first run in a process also pays its imports")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    os.environ.setdefault("DVC_PSEUDONYM_KEY", "bench-key")
    homes = {scale: args.out / scale for scale in (SHORT, LONG)}
    for scale, home in homes.items():
        if not (home / SAVED).is_dir():
            raise SystemExit(f"no saved state under {home}: run bench/run.py --scale {scale} --keep first")
    speed = machine_speed()
    for _ in range(args.warmup):
        for scale, home in homes.items():
            day_run(home, scale)
    seconds: dict[str, list[float]] = {SHORT: [], LONG: []}
    builds: dict[str, list[float]] = {SHORT: [], LONG: []}
    stages: dict[str, list[dict[str, float]]] = {SHORT: [], LONG: []}
    nodes: dict[str, list[dict[str, float]]] = {SHORT: [], LONG: []}
    for index in range(args.rounds):
        for scale, home in homes.items():
            run = day_run(home, scale)
            seconds[scale].append(round(sum(s.seconds for s in run), 2))
            builds[scale].append(round(next(s.seconds for s in run if s.name == "day: dbt build"), 2))
            stages[scale].append({s.name.removeprefix("day: "): s.seconds for s in run})
            nodes[scale].append(node_seconds(home))
        print(f"round {index + 1}/{args.rounds}: month {seconds[SHORT][-1]:.1f} s, year {seconds[LONG][-1]:.1f} s, "
              f"ratio {seconds[LONG][-1] / seconds[SHORT][-1]:.2f}", flush=True)
    medians = {scale: statistics.median(values) for scale, values in seconds.items()}
    summary = {
        "rounds": args.rounds, "warmup_rounds": args.warmup, "machine": speed,
        "one_day_seconds": seconds, "one_day_dbt_seconds": builds,
        "median_seconds": medians, "ratio_of_medians": round(medians[LONG] / medians[SHORT], 3),
        "ratios_per_round": [round(y / m, 3) for m, y in zip(seconds[SHORT], seconds[LONG], strict=True)],
    } | where_it_grows(stages, nodes)
    print(json.dumps(summary, indent=2))
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "day_ratio.json").write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
