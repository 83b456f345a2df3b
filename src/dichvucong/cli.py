"""Command line: `dichvucong simulate`, `dichvucong run` (the main job), `dichvucong summary`, `dichvucong report`.

`run` generates synthetic sources for a period (or takes an existing landing
directory laid out as in `sources.md`), runs the real Airflow DAGs over it
in-process (`dag.test()`: ingestion of the three sources, then the build), and
prints the summary. It needs the Airflow environment that
`scripts/run_pipeline.sh` sets up (AIRFLOW_HOME, the DAGs folder, the metadata DB).

One main job at a time per DVC home (`run_lock`): a second one refuses at once,
or waits with `--wait`. A landing directory is checked before anything runs
(`check_landing_layout`), so a wrong path or a missing source folder is one
clear message, not minutes of retries ending in another error. Progress goes to
stderr through `logging` (the summary alone is printed to stdout).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import fcntl
import logging
import os
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dichvucong.landing import layout

DEFAULT_START = dt.date(2022, 7, 1)
DEFAULT_END = dt.date(2022, 10, 1)

# The main job's default world (issue "one province, two maps"): the merged Phú Thọ over May-August
# 2025, across the reorganisation of 1 July 2025, at the scale that keeps the job near two minutes;
# its province (the configured one, DVC_PROVINCE_CODE/_NAME, unless set) is Phú Thọ.
RUN_DEFAULT_SCENARIO = "phu-tho-2025"
RUN_DEFAULT_START = dt.date(2025, 5, 1)
RUN_DEFAULT_END = dt.date(2025, 9, 1)
RUN_DEFAULT_SCALE = 0.2
SCENARIO_PROVINCES = {"vinh-phuc": ("26", "Tỉnh Vĩnh Phúc"), "phu-tho-2025": ("25", "Tỉnh Phú Thọ")}

log = logging.getLogger("dichvucong.cli")

# Exit codes of `run` besides 0 (success) and 1 (a DAG run failed): 2, the landing or the
# arguments are wrong (the same on every try); 75 (EX_TEMPFAIL), another main job holds the
# home's lock (try again later, or pass --wait).
EXIT_BAD_INPUT = 2
EXIT_LOCKED = 75

LOCK_NAME = ".run.lock"

# The simulator's scenarios (dichvucong.simulator.SCENARIOS, the default first), named here so that
# parsing the arguments does not import the simulator.
SIMULATOR_SCENARIOS = ("vinh-phuc", "phu-tho-2025")

# The landing layout of sources.md v2, as FileDropReader reads it.
SOURCE_LAYOUT = layout.EXPECTED
EXPECTED_LAYOUT = layout.EXPECTED_LAYOUT

# Third-party notices that are about a library's own dependencies, not about this pipeline or its
# data, and that nobody running it can act on: (message regex, module regex of the line that
# warns). Matched narrowly, so that every other warning, ours or a library's, still shows.
KNOWN_LIBRARY_WARNINGS = (
    # Starlette wants httpx2; Airflow's in-process execution API (dag.test) imports its TestClient.
    (r"Using `httpx` with `starlette\.testclient` is deprecated", r"(fastapi|starlette)\.testclient"),
)


class RunLocked(RuntimeError):
    """Another process holds the main job's lock of this DVC home."""


