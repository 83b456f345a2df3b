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
    """The README's main job (`dichvucong run`: the real DAGs) over the small sources, in its own home."""
    return subprocess.run(
        ["dichvucong", "run", "--landing", str(landing), "--start", SMALL_START.isoformat(),
         "--end", SMALL_END.isoformat(), *args],
        env=main_job_env(home, **extra), capture_output=True, text=True, timeout=900, check=False,
    )


@pytest.fixture(scope="session")
def main_job_run(small_landing: Path, tmp_path_factory: pytest.TempPathFactory
                 ) -> tuple[Path, subprocess.CompletedProcess[str]]:
    """One run of the main job over the small sources, shared by the end-to-end and dashboard tests
    (which only read it, or copy it before changing anything)."""
    home = tmp_path_factory.mktemp("e2e")
    subprocess.run(["airflow", "db", "migrate"], env=main_job_env(home), check=True, capture_output=True)
    result = run_main_job(home, small_landing)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    # As the run left them, for tests that copy them: later tests rerun the job in `home`.
    import shutil

    for part in ("published", "warehouse", "lake"):
        shutil.copytree(home / part, home.parent / f"{home.name}-as-run" / part)
    return home, result


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


def personal_values(landing: Path) -> set[str]:
    """The names, ID numbers and phone numbers in the dossier files (those long enough to search for)."""
    values: set[str] = set()
    for path in (landing / "dossiers").rglob("*.jsonl"):
        for name in ("ChuHoSo", "SoGiayTo", "SoDienThoai"):
            values |= set(re.findall(rf'"{name}":"([^"]+)"', path.read_text(encoding="utf-8")))
    return {v for v in values if len(v) >= 8}


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("DO_NOT_TRACK", "1")
