"""The ledger of what landed (`landing.ledger`): one entry per source and batch day, read from the
load audit that every landing writes; the same files landed again keep their digest."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from dichvucong import tasks
from dichvucong.landing import lake, ledger

DAY = dt.date(2024, 2, 6)


def test_a_landing_is_one_entry_per_day_and_the_same_files_keep_its_digest(
        dvc_home: Path, small_landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing / "payments", landing / "payments")
    monkeypatch.setenv("DVC_LANDING_DIR", str(landing))
    lake_dir = dvc_home / "lake"
    assert ledger.read(lake_dir) == {}

    report = tasks.ingest("payments", DAY, DAY + dt.timedelta(days=3))
    first = ledger.read(lake_dir)
    with_files = sorted(d.name for d in (landing / "payments").iterdir()
                        if DAY.isoformat() <= d.name < (DAY + dt.timedelta(days=3)).isoformat() and any(d.iterdir()))
    assert report["landed_days"] == with_files and len(with_files) >= 2
    assert sorted(day.isoformat() for _, day in first) == with_files
    entry = first[("payments", DAY)]
    assert entry.files == len(list((landing / "payments" / DAY.isoformat()).iterdir()))
    assert entry.rows_read == entry.rows_loaded + entry.rows_quarantined > 0
    assert sum(e.rows_read for e in first.values()) == report["rows_read"]
    assert sum(e.rows_loaded for e in first.values()) == report["rows_loaded"]
    assert entry.landed_at is not None and abs(entry.landed_at - dt.datetime.now(dt.UTC).replace(tzinfo=None)) \
        < dt.timedelta(minutes=5)
    assert ledger.changes_since(first, {}).days == len(with_files)

    # The same files again: a new landed_at, the same digest, no change.
    tasks.ingest("payments", DAY, DAY + dt.timedelta(days=1))
    again = ledger.read(lake_dir)
    assert again[("payments", DAY)].landed_at > entry.landed_at
    consumed = {key: e.digest for key, e in first.items()}
    assert ledger.changes_since(again, consumed).days == 0

    # A file corrected at the source: that day changed, the others did not.
    delivered = sorted((landing / "payments" / DAY.isoformat()).iterdir())[0]
    delivered.write_bytes(delivered.read_bytes().rstrip(b"\r\n").rsplit(b"\n", 1)[0] + b"\n")
    tasks.ingest("payments", DAY, DAY + dt.timedelta(days=1))
    changes = ledger.changes_since(ledger.read(lake_dir), consumed)
    assert changes.changed == {"payments": [DAY]} and changes.withdrawn == []

    # A day withdrawn from the lake leaves the ledger.
    lake.partition_path(lake_dir, "load_audit", DAY + dt.timedelta(days=1), "payments").unlink()
    assert ledger.changes_since(ledger.read(lake_dir), consumed).withdrawn == [("payments", DAY + dt.timedelta(days=1))]


def test_the_landing_code_fingerprint_is_stable_and_stamped_on_every_file(
        dvc_home: Path, small_landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    monkeypatch.setenv("DVC_LANDING_DIR", str(small_landing))
    tasks.ingest("dossiers", DAY, DAY + dt.timedelta(days=1))
    audit = pq.read_table(lake.partition_path(dvc_home / "lake", "load_audit", DAY, "dossiers")).to_pylist()
    assert len(audit) > 1
    assert {row["landed_by"] for row in audit} == {ledger.landing_code()} and len(ledger.landing_code()) == 16
    assert len({row["landed_at"] for row in audit}) == 1


def test_the_ledger_reads_only_the_files_landed_since_through_its_cache(
        dvc_home: Path, small_landing: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import duckdb

    landing = tmp_path / "landing"
    shutil.copytree(small_landing / "payments", landing / "payments")
    monkeypatch.setenv("DVC_LANDING_DIR", str(landing))
    lake_dir = dvc_home / "lake"
    tasks.ingest("payments", DAY, DAY + dt.timedelta(days=3))
    first = ledger.read(lake_dir)
    balanced = ledger.accounts(lake_dir, "payments")
    assert len(first) >= 2 and all(a.balanced for a in balanced)
    caches = {p.name.split("-")[0]: p for p in (lake_dir / ledger.CACHE_DIR).glob("*.parquet")}
    assert set(caches) == {"audit", "footers"}

    # A file whose identity the cache holds is not read again: a digest planted in the cache comes back...
    later = DAY + dt.timedelta(days=1)
    with duckdb.connect() as con:
        con.execute(f"copy (select * replace (case when batch_date = ? then 'planted' else digest end as digest) "
                    f"from read_parquet('{caches['audit']}')) to '{tmp_path / 'planted.parquet'}'", [later])
    shutil.move(tmp_path / "planted.parquet", caches["audit"])
    assert ledger.read(lake_dir)[("payments", later)].digest == "planted"
    assert ledger.read(lake_dir)[("payments", DAY)] == first[("payments", DAY)]
    # ...until the day lands again: its audit is a new file, read again.
    tasks.ingest("payments", later, later + dt.timedelta(days=1))
    assert ledger.read(lake_dir)[("payments", later)].digest == first[("payments", later)].digest

    # A data partition replaced behind the audit's back: the new file's footer is read, the day is unbalanced.
    lake.write_partition(lake.partition_path(lake_dir, "raw_payments", DAY), "raw_payments", [])
    assert [a.day for a in ledger.accounts(lake_dir, "payments") if not a.balanced] == [DAY]
    # A day withdrawn leaves the answers and the cache.
    lake.partition_path(lake_dir, "load_audit", later, "payments").unlink()
    assert ("payments", later) not in ledger.read(lake_dir)
    with duckdb.connect() as con:
        assert not con.execute(f"select count(*) from read_parquet('{caches['audit']}') where rel like ?",
                               [f"%batch_date={later}%"]).fetchall()[0][0]

    # A damaged cache, or none: the same answers, read from the files.
    cached = (ledger.read(lake_dir), ledger.accounts(lake_dir, "payments"))
    for path in caches.values():
        path.write_bytes(b"not parquet")
    assert (ledger.read(lake_dir), ledger.accounts(lake_dir, "payments")) == cached
    shutil.rmtree(lake_dir / ledger.CACHE_DIR)
    assert (ledger.read(lake_dir), ledger.accounts(lake_dir, "payments")) == cached
