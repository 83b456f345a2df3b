"""The ledger of what landed: the load audit, read as one entry per (source, batch day).

Every landing of a source's batch day replaces three partitions, data first and the audit last
(`extract._write_day`): the audit's rows, one per file (name, sha256, bytes, rows read, loaded and
quarantined), all stamped with the landing's `landed_at` (UTC) and the landing code's fingerprint
(`landed_by`), are the record of that landing. A day's entry has a digest of its files' names,
sha256, counts and landing code: a day landed again from the same bytes by the same code (a rerun,
the HTTP mode's look-back) keeps its digest, and is no change. Every "what changed since last time"
question reads this record:

* the build's refresh plan (`transform.plan_refresh`) compares each day's digest with the one the
  last successful build consumed (`meta.refresh_ledger` in the warehouse);
* the landing check (`tasks.check_landing_accounts`) compares each day's audited counts with the
  rows its partitions hold (read from the Parquet footers, so every day costs a footer, not a scan);
* the ingestion run's Asset event names the days it landed (`landed_days`), and the build reports
  the days of the events it was triggered by beside the plan's.

A day landed with no file keeps an empty audit partition: it has no entry, as if never landed (its
data partition is empty too). A day that had files and lands again without any therefore leaves
the ledger: a build that consumed it sees it withdrawn.

What each partition file yields (an audit file's entry, a data or quarantine file's row count) is
kept in a cache, `lake/_ledger_cache/<kind>-<hash>.parquet`, keyed by the file's identity (inode, size,
modification time in ns): every partition is written to a new file renamed into place
(`lake.write_partition`), so a landing gives its files a new identity. A reading lists and stats
every partition and reads only the files whose identity the cache does not hold, so its cost follows
what landed since the last reading, not the lake's history (a year of a province is about 1,100
audit files: 0.75 s read whole, a listing and a stat each through the cache). The cache is only a
copy: a file's identity is taken before the file is read, so a partition replaced meanwhile is read
again next time; deleting the cache costs one whole reading; a cache that cannot be read or written
is ignored.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import os
import posixpath
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dichvucong.landing import lake

AUDIT_TABLE = "load_audit"
CACHE_DIR = "_ledger_cache"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Landing:
    """One (source, batch day) of the ledger: when it last landed, and the counts of its files."""

    source: str
    day: dt.date
    landed_at: dt.datetime | None  # UTC, naive; None for an audit written before the ledger had it
    digest: str  # md5 of the day's files (name, sha256, bytes, counts, error) and landing code
    files: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int


@dataclass(frozen=True)
class Changes:
    """What landed since a consumer's last reading of the ledger."""

    changed: dict[str, list[dt.date]]  # source -> days landed (again) since, sorted
    withdrawn: list[tuple[str, dt.date]]  # (source, day) consumed then and no longer in the ledger

    @property
    def days(self) -> int:
        return sum(len(days) for days in self.changed.values())


@functools.cache
def landing_code() -> str:
    """A fingerprint of the code that types landed files: this package's modules (16 hex digits)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def stamp() -> dict[str, Any]:
    """The ledger's columns of a landing's audit rows: when it started (UTC) and by which code."""
    return {"landed_at": dt.datetime.now(dt.UTC).replace(tzinfo=None), "landed_by": landing_code()}


def audit_files(lake_dir: Path, source: str) -> list[Path]:
    """A source's audit partitions (one per landed batch day), sorted."""
    return sorted((lake_dir / AUDIT_TABLE / source).glob("batch_date=*/data.parquet"))


