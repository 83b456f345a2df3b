"""Landing into the lake: idempotent per day, nothing lost, every file accounted for."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from dichvucong.config import Settings
from dichvucong.landing import extract, lake
from dichvucong.landing.extract import FileDropReader, RejectedFile, land
from dichvucong.tasks import check_landing_accounts
from tests.conftest import SMALL_END, SMALL_START


def _settings(landing: Path) -> Settings:
    settings = Settings.from_env()
    return Settings(**{**settings.__dict__, "landing_dir": landing})


def _table(lake_dir: Path, table: str, source: str | None = None):
    days = [SMALL_START + dt.timedelta(days=i) for i in range((SMALL_END - SMALL_START).days)]
    return lake.read_partitions(lake_dir, table, days, source=source)


def test_every_record_read_is_loaded_or_quarantined(dvc_home: Path, small_sources) -> None:
    small_landing, stats = small_sources
    settings = _settings(small_landing)
    # What the generator wrote, counted as the contract counts records: a sync call's entries (a
    # call that cannot be read is one record), a CSV's data lines (a total line is none).
    written = {"dossiers": stats.sync_records, "processing": stats.processing_records}
    for source in ("agencies", "catalog", "dossiers", "processing", "payments"):
        report = land(source, SMALL_START, SMALL_END, settings)
        assert report.rows_read == report.rows_loaded + report.rows_quarantined > 0
        if source not in written:
            written[source] = 0
            for path in (small_landing / source).rglob("*.*"):
                lines = [ln for ln in path.read_bytes().split(b"\n") if ln.strip()]
                written[source] += len(lines) - 1 - sum(1 for ln in lines if "Tổng cộng".encode() in ln)
        assert report.rows_read == written[source], source
    audit = _table(settings.lake_dir, "load_audit", "dossiers").to_pylist()
    assert sum(a["rows_quarantined"] for a in audit) > 0, "the fixture carries broken records"
    assert len(audit) == stats.dossier_files
    held = _table(settings.lake_dir, "quarantine", "dossiers").to_pylist()
    assert all(q["reason"] and q["file_name"].endswith(".json") for q in held)
    # A record is quarantined at its position in the call; a call quarantined whole may have none.
    assert any(q["line_number"] for q in held)
    assert check_landing_accounts()["sources"]


def test_rerunning_an_interval_replaces_it(dvc_home: Path, small_landing: Path) -> None:
    settings = _settings(small_landing)
    land("payments", SMALL_START, SMALL_END, settings)
    first = _table(settings.lake_dir, "raw_payments")
    land("payments", SMALL_START, SMALL_END, settings)
    second = _table(settings.lake_dir, "raw_payments")
    assert first.num_rows > 0 and first.equals(second)


def test_rows_typed_in_chunks_land_as_a_whole_day_would(dvc_home: Path, small_landing: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A day's rows are typed into Arrow TYPED_CHUNK_ROWS at a time: with chunks of 7 rows (a chunk ends
    inside a file and within a day's calls) the partitions are those of a day typed at once, row for row."""
    settings = _settings(small_landing)
    land("dossiers", SMALL_START, SMALL_END, settings)
    whole = _table(settings.lake_dir, "raw_dossier_syncs")
    monkeypatch.setattr(extract, "TYPED_CHUNK_ROWS", 7)
    land("dossiers", SMALL_START, SMALL_END, settings)
    chunked = _table(settings.lake_dir, "raw_dossier_syncs")
    assert whole.num_rows > 7 * 10 and chunked.equals(whole)


