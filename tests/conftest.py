"""Shared fixtures: an isolated DVC_HOME per test session and small generated sources."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

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


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("DO_NOT_TRACK", "1")