def read(lake_dir: Path, sources: tuple[str, ...] | None = None, con: Any = None) -> dict[tuple[str, dt.date], Landing]:
    """The ledger: {(source, day): Landing} for every day whose audit holds at least one file, of
    the given sources (all by default). Reads the audit's columns, not the landed data."""
    import duckdb

    files = [p for s in (sources or lake.SOURCE_TABLES) for p in audit_files(lake_dir, s)]
    if not files:
        return {}
    own = con is None
    con = con or duckdb.connect()
    try:
        # union_by_name: an audit written before `landed_at` existed reads it as null.
        rows = _through_cache(con, lake_dir, "audit", files, """
            select filename as file, source, batch_date, max(landed_at) as landed_at,
                   md5(string_agg(concat_ws('|', file_name, coalesce(sha256, ''), bytes, rows_read, rows_loaded,
                                            rows_quarantined, coalesce(file_error, ''), coalesce(landed_by, '')),
                                  chr(10) order by file_name, sha256)) as digest,
                   count(*) as files, sum(rows_read) as rows_read, sum(rows_loaded) as rows_loaded,
                   sum(rows_quarantined) as rows_quarantined
            from read_parquet($files, union_by_name = true, hive_partitioning = false, filename = true)
            where batch_date is not null
            group by filename, source, batch_date
        """, "source, batch_date, landed_at, digest, files, rows_read, rows_loaded, rows_quarantined")
    finally:
        if own:
            con.close()
    return {(r[0], r[1]): Landing(r[0], r[1], r[2], r[3], int(r[4]), int(r[5]), int(r[6]), int(r[7])) for r in rows}


def _through_cache(con: Any, lake_dir: Path, kind: str, files: list[Path], query: str,
                   columns: str) -> list[tuple[Any, ...]]:
    """`columns` of the rows `query` yields for `files`, read through the cache
    `<lake>/_ledger_cache/<kind>-<the query's hash>.parquet` (module docstring).

    `query` reads the files of its parameter `$files` and yields a column `file` (the path it read, as
    given) beside `columns`, at most one row per file; `columns` may name `rel`, the file's path in the
    lake. Only the files whose identity (inode, size, mtime in ns, taken before reading) the cache lacks
    are read; a file that yields no row is cached as such (`yielded` false). The cache keeps the other
    files' rows, forgets files no longer in the lake, and is written back (a new file renamed over it)
    when it changed.
    """
    import pyarrow as pa

    identities: dict[str, tuple[str, int, int, int]] = {}  # path: its path in the lake, and its identity
    for path in files:
        try:
            stat = os.stat(path)
        except FileNotFoundError:  # withdrawn since listed
            continue
        identities[str(path)] = (path.relative_to(lake_dir).as_posix(), stat.st_ino, stat.st_size, stat.st_mtime_ns)
    if not identities:
        return []
    # Named by the query and this layout: a cache of another query or layout is never read.
    layout = f"{query}|rel, ino, size, mtime_ns, yielded"
    cache = lake_dir / CACHE_DIR / f"{kind}-{hashlib.md5(layout.encode()).hexdigest()[:12]}.parquet"
    con.register("ledger_files", pa.table(
        {"file": list(identities), **{name: [i[index] for i in identities.values()]
                                      for index, name in enumerate(("rel", "ino", "size", "mtime_ns"))}}))
    # The cache's layout: the query's columns without `file`, and the file's path and identity.
    con.execute(f"create or replace temp table ledger_known as select * exclude (file), null::varchar as rel, "
                f"null::bigint as ino, null::bigint as size, null::bigint as mtime_ns, null::boolean as yielded "
                f"from ({query}) where false",
                {"files": [next(iter(identities))]})
    if cache.exists():
        try:
            con.execute("insert into ledger_known by name select * from read_parquet(?)", [str(cache)])
        except Exception as exc:  # noqa: BLE001 - damaged: read everything again
            log.info("ledger cache %s not used: %s", cache, exc)
            con.execute("delete from ledger_known")
    fresh = [row[0] for row in con.execute(
        "select file from ledger_files f where not exists (select 1 from ledger_known k where k.rel = f.rel "
        "and k.ino = f.ino and k.size = f.size and k.mtime_ns = f.mtime_ns)").fetchall()]
    # Rows of files gone from the lake: not listed in a table folder this reading listed (<table>[/<source>]
    # above `batch_date=…/data.parquet`); the other folders' rows stay for their own readings.
    listed = {posixpath.dirname(posixpath.dirname(i[0])) for i in identities.values()}
    gone = [rel for (rel,) in con.execute(
        "select rel from ledger_known where rel not in (select rel from ledger_files)").fetchall()
        if posixpath.dirname(posixpath.dirname(rel)) in listed]
    if fresh or gone:
        con.execute("""
            create or replace temp table ledger_kept as select * from ledger_known
            where rel not in (select rel from ledger_files where file in (select unnest($fresh::varchar[])))
                and rel not in (select unnest($gone::varchar[]))""", {"fresh": fresh, "gone": gone})
        if fresh:
            con.execute(f"create or replace temp table ledger_read as {query}", {"files": fresh})
            con.execute("""
                insert into ledger_kept by name select r.* exclude (file), f.rel, f.ino, f.size, f.mtime_ns,
                    r.file is not null as yielded
                from ledger_files f left join ledger_read r using (file)
                where f.file in (select unnest($fresh::varchar[]))""", {"fresh": fresh})
            con.execute("drop table ledger_read")
        con.execute("drop table ledger_known")
        con.execute("alter table ledger_kept rename to ledger_known")
        try:
            cache.parent.mkdir(exist_ok=True)
            fd, staging = tempfile.mkstemp(prefix=".tmp-", suffix=".parquet", dir=cache.parent)
            os.close(fd)
            try:
                con.execute(f"copy ledger_known to '{staging}' (format parquet)")
                os.replace(staging, cache)
            finally:
                if os.path.exists(staging):
                    os.unlink(staging)
        except Exception as exc:  # noqa: BLE001 - a read-only lake: the answer stands, uncached
            log.info("ledger cache %s not written: %s", cache, exc)
    rows: list[tuple[Any, ...]] = con.execute(
        f"select {columns} from ledger_known k join ledger_files f using (rel, ino, size, mtime_ns) "
        f"where k.yielded order by rel").fetchall()
    return rows


