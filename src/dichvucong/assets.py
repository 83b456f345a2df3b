"""Airflow Assets that connect the DAGs: ingestion produces the lake tables,
the build consumes them and produces the published marts; with several
provinces, each has its own, and every province's published marts feed the
national ranking."""

from __future__ import annotations

from dataclasses import dataclass

from airflow.sdk import Asset

from dichvucong.landing.layout import SOURCES
from dichvucong.provinces import Province, suffix

# DuckDB allows one writing process per file: every task that opens a
# warehouse runs in its province's pool of one slot (created by scripts/bootstrap.sh
# for the single province, by `dichvucong airflow-pools` for configured ones).
WAREHOUSE_POOL = "duckdb_warehouse"


@dataclass(frozen=True)
class ProvinceAssets:
    raw: dict[str, Asset]
    published: Asset
    pool: str


def province_assets(province: Province | None) -> ProvinceAssets:
    tail = suffix(province)
    root = "file:///dichvucong" + ("" if province is None else f"/{province.slug}")
    raw = {source: Asset(name=f"raw_{source}{tail}", uri=f"{root}/lake/raw_{source}", group="lake")
           for source in SOURCES}
    published = Asset(name=f"published_marts{tail}", uri=f"{root}/published/marts", group="marts")
    return ProvinceAssets(raw, published, WAREHOUSE_POOL + tail)


_SINGLE = province_assets(None)
RAW_ASSETS = _SINGLE.raw
PUBLISHED_MARTS = _SINGLE.published
NATIONAL_RANKING = Asset(name="national_ranking", uri="file:///dichvucong/national/ranking", group="national")
