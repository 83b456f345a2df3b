"""Publication's quality tables: updated from what changed in the lake, equal to a build from scratch."""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
from pathlib import Path

import duckdb
import pytest

from dichvucong import tasks
from dichvucong.config import Settings
from dichvucong.landing import lake
from dichvucong.publish import QUALITY_TABLES, publish_quality

DAY = dt.date(2024, 2, 6)


def _tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(path), read_only=True) as con:
        catalog = con.execute("select current_database()").fetchall()[0][0]  # "quality", as the schema
        return {t: con.execute(f'select * from "{catalog}".quality.{t} order by all').fetchall()
                for t in QUALITY_TABLES}


def _from_scratch(settings: Settings, folder: Path) -> dict[str, list[tuple[object, ...]]]:
    """The same tables built from every lake file, by a publication with no earlier file."""
    return _tables(publish_quality(dataclasses.replace(settings, published_path=folder / "dichvucong.duckdb")))


def test_quality_tables_follow_relanded_new_and_withdrawn_days(
        dvc_home: Path, small_landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    monkeypatch.setenv("DVC_LANDING_DIR", str(landing))
    settings = Settings.from_env()
    for source in ("dossiers", "payments"):
        tasks.ingest(source, DAY, DAY + dt.timedelta(days=2))
    tasks.validate_landed("payments", DAY, DAY + dt.timedelta(days=2))  # a validation result, published
    before = _tables(publish_quality(settings))
    assert before["load_audit"] and before["quarantine_reasons"] and before["validation_results"]

    # Since: a day landed again with one file fewer and broken lines in another, a new day, a day
    # withdrawn from the lake, and another validation.
    files = sorted((landing / "dossiers" / DAY.isoformat()).glob("*.jsonl"))
    files[0].unlink()
    files[1].write_text(files[1].read_text() + '{"MaHoSo": \n', encoding="utf-8")
    tasks.ingest("dossiers", DAY, DAY + dt.timedelta(days=1))
    tasks.ingest("dossiers", DAY + dt.timedelta(days=2), DAY + dt.timedelta(days=3))
    for table, source in (("raw_payments", None), ("load_audit", "payments"), ("quarantine", "payments")):
        lake.partition_path(settings.lake_dir, table, DAY + dt.timedelta(days=1), source).unlink()
    tasks.validate_landed("dossiers", DAY, DAY + dt.timedelta(days=1))

    after = _tables(publish_quality(settings))
    assert after == _from_scratch(settings, tmp_path / "scratch")
    assert after != before
    days = {(row[0], row[1]) for row in after["load_audit"]}
    assert ("dossiers", DAY + dt.timedelta(days=2)) in days
    assert ("payments", DAY + dt.timedelta(days=1)) not in days
    assert any(row[:2] == ("dossiers", DAY) and row[2].startswith("invalid JSON")
               for row in after["quarantine_reasons"])
    # Nothing changed since: the next publication reads nothing and keeps the same tables.
    assert _tables(publish_quality(settings)) == after