def changes_since(current: dict[tuple[str, dt.date], Landing], consumed: dict[tuple[str, dt.date], str]) -> Changes:
    """The days whose landing differs from the one `consumed` ({(source, day): digest}) recorded,
    and those it recorded that are no longer in the ledger."""
    changed: dict[str, list[dt.date]] = {}
    for key, entry in sorted(current.items()):
        if consumed.get(key) != entry.digest:
            changed.setdefault(entry.source, []).append(entry.day)
    return Changes(changed, sorted(consumed.keys() - current.keys()))


@dataclass(frozen=True)
class Account:
    """A day's audited counts beside the rows its data and quarantine partitions hold."""

    source: str
    day: dt.date
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    rows_in_data: int
    rows_in_quarantine: int

    @property
    def balanced(self) -> bool:
        return (self.rows_read == self.rows_loaded + self.rows_quarantined
                and self.rows_loaded == self.rows_in_data and self.rows_quarantined == self.rows_in_quarantine)


def accounts(lake_dir: Path, source: str) -> list[Account]:
    """Every batch day of a source found in its audit, data or quarantine partitions, with both
    sides' counts: a day with rows in the lake and no audit row comes out with zeros from the audit,
    and a day audited with no partition with zeros from the lake, so that either is unbalanced.
    The partitions' rows are read from their Parquet footers (one partition per batch day)."""
    import duckdb

    table = lake.SOURCE_TABLES[source]
    folders = {"data": lake_dir / table, "quarantine": lake_dir / "quarantine" / source}
    footers = {kind: sorted(folder.glob("batch_date=*/data.parquet")) for kind, folder in folders.items()}
    with duckdb.connect() as con:
        counts: dict[dt.date, list[int]] = {day: [e.rows_read, e.rows_loaded, e.rows_quarantined, 0, 0]
                                            for (_, day), e in read(lake_dir, (source,), con).items()}
        for index, kind in ((3, "data"), (4, "quarantine")):
            if not footers[kind]:
                continue
            for name, rows in _through_cache(
                    con, lake_dir, "footers", footers[kind],
                    "select file_name as file, num_rows from parquet_file_metadata($files)", "rel, num_rows"):
                day = dt.date.fromisoformat(Path(name).parent.name.removeprefix("batch_date="))
                counts.setdefault(day, [0, 0, 0, 0, 0])[index] += int(rows)
    return [Account(source, day, *values) for day, values in sorted(counts.items())]
