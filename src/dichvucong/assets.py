"""Airflow Assets that connect the DAGs: ingestion produces the lake tables,
the build consumes them and produces the published marts."""

from __future__ import annotations

from airflow.sdk import Asset

RAW_CATALOG = Asset(name="raw_catalog", uri="file:///dichvucong/lake/raw_catalog", group="lake")
RAW_DOSSIERS = Asset(name="raw_dossiers", uri="file:///dichvucong/lake/raw_dossiers", group="lake")
RAW_PAYMENTS = Asset(name="raw_payments", uri="file:///dichvucong/lake/raw_payments", group="lake")
PUBLISHED_MARTS = Asset(name="published_marts", uri="file:///dichvucong/published/marts", group="marts")

RAW_ASSETS = {"catalog": RAW_CATALOG, "dossiers": RAW_DOSSIERS, "payments": RAW_PAYMENTS}

# DuckDB allows one writing process per file: every task that opens the
# warehouse runs in this pool of one slot (created by scripts/bootstrap.sh).
WAREHOUSE_POOL = "duckdb_warehouse"
