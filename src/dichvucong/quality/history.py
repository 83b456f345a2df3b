"""Validation history: every expectation result of every run, kept as a lake
table (`quality_results`) that dbt loads into the warehouse and publication
copies next to the marts, so quality can itself be charted over time."""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from dichvucong.quality.suites import ValidationSummary

SCHEMA = pa.schema([
    pa.field("validated_at", pa.timestamp("us", tz="UTC")),
    pa.field("suite", pa.string()),
    pa.field("table_name", pa.string()),
    pa.field("interval", pa.string()),
    pa.field("expectation_type", pa.string()),
    pa.field("column_name", pa.string()),
    pa.field("severity", pa.string()),
    pa.field("rule", pa.string()),
    pa.field("success", pa.bool_()),
    pa.field("element_count", pa.int64()),
    pa.field("unexpected_count", pa.int64()),
    pa.field("observed_value", pa.string()),
    pa.field("docs_url", pa.string()),
])


def store(summary: ValidationSummary, lake_dir: Path) -> Path:
    """One Parquet file per validation run: lake/quality_results/<table>/<interval>__<time>.parquet."""
    validated_at = dt.datetime.fromisoformat(summary.validated_at)
    rows = [{
        "validated_at": validated_at, "suite": summary.table, "table_name": summary.table,
        "interval": summary.interval, "expectation_type": r.expectation_type, "column_name": r.column,
        "severity": r.severity, "rule": r.rule, "success": r.success, "element_count": r.element_count,
        "unexpected_count": r.unexpected_count, "observed_value": r.observed_value, "docs_url": summary.docs_url,
    } for r in summary.results]
    folder = lake_dir / "quality_results" / summary.table
    folder.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^0-9A-Za-z_.-]", "_", f"{summary.interval}__{validated_at:%Y%m%dT%H%M%S%f}") + ".parquet"
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    os.close(fd)
    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), tmp)
    os.replace(tmp, folder / name)
    return folder / name


def ensure_table(lake_dir: Path) -> None:
    """An empty, typed file when no validation has run yet, so that the table always exists."""
    folder = lake_dir / "quality_results"
    if not any(folder.glob("*/*.parquet")):
        (folder / "_none").mkdir(parents=True, exist_ok=True)
        pq.write_table(SCHEMA.empty_table(), folder / "_none" / "empty.parquet")
