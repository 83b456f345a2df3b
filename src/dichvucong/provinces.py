"""Provinces as configuration: one DAG set serves any number of provinces.

Without `DVC_PROVINCES_FILE` the pipeline serves one province, configured by
the plain `DVC_*` settings (the embedded default). With it, the file lists the
provinces; the DAG files generate one set of DAGs per province
(`ingest_<source>__<slug>`, `build_marts__<slug>`), each with its own landing
area, lake, warehouse, published marts, Assets and warehouse pool, and a
`national_ranking` DAG that reads every province's published marts.

    # provinces.yml
    home: /var/lib/dichvucong          # optional; default DVC_HOME
    provinces:
      - slug: vinh_phuc                # [a-z0-9_]+, names DAGs, Assets, pools, folders
        code: "26"                     # the province's row in kpi_766 (unit_code)
        name: Tỉnh Vĩnh Phúc
        landing: /srv/drop/vinh_phuc   # optional; default <home>/<slug>/landing
        source_mode: http              # optional: file (default) or http
        source_url: https://...        # optional, for http
        source_token_env: VP_TOKEN     # optional: the variable holding the token (never the token)
        simulate: {scale: 1.0, seed: 2022}   # optional: what `dichvucong simulate --provinces` makes

A task runs its province's code inside `activated(province)`, which sets the
`DVC_*` variables that `Settings.from_env()` reads for the task's duration.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dichvucong.config import REPO_ROOT

SLUG = re.compile(r"^[a-z0-9_]{1,40}$")
# Settings a province derives from its home; cleared so that a global value cannot leak into a province.
DERIVED = ("DVC_LAKE_DIR", "DVC_WAREHOUSE_PATH", "DVC_PUBLISHED_PATH", "DVC_REPORTS_DIR", "DVC_PSEUDONYM_KEY_FILE")


class ProvinceConfigError(ValueError):
    """The provinces file is not valid."""


@dataclass(frozen=True)
class Province:
    slug: str
    code: str
    name: str
    home: Path
    landing: Path
    source_mode: str = "file"
    source_url: str = ""
    source_token_env: str = ""
    simulate: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def published_path(self) -> Path:
        return self.home / "published" / "dichvucong.duckdb"

    def environment(self) -> dict[str, str]:
        env = {
            "DVC_HOME": str(self.home),
            "DVC_LANDING_DIR": str(self.landing),
            "DVC_PROVINCE_CODE": self.code,
            "DVC_PROVINCE_NAME": self.name,
            "DVC_SOURCE_MODE": self.source_mode,
        }
        if self.source_url:
            env["DVC_SOURCE_URL"] = self.source_url
        if self.source_token_env:
            env["DVC_SOURCE_TOKEN"] = os.environ.get(self.source_token_env, "")
        return env


def provinces_file() -> Path | None:
    value = os.environ.get("DVC_PROVINCES_FILE")
    return Path(value).expanduser().resolve() if value else None


def base_home() -> Path:
    value = os.environ.get("DVC_HOME")
    return Path(value).expanduser().resolve() if value else REPO_ROOT / "data"


def load_provinces(path: Path | None = None) -> list[Province]:
    """The configured provinces; [] when no provinces file is set (one province, plain settings)."""
    path = path or provinces_file()
    if path is None:
        return []
    try:
        spec = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ProvinceConfigError(f"cannot read the provinces file {path}: {exc}") from exc
    home = Path(spec.get("home") or base_home()).expanduser()
    entries = spec.get("provinces") or []
    if not isinstance(entries, list) or not entries:
        raise ProvinceConfigError(f"{path}: 'provinces' must list at least one province")
    provinces: list[Province] = []
    for entry in entries:
        slug, code = str(entry.get("slug", "")), str(entry.get("code", ""))
        if not SLUG.match(slug):
            raise ProvinceConfigError(f"{path}: slug {slug!r} must match {SLUG.pattern}")
        if not code:
            raise ProvinceConfigError(f"{path}: province {slug} has no code")
        mode = entry.get("source_mode", "file")
        if mode not in ("file", "http"):
            raise ProvinceConfigError(f"{path}: province {slug}: source_mode must be file or http")
        province_home = Path(entry.get("home") or home / slug).expanduser()
        provinces.append(Province(
            slug=slug, code=code, name=str(entry.get("name") or slug), home=province_home,
            landing=Path(entry.get("landing") or province_home / "landing").expanduser(),
            source_mode=mode, source_url=str(entry.get("source_url", "")),
            source_token_env=str(entry.get("source_token_env", "")), simulate=dict(entry.get("simulate") or {}),
        ))
    for attribute in ("slug", "code", "home"):
        values = [getattr(p, attribute) for p in provinces]
        if len(set(values)) != len(values):
            raise ProvinceConfigError(f"{path}: two provinces share a {attribute}")
    return provinces


def national_path() -> Path:
    """The national layer's published file: every province's scores, ranked."""
    value = os.environ.get("DVC_NATIONAL_PATH")
    return Path(value).expanduser().resolve() if value else base_home() / "national" / "national_ranking.duckdb"


@contextmanager
def activated(province: Province | None) -> Iterator[None]:
    """Run the enclosed code for one province (no change for the single-province default)."""
    if province is None:
        yield
        return
    saved = {name: os.environ.get(name) for name in (*DERIVED, *province.environment(), "DVC_SOURCE_URL",
                                                       "DVC_SOURCE_TOKEN")}
    try:
        for name in (*DERIVED, "DVC_SOURCE_URL", "DVC_SOURCE_TOKEN"):
            os.environ.pop(name, None)
        os.environ.update(province.environment())
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def suffix(province: Province | None) -> str:
    """What a province adds to DAG ids, Asset names and pool names ('' for the single province)."""
    return "" if province is None else f"__{province.slug}"
