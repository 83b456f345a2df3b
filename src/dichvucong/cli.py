"""Command line: `dichvucong simulate`, `dichvucong run` (the main job), `dichvucong summary`.

`run` generates synthetic sources for a period (or takes an existing landing
directory laid out as in `sources.md`), runs the real Airflow DAGs over it
in-process (`dag.test()`: ingestion of the three sources, then the build), and
prints the summary. It needs the Airflow environment that
`scripts/run_pipeline.sh` sets up (AIRFLOW_HOME, the DAGs folder, the metadata DB).
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

DEFAULT_START = dt.date(2022, 7, 1)
DEFAULT_END = dt.date(2022, 10, 1)

log = logging.getLogger("dichvucong")


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def cmd_simulate(args: argparse.Namespace) -> int:
    from dichvucong.simulator import generate

    if args.provinces:
        from dichvucong.provinces import load_provinces

        # Each configured province gets its own sources, of its own size and seed, in its landing area.
        for index, province in enumerate(load_provinces(args.provinces)):
            scale = float(province.simulate.get("scale", args.scale))
            seed = int(province.simulate.get("seed", args.seed + index))
            stats = generate(province.landing, args.start, args.end, seed=seed, scale=scale,
                             dirt_rate=args.dirt_rate)
            print(f"{province.slug}: {stats.dossiers:,} dossiers, {stats.sync_records:,} sync records, "
                  f"{stats.payment_rows:,} payment rows (scale {scale}, seed {seed}) under {province.landing}")
        return 0
    if args.out is None:
        raise SystemExit("simulate needs --out (or --provinces)")
    stats = generate(args.out, args.start, args.end, seed=args.seed, scale=args.scale, dirt_rate=args.dirt_rate)
    print(f"{stats.dossiers:,} dossiers, {stats.sync_records:,} sync records in {stats.dossier_files} files, "
          f"{stats.payment_rows:,} payment rows in {stats.payment_files} files, "
          f"{stats.catalog_snapshots} catalog snapshots under {args.out}")
    print("dirt injected: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.dirt.items())))
    return 0


def landing_range(landing: Path) -> tuple[dt.date, dt.date] | None:
    """[first, last + 1 day) of the batch days a landing directory holds (dossier and payment folders)."""
    days = []
    for source in ("dossiers", "payments"):
        folder = landing / source
        for child in folder.iterdir() if folder.is_dir() else []:
            try:
                days.append(dt.date.fromisoformat(child.name))
            except ValueError:
                continue
    return (min(days), max(days) + dt.timedelta(days=1)) if days else None


def catalog_start(landing: Path, start: dt.date) -> dt.date:
    """The day of the catalog snapshot in force on `start` (delivered on or before it), so that a
    range that starts between two snapshots still has its catalog."""
    from dichvucong.landing.extract import catalog_day

    # A name outside the layout (an impossible date, say) is the landing's finding, not a crash here.
    days = [day for p in (landing / "catalog").glob("*") if (day := catalog_day(p.name)) is not None]
    before = [d for d in days if d <= start]
    return max(before) if before else start


def run_dags(start: dt.date, end: dt.date, dags_folder: Path, first_catalog_day: dt.date | None = None
             ) -> dict[str, str]:
    """Run the real DAGs once each over [start, end): ingestion, then the build."""
    import pendulum
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(dags_folder))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    logical = pendulum.datetime(end.year, end.month, end.day, tz="Asia/Ho_Chi_Minh")
    states = {}
    conf = {"start": start.isoformat(), "end": end.isoformat()}
    for dag_id in ("ingest_catalog", "ingest_dossiers", "ingest_payments", "build_marts"):
        dag = bag.get_dag(dag_id)
        if dag is None:
            raise RuntimeError(f"DAG {dag_id} not found in {dags_folder}")
        run_conf = conf if dag_id != "build_marts" else {"as_of": f"{end.isoformat()}T00:00:00"}
        if dag_id == "ingest_catalog" and first_catalog_day:
            run_conf = {"start": first_catalog_day.isoformat(), "end": end.isoformat()}
        began = time.monotonic()
        run = dag.test(logical_date=logical, run_conf=run_conf)
        states[dag_id] = str(run.state)
        log.info("%s: %s in %.1f s", dag_id, run.state, time.monotonic() - began)
        if str(run.state) != "success":
            raise RuntimeError(f"DAG run {dag_id} ended {run.state}: see the task logs above")
    return states


def reset_lake_and_warehouse(settings: Any) -> None:
    """The main job is one run over its range: it starts from an empty lake and warehouse, so that
    nothing from an earlier run over other files (or other days) mixes into its marts. The
    published copy stays until a new one passes its gates; validation history and alert state stay."""
    import shutil

    for name in ("raw_catalog", "raw_dossiers", "raw_payments", "load_audit", "quarantine", "_http_manifest"):
        shutil.rmtree(settings.lake_dir / name, ignore_errors=True)
    for path in (settings.warehouse_path, settings.warehouse_path.with_name(settings.warehouse_path.name + ".wal"),
                 settings.marts_path, settings.marts_path.with_name(settings.marts_path.name + ".wal")):
        path.unlink(missing_ok=True)


def _serve_landing(landing: Path, seed: int) -> Any:
    """Serve the landing directory as the source system's API (with typical faults), and point
    the pipeline at it: the DAGs then extract over HTTP instead of reading the files."""
    import secrets

    from dichvucong.source_server import Faults, SourceData, SourceServer

    token = secrets.token_urlsafe(24)
    server = SourceServer(SourceData.load(landing), token, Faults.typical(seed))
    server.start_in_thread()
    os.environ.update({"DVC_SOURCE_MODE": "http", "DVC_SOURCE_URL": server.url, "DVC_SOURCE_TOKEN": token})
    log.info("extracting over HTTP from %s (faults: %s)", server.url, server.faults)
    return server


def cmd_run(args: argparse.Namespace) -> int:
    from dichvucong.config import REPO_ROOT, Settings

    if args.landing:
        os.environ["DVC_LANDING_DIR"] = str(Path(args.landing).resolve())
    settings = Settings.from_env()
    began = time.monotonic()
    if args.landing:
        if not settings.landing_dir.is_dir():
            print(f"landing directory {settings.landing_dir} does not exist", file=sys.stderr)
            return 2
        found = landing_range(settings.landing_dir)
        if found is None:
            print(f"no dossier or payment batch folders under {settings.landing_dir}", file=sys.stderr)
            return 2
        # Without a range, the run covers every batch day the directory holds.
        args.start = args.start or found[0]
        args.end = args.end or found[1]
        print(f"Landing {settings.landing_dir}: batch days {args.start} to {args.end - dt.timedelta(days=1)}")
    else:
        from dichvucong.simulator import generate

        args.start = args.start or DEFAULT_START
        args.end = args.end or DEFAULT_END
        stats = generate(settings.landing_dir, args.start, args.end, seed=args.seed, scale=args.scale)
        log.info("generated %s dossiers (%s sync records) and %s payment rows in %.1f s", stats.dossiers,
                 stats.sync_records, stats.payment_rows, time.monotonic() - began)
    dags_folder = Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", REPO_ROOT / "dags"))
    # The main job lands its whole range at once, in this process: one day per core.
    os.environ.setdefault("DVC_LAND_WORKERS", str(os.cpu_count() or 1))
    reset_lake_and_warehouse(settings)
    server = None
    if args.source == "http":
        server = _serve_landing(settings.landing_dir, args.seed)
    try:
        run_dags(args.start, args.end, dags_folder, catalog_start(settings.landing_dir, args.start))
    finally:
        if server is not None:
            server.shutdown()
            print(f"Source API: {server.requests} requests, faults served {server.faults_served}")
    from dichvucong.summary import write_summary
    from dichvucong.transform import generate_docs

    docs = generate_docs(settings)
    text, path = write_summary(settings)
    print("\n" + text)
    print(f"dbt docs (models, columns, lineage): {docs}")
    print(f"\nSummary written to {path}; main job took {time.monotonic() - began:.0f} s")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from dichvucong.source_server import main as serve

    return serve(["--landing", str(args.landing), "--port", str(args.port), "--faults", args.faults,
                  "--seed", str(args.seed)])


def cmd_summary(args: argparse.Namespace) -> int:
    from dichvucong.config import Settings
    from dichvucong.summary import build_summary

    print(build_summary(Settings.from_env()))
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dichvucong.dashboard.app import serve

    print(f"Dashboard of the published marts: http://{args.host}:{args.port}/  (Ctrl+C stops it)", flush=True)
    serve(args.host, args.port, args.published)
    return 0


def cmd_airflow_pools(args: argparse.Namespace) -> int:
    """One warehouse pool of one slot per configured province (the single province's comes from bootstrap)."""
    import subprocess

    from dichvucong.assets import province_assets
    from dichvucong.provinces import load_provinces

    provinces: list[Any] = load_provinces(args.provinces) if args.provinces else load_provinces()
    for province in provinces or [None]:
        pool = province_assets(province).pool
        subprocess.run(["airflow", "pools", "set", pool, "1", "Single writer of a DuckDB warehouse"],
                       check=True, capture_output=True)
        print(f"pool {pool}: 1 slot")
    return 0


def cmd_national(args: argparse.Namespace) -> int:
    from dichvucong.national import build_national
    from dichvucong.provinces import load_provinces

    result = build_national(load_provinces(args.provinces) if args.provinces else load_provinces())
    print(f"ranked {result['provinces_published']} of {result['provinces']} provinces: {result['national']}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dichvucong", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    simulate = sub.add_parser("simulate", help="write synthetic source files for a date range")
    simulate.add_argument("--out", type=Path, help="landing directory to write into")
    simulate.add_argument("--provinces", type=Path,
                          help="a provinces file: generate every province's sources into its landing area")
    simulate.add_argument("--start", type=_date, default=DEFAULT_START, help="first day (YYYY-MM-DD)")
    simulate.add_argument("--end", type=_date, default=DEFAULT_END, help="day after the last (YYYY-MM-DD)")
    simulate.add_argument("--seed", type=int, default=2022)
    simulate.add_argument("--scale", type=float, default=1.0, help="volume factor (1 = Vĩnh Phúc)")
    simulate.add_argument("--dirt-rate", type=float, default=0.002, help="rate of injected dirty records")
    simulate.set_defaults(func=cmd_simulate)

    run = sub.add_parser("run", help="the main job: sources -> DAGs -> published marts -> summary")
    run.add_argument("--landing", help="existing landing directory (sources.md layout); no generation")
    run.add_argument("--start", type=_date, help=f"first batch day (YYYY-MM-DD); default {DEFAULT_START} when "
                     "generating, the first batch folder with --landing")
    run.add_argument("--end", type=_date, help=f"day after the last batch day; default {DEFAULT_END} when "
                     "generating, the day after the last batch folder with --landing")
    run.add_argument("--seed", type=int, default=2022)
    run.add_argument("--scale", type=float, default=1.0)
    run.add_argument("--source", choices=["file", "http"], default="file",
                     help="file: read the landing directory; http: serve it as the source API "
                          "(with faults) and extract over HTTP")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve-source", help="serve a landing directory as the source system's HTTP API")
    serve.add_argument("--landing", type=Path, required=True)
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--faults", choices=["none", "typical"], default="typical")
    serve.add_argument("--seed", type=int, default=0)
    serve.set_defaults(func=cmd_serve)

    summary = sub.add_parser("summary", help="print the summary of the published marts")
    summary.set_defaults(func=cmd_summary)

    dashboard = sub.add_parser("dashboard", help="serve the officials' dashboard and API over the published marts")
    dashboard.add_argument("--host", default=os.environ.get("DVC_DASHBOARD_HOST", "127.0.0.1"))
    dashboard.add_argument("--port", type=int, default=int(os.environ.get("DVC_DASHBOARD_PORT", "8050")))
    dashboard.add_argument("--published", type=Path, help="published marts file (default: DVC_PUBLISHED_PATH)")
    dashboard.set_defaults(func=cmd_dashboard)

    pools = sub.add_parser("airflow-pools", help="create the warehouse pool of every configured province")
    pools.add_argument("--provinces", type=Path, help="provinces file (default: DVC_PROVINCES_FILE)")
    pools.set_defaults(func=cmd_airflow_pools)

    national = sub.add_parser("national", help="rank every configured province from its published marts")
    national.add_argument("--provinces", type=Path, help="provinces file (default: DVC_PROVINCES_FILE)")
    national.set_defaults(func=cmd_national)

    args = parser.parse_args(argv)
    if getattr(args, "end", None) and getattr(args, "start", None) and args.end <= args.start:
        parser.error("--end must be after --start")
    if args.command == "run" and not args.landing and bool(args.start) != bool(args.end):
        parser.error("give both --start and --end, or neither")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
