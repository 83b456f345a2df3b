"""Settings of the pipeline, parsed once from environment variables.

Every variable has a documented default (see `.env.example`); paths default to
folders under the repository's `data/` directory so that a fresh clone runs
without any configuration.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_TZ = "Asia/Ho_Chi_Minh"


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def marts_path_for(warehouse: Path) -> Path:
    """The file dbt builds the marts into, beside the warehouse: publication copies it whole."""
    return warehouse.with_name(f"{warehouse.stem}.marts.duckdb")


@dataclass(frozen=True)
class Settings:
    """Where the pipeline reads and writes, and how it reaches its sources."""

    home: Path
    landing_dir: Path
    lake_dir: Path
    warehouse_path: Path
    published_path: Path
    reports_dir: Path
    dbt_project_dir: Path
    expectations_dir: Path
    source_mode: str
    pseudonym_key_file: Path
    source_url: str = ""
    source_token: str = ""
    http_page_size: int = 1000
    http_lookback_days: int = 3
    province_code: str = "26"
    province_name: str = "Tỉnh Vĩnh Phúc"
    payment_dialects_file: Path | None = None

    @classmethod
    def from_env(cls) -> Settings:
        home = _path("DVC_HOME", REPO_ROOT / "data")
        source_mode = os.environ.get("DVC_SOURCE_MODE", "file")
        if source_mode not in {"file", "http"}:
            raise ValueError(f"DVC_SOURCE_MODE must be 'file' or 'http', not {source_mode!r}")
        return cls(
            home=home,
            landing_dir=_path("DVC_LANDING_DIR", home / "landing"),
            lake_dir=_path("DVC_LAKE_DIR", home / "lake"),
            warehouse_path=_path("DVC_WAREHOUSE_PATH", home / "warehouse" / "warehouse.duckdb"),
            published_path=_path("DVC_PUBLISHED_PATH", home / "published" / "dichvucong.duckdb"),
            reports_dir=_path("DVC_REPORTS_DIR", home / "reports"),
            dbt_project_dir=_path("DVC_DBT_PROJECT_DIR", REPO_ROOT / "dbt_project"),
            expectations_dir=_path("DVC_EXPECTATIONS_DIR", REPO_ROOT / "expectations"),
            source_mode=source_mode,
            pseudonym_key_file=_path("DVC_PSEUDONYM_KEY_FILE", home / ".secrets" / "pseudonym.key"),
            source_url=os.environ.get("DVC_SOURCE_URL", "").rstrip("/"),
            source_token=os.environ.get("DVC_SOURCE_TOKEN", ""),
            http_page_size=int(os.environ.get("DVC_HTTP_PAGE_SIZE", "1000")),
            http_lookback_days=int(os.environ.get("DVC_HTTP_LOOKBACK_DAYS", "3")),
            province_code=os.environ.get("DVC_PROVINCE_CODE", "26"),
            province_name=os.environ.get("DVC_PROVINCE_NAME", "Tỉnh Vĩnh Phúc"),
            payment_dialects_file=Path(value) if (value := os.environ.get("DVC_PAYMENT_DIALECTS_FILE")) else None,
        )

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
        value = os.environ.get("DVC_PSEUDONYM_KEY")
        if value:
            return value.encode("utf-8")
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
