"""Page load times of the officials' dashboard over a published marts file.

Starts the dashboard (a real uvicorn server on loopback), then for every page
measures the server's answer (HTTP, median and max of --repeat requests after
one warm-up) and the full load in headless Chromium (navigation to the `load`
event, same statistics), and the exports of the largest tables.

    python bench/dashboard.py --published /tmp/bench/province-year/published/dichvucong.duckdb
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import duckdb
import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dichvucong.dashboard.conftest import serve  # noqa: E402  (the tests' loopback server)


def _pages(published: Path) -> list[tuple[str, str]]:
    with duckdb.connect(str(published), read_only=True) as con:
        month = con.execute("select max(period_start) from marts.kpi_766 where period_type = 'month' "
                            "and is_complete").fetchall()[0][0]

        def busiest(unit_type: str) -> str:
            return str(con.execute(
                "select unit_code from marts.agg_unit_period_indicators where unit_type = ? and period_type = "
                "'month' and period_start = ? order by dossiers_received desc limit 1",
                [unit_type, month]).fetchall()[0][0])

        agency, district, service = busiest("agency"), busiest("district"), busiest("service")
    return [
        ("province", "/"), ("province, year", f"/?p=year:{month.year}-01-01"), ("agency", f"/agency/{agency}"),
        ("district", f"/district/{district}"), ("services", "/services"), ("service", f"/service/{service}"),
        ("overdue now", "/overdue?p="), ("fees", "/fees"), ("quality", "/quality"),
        ("export: services xlsx", "/api/v1/services?format=xlsx"),
        ("export: overdue csv", "/api/v1/overdue_dossiers?format=csv"),
        ("api: agency ranks json", "/api/v1/agency_ranks"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--published", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    pages = _pages(args.published)
    size_mb = args.published.stat().st_size / 1e6
    with duckdb.connect(str(args.published), read_only=True) as con:
        dossiers = con.execute("select count(*) from marts.fct_dossiers").fetchall()[0][0]
    print(f"published marts: {args.published} ({size_mb:.0f} MB, {dossiers:,} dossiers)")
    rows = []
    with serve(args.published) as url:
        with httpx.Client(base_url=url, timeout=120) as http:
            for name, path in pages:
                http.get(path).raise_for_status()  # warm-up: first open of the copy, OS cache
                times, size = [], 0
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    response = http.get(path)
                    times.append(time.perf_counter() - started)
                    response.raise_for_status()
                    size = len(response.content)
                rows.append([name, path, size, statistics.median(times), max(times)])
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=args.chromium,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                      "--disable-component-update", "--disable-sync", "--no-first-run"])
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            for row in rows:
                if row[1].startswith("/api/"):
                    row.append(None)
                    continue
                times = []
                for _ in range(args.repeat):
                    started = time.perf_counter()
                    page.goto(url + row[1], wait_until="load")
                    times.append(time.perf_counter() - started)
                row.append(statistics.median(times))
            browser.close()
    print("\n| page | bytes | server median (s) | server max (s) | browser load median (s) |")
    print("|---|---|---|---|---|")
    for name, _, size, median, worst, browser_load in rows:
        shown = "–" if browser_load is None else f"{browser_load:.3f}"
        print(f"| {name} | {size:,} | {median:.3f} | {worst:.3f} | {shown} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
