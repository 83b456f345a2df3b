"""Shared fixtures: an isolated DVC_HOME per test session and small generated sources."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from dichvucong.simulator import GenerationStats

SMALL_START = dt.date(2024, 2, 5)  # spans Lunar New Year 2024 (8-14 Feb)
SMALL_END = dt.date(2024, 3, 4)
SMALL_SCALE = 0.05


@pytest.fixture(scope="session")
def small_sources(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationStats]:
    """Four weeks of sources at 5 % of Vĩnh Phúc's volume, with a high dirt rate."""
    from dichvucong.simulator import generate

    out = tmp_path_factory.mktemp("landing")
    stats = generate(out, SMALL_START, SMALL_END, seed=11, scale=SMALL_SCALE, dirt_rate=0.01)
    return out, stats


@pytest.fixture(scope="session")
def small_landing(small_sources: tuple[Path, GenerationStats]) -> Path:
    return small_sources[0]


@pytest.fixture
def dvc_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private DVC_HOME; every pipeline path derives from it."""
    home = tmp_path / "dvc"
    for name in ("DVC_LANDING_DIR", "DVC_LAKE_DIR", "DVC_WAREHOUSE_PATH", "DVC_PUBLISHED_PATH",
                 "DVC_REPORTS_DIR", "DVC_PSEUDONYM_KEY_FILE", "DVC_EXPECTATIONS_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DVC_HOME", str(home))
    monkeypatch.setenv("DVC_PSEUDONYM_KEY", "test-key-not-a-secret")
    yield home


class Inbox:
    """What the loopback alert receivers got; `status` is what the webhook answers (500 = a broken
    chat server)."""

    def __init__(self) -> None:
        self.mails: list[EmailMessage] = []
        self.hooks: list[dict[str, Any]] = []
        self.status = 204

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        # The default policy decodes headers: subjects are Vietnamese (RFC 2047 encoded words).
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(message)
        return "250 OK"

    def clear(self) -> None:
        self.mails.clear()
        self.hooks.clear()
        self.status = 204


@pytest.fixture(scope="module")
def receivers() -> Iterator[tuple[Inbox, dict[str, str]]]:
    """A real SMTP server (aiosmtpd) and a webhook on loopback, and the DVC_ALERT_* settings that
    point alerts at them."""
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        smtp_port = probe.getsockname()[1]
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the base class's name
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if inbox.status < 300:
                inbox.hooks.append(payload)
            self.send_response(inbox.status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    web = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    env = {"DVC_ALERT_SMTP_HOST": "127.0.0.1", "DVC_ALERT_SMTP_PORT": str(smtp_port),
           "DVC_ALERT_TO": "vanhanh@vinhphuc.example", "DVC_ALERT_FROM": "pipeline@vinhphuc.example",
           "DVC_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{web.server_address[1]}/hook"}
    yield inbox, env
    smtp.stop()
    web.shutdown()


def main_job_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVC_")}
    env |= {"DVC_HOME": str(home), "AIRFLOW_HOME": str(home / "airflow"), "DVC_PSEUDONYM_KEY": "e2e-key"}
    env |= extra
    return env


def run_main_job(home: Path, landing: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    """The README's main job (`dichvucong run`: the real DAGs) over the small sources, in its own home.
    Without the dbt docs (the shared run, `main_job_runs`, writes and checks them)."""
    return subprocess.run(
        ["dichvucong", "run", "--landing", str(landing), "--start", SMALL_START.isoformat(),
         "--end", SMALL_END.isoformat(), "--no-docs", *args],
        env=main_job_env(home, **extra), capture_output=True, text=True, timeout=900, check=False,
    )


@dataclass(frozen=True)
class MainJobRuns:
    """The session's shared run of the main job over the small sources, and what a second main job,
    started on the same home while the first held its lock, did."""

    home: Path
    result: subprocess.CompletedProcess[str]  # the first (the shared run)
    pid: int  # the first's PID
    as_run: Path  # its published, warehouse and lake folders as it left them
    lock_after: str  # the lock file's text once the first had ended
    second: subprocess.CompletedProcess[str] | None  # None: the first never held its lock while running
    second_seconds: float  # how long the second took


@pytest.fixture(scope="session")
def main_job_runs(small_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> MainJobRuns:
    """One run of the main job over the small sources, shared by the end-to-end, dashboard, kill and
    quality-gate tests (which only read it, or copy it before changing anything). While it holds its
    home's lock, a second main job is started on the same home, as tests/test_run_lock.py asks: that
    one is to refuse at once (the shared run is then also the lock test's first job)."""
    import shutil
    import tempfile
    import time

    from dichvucong.cli import LOCK_NAME

    home = tmp_path_factory.mktemp("e2e")
    subprocess.run(["airflow", "db", "migrate"], env=main_job_env(home), check=True, capture_output=True)
    lock = home / LOCK_NAME
    args = ["dichvucong", "run", "--landing", str(small_landing), "--start", SMALL_START.isoformat(),
            "--end", SMALL_END.isoformat()]
    second: subprocess.CompletedProcess[str] | None = None
    second_seconds = 0.0
    # Files, not pipes: the first job must not stall on a full pipe while the second runs.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        first = subprocess.Popen(args, env=main_job_env(home), stdout=out, stderr=err, text=True)
        try:
            deadline = time.monotonic() + 120
            while not (held := lock.exists() and lock.read_text().strip() == str(first.pid)) \
                    and first.poll() is None and time.monotonic() < deadline:
                time.sleep(0.05)
            if held and first.poll() is None:  # else `second` stays None, and the lock test fails
                began = time.monotonic()
                second = subprocess.run(args, env=main_job_env(home), capture_output=True, text=True,
                                        timeout=900, check=False)
                second_seconds = time.monotonic() - began
            first.wait(timeout=900)
        finally:
            if first.poll() is None:
                first.kill()
                first.wait()
        out.seek(0)
        err.seek(0)
        result = subprocess.CompletedProcess(args, first.returncode, out.read(), err.read())
    lock_after = lock.read_text() if lock.exists() else "(no lock file)"
    assert result.returncode == 0, (
        result.stdout[-3000:] + result.stderr[-6000:]
        + (f"\n(a second main job started on this home meanwhile ended with exit {second.returncode}; "
           f"tests/test_run_lock.py checks it)" if second is not None else ""))
    # As the run left them, for tests that copy them: later tests rerun the job in `home`.
    as_run = home.parent / f"{home.name}-as-run"
    for part in ("published", "warehouse", "lake"):
        shutil.copytree(home / part, as_run / part)
    return MainJobRuns(home, result, first.pid, as_run, lock_after, second, second_seconds)


@pytest.fixture(scope="session")
def main_job_run(main_job_runs: MainJobRuns) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """The shared run of the main job: its home and its result."""
    return main_job_runs.home, main_job_runs.result


@pytest.fixture(scope="session")
def migrated_airflow_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow metadata DB as `airflow db migrate` leaves it in a new home, made once: a test that
    needs a home of its own copies it to `<home>/airflow/airflow.db` instead of migrating (≈ 4 s each)."""
    home = tmp_path_factory.mktemp("airflow-db")
    subprocess.run(["airflow", "db", "migrate"], env=main_job_env(home), check=True, capture_output=True)
    return home / "airflow" / "airflow.db"


def closing_expectations(folder: Path) -> Path:
    """A copy of the project's suites where kpi_766 has one more critical check that every real mart fails."""
    import shutil

    import yaml

    from dichvucong.config import REPO_ROOT

    shutil.copytree(REPO_ROOT / "expectations", folder)
    suite = yaml.safe_load((folder / "kpi_766.yml").read_text(encoding="utf-8"))
    suite["expectations"].append({
        "type": "expect_column_values_to_be_between", "kwargs": {"column": "points_total", "max_value": 1},
        "severity": "critical", "rule": "test: a gate that must close"})
    (folder / "kpi_766.yml").write_text(yaml.safe_dump(suite, allow_unicode=True), encoding="utf-8")
    return folder


def ingest_sources(landing: Path, start: dt.date, end: dt.date, sources: tuple[str, ...] | None = None,
                   first: bool = False) -> None:
    """Land the sources' batch days [start, end) as the ingestion DAGs' tasks do (every source by
    default); the `first` landing, as the main job does, also lands the snapshots (agency list,
    catalog) in force at `start`."""
    from dichvucong import tasks
    from dichvucong.cli import snapshot_start
    from dichvucong.landing.layout import SNAPSHOT_SOURCES, SOURCES

    for source in sources or SOURCES:
        since = snapshot_start(landing, start, source) if first and source in SNAPSHOT_SOURCES else start
        tasks.ingest(source, since, end)


PERSONAL_KEYS = ("ChuHoSo", "SoGiayToChuHoSo", "SoDienThoai", "Email", "Fax", "MaDoiTuong", "SoDinhDanh",
                 "TrichYeuHoSo", "ThongTinTra", "GhiChu", "NguoiYeuCauBoSung", "NguoiTiepNhanBoSung", "NguoiXuLy",
                 "NoiDungXuLy")


def personal_values(landing: Path) -> set[str]:
    """The values of the personal fields (sources.md v2, ◆: names, ID numbers, phones, e-mails, free
    text; at any depth) in the dossier and processing-log calls, those long enough to search for."""
    values: set[str] = set()
    pattern = re.compile(r'"(' + "|".join(PERSONAL_KEYS) + r')"\s*:\s*"((?:[^"\\]|\\.)+)"')
    for source in ("dossiers", "processing"):
        for path in (landing / source).rglob("*.json"):
            try:
                text = path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
            for _, value in pattern.findall(text):
                try:
                    values.add(json.loads(f'"{value}"'))
                except ValueError:
                    continue
    return {v for v in values if len(v) >= 8}


# Tests that run the pipeline (the main job, dbt builds over generated sources) beyond the shared
# fixtures below: marked `pipeline`, as every test using the shared main job is. With `scheduler` (a
# real Airflow scheduler) and `browser` (headless Chromium) they are what a developer leaves out of a
# quick run: `python -m pytest -m "not scheduler and not pipeline and not browser"`. CI runs them all.
PIPELINE_MODULES = frozenset({"test_incremental_refresh", "test_kill_anywhere", "test_reorganisation",
                              "test_bench_smoke", "test_quality_gates_and_alerts", "test_late_and_repeated_data",
                              "test_poisoned_dates", "test_run_lock", "test_end_to_end"})
PIPELINE_FIXTURES = frozenset({"main_job_runs", "main_job_run", "served"})


# The test command runs the suite in two processes (pytest-xdist, `--dist loadgroup`). A session or
# module fixture is built once per process that uses it: the tests of the shared main job all go
# to one process (group "main_job"), so that it runs once, as its lock test needs, and every other
# module's tests go together (their module fixtures: one build).


# The groups that take longest, longest first (seconds of setup, call and teardown in the run of
# 2026-12-06 10:16, the suite's 1,189 s: main_job 522, Celery 158, scheduler 111, incremental 100,
# bench smoke 95, reorganisation 53; every other group under 25). Under xdist they are handed out
# first (the test command runs with --no-loadscope-reorder, which keeps the collection's order; xdist
# would otherwise order groups by their number of tests, and these single-test groups came last,
# leaving one process working alone at the end).
SLOWEST_GROUPS = ("main_job", "tests/dags/test_celery_provinces.py", "tests/dags/test_scheduler.py",
                  "tests/test_incremental_refresh.py", "tests/test_bench_smoke.py", "tests/test_reorganisation.py")


# First: xdist reads the groups in its own hook of the same name.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups: dict[int, str] = {}  # by id(item): its node id changes below
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if item.module is not None and item.module.__name__.rsplit(".", 1)[-1] in PIPELINE_MODULES \
                or fixtures & PIPELINE_FIXTURES:
            item.add_marker(pytest.mark.pipeline)
        group = "main_job" if fixtures & PIPELINE_FIXTURES else item.nodeid.split("::", 1)[0]
        groups[id(item)] = group
        item.add_marker(pytest.mark.xdist_group(group))
        if config.getoption("loadgroup", False) and "@" not in item.nodeid:
            # pytest-xdist 3.8 gives the group by appending "@<group>" to `item._nodeid`, which pytest
            # 9.2 no longer reads (a node's id is `_id`): the same suffix, where pytest reads it.
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(f"{item.nodeid}@{group}")
        if "browser" in fixtures or "page" in fixtures:
            item.add_marker(pytest.mark.browser)
    if config.getoption("loadgroup", False):
        rank = {group: position for position, group in enumerate(SLOWEST_GROUPS)}
        items.sort(key=lambda item: rank.get(groups[id(item)], len(rank)))  # stable: the rest keep their order


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("DO_NOT_TRACK", "1")
