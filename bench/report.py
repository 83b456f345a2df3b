"""Markdown tables from bench/results/*.json (the tables of docs/benchmarks.md).

    python bench/report.py [RESULTS_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ORDER = ["smoke", "province-month", "province-year", "province-year-2x", "province-year-4x", "nation-month"]


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
              f"| {run['floor_seconds']} s | {run['full_to_floor_ratio']}x | {run['day_work_seconds']} s "
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