class LandingLayoutError(ValueError):
    """A landing directory that cannot hold what a run is asked to land. The same on every try, so
    it is reported at once and never retried (the ingestion DAGs turn it into AirflowFailException)."""


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
                             dirt_rate=args.dirt_rate, scenario=str(province.simulate.get("scenario", args.scenario)))
            print(f"{province.slug}: {stats.dossiers:,} dossiers, {stats.sync_records:,} sync records, "
                  f"{stats.payment_rows:,} payment rows (scale {scale}, seed {seed}) under {province.landing}")
        return 0
    if args.out is None:
        raise SystemExit("simulate needs --out (or --provinces)")
    stats = generate(args.out, args.start, args.end, seed=args.seed, scale=args.scale, dirt_rate=args.dirt_rate,
                     scenario=args.scenario)
    print(f"{stats.dossiers:,} dossiers, {stats.sync_records:,} sync records in {stats.dossier_files:,} calls "
          f"({stats.rejected_calls:,} rejected), {stats.processing_records:,} processing records in "
          f"{stats.processing_files:,} calls, {stats.payment_rows:,} payment rows in {stats.payment_files:,} files, "
          f"{stats.agency_snapshots} agency and {stats.catalog_snapshots} catalog snapshots under {args.out}")
    print("dirt injected: " + ", ".join(f"{k} {v}" for k, v in sorted(stats.dirt.items())))
    return 0


def batch_days(folder: Path) -> list[dt.date]:
    """The batch days of a dossier or payment folder, sorted: its sub-folders named YYYY-MM-DD
    with a real date. Other entries (`20220706`, `2022-13-45`, a file) belong to no batch day, as
    the landing reads them (`landing.extract._folder_day`): `date.fromisoformat` alone would take
    `20220706` since Python 3.11. An absent folder has none."""
    return sorted(day for child in (folder.iterdir() if folder.is_dir() else [])
                  if (day := layout.folder_day(child.name)) is not None and child.is_dir())


def landing_range(landing: Path) -> tuple[dt.date, dt.date] | None:
    """[first, last + 1 day) of the batch days a landing directory holds (dossier and payment folders)."""
    days = batch_days(landing / "dossiers") + batch_days(landing / "payments")
    return (min(days), max(days) + dt.timedelta(days=1)) if days else None


def check_source_folder(landing: Path, source: str) -> Path:
    """The folder of one source (`layout.SOURCES`) under a landing directory.

    Raises LandingLayoutError, naming the path and the expected layout, when the landing directory
    or a required source's folder is missing (the optional processing log's is only warned about):
    a daily run would otherwise land an empty day (and a rerun
    replace a landed day with nothing) from a volume that is not mounted or a mistyped path.
    """
    if not landing.is_dir():
        raise LandingLayoutError(f"landing directory {landing} does not exist or is not a directory; "
                                 f"{EXPECTED_LAYOUT}")
    folder = landing / source
    if not folder.is_dir() and source not in layout.REQUIRED_SOURCES:
        log.warning("landing directory %s has no %s/ folder: no %s landed (optional source)", landing, source, source)
        return folder
    if not folder.is_dir():
        raise LandingLayoutError(f"landing directory {landing} has no {source}/ folder; {EXPECTED_LAYOUT}"
                                 + _holds(landing))
    return folder


def _holds(folder: Path, shown: int = 8) -> str:
    """`` (it holds: a/, b.csv, …)`` — what a directory that is not laid out as expected holds, which
    tells a wrong path (one level too deep, say) from an incomplete delivery."""
    with contextlib.suppress(OSError):
        names = sorted(f"{e.name}/" if e.is_dir() else e.name for e in folder.iterdir())
        if not names:
            return " (it is empty)"
        more = f", … {len(names) - shown} more" if len(names) > shown else ""
        return f" (it holds: {', '.join(names[:shown])}{more})"
    return ""


@dataclass(frozen=True)
class LandingLayout:
    """What a landing directory holds for a run over batch days [start, end)."""

    landing: Path
    start: dt.date
    end: dt.date
    dossier_days: int  # batch-day folders of dossiers/ in [start, end)
    payment_days: int  # batch-day folders of payments/ in [start, end)
    catalog_snapshots: int  # snapshots in force during [start, end): the one at start and those after
    agency_snapshots: int = 1  # the same for the agency list


