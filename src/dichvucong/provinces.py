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

A task runs its province's code with `settings_for(province)`: settings built for
that province and passed explicitly; no task rewrites the environment.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dichvucong.config import REPO_ROOT, UNDER_HOME, Settings

SLUG = re.compile(r"^[a-z0-9_]{1,40}$")


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


def settings_for(province: Province | None) -> Settings:
    """The settings a task of `province` runs with, built explicitly and passed on: the province's home,
    landing, code, name and source, its paths under its own home (a global DVC_LAKE_DIR, ... cannot leak
    into a province), and the rest (alerts, limits) from the environment. None: the single province of
    the plain `DVC_*` settings."""
    if province is None:
        return Settings.from_env()
    home = province.home.expanduser().resolve()
    # Every path under the home is given, so that none is taken from a global variable.
    paths: dict[str, Any] = {name: home.joinpath(*parts) for name, parts in UNDER_HOME.items()}
    return Settings(**paths | {
        "home": home, "landing_dir": province.landing, "province_code": province.code,
        "province_name": province.name, "source_mode": province.source_mode, "source_url": province.source_url,
        "source_token": os.environ.get(province.source_token_env, "") if province.source_token_env else "",
    })


def suffix(province: Province | None) -> str:
    """What a province adds to DAG ids, Asset names and pool names ('' for the single province)."""
    return "" if province is None else f"__{province.slug}"
