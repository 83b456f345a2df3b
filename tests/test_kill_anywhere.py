"""Kill anywhere (issue 16): the pipeline's process is killed by signal at ten points across
landing, build, validation and publication, its own process alone or its whole process group,
and each time retried from the task that was killed. No process may outlive a kill, the
published copy stays readable throughout, and the final marts equal a clean run's: the session's
shared run of the main job (the real DAGs) over the same sources with the same key."""

from __future__ import annotations

import datetime as dt
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psutil

from dichvucong.config import REPO_ROOT

from .conftest import SMALL_END, SMALL_START, MainJobRuns, main_job_env
from .pipeline_steps import STAGES

# The range of the shared main job (tests/conftest.py, `main_job_runs`): its marts are the clean run's.
START, MID, END = SMALL_START, SMALL_START + dt.timedelta(days=7), SMALL_END
PUBLISHED = Path("published") / "dichvucong.duckdb"
WAREHOUSE = Path("warehouse") / "warehouse.duckdb"


def _children(process: psutil.Process) -> list[psutil.Process]:
    try:
        return process.children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _has_dbt(process: psutil.Process) -> bool:
    for child in _children(process):
        try:
            if any(part.endswith("/dbt") for part in child.cmdline()):
                return True
        except psutil.Error:
            continue
    return False


def _has_workers(process: psutil.Process) -> bool:
    return len(_children(process)) >= 2  # the resource tracker and at least one landing worker


def _always(process: psutil.Process) -> bool:
    return True


@dataclass(frozen=True)
class KillPoint:
    stage: str
    ready: Callable[[psutil.Process], bool]
    delay: float
    group: bool

    def __str__(self) -> str:
        return f"{self.stage}+{self.delay}s{' (group)' if self.group else ''}"


KILL_POINTS = [
    KillPoint("land:dossiers", _has_workers, 0.3, group=False),
    KillPoint("land:dossiers", _has_workers, 0.3, group=True),
    KillPoint("land:payments", _always, 0.5, group=False),
    KillPoint("build", _has_dbt, 1.0, group=False),
    KillPoint("build", _has_dbt, 6.0, group=False),
    KillPoint("build", _has_dbt, 9.0, group=True),
    KillPoint("validate", _always, 1.0, group=False),
    KillPoint("validate", _always, 3.0, group=True),
    # Publishing takes a few tenths of a second: the later point comes last, where a kill that comes
    # too late (the run ended) costs no run from the start for a point after it.
    KillPoint("publish", _always, 0.05, group=True),
    KillPoint("publish", _always, 0.2, group=False),
]