def check_landing_layout(landing: Path, start: dt.date | None = None, end: dt.date | None = None
                         ) -> LandingLayout:
    """Check a landing directory before a run over [start, end) (by default, every batch day it holds).

    Rules, each a LandingLayoutError naming what is missing and the expected layout:
    the directory exists and has the folders `catalog/`, `dossiers/` and `payments/` (every one
    missing is named); they hold batch days (`YYYY-MM-DD` folders under dossiers/ or payments/);
    the range holds at least one dossier batch day (a range with none would build empty marts;
    the message gives the days the directory holds); and a catalog snapshot `services_YYYYMMDD.csv`
    is in force during the range (delivered before `end`: the one in force at `start`, or a
    later one, which dossiers before it take). Reads names only, never a file's content.
    """
    if not landing.is_dir():
        raise LandingLayoutError(f"landing directory {landing} does not exist or is not a directory; "
                                 f"{EXPECTED_LAYOUT}")
    missing = [f"{source}/" for source in layout.REQUIRED_SOURCES if not (landing / source).is_dir()]
    if missing:
        raise LandingLayoutError(f"landing directory {landing} has no {' and no '.join(missing)} folder; "
                                 f"{EXPECTED_LAYOUT}" + _holds(landing))
    dossiers, payments = batch_days(landing / "dossiers"), batch_days(landing / "payments")
    if not dossiers and not payments:
        raise LandingLayoutError(f"landing directory {landing} has no batch-day folder (YYYY-MM-DD) under "
                                 f"dossiers/ or payments/; {EXPECTED_LAYOUT}")
    if start is None or end is None:
        found = landing_range(landing)
        assert found is not None  # batch days were found above
        start, end = start or found[0], end or found[1]
    if end <= start:
        raise LandingLayoutError(f"empty range: --end {end} is not after --start {start}")
    in_range = [d for d in dossiers if start <= d < end]
    if not in_range:
        span = ", ".join(f"{name}/ {days[0]} to {days[-1]} ({len(days)} days)"
                         for name, days in (("dossiers", dossiers), ("payments", payments)) if days)
        only = " (payments only)" if any(start <= d < end for d in payments) else ""
        raise LandingLayoutError(
            f"--start {start} --end {end} holds no dossier batch day{only} of {landing}: it has {span} "
            f"(--end is the day after the last batch day)")
    counted = {}
    for source, role in (("catalog", "the catalog"), ("agencies", "the agency list")):
        snapshots = sorted(day for p in (landing / source).iterdir()
                           if (day := layout.snapshot_day(source, p.name)) is not None)
        in_force = [d for d in snapshots if d < end]
        if not in_force:
            first = f" (the first is of {snapshots[0]})" if snapshots else ""
            raise LandingLayoutError(f"landing directory {landing} has no {source} snapshot delivered before {end}"
                                     f"{first}: the marts need {role} in force; expected "
                                     f"{SOURCE_LAYOUT[source]}" + ("" if snapshots else _holds(landing / source)))
        at_start = [d for d in in_force if d <= start]
        counted[source] = len(in_force) - max(len(at_start) - 1, 0)
    return LandingLayout(landing, start, end, dossier_days=len(in_range),
                         payment_days=sum(start <= d < end for d in payments),
                         catalog_snapshots=counted["catalog"], agency_snapshots=counted["agencies"])


def snapshot_start(landing: Path, start: dt.date, source: str = "catalog") -> dt.date:
    """The day of the snapshot (`catalog` or `agencies`) in force on `start` (delivered on or
    before it), so that a range that starts between two snapshots still has its list."""
    # A name outside the layout (an impossible date, say) is the landing's finding, not a crash here.
    days = [day for p in (landing / source).glob("*") if (day := layout.snapshot_day(source, p.name)) is not None]
    before = [d for d in days if d <= start]
    return max(before) if before else start


