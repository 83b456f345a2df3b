"""One main job at a time per DVC home (`dichvucong.cli.run_lock`, issue 20.1).

Two `dichvucong run` at once on one home used to share its lake, warehouse and Airflow metadata
DB: one failed on a DAG run's unique key, the other "succeeded" with load counts almost doubled.
Now the second refuses at once, naming the lock file and the first one's PID, or queues behind it
with --wait; and a lock whose holder died is free at once (the kernel drops an flock with its
holder), so there is never a stale lock to clean up by hand.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from dichvucong.cli import LOCK_NAME, RunLocked, run_lock
from dichvucong.landing.layout import SOURCES
from dichvucong.simulator import GenerationStats
from tests.conftest import SMALL_END, SMALL_START, MainJobRuns, main_job_env

# A process that takes the lock of the home in argv[1], says so, then sleeps for argv[2] seconds.
HOLDER = """
import sys, time
from pathlib import Path
from dichvucong.cli import run_lock
with run_lock(Path(sys.argv[1])):
    print("HELD", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _holds_pid(lock: Path, pid: int) -> bool:
    return lock.exists() and lock.read_text().strip() == str(pid)


def _holder(home: Path, seconds: float) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(home), str(seconds)], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "HELD"
    return process


def _main_job(home: Path, landing: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        ["dichvucong", "run", "--landing", str(landing), "--start", SMALL_START.isoformat(),
         "--end", SMALL_END.isoformat(), *args],
        env=main_job_env(home, **extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_second_main_job_refuses_at_once_and_the_first_publishes_a_single_runs_counts(
        main_job_runs: MainJobRuns, small_sources: tuple[Path, GenerationStats]) -> None:
    """The first job is the session's shared run of the main job (tests/conftest.py, `main_job_runs`):
    while it held its home's lock, the same `dichvucong run` was started a second time on that home."""
    _, stats = small_sources
    run = main_job_runs
    home, lock, second = run.home, run.home / LOCK_NAME, run.second
    out, err = run.result.stdout, run.result.stderr
    # The second started while the first held the lock (its PID was in the file) and was running.
    assert second is not None, "the first job never held its lock while running: " + err[-3000:]
    assert second.returncode == 75, second.stderr[-3000:]
    assert f"another main job (PID {run.pid}) is running on {home}" in second.stderr
    assert f"lock file {lock}" in second.stderr and "--wait" in second.stderr
    assert "Traceback" not in second.stderr
    assert run.second_seconds < 30, f"refused after {run.second_seconds:.0f} s: it should not wait or work"
    assert run.result.returncode == 0, out[-3000:] + err[-6000:]
    assert "Province, 766 indicators for 02/2024" in out
    # Its progress, on stderr (issue 20.4): every DAG run's start and end with its duration, in
    # order; and none of the third-party notices the CLI filters.
    progress = [line.split(" dichvucong: ", 1)[1] for line in err.splitlines() if " dichvucong: " in line]
    runs = [line for line in progress if re.match(r"(ingest_\w+|build_marts): (starting|success in \d+\.\d s)", line)]
    assert [line.split(":")[0] + (" start" if "starting" in line else " end") for line in runs] == [
        f"{dag} {edge}" for dag in (*(f"ingest_{source}" for source in SOURCES), "build_marts")
        for edge in ("start", "end")]
    assert "starlette.testclient" not in out + err
    # Released and emptied by its holder: no PID is left that names a process not holding it.
    assert run.lock_after == ""
    # The published load counts are one run's: every record and file of the landing, once (as the
    # first job left them: later tests run the job again in its home).
    with duckdb.connect(str(run.as_run / "published" / "dichvucong.duckdb"), read_only=True) as con:
        audit = {source: (int(read), int(files)) for source, read, files in con.execute(
            "select source_name, sum(rows_read), sum(files) from quality.load_audit group by source_name").fetchall()}
    assert audit["dossiers"] == (stats.sync_records, stats.dossier_files)
    assert audit["payments"] == (stats.payment_rows, stats.payment_files)
    assert audit["catalog"][1] == stats.catalog_snapshots


def test_the_lock_names_its_holder_and_is_free_once_the_holder_is_killed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    holder = _holder(home, 600)
    try:
        assert _holds_pid(home / LOCK_NAME, holder.pid)
        with pytest.raises(RunLocked) as refused, run_lock(home):
            pass
        assert f"PID {holder.pid}" in str(refused.value) and str(home / LOCK_NAME) in str(refused.value)
        # SIGKILL: the holder cannot clean up; the kernel releases its lock.
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
    began = time.monotonic()
    with run_lock(home) as lock:
        assert time.monotonic() - began < 1
        assert lock.read_text().strip() == str(os.getpid())  # the dead holder's PID is replaced
    assert lock.read_text() == ""


def test_wait_queues_behind_the_holder(small_landing: Path, migrated_airflow_db: Path, tmp_path: Path) -> None:
    """`dichvucong run --wait` while another process holds the home's lock: it says it waits, and
    goes on once the holder is done. Its DAGs folder is empty, so that it stops right after the
    lock (on "DAG ingest_agencies not found") instead of running the whole job."""
    home = tmp_path / "home"
    empty_dags = tmp_path / "no-dags"
    empty_dags.mkdir()
    (home / "airflow").mkdir(parents=True)
    shutil.copyfile(migrated_airflow_db, home / "airflow" / "airflow.db")  # as `airflow db migrate` leaves it
    holder = _holder(home, 6)
    try:
        waiting = _main_job(home, small_landing, "--wait", AIRFLOW__CORE__DAGS_FOLDER=str(empty_dags))
        _, err = waiting.communicate(timeout=300)
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait()
    assert f"another main job (PID {holder.pid}) holds {home / LOCK_NAME}: waiting for it to finish" in err
    waited = re.search(r"lock \S+ acquired after (\d+) s of waiting", err)
    # The holder keeps it 6 s from before the waiting job starts, which takes a second or two.
    assert waited and int(waited.group(1)) >= 2, err[-3000:]
    assert waiting.returncode == 1 and "DAG ingest_agencies not found" in err, err[-3000:]
