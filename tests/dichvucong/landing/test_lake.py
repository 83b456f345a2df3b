"""The Parquet lake's primitives: typed partitions replaced whole, and what a build may read."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq

from dichvucong.landing import lake, layout

DAY = dt.date(2025, 8, 31)


def test_every_source_has_a_table_and_every_table_a_schema() -> None:
    assert set(lake.SOURCE_TABLES) == set(layout.SOURCES)
    assert set(lake.SOURCE_TABLES.values()) <= set(lake.SCHEMAS)
    for table in lake.SOURCE_TABLES.values():
        names = lake.SCHEMAS[table].names
        assert {"_source_file", "_line_number", "_batch_date"} <= set(names)
        assert "_source_file" not in lake.parsed_schema(table).names


def test_a_partition_is_replaced_whole_and_typed_even_when_empty(tmp_path: Path) -> None:
    path = lake.partition_path(tmp_path, "quarantine", DAY, "portal")
    assert path == tmp_path / "quarantine" / "portal" / "batch_date=2025-08-31" / "data.parquet"
    row = {"source": "portal", "batch_date": DAY, "file_name": "a.har", "line_number": 1, "reason": "ID: missing",
           "raw_text": "{}"}
    assert lake.write_partition(path, "quarantine", [row, row]) == 2
    assert lake.write_partition(path, "quarantine", []) == 0  # replaced, not appended to
    table = pq.read_table(path)
    assert table.num_rows == 0 and table.schema.equals(lake.SCHEMAS["quarantine"])
    assert [p.name for p in path.parent.iterdir()] == ["data.parquet"]  # no temporary file left behind


def test_the_latest_day_with_rows_skips_days_that_landed_nothing(tmp_path: Path) -> None:
    assert lake.latest_day_with_rows(tmp_path, "raw_payments") is None
    row = {name: None for name in lake.SCHEMAS["raw_payments"].names} | {"_batch_date": DAY - dt.timedelta(days=1)}
    lake.write_partition(lake.partition_path(tmp_path, "raw_payments", DAY - dt.timedelta(days=1)), "raw_payments",
                         [row])
    lake.write_partition(lake.partition_path(tmp_path, "raw_payments", DAY), "raw_payments", [])
    assert lake.latest_day_with_rows(tmp_path, "raw_payments") == DAY - dt.timedelta(days=1)
    read = lake.read_partitions(tmp_path, "raw_payments", [DAY - dt.timedelta(days=1), DAY, DAY + dt.timedelta(1)])
    assert read.num_rows == 1


def test_an_optional_table_with_no_partition_is_made_readable_and_only_then(tmp_path: Path) -> None:
    lake.ensure_readable(tmp_path, "raw_portal_scores")
    empty = tmp_path / "raw_portal_scores" / "_empty" / "data.parquet"
    assert pq.read_table(empty).num_rows == 0
    # The refresh plan and the accounts read batch_date= partitions only: the stand-in is not one.
    assert lake.latest_day_with_rows(tmp_path, "raw_portal_scores") is None
    other = tmp_path / "other"
    lake.write_partition(lake.partition_path(other, "raw_portal_scores", DAY), "raw_portal_scores", [])
    lake.ensure_readable(other, "raw_portal_scores")
    assert not (other / "raw_portal_scores" / "_empty").exists()
