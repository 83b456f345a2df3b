"""Settings of the pipeline: one typed object (pydantic-settings) for every `DVC_*` variable.

Every variable has a documented default (see `.env.example`); paths default to
folders under the repository's `data/` directory so that a fresh clone runs
without any configuration.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_TZ = "Asia/Ho_Chi_Minh"


def marts_path_for(warehouse: Path) -> Path:
    """The file dbt builds the marts into, beside the warehouse: publication copies it whole."""
    return warehouse.with_name(f"{warehouse.stem}.marts.duckdb")


# Paths that default to a folder or file under `home` (DVC_HOME), by field.
UNDER_HOME = {
    "landing_dir": ("landing",),
    "lake_dir": ("lake",),
    "warehouse_path": ("warehouse", "warehouse.duckdb"),
    "published_path": ("published", "dichvucong.duckdb"),
    "reports_dir": ("reports",),
    "pseudonym_key_file": (".secrets", "pseudonym.key"),
}


class Settings(BaseSettings):
    """Every setting of the pipeline, typed, from the `DVC_*` environment variables (`.env.example`
    documents each; an empty variable means its default). Built once per task or command
    (`Settings.from_env()`) and passed on; nothing else reads a `DVC_*` variable. Secrets (tokens,
    passwords, the pseudonym key) are kept out of `repr`. Raises pydantic's ValidationError naming
    the setting (its variable is DVC_ and its name in capitals) when a value does not parse (a port that
    is not a number, an unknown source mode)."""

    model_config = SettingsConfigDict(env_prefix="DVC_", env_ignore_empty=True, extra="ignore", frozen=True,
                                      populate_by_name=True)

    # Where the pipeline reads and writes.
    home: Path = REPO_ROOT / "data"
    landing_dir: Path = Field(default=None, validate_default=False)  # type: ignore[assignment]
    lake_dir: Path = Field(default=None, validate_default=False)  # type: ignore[assignment]
    warehouse_path: Path = Field(default=None, validate_default=False)  # type: ignore[assignment]
    published_path: Path = Field(default=None, validate_default=False)  # type: ignore[assignment]
    reports_dir: Path = Field(default=None, validate_default=False)  # type: ignore[assignment]
    pseudonym_key_file: Path = Field(default=None, validate_default=False)  # type: ignore[assignment]
    dbt_project_dir: Path = REPO_ROOT / "dbt_project"
    expectations_dir: Path = REPO_ROOT / "expectations"
    payment_dialects_file: Path | None = None
    # The province served.
    province_code: str = "26"
    province_name: str = "Tỉnh Vĩnh Phúc"
    # How the sources are reached (sources.md: a file drop, or the source system's HTTP API).
    source_mode: Literal["file", "http"] = "file"
    source_url: str = ""
    source_token: str = Field(default="", repr=False)
    http_page_size: int = 1000
    http_lookback_days: int = 3
    # The HMAC key of applicant pseudonyms; without it, the key file (created on first use).
    pseudonym_key_value: str = Field(default="", repr=False, validation_alias="DVC_PSEUDONYM_KEY")
    # Work and memory.
    land_workers: int = Field(default=1, ge=1)
    duckdb_memory_limit: str = "1GB"
    dbt_threads: int = Field(default=1, ge=1)
    # The scheduler and Celery workers import the tasks' slow modules (GX) once (src/airflow_local_settings.py).
    airflow_preload: bool = True
    retry_delay_seconds: int = Field(default=120, ge=0)
    # Operators' alerts (docs/runbook.md) and the monthly report's mail.
    alert_smtp_host: str = ""
    alert_smtp_port: int = 25
    alert_smtp_user: str = ""
    alert_smtp_password: str = Field(default="", repr=False)
    alert_smtp_starttls: bool = False
    alert_from: str = "dichvucong@localhost"
    alert_to: str = ""
    report_to: str = ""
    alert_webhook_url: str = Field(default="", repr=False)
    alert_webhook_format: Literal["json", "text"] = "json"
    alert_group_minutes: int = Field(default=360, ge=0)
    # The officials' dashboard.
    dashboard_url: str = ""
    dashboard_host: str = "127.0.0.1"
    dashboard_port: int = 8050
    dashboard_user: str = ""
    dashboard_password: str = Field(default="", repr=False)
    dashboard_token: str = Field(default="", repr=False)

    @model_validator(mode="before")
    @classmethod
    def _paths_under_home(cls, data: Any) -> Any:
        """Paths not set default to their place under `home`; every path is made absolute."""
        values = dict(data)
        home = Path(values.get("home") or REPO_ROOT / "data").expanduser().resolve()
        values["home"] = home
        for name, parts in UNDER_HOME.items():
            values[name] = Path(values.get(name) or home.joinpath(*parts)).expanduser().resolve()
        for name in ("dbt_project_dir", "expectations_dir"):
            if values.get(name):
                values[name] = Path(values[name]).expanduser().resolve()
        return values

    @field_validator("source_url", "dashboard_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @classmethod
    def from_env(cls) -> Settings:
        """The settings the environment gives now."""
        return cls()

    @property
    def retry_delay(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.retry_delay_seconds)

    @property
    def marts_path(self) -> Path:
        return marts_path_for(self.warehouse_path)

    def payment_dialects(self) -> dict[str, Any]:
        """The CSV dialect of each intermediary that does not write the contract's (sources.md §5),
        by MaTrungGian, from the YAML file `DVC_PAYMENT_DIALECTS_FILE` (config/payment_dialects.example.yml);
        empty without one. Raises ValueError naming a setting the file gets wrong."""
        from dichvucong.landing.parsers import CsvDialect

        if self.payment_dialects_file is None:
            return {}
        import yaml

        loaded = yaml.safe_load(self.payment_dialects_file.read_text(encoding="utf-8")) or {}
        if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
            raise ValueError(f"{self.payment_dialects_file}: expected a mapping of intermediary codes to settings")
        return {str(code).upper(): CsvDialect.from_mapping(values) for code, values in loaded.items()}

    def pseudonym_key(self) -> bytes:
        """The HMAC key for applicant pseudonyms.

        `DVC_PSEUDONYM_KEY` wins; otherwise a key file outside the repository's
        tracked files is read, and created with a random key on first use so that
        a fresh clone runs. The key never comes from the repository.
        """
        if self.pseudonym_key_value:
            return self.pseudonym_key_value.encode("utf-8")
        path = self.pseudonym_key_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
        return path.read_text().strip().encode("utf-8")


def airflow_connection(conn_id: str) -> Any:
    """An Airflow connection, when running inside Airflow and it exists; None otherwise (the
    caller then says which environment variables or connection it needs)."""
    try:
        from airflow.sdk import BaseHook

        return BaseHook.get_connection(conn_id)
    except Exception:  # not in Airflow, or no such connection
        return None
