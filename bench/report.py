"""Markdown tables from bench/results/*.json (the tables of docs/benchmarks.md).

    python bench/report.py [RESULTS_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ORDER = ["smoke", "province-month", "province-year", "province-year-2x", "province-year-4x", "merged-province-month",
         "merged-province-year", "largest-province-year", "nation-month"]
# The growth table: a province's year at 1x, 3x (the merged Phu Tho) and 12x (the largest merged province).
GROWTH = ["province-year", "merged-province-year", "largest-province-year"]
# The full run's stages, grouped as the growth table shows them (bench/run.py's stage names).
GROUPS = {"land (every source)": ("land ",), "validate (with the landing checks)": ("validate ", "landing checks"),
          "dbt build": ("dbt build",), "publish": ("publish",)}


def _or_dash(value: float | None, unit: str) -> str:
    """`value` with its unit, or a dash where the bench has none (a floor that ran out of memory)."""
    return "–" if value is None else f"{value}{unit}"


def main(argv: list[str]) -> int:
    folder = Path(argv[0]) if argv else Path(__file__).with_name("results")
    runs = {p.stem: json.loads(p.read_text()) for p in folder.glob("*.json") if p.stem != "day_ratio"}
    names = [n for n in ORDER if n in runs]
    print("| scale | dossiers | sync records | full work | peak memory | validation share | floor | work / floor "
          "| one-day run | one-day dbt build | disk (landing / lake / warehouse) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for name in names:
        run = runs[name]
        day_build = next(s for s in run["stages"] if s["name"] == "day: dbt build")
        disk = run["disk_mb"]
        print(f"| {name} | {run['generated']['dossiers']:,} | {run['generated']['sync_records']:,} "
              f"| {run['full_work_seconds']} s | {run['full_peak_rss_mb']:,} MB | {run['validation_share']:.0%} "
              f"| {_or_dash(run['floor_seconds'], ' s')} | {_or_dash(run['full_to_floor_ratio'], 'x')} "
              f"| {run['day_work_seconds']} s "
              f"| {day_build['seconds']:.1f} s "
              f"| {disk['landing']:.0f} / {disk['lake']:.0f} / {disk['warehouse']:.0f} MB |")
    ratio_file = folder / "day_ratio.json"
    if ratio_file.exists():  # bench/day_ratio.py: month and year one-day runs in alternation
        ratio = json.loads(ratio_file.read_text())
        print(f"\none-day run, month and year in alternation ({ratio['rounds']} rounds):\n")
        print("| round | province-month | province-year | ratio |")
        print("|---|---|---|---|")
        seconds = ratio["one_day_seconds"]
        for index, (month, year) in enumerate(zip(seconds["province-month"], seconds["province-year"], strict=True)):
            print(f"| {index + 1} | {month:.1f} s | {year:.1f} s | {year / month:.2f} |")
        medians = ratio["median_seconds"]
        print(f"| median | {medians['province-month']:.1f} s | {medians['province-year']:.1f} s "
              f"| **{ratio['ratio_of_medians']:.2f}** |")
        if "stages" in ratio:  # bench/day_ratio.py's medians per stage and the dbt nodes growing most
            print("\n| stage or dbt node (median) | month | year | difference |")
            print("|---|---|---|---|")
            for name, pair in ratio["stages"].items():
                if pair["month"] or pair["year"]:
                    print(f"| {name} | {pair['month']:.2f} s | {pair['year']:.2f} s | "
                          f"{pair['year'] - pair['month']:+.2f} s |")
            for node in ratio["dbt_nodes_growing_most"]:
                print(f"| dbt {node['node']} | {node['month']:.2f} s | {node['year']:.2f} s | "
                      f"{node['year'] - node['month']:+.2f} s |")
    growth(runs)
    for name in names:
        run = runs[name]
        print(f"\n{name} — stages:\n")
        print("| stage | seconds | rows | rows/s | peak memory |")
        print("|---|---|---|---|---|")
        for stage in run["stages"]:
            rate = f"{stage['rows_per_second']:,}" if stage["rows_per_second"] else ""
            rows = f"{stage['rows']:,}" if stage["rows"] else ""
            print(f"| {stage['name']} | {stage['seconds']:.1f} | {rows} | {rate} | {stage['peak_rss_mb']:,.0f} MB |")
    return 0


def _seconds(run: dict, prefix: str | tuple[str, ...]) -> float:
    return sum(s["seconds"] for s in run["stages"] if s["name"].startswith(prefix))


def growth(runs: dict[str, dict]) -> None:
    """How each part of the full run grows from a province's year to three and twelve times it:
    seconds, rows per second of the landing, and each scale's ratio to the first."""
    names = [n for n in GROWTH if n in runs]
    if len(names) < 2:
        return
    print("\ngrowth of a year's full run (x: against " + names[0] + "):\n")
    print("| | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")

    def row(label: str, values: list[float | None], unit: str = " s", digits: int = 1) -> None:
        cells = ["–" if v is None else
                 f"{v:,.{digits}f}{unit}" + ("" if i == 0 or not values[0] else f" ({v / values[0]:.1f}x)")
                 for i, v in enumerate(values)]
        print(f"| {label} | " + " | ".join(cells) + " |")

    row("sync records", [runs[n]["generated"]["sync_records"] for n in names], "", 0)
    row("processing records", [runs[n]["generated"]["processing_records"] for n in names], "", 0)
    for label, prefix in GROUPS.items():
        row(label, [_seconds(runs[n], prefix) for n in names])
    row("full work", [runs[n]["full_work_seconds"] for n in names])
    row("floor (one DuckDB query)", [runs[n]["floor_seconds"] for n in names])
    print("| full work / floor | " + " | ".join(_or_dash(runs[n]['full_to_floor_ratio'], 'x') for n in names) + " |")
    row("landing: sync and processing records per second of every source's landing", [
        (runs[n]["generated"]["sync_records"] + runs[n]["generated"]["processing_records"]) / _seconds(runs[n], "land ")
        for n in names], "", 0)
    row("peak of the process tree", [runs[n]["full_peak_rss_mb"] for n in names], " MiB", 0)
    row("one-day run", [runs[n]["day_work_seconds"] for n in names])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