def _env(home: Path, landing: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVC_")}
    # The main job's pseudonym key: the marts are compared with those of the shared main job.
    key = main_job_env(home)["DVC_PSEUDONYM_KEY"]
    return env | {"DVC_HOME": str(home), "DVC_LANDING_DIR": str(landing), "DVC_PSEUDONYM_KEY": key,
                  "DVC_LAND_WORKERS": "2", "PYTHONUNBUFFERED": "1"}


@dataclass
class Outcome:
    returncode: int
    killed_in: str | None  # the stage under way when the signal was sent, None if it ran to the end
    leftovers: list[str]


def _run(home: Path, landing: Path, from_stage: str | None = None, kill: KillPoint | None = None,
         end: dt.date = END) -> Outcome:
    """Run the pipeline's steps over [START, end) from a stage; with a kill point, SIGKILL it there."""
    args = [sys.executable, "-m", "tests.pipeline_steps", START.isoformat(), end.isoformat()]
    home.mkdir(parents=True, exist_ok=True)
    log = (home / "steps.log").open("a")
    process = subprocess.Popen(args + ([from_stage] if from_stage else []), cwd=REPO_ROOT, env=_env(home, landing),
                               stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    current: str | None = None
    killed_in: str | None = None
    deadline = time.monotonic() + 600
    watched = psutil.Process(process.pid)
    armed_at: float | None = None
    while process.poll() is None and time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.05).strip()
            if line.startswith("STAGE "):
                current = line.removeprefix("STAGE ")
            elif line.startswith("DONE "):
                current = None
        except queue.Empty:
            pass
        if kill is None or killed_in is not None or current != kill.stage:
            continue
        if armed_at is None and kill.ready(watched):
            armed_at = time.monotonic()
        if armed_at is not None and time.monotonic() - armed_at >= kill.delay and current == kill.stage:
            killed_in = current
            if kill.group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                os.kill(process.pid, signal.SIGKILL)
    returncode = process.wait(timeout=60)
    log.close()
    # What is left of the session after the kill: every child must have died with its parent.
    leftovers: list[str] = []
    for _ in range(100):
        leftovers = []
        for candidate in psutil.process_iter(["pid", "cmdline"]):
            try:
                if os.getsid(candidate.pid) == process.pid:
                    leftovers.append(" ".join(candidate.info["cmdline"] or [])[:120])
            except (ProcessLookupError, PermissionError):
                continue
        if not leftovers:
            break
        time.sleep(0.1)
    return Outcome(returncode, killed_in, leftovers)


class _Reader(threading.Thread):
    """Reads the published copy as a dashboard would, every 0.1 s, and keeps any error."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path, self.reads, self.errors = path, 0, []  # type: ignore[var-annotated]
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                with duckdb.connect(str(self.path), read_only=True) as con:
                    con.execute("select count(*) from marts.kpi_766").fetchone()
                self.reads += 1
            except duckdb.Error as exc:
                self.errors.append(str(exc)[:200])
            time.sleep(0.1)


def _scalar(path: Path, sql: str) -> object:
    with duckdb.connect(str(path), read_only=True) as con:
        row = con.execute(sql).fetchone()
    return row[0] if row else None


def _differences(path: Path, other: Path) -> dict[str, tuple[int, int]]:
    """Per mart of either file: rows only in the first, rows only in the second (EXCEPT ALL)."""
    with duckdb.connect() as con:
        con.execute(f"attach '{path}' as a (read_only)")
        con.execute(f"attach '{other}' as b (read_only)")
        tables = {r[0] for r in con.execute(
            "select distinct table_name from duckdb_tables() where schema_name = 'marts' "
            "and table_name <> 'fct_validation_results'").fetchall()}
        return {t: tuple(con.execute(f"select count(*) from (select * from {x}.marts.{t} except all "
                                     f"select * from {y}.marts.{t})").fetchone()[0]  # type: ignore[index]
                         for x, y in (("a", "b"), ("b", "a")))  # type: ignore[misc]
                for t in sorted(tables)}


def test_killed_anywhere_and_retried_equals_a_clean_run(small_landing: Path, main_job_runs: MainJobRuns,
                                                        tmp_path: Path) -> None:
    # The clean run: the shared main job over the same landing and range [START, END), as it left its marts.
    clean = main_job_runs.as_run
    killed = tmp_path / "killed"
    assert _scalar(clean / PUBLISHED, "select count(*) from marts.kpi_766") > 0  # type: ignore[operator]

    # The week before was built and published: the killed builds have a state to build on, and
    # a publication that must stay readable.
    assert _run(killed, small_landing, end=MID).returncode == 0, (killed / "steps.log").read_text()[-3000:]
    reader = _Reader(killed / PUBLISHED)
    reader.start()
    resume: str | None = None
    hits = []
    try:
        for point in KILL_POINTS:
            if resume is not None and STAGES.index(resume) > STAGES.index(point.stage):
                continue  # the retry is already past this point's stage
            outcome = _run(killed, small_landing, resume, point)
            assert not outcome.leftovers, f"processes outlived the kill at {point}: {outcome.leftovers}"
            if outcome.killed_in is None:
                assert outcome.returncode == 0, (killed / "steps.log").read_text()[-3000:]
                resume = None
                continue
            assert outcome.returncode == -signal.SIGKILL
            hits.append(str(point))
            resume = outcome.killed_in
            if resume == "build":  # the killed build's mark stays: what it wrote may be partial
                assert _scalar(killed / WAREHOUSE, "select count(*) from meta.build_started") >= 1
        if resume is not None:
            final = _run(killed, small_landing, resume)
            assert final.returncode == 0, (killed / "steps.log").read_text()[-3000:]
    finally:
        reader.stopping.set()
        reader.join()
    print(f"kills that hit a running stage: {len(hits)} of {len(KILL_POINTS)}: {hits}; "
          f"published copy read {reader.reads} times")
    assert len(hits) >= 8, hits
    assert reader.errors == [] and reader.reads > 50
    differences = _differences(killed / PUBLISHED, clean / PUBLISHED)
    assert len(differences) >= 7 and all(d == (0, 0) for d in differences.values()), differences
    # Every build after a killed one refreshed in full, none built on what the killed one wrote.
    modes = duckdb.connect(str(killed / WAREHOUSE), read_only=True).execute(
        "select mode, reason from meta.refresh_runs order by finished_at").fetchall()
    assert modes[0][0] == "full" and modes[1][0] == "full" and "did not record its end" in modes[1][1], modes
