"""The dashboard under test: a real uvicorn server on loopback over a copy of the
published marts of the main job's run (the copy lets tests republish freely)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright

from dichvucong.config import REPO_ROOT
from dichvucong.dashboard.app import Auth, create_app
from dichvucong.local_airflow import free_port

CHROMIUM = Path(os.environ.get("DVC_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("DVC_TEST_ARTIFACTS", REPO_ROOT / "test-artifacts")) / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright (it downloads no browser of its own)."""
    assert CHROMIUM.exists(), (f"no Chromium at {CHROMIUM}: scripts/test.sh installs Debian's chromium package "
                               "(or set DVC_CHROMIUM)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--disable-quic"])
        yield chromium
        chromium.close()


@contextmanager
def open_tab(browser: Browser, width: int, downloads: bool = True) -> Iterator[Page]:
    """A tab `width` px wide; any script error on its pages fails the test when the tab closes."""
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=downloads)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    tab.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    yield tab
    context.close()
    assert not errors, errors


@dataclass(frozen=True)
class Served:
    url: str
    home: Path

    @property
    def published(self) -> Path:
        return self.home / "published" / "dichvucong.duckdb"

    def marts(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.published), read_only=True)


@contextmanager
def serve(published: Path, auth: Auth | None = None) -> Iterator[str]:
    """The dashboard app in a real uvicorn server on a free loopback port, stopped on exit."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(published, auth or Auth()), host="127.0.0.1", port=port,
                                           log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the dashboard did not start")
        time.sleep(0.05)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def dashboard_home(main_job_run: tuple[Path, subprocess.CompletedProcess[str]],
                   tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the main job's published marts, warehouse and lake as its run left them (publish() reads
    the last two; the end-to-end tests rerun the job in its home, with a gate that closes)."""
    home_of_run, _ = main_job_run
    source = home_of_run.parent / f"{home_of_run.name}-as-run"
    home = tmp_path_factory.mktemp("dashboard")
    for part in ("published", "warehouse", "lake"):
        shutil.copytree(source / part, home / part)
    return home


@pytest.fixture(scope="session")
def served(dashboard_home: Path) -> Iterator[Served]:
    with serve(dashboard_home / "published" / "dichvucong.duckdb") as url:
        yield Served(url, dashboard_home)


@pytest.fixture
def client(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as http:
        yield http