def run_dags(start: dt.date, end: dt.date, dags_folder: Path,
             first_snapshot_days: dict[str, dt.date] | None = None) -> dict[str, str]:
    """Run the real DAGs once each over [start, end): ingestion, then the build."""
    import pendulum

    began = time.monotonic()
    log.info("loading Airflow and the DAGs from %s", dags_folder)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(dags_folder))
    if bag.import_errors:
        raise RuntimeError(f"DAG import errors: {bag.import_errors}")
    log.info("%d DAGs loaded in %.1f s", len(bag.dag_ids), time.monotonic() - began)
    logical = pendulum.datetime(end.year, end.month, end.day, tz="Asia/Ho_Chi_Minh")
    states = {}
    conf = {"start": start.isoformat(), "end": end.isoformat()}
    for dag_id in (*(f"ingest_{source}" for source in layout.SOURCES), "build_marts"):
        dag = bag.get_dag(dag_id)
        if dag is None:
            raise RuntimeError(f"DAG {dag_id} not found in {dags_folder}")
        run_conf = conf if dag_id != "build_marts" else {"as_of": f"{end.isoformat()}T00:00:00"}
        snapshot_from = (first_snapshot_days or {}).get(dag_id.removeprefix("ingest_"))
        if snapshot_from:  # the snapshot in force at the start is landed too
            run_conf = {"start": snapshot_from.isoformat(), "end": end.isoformat()}
        began = time.monotonic()
        started_at = pendulum.now("UTC")
        log.info("%s: starting, conf %s", dag_id, run_conf)
        run = dag.test(logical_date=logical, run_conf=run_conf)
        _stamp_real_start(run, started_at)
        states[dag_id] = str(run.state)
        log.info("%s: %s in %.1f s", dag_id, run.state, time.monotonic() - began)
        if str(run.state) != "success":
            raise RuntimeError(f"DAG run {dag_id} ended {run.state}: see the task logs above")
    return states


