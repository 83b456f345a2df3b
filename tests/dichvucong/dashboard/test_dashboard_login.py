"""The dashboard's login configuration: a user without a password (or a password without a user) refuses
to start, naming the variable missing, instead of serving every page open."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from dichvucong.dashboard.app import Auth, LoginConfigError, create_app
from dichvucong.local_airflow import free_port
from tests.dichvucong.dashboard.hostile import write_published

VARIABLES = ("DVC_DASHBOARD_USER", "DVC_DASHBOARD_PASSWORD", "DVC_DASHBOARD_TOKEN")
PARTIAL = [
    ({"DVC_DASHBOARD_USER": "vanphong"}, "DVC_DASHBOARD_PASSWORD"),
    ({"DVC_DASHBOARD_PASSWORD": "mat-khau-thu"}, "DVC_DASHBOARD_USER"),
    ({"DVC_DASHBOARD_USER": "vanphong", "DVC_DASHBOARD_PASSWORD": ""}, "DVC_DASHBOARD_PASSWORD"),
    ({"DVC_DASHBOARD_USER": "", "DVC_DASHBOARD_PASSWORD": "mat-khau-thu"}, "DVC_DASHBOARD_USER"),
    ({"DVC_DASHBOARD_USER": "vanphong", "DVC_DASHBOARD_TOKEN": "token-thu"}, "DVC_DASHBOARD_PASSWORD"),
]


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_published(tmp_path_factory.mktemp("login") / "published" / "dichvucong.duckdb")


def _login_env(monkeypatch: pytest.MonkeyPatch, values: dict[str, str]) -> None:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in values.items():
        monkeypatch.setenv(name, value)


@pytest.mark.parametrize(("values", "missing"), PARTIAL, ids=[
    "user-only", "password-only", "empty-password", "empty-user", "user-and-token"])
def test_a_login_configured_by_halves_refuses_to_start(published: Path, monkeypatch: pytest.MonkeyPatch,
                                                         values: dict[str, str], missing: str) -> None:
    _login_env(monkeypatch, values)
    with pytest.raises(LoginConfigError, match=f"^dashboard login: {missing} is not set"):
        create_app(published)
    with pytest.raises(LoginConfigError, match=f"{missing} is not set"):
        Auth(user=values.get("DVC_DASHBOARD_USER", ""), password=values.get("DVC_DASHBOARD_PASSWORD", ""))


def test_the_dashboard_command_says_which_variable_is_missing(published: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES} | {"DVC_DASHBOARD_USER": "vanphong"}
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dichvucong.cli", "dashboard", "--port", str(free_port()),
             "--published", str(published)], env=env, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail("the dashboard started with a user and no password")
    assert result.returncode != 0
    assert "DVC_DASHBOARD_PASSWORD is not set" in result.stderr
    assert "Traceback" not in result.stderr, result.stderr


def _statuses(published: Path, requests: list[tuple[str, dict[str, str]]]) -> list[int]:
    """The status of each (path, headers) request to the app the factory makes from the environment."""
    async def send() -> list[int]:
        transport = httpx.ASGITransport(app=create_app(published))
        async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as http:
            return [(await http.get(path, headers=headers)).status_code for path, headers in requests]

    return asyncio.run(send())


def test_user_and_password_require_credentials(published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _login_env(monkeypatch, {"DVC_DASHBOARD_USER": "vanphong", "DVC_DASHBOARD_PASSWORD": "mat-khau-thu"})
    basic = {"Authorization": "Basic " + base64.b64encode(b"vanphong:mat-khau-thu").decode()}
    assert _statuses(published, [("/", {}), ("/api/v1/agency_ranks", {}), ("/api/v1/agency_ranks?format=csv", {}),
                                 ("/api/v1/agency_ranks", basic), ("/healthz", {})]) == [401, 401, 401, 200, 200]


def test_no_login_configured_is_open(published: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _login_env(monkeypatch, {"DVC_DASHBOARD_USER": "", "DVC_DASHBOARD_PASSWORD": ""})
    assert _statuses(published, [("/api/v1/agency_ranks", {}), ("/api/v1/agency_ranks?format=xlsx", {})]) == [
        200, 200]