def test_a_file_delivered_twice_changes_nothing(dvc_home: Path, small_landing: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    settings = _settings(landing)
    day = SMALL_START + dt.timedelta(days=2)
    land("payments", day, day + dt.timedelta(days=1), settings)
    path = lake.partition_path(settings.lake_dir, "raw_payments", day)
    before = pq.read_table(path)
    # The same file arrives again (same name, same content), and the day is landed again.
    folder = landing / "payments" / day.isoformat()
    for file in folder.iterdir():
        file.write_bytes(file.read_bytes())
    land("payments", day, day + dt.timedelta(days=1), settings)
    assert pq.read_table(path).equals(before)


def test_a_corrected_file_replaces_the_day(dvc_home: Path, small_landing: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    settings = _settings(landing)
    day = SMALL_START
    land("dossiers", day, day + dt.timedelta(days=1), settings)
    files = sorted((landing / "dossiers" / day.isoformat()).glob("*.json"))
    audit = pq.read_table(lake.partition_path(settings.lake_dir, "load_audit", day, "dossiers")).to_pylist()
    removed = next(a["rows_read"] for a in audit if a["file_name"] == files[0].name)
    assert removed > 0
    files[0].unlink()
    before = pq.read_table(lake.partition_path(settings.lake_dir, "raw_dossier_syncs", day)).num_rows
    land("dossiers", day, day + dt.timedelta(days=1), settings)
    after_table = pq.read_table(lake.partition_path(settings.lake_dir, "raw_dossier_syncs", day))
    audit = pq.read_table(lake.partition_path(settings.lake_dir, "load_audit", day, "dossiers")).to_pylist()
    assert files[0].name not in {a["file_name"] for a in audit}
    assert before - removed <= after_table.num_rows < before


def test_a_day_with_no_files_lands_empty_typed_partitions(dvc_home: Path, tmp_path: Path) -> None:
    settings = _settings(tmp_path / "empty")
    report = land("dossiers", dt.date(2024, 1, 1), dt.date(2024, 1, 3), settings)
    assert report.files == 0 and report.rows_read == 0
    partition = lake.partition_path(settings.lake_dir, "raw_dossier_syncs", dt.date(2024, 1, 2))
    assert pq.read_table(partition).schema.equals(lake.SCHEMAS["raw_dossier_syncs"])


def test_a_withdrawn_catalog_snapshot_leaves_the_lake_on_rerun(dvc_home: Path, small_landing: Path,
                                                               tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    settings = _settings(landing)
    day = SMALL_START
    land("catalog", day, day + dt.timedelta(days=1), settings)
    partition = lake.partition_path(settings.lake_dir, "raw_catalog", day)
    assert partition.exists()
    (landing / "catalog" / f"services_{day:%Y%m%d}.csv").unlink()
    land("catalog", day, day + dt.timedelta(days=1), settings)
    assert not partition.exists()
    assert not lake.partition_path(settings.lake_dir, "load_audit", day, "catalog").exists()


def test_a_linked_source_folder_is_read_only_where_it_leads_inside(tmp_path: Path) -> None:
    """A file that is no link, in a source folder that is one, is resolved like a linked file: read
    where the folder leads inside the landing directory, refused where it leads outside."""
    landing, outside = tmp_path / "landing", tmp_path / "outside"
    (landing / "kept").mkdir(parents=True)
    outside.mkdir()
    for folder in (landing / "kept", outside):
        (folder / "coquan_20250701.csv").write_text("MaDinhDanh\nH62\n", encoding="utf-8")
    reader = FileDropReader(landing)
    day = dt.date(2025, 7, 1)
    (landing / "agencies").symlink_to(outside, target_is_directory=True)
    [(name, content)] = list(reader.files_for("agencies", day))
    assert name == "coquan_20250701.csv" and content == RejectedFile("resolves outside the landing directory")
    (landing / "agencies").unlink()
    (landing / "agencies").symlink_to(landing / "kept", target_is_directory=True)
    assert list(reader.files_for("agencies", day)) == [("coquan_20250701.csv", b"MaDinhDanh\nH62\n")]


def test_a_day_folder_under_a_source_folder_linked_outside_is_not_read(tmp_path: Path) -> None:
    """The day folder is no link, its source folder is: the folder resolves outside the landing
    directory, so none of its files is read and the folder is a finding of the source."""
    landing, outside = tmp_path / "landing", tmp_path / "outside"
    landing.mkdir()
    (outside / "2025-07-01").mkdir(parents=True)
    (outside / "2025-07-01" / "hoso_1.json").write_text('{"data": []}', encoding="utf-8")
    (landing / "dossiers").symlink_to(outside, target_is_directory=True)
    reader = FileDropReader(landing)
    assert list(reader.files_for("dossiers", dt.date(2025, 7, 1))) == []
    [(name, rejected)] = reader.unplaced("dossiers")
    assert name == "2025-07-01" and rejected.reason.startswith("entry outside the layout")