def _stamp_real_start(run: Any, started_at: Any) -> None:
    """Write a run's wall-clock start into the Airflow metadata DB. `dag.test()` stamps a run's
    start_date with its logical date (Airflow 3.3, airflow/sdk/definitions/dag.py), so the UI showed
    a run over 2022 data as lasting years; its end_date is already the real end."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import update

    with create_session() as session:
        session.execute(update(DagRun).where(DagRun.id == run.id).values(start_date=started_at))


@contextlib.contextmanager
def run_lock(home: Path, wait: bool = False) -> Iterator[Path]:
    """Hold the main job's lock of a DVC home for the length of a `with` block; yields the lock file.

    The lock is an exclusive `flock` on `<home>/.run.lock`, and the file holds the holder's PID
    while it is held. Two main jobs on one home would share its lake, warehouse and Airflow
    metadata DB (one then fails on a DAG run's unique key, the other lands the files twice). The
    kernel releases the lock when its holder exits, however it exits (SIGKILL too), so there is no
    stale lock to clean up; the file itself stays and is never removed (a process that removed it
    could let two holders lock two different files).

    Raises RunLocked, naming the file and the holder's PID, when another process holds the lock
    and `wait` is false; with `wait`, blocks until the holder is done.
    """
    home.mkdir(parents=True, exist_ok=True)
    path = home / LOCK_NAME
    # os.open's descriptor is not inherited across exec (PEP 446): dbt and other children never
    # hold the lock after the job exits.
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise
            holder = _lock_holder(path)
            if not wait:
                raise RunLocked(f"another main job (PID {holder}) is running on {home}: it holds the lock "
                                f"file {path}. Wait for it to finish, or pass --wait to queue behind it") from None
            log.info("another main job (PID %s) holds %s: waiting for it to finish (--wait)", holder, path)
            began = time.monotonic()
            fcntl.flock(fd, fcntl.LOCK_EX)
            log.info("lock %s acquired after %.0f s of waiting", path, time.monotonic() - began)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield path
        finally:
            # Done: no PID left behind that names a process no longer holding it.
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
    finally:
        os.close(fd)  # releases the lock


def _lock_holder(path: Path, patience: float = 1.0) -> str:
    """The PID in a lock file held by another process. The holder writes it just after it locks:
    read again for a moment when it is not there yet."""
    deadline = time.monotonic() + patience
    while True:
        with contextlib.suppress(OSError):
            text = path.read_text(encoding="ascii", errors="replace").strip()
            if text:
                return text
        if time.monotonic() >= deadline:
            return "unknown"
        time.sleep(0.05)


def reset_lake_and_warehouse(settings: Any) -> None:
    """The main job is one run over its range: it starts from an empty lake and warehouse, so that
    nothing from an earlier run over other files (or other days) mixes into its marts. The
    published copy stays until a new one passes its gates; validation history and alert state stay."""
    import shutil

    from dichvucong.landing import lake

    for name in (*lake.SOURCE_TABLES.values(), "load_audit", "quarantine", "landing_findings", "_http_manifest"):
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
    """The main job. Order: check the landing (an existing one, read-only), take the home's lock,
    generate sources (without --landing), reset the lake and warehouse, run the DAGs, write the
    docs and the summary; the lock is held from before anything is written until the end."""
    from dichvucong.config import REPO_ROOT, Settings

    if args.landing:
        os.environ["DVC_LANDING_DIR"] = str(Path(args.landing).resolve())
    else:  # generating: the default world, and its province unless one is configured
        args.scenario = args.scenario or RUN_DEFAULT_SCENARIO
        if args.scenario == RUN_DEFAULT_SCENARIO and args.start is None and args.end is None:
            args.start, args.end = RUN_DEFAULT_START, RUN_DEFAULT_END
        if args.scale is None:
            args.scale = RUN_DEFAULT_SCALE if args.scenario == RUN_DEFAULT_SCENARIO else 1.0
        code, name = SCENARIO_PROVINCES[args.scenario]
        os.environ.setdefault("DVC_PROVINCE_CODE", code)
        os.environ.setdefault("DVC_PROVINCE_NAME", name)
    settings = Settings.from_env()
    began = time.monotonic()
    if args.landing:
        # Before the lock: a wrong landing is refused at once, even behind another job (--wait).
        try:
            layout = check_landing_layout(settings.landing_dir, args.start, args.end)
        except LandingLayoutError as exc:
            log.error("%s", exc)
            return EXIT_BAD_INPUT
        args.start, args.end = layout.start, layout.end
        log.info("landing %s: batch days %s to %s (%d with dossiers, %d with payments, %d catalog snapshots)",
                 settings.landing_dir, args.start, args.end - dt.timedelta(days=1), layout.dossier_days,
                 layout.payment_days, layout.catalog_snapshots)
    try:
        with run_lock(settings.home, wait=args.wait):
            return _run_locked(args, settings, REPO_ROOT, began)
    except RunLocked as exc:
        log.error("%s", exc)
        return EXIT_LOCKED


def _run_locked(args: argparse.Namespace, settings: Any, repo_root: Path, began: float) -> int:
    if not args.landing:
        from dichvucong.simulator import generate

        args.start = args.start or DEFAULT_START
        args.end = args.end or DEFAULT_END
        log.info("generating synthetic sources for %s to %s (scale %s, seed %s, scenario %s) into %s", args.start,
                 args.end - dt.timedelta(days=1), args.scale, args.seed, args.scenario, settings.landing_dir)
        stats = generate(settings.landing_dir, args.start, args.end, seed=args.seed, scale=args.scale,
                         scenario=args.scenario)
        log.info("generated in %.1f s: %s dossiers (%s sync records in %s calls), %s processing records in %s "
                 "calls, %s payment rows in %s files, %s agency and %s catalog snapshot(s)", time.monotonic() - began,
                 f"{stats.dossiers:,}", f"{stats.sync_records:,}", f"{stats.dossier_files:,}",
                 f"{stats.processing_records:,}", f"{stats.processing_files:,}", f"{stats.payment_rows:,}",
                 f"{stats.payment_files:,}", stats.agency_snapshots, stats.catalog_snapshots)
        try:  # what the generator wrote is laid out as the landing reads it: a check of the generator
            check_landing_layout(settings.landing_dir, args.start, args.end)
        except LandingLayoutError as exc:
            log.error("%s", exc)
            return EXIT_BAD_INPUT
    dags_folder = Path(os.environ.get("AIRFLOW__CORE__DAGS_FOLDER", repo_root / "dags"))
    # The main job lands its whole range at once, in this process: one day per core.
    os.environ.setdefault("DVC_LAND_WORKERS", str(os.cpu_count() or 1))
    reset_lake_and_warehouse(settings)
    server = None
    if args.source == "http":
        server = _serve_landing(settings.landing_dir, args.seed)
    try:
        first_snapshots = {source: snapshot_start(settings.landing_dir, args.start, source)
                           for source in layout.SNAPSHOT_SOURCES}
        run_dags(args.start, args.end, dags_folder, first_snapshots)
    finally:
        if server is not None:
            server.shutdown()
            print(f"Source API: {server.requests} requests, faults served {server.faults_served}")
    from dichvucong.summary import write_summary
    from dichvucong.transform import generate_docs

    step = time.monotonic()
    log.info("writing the summary%s", "" if args.no_docs else " and the dbt docs")
    docs = None if args.no_docs else generate_docs(settings)
    text, path = write_summary(settings)
    log.info("summary%s written in %.1f s", "" if args.no_docs else " and docs", time.monotonic() - step)
    print("\n" + text)
    if docs is not None:
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


def _month(text: str) -> dt.date:
    """YYYY-MM, the first day of that month."""
    try:
        return dt.datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a month YYYY-MM: {text!r}") from None


def cmd_report(args: argparse.Namespace) -> int:
    """The officials' monthly report from the published marts, as HTML and PDF; mailed with --mail."""
    from dichvucong.config import Settings
    from dichvucong.report import ReportError, mail_channel, mail_report, write_report

    try:
        if args.mail:
            mail_channel()  # before the work: a run that cannot mail says so at once
        written = write_report(Settings.from_env(), args.month, unit=args.unit, basis=args.basis, out=args.out,
                               unit_type=args.unit_type)
        print(f"{written.html}\n{written.pdf}")
        if args.mail:
            recipients = mail_report(written)
            print(f"mailed {written.pdf.name} to {', '.join(recipients)}")
    except ReportError as exc:
        log.error("%s", exc)
        return EXIT_BAD_INPUT
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    from dichvucong.config import Settings
    from dichvucong.dashboard.app import serve

    settings = Settings.from_env()
    host, port = args.host or settings.dashboard_host, args.port or settings.dashboard_port
    print(f"Dashboard of the published marts: http://{host}:{port}/  (Ctrl+C stops it)", flush=True)
    serve(host, port, args.published)
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
    simulate.add_argument("--scenario", choices=SIMULATOR_SCENARIOS, default=SIMULATOR_SCENARIOS[0],
                          help="vinh-phuc: Vĩnh Phúc alone; phu-tho-2025: Vĩnh Phúc, Hòa Bình and Phú Thọ, "
                               "merged on 1 July 2025 (scale 1 ≈ 3 × Vĩnh Phúc)")
    simulate.set_defaults(func=cmd_simulate)

    run = sub.add_parser("run", help="the main job: sources -> DAGs -> published marts -> summary")
    run.add_argument("--landing", help="existing landing directory (sources.md layout); no generation")
    run.add_argument("--start", type=_date, help=f"first batch day (YYYY-MM-DD); default {RUN_DEFAULT_START} when "
                     f"generating the default world ({DEFAULT_START} for another), the first batch folder with "
                     "--landing")
    run.add_argument("--end", type=_date, help=f"day after the last batch day; default {RUN_DEFAULT_END} when "
                     f"generating the default world ({DEFAULT_END} for another), the day after the last batch "
                     "folder with --landing")
    run.add_argument("--seed", type=int, default=2022)
    run.add_argument("--scale", type=float, help=f"volume factor when generating; default {RUN_DEFAULT_SCALE} for "
                     f"{RUN_DEFAULT_SCENARIO}, 1 (Vĩnh Phúc) for vinh-phuc")
    run.add_argument("--scenario", choices=SIMULATOR_SCENARIOS,
                     help=f"simulated world when generating (see `simulate --scenario`); default "
                          f"{RUN_DEFAULT_SCENARIO}, the merged province across 1 July 2025")
    run.add_argument("--source", choices=["file", "http"], default="file",
                     help="file: read the landing directory; http: serve it as the source API "
                          "(with faults) and extract over HTTP")
    run.add_argument("--wait", action="store_true",
                     help=f"when another main job runs on the same DVC home (it holds <DVC_HOME>/{LOCK_NAME}), "
                          f"wait for it to finish instead of exiting at once with status {EXIT_LOCKED}")
    run.add_argument("--no-docs", action="store_true",
                     help="skip generating the dbt docs at the end (a few seconds; the marts are the same)")
    run.set_defaults(func=cmd_run)

    serve = sub.add_parser("serve-source", help="serve a landing directory as the source system's HTTP API")
    serve.add_argument("--landing", type=Path, required=True)
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument("--faults", choices=["none", "typical"], default="typical")
    serve.add_argument("--seed", type=int, default=0)
    serve.set_defaults(func=cmd_serve)

    summary = sub.add_parser("summary", help="print the summary of the published marts")
    summary.set_defaults(func=cmd_summary)

    report = sub.add_parser("report", help="the officials' monthly report (Vietnamese, HTML and PDF) of the "
                                           "published marts; --mail sends the PDF")
    report.add_argument("--month", type=_month, required=True, help="the month, YYYY-MM")
    report.add_argument("--unit", help="unit code (kpi_766.unit_code); default: the province (DVC_PROVINCE_CODE)")
    report.add_argument("--unit-type", choices=["province", "department", "district", "commune", "agency"],
                        help="the unit's type, when its code names several (default: the widest that has it)")
    report.add_argument("--basis", choices=["as_was", "current"], default="as_was",
                        help="geography basis: the units as they were that month (default), or today's")
    report.add_argument("--out", type=Path, help="folder to write report-YYYY-MM-<unit>.html and .pdf into "
                                                 "(default: <DVC_REPORTS_DIR>/monthly)")
    report.add_argument("--mail", action="store_true",
                        help="mail the PDF to DVC_REPORT_TO through the alerts' SMTP server (DVC_ALERT_SMTP_*)")
    report.set_defaults(func=cmd_report)

    dashboard = sub.add_parser("dashboard", help="serve the officials' dashboard and API over the published marts")
    dashboard.add_argument("--host", help="default: DVC_DASHBOARD_HOST (127.0.0.1)")
    dashboard.add_argument("--port", type=int, help="default: DVC_DASHBOARD_PORT (8050)")
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
    _progress_to_stderr()
    _quiet_known_library_warnings()
    return int(args.func(args))


def _progress_to_stderr() -> None:
    """The CLI's progress lines (INFO and above) go to stderr through a handler of their own.
    Airflow, once imported, configures the root logger at its own level (WARNING under
    scripts/env.sh) and would drop them; the task logs of dag.test still go where Airflow sends them."""
    if any(getattr(h, "_dichvucong_progress", False) for h in log.handlers):
        return  # main() called again in one process
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s dichvucong: %(message)s"))
    handler._dichvucong_progress = True  # type: ignore[attr-defined]
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False  # else printed twice: by this handler and by the root logger's


def _quiet_known_library_warnings() -> None:
    """Ignore the third-party notices in KNOWN_LIBRARY_WARNINGS, each by its message and the module
    that warns; nothing else is filtered."""
    for message, module in KNOWN_LIBRARY_WARNINGS:
        warnings.filterwarnings("ignore", message=message, module=module)


if __name__ == "__main__":
    sys.exit(main())
