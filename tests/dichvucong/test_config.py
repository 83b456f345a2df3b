"""Settings from the environment: defaults under DVC_HOME, overrides, and the errors a wrong value gets."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from dichvucong.config import REPO_ROOT, Settings, marts_path_for


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in [n for n in os.environ if n.startswith("DVC_")]:
        monkeypatch.delenv(name)
    home = tmp_path / "home"
    monkeypatch.setenv("DVC_HOME", str(home))
    return home


def test_every_path_derives_from_the_home_unless_set(clean_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    settings = Settings.from_env()
    assert settings.landing_dir == clean_env / "landing" and settings.lake_dir == clean_env / "lake"
    assert settings.warehouse_path == clean_env / "warehouse" / "warehouse.duckdb"
    assert settings.marts_path == clean_env / "warehouse" / "warehouse.marts.duckdb"
    assert settings.published_path == clean_env / "published" / "dichvucong.duckdb"
    assert settings.dbt_project_dir == REPO_ROOT / "dbt_project"
    assert (settings.source_mode, settings.province_code, settings.http_lookback_days) == ("file", "26", 3)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DVC_LAKE_DIR", "elsewhere/lake")  # relative: resolved against the working folder
    monkeypatch.setenv("DVC_SOURCE_URL", "http://127.0.0.1:8765/")
    settings = Settings.from_env()
    assert settings.lake_dir == tmp_path / "elsewhere" / "lake"
    assert settings.source_url == "http://127.0.0.1:8765"  # no trailing slash: paths are joined to it
    assert marts_path_for(Path("/x/w.duckdb")) == Path("/x/w.marts.duckdb")


@pytest.mark.parametrize(("name", "value", "error"), [("DVC_SOURCE_MODE", "ftp", "source_mode"),
                                                      ("DVC_HTTP_PAGE_SIZE", "many", "http_page_size"),
                                                      ("DVC_ALERT_SMTP_PORT", "smtp", "alert_smtp_port"),
                                                      ("DVC_DBT_THREADS", "0", "dbt_threads"),
                                                      ("DVC_ALERT_WEBHOOK_FORMAT", "xml", "alert_webhook_format")])
def test_a_wrong_value_is_refused_by_name(clean_env: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str,
                                          error: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=error):
        Settings.from_env()


def test_the_pseudonym_key_comes_from_the_environment_or_a_private_file(clean_env: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env()
    first = settings.pseudonym_key()
    assert len(first) == 64 and settings.pseudonym_key() == first  # created once, then read
    assert stat.S_IMODE(settings.pseudonym_key_file.stat().st_mode) == 0o600
    assert not settings.pseudonym_key_file.is_relative_to(REPO_ROOT / "src")
    monkeypatch.setenv("DVC_PSEUDONYM_KEY", "from-the-environment")
    assert Settings.from_env().pseudonym_key() == b"from-the-environment"


def test_a_payment_dialects_file_that_is_no_mapping_is_refused(clean_env: Path, monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path) -> None:
    assert Settings.from_env().payment_dialects() == {}
    wrong = tmp_path / "dialects.yml"
    wrong.write_text("- VNPAY\n- MOMO\n", encoding="utf-8")
    monkeypatch.setenv("DVC_PAYMENT_DIALECTS_FILE", str(wrong))
    with pytest.raises(ValueError, match="expected a mapping of intermediary codes"):
        Settings.from_env().payment_dialects()


# Variables .env.example documents that are not the settings of one province's run: the marts file dbt
# is given (transform.dbt_environment), the provinces file and the national layer's file
# (provinces.py: they name every province), and a province's token variable named in that file.
NOT_SETTINGS = {"DVC_MARTS_PATH", "DVC_PROVINCES_FILE", "DVC_NATIONAL_PATH", "DVC_SOURCE_TOKEN_BAC_NINH"}


def test_every_documented_variable_is_a_typed_setting(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    documented = set(re.findall(r"^#? ?(DVC_[A-Z_]+)=", (REPO_ROOT / ".env.example").read_text(), re.M))
    fields = {f"DVC_{name.upper()}" for name in Settings.model_fields} - {"DVC_PSEUDONYM_KEY_VALUE"}
    fields.add("DVC_PSEUDONYM_KEY")
    assert documented - NOT_SETTINGS == fields
    monkeypatch.setenv("DVC_ALERT_SMTP_STARTTLS", "true")
    monkeypatch.setenv("DVC_ALERT_SMTP_PASSWORD", "not-in-repr")
    monkeypatch.setenv("DVC_RETRY_DELAY_SECONDS", "")  # empty: the default
    settings = Settings.from_env()
    assert settings.alert_smtp_starttls is True and settings.retry_delay_seconds == 120
    assert "not-in-repr" not in repr(settings)


def test_no_module_reads_a_setting_from_the_environment_itself() -> None:
    """Only config.py reads DVC_* variables (and provinces.py and the CLI, which name every province's
    files and set up child processes); every other module takes them from Settings."""
    import re

    allowed = {"config.py", "provinces.py", "cli.py"}
    readers = []
    for path in [*(REPO_ROOT / "src" / "dichvucong").rglob("*.py"), *(REPO_ROOT / "dags").glob("*.py")]:
        if path.name in allowed:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"(os\.environ|os\.getenv)\S*\(?\[?[\"']DVC_", line):
                readers.append(f"{path.relative_to(REPO_ROOT)}:{number}")
    assert readers == []
