"""The landing freshness frame (`frames.freshness_frame`): the latest batch day that landed rows, not
the newest partition folder (a day with no file is landed as an empty partition)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow as pa

from dichvucong.landing import lake
from dichvucong.quality.frames import freshness_frame

AS_OF = dt.datetime(2024, 3, 10)


def _partition(lake_dir: Path, table: str, day: dt.date, rows: int) -> None:
    path = lake.partition_path(lake_dir, table, day)
    schema = lake.SCHEMAS[table]
    lake.write_partition(path, table, pa.table({f.name: pa.nulls(rows, f.type) for f in schema}, schema=schema))


def test_empty_partitions_after_the_last_rows_do_not_make_a_source_fresh(tmp_path: Path) -> None:
    _partition(tmp_path, "raw_dossier_syncs", dt.date(2024, 3, 1), 3)
    for day in range(2, 10):  # the source stopped: every later day landed empty
        _partition(tmp_path, "raw_dossier_syncs", dt.date(2024, 3, day), 0)
    _partition(tmp_path, "raw_payments", dt.date(2024, 3, 9), 2)
    frame = freshness_frame(tmp_path, AS_OF).set_index("source")
    assert frame.loc["dossiers", "latest_batch_date"] == dt.date(2024, 3, 1)
    assert frame.loc["dossiers", "lag_days"] == 9
    assert frame.loc["dossiers", "latest_landed_day"] == dt.date(2024, 3, 9)
    assert frame.loc["payments", "latest_batch_date"] == dt.date(2024, 3, 9)
    assert frame.loc["payments", "lag_days"] == 1


def test_a_source_with_only_empty_partitions_has_no_latest_day(tmp_path: Path) -> None:
    _partition(tmp_path, "raw_payments", dt.date(2024, 3, 9), 0)
    frame = freshness_frame(tmp_path, AS_OF).set_index("source")
    assert frame["latest_batch_date"].isna().all()
    assert frame.loc["payments", "latest_landed_day"] == dt.date(2024, 3, 9)
