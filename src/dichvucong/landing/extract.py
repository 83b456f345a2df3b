"""Land one source's batch days into the lake, idempotently (sources.md v2: five sources, and the
portal's own 766 figures an official saves).

For each day of the interval, every file the source delivered for that day is
parsed; typed rows go to the day's raw partition, lines that cannot be typed
go to the day's quarantine partition with a reason, and one audit row per file
records what was read, loaded and quarantined. The three partitions of a day
are replaced together, so a rerun of any interval leaves the lake as if it had
run once. A day is landed even when it delivered nothing (an empty partition
says "landed, no rows").
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import multiprocessing
import os
import stat
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from dichvucong.config import Settings, airflow_connection
from dichvucong.landing import lake, layout, ledger
from dichvucong.landing.parsers import (
    DEFAULT_DIALECT,
    CsvDialect,
    ParsedFile,
    parse_agency_file,
    parse_catalog_file,
    parse_payment_file,
    parse_sync_call_file,
)
from dichvucong.landing.portal_files import parse_portal_file
from dichvucong.processes import die_with_parent

log = logging.getLogger(__name__)

SOURCES = layout.SOURCES


class AccountingError(RuntimeError):
    """Rows read differ from rows loaded plus rows quarantined."""


class SourceReader(Protocol):
    def files_for(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes | RejectedFile]]:
        """The (file name, content) pairs the source delivered for a batch day; a file the source
        delivered and that cannot be read comes as a `RejectedFile`."""
        ...


@dataclass(frozen=True)
class RejectedFile:
    """An entry of a landing folder that is not read, and why: it gets an audit row with this file
    error and no rows (sources.md: every file of a batch is accounted for). `reason` names the
    rule broken, never the file's content."""

    reason: str
    size: int | None = None

    def parsed(self) -> ParsedFile:
        return ParsedFile(file_error=self.reason)


MAX_FILE_BYTES = 2 * 2**30


def catalog_day(name: str) -> dt.date | None:
    """The day of a catalog snapshot file `services_YYYYMMDD.csv` (any case); None for a name
    outside the layout or an impossible date (`layout.snapshot_day`)."""
    return layout.snapshot_day("catalog", name)


@dataclass(frozen=True)
class FileDropReader:
    """Files laid out under a landing directory as in `sources.md`.

    Only regular files that resolve inside the landing directory are read: a FIFO, a device, a
    directory named like a data file, a dangling or looping link, a link that leads outside, or a
    file over `max_file_bytes` is a `RejectedFile`, as is an entry of a batch folder whose name is
    outside the layout. Entries that belong to no batch day (a folder not named as a date, a
    catalog file with an impossible date) are listed by `unplaced`.
    """

    landing_dir: Path
    max_file_bytes: int = MAX_FILE_BYTES

    def files_for(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes | RejectedFile]]:
        if source in layout.SNAPSHOT_SOURCES:
            folder = self.landing_dir / source
            entries = [e for e in self._entries(folder) if layout.snapshot_day(source, e.name) == day]
        else:
            folder = self.landing_dir / source / day.isoformat()
            entries = self._entries(folder) if self._is_folder(folder) else []
        for entry in entries:
            if not layout.FILE_NAMES[source].fullmatch(entry.name):
                yield entry.name, RejectedFile(f"name outside the layout (expected {layout.EXPECTED[source]})")
            else:
                yield entry.name, self._read(entry)

    def unplaced(self, source: str) -> list[tuple[str, RejectedFile]]:
        """The entries of a source's folder that belong to no batch day, by path under it."""
        folder = self.landing_dir / source
        out = []
        expected = layout.EXPECTED[source]
        for entry in self._entries(folder):
            if source in layout.SNAPSHOT_SOURCES:
                if layout.snapshot_day(source, entry.name) is None:
                    out.append((entry.name, RejectedFile(f"name outside the layout (expected {expected})")))
            elif layout.folder_day(entry.name) is None or not self._is_folder(entry):
                out.append((entry.name, RejectedFile(f"entry outside the layout (expected {expected})")))
        return out

    def _is_folder(self, path: Path) -> bool:
        try:
            return path.is_dir() and path.resolve(strict=True).is_relative_to(self._root)
        except (OSError, RuntimeError):
            return False

    @staticmethod
    def _entries(folder: Path) -> list[Path]:
        try:
            return sorted(folder.iterdir(), key=lambda p: p.name)
        except (FileNotFoundError, NotADirectoryError):
            return []

    @functools.cached_property
    def _root(self) -> Path:
        """The landing directory, its links resolved (once: each file's check compares with it)."""
        return self.landing_dir.resolve()

    def _read(self, path: Path) -> bytes | RejectedFile:
        """The bytes of a regular file inside the landing directory, or why they are not read."""
        try:
            # The common entry, no link in a folder that is no link (`files_for` lists a source's
            # folder or a day folder `_is_folder` found inside the landing directory): it needs no
            # resolving. `O_NOFOLLOW` below refuses an entry turned into a link since. A folder that
            # cannot be searched (is_symlink raises) takes the resolving path, which refuses it.
            linked = path.is_symlink() or path.parent.is_symlink()
        except OSError:
            linked = True
        if not linked:
            resolved = path
        else:
            try:
                resolved = path.resolve(strict=True)
            except (OSError, RuntimeError):  # dangling link, a loop of links
                return RejectedFile("a link that leads nowhere")
            if not resolved.is_relative_to(self._root):
                return RejectedFile("resolves outside the landing directory")
        try:
            # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
            fd = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
        except OSError:
            return RejectedFile("cannot be opened")
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            os.close(fd)
            return RejectedFile("not a regular file")
        if info.st_size > self.max_file_bytes:
            os.close(fd)
            return RejectedFile(f"file over {self.max_file_bytes} bytes", info.st_size)
        with os.fdopen(fd, "rb") as handle:
            return handle.read()


@dataclass
class LandingReport:
    source: str
    start: str
    end: str
    days: int
    files: int
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    unplaced: int = 0  # entries of the source's folder that belong to no batch day (lake.findings_path)
    landed_days: list[str] = field(default_factory=list)  # ISO days that landed a file (landing.ledger)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def days_in(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def _parse(source: str, name: str, data: bytes, key: bytes, dialects: dict[str, CsvDialect]) -> ParsedFile:
    if source in ("dossiers", "processing"):
        return parse_sync_call_file(data, key, source)
    if source == "payments":
        intermediary = name.rsplit(".", 1)[0].split("_", 2)[-1].upper()
        return parse_payment_file(data, key, dialects.get(intermediary, DEFAULT_DIALECT))
    if source == "agencies":
        return parse_agency_file(data, key)
    if source == "portal":
        return parse_portal_file(data, key)
    return parse_catalog_file(data, key)


def land_days(source: str, days: list[dt.date], reader: SourceReader, lake_dir: Path,
              key: bytes, dialects: dict[str, CsvDialect] | None = None) -> tuple[dict[str, int], list[str]]:
    """Land consecutive batch days; returns the summed counts and the days that landed at least one
    file (ISO dates: the ledger's new entries). Each day's files are parsed one by one and the day's
    partitions written once, so memory holds one day."""
    totals = {"files": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}
    landed: list[str] = []
    for day in days:
        # A generator: each file is read and parsed as _write_day takes it, and let go after.
        counts = _write_day(source, day, ((name, data, _parse(source, name, data, key, dialects or {})
                                           if isinstance(data, bytes) else data.parsed())
                                          for name, data in reader.files_for(source, day)), lake_dir)
        for name, value in counts.items():
            totals[name] += value
        if counts["files"]:
            landed.append(day.isoformat())
    return totals, landed


# Parsed rows are typed into Arrow this many at a time (or fewer, at the end of a day): converting
# each file's few rows apart cost six times as much (pyarrow's per-call set-up for the nested schema),
# and a whole day's rows held as Python objects took 2-3 GB per landing process at a nation's day
# (docs/benchmarks.md, the ninth round).
TYPED_CHUNK_ROWS = 50_000


def _write_day(source: str, day: dt.date, files: Iterable[tuple[str, bytes | RejectedFile, ParsedFile]],
               lake_dir: Path) -> dict[str, int]:
    """Replace one day's raw, quarantine and audit partitions from its parsed files (taken one at a
    time). AccountingError where a file's rows read differ from its rows loaded plus quarantined."""
    table = lake.SOURCE_TABLES[source]
    stamp = ledger.stamp()
    rows: list[dict[str, Any]] = []
    file_names: list[str] = []
    typed_chunks: list[pa.Table] = []
    quarantined: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []

    def type_rows() -> None:
        typed_chunks.append(pa.Table.from_pylist(rows, schema=lake.parsed_schema(table))
                            .append_column("_source_file", pa.array(file_names, pa.string())))
        rows.clear()
        file_names.clear()

    for name, data, parsed in files:
        if parsed.rows_read != len(parsed.rows) + len(parsed.quarantined):
            raise AccountingError(
                f"{source} {name}: read {parsed.rows_read} != loaded {len(parsed.rows)}"
                f" + quarantined {len(parsed.quarantined)}"
            )
        rows += parsed.rows
        file_names += [name] * len(parsed.rows)
        if len(rows) >= TYPED_CHUNK_ROWS:
            type_rows()
        quarantined.extend(
            dict(q, source=source, batch_date=day, file_name=name) for q in parsed.quarantined
        )
        audit.append({
            "source": source, "batch_date": day, "file_name": name,
            "sha256": hashlib.sha256(data).hexdigest() if isinstance(data, bytes) else None,
            "bytes": len(data) if isinstance(data, bytes) else data.size,
            "rows_read": parsed.rows_read, "rows_loaded": len(parsed.rows),
            "rows_quarantined": len(parsed.quarantined), "has_total_line": parsed.has_total_line,
            "total_line_amount": parsed.total_line_amount, "file_error": parsed.file_error,
            "unknown_columns": parsed.unknown_columns, "missing_columns": parsed.missing_columns,
            **(parsed.envelope or {}), **stamp,
        })
    if source in layout.SPARSE_SOURCES and not audit:
        # No snapshot that day: the previous snapshot stays in force (no portal file: nothing was
        # saved that day). A file landed for this day before (and since withdrawn or corrected
        # away) is removed with its audit.
        for name, kind in ((table, None), ("quarantine", source), ("load_audit", source)):
            lake.partition_path(lake_dir, name, day, kind).unlink(missing_ok=True)
        return {"files": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}
    if rows or not typed_chunks:
        type_rows()
    typed = pa.concat_tables(typed_chunks)
    typed = (typed.append_column("_batch_date", pa.array([day] * typed.num_rows, pa.date32()))
             .select(lake.SCHEMAS[table].names))
    # Data first, audit last: an audit row exists only for a day whose data is in place.
    lake.write_partition(lake.partition_path(lake_dir, table, day), table, typed)
    lake.write_partition(lake.partition_path(lake_dir, "quarantine", day, source), "quarantine", quarantined)
    lake.write_partition(lake.partition_path(lake_dir, "load_audit", day, source), "load_audit", audit)
    return {
        "files": len(audit),
        "rows_read": sum(int(a["rows_read"]) for a in audit),
        "rows_loaded": typed.num_rows,
        "rows_quarantined": len(quarantined),
    }


def _write_unplaced(source: str, entries: list[tuple[str, RejectedFile]], lake_dir: Path) -> None:
    """Replace the source's audit rows of entries outside the layout (no batch day): each a file
    error, so that no file of the landing directory goes unaccounted for (`lake.findings_path`)."""
    for name, rejected in entries:
        log.warning("%s: %r is outside the landing layout: %s", source, name, rejected.reason)
    stamp = ledger.stamp()
    rows: list[dict[str, Any]] = [
        {"source": source, "batch_date": None, "file_name": name, "sha256": None, "bytes": rejected.size,
         "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0, "has_total_line": False,
         "total_line_amount": None, "file_error": rejected.reason, "unknown_columns": [], "missing_columns": [],
         **stamp}
        for name, rejected in entries]
    path = lake.findings_path(lake_dir, source)
    if rows or path.exists():
        lake.write_partition(path, "load_audit", rows)


def reader_for(settings: Settings, source: str | None = None) -> SourceReader:
    """The source's reader: the landing directory, or the one-stop system's HTTP API in HTTP mode
    (the portal's figures are always a file drop, `layout.FILE_DROP_ONLY`)."""
    if settings.source_mode == "file" or source in layout.FILE_DROP_ONLY:
        return FileDropReader(settings.landing_dir)
    from dichvucong.landing.http_source import HttpSourceReader

    url, token = settings.source_url, settings.source_token
    if not url or not token:
        url, token = _airflow_connection(url, token)
    if not url or not token:
        raise ValueError("HTTP source mode needs DVC_SOURCE_URL and DVC_SOURCE_TOKEN, or the Airflow connection "
                         "'dvc_source' (host = base URL, password = token)")
    return HttpSourceReader(url, token, settings.lake_dir / "_http_manifest", page_size=settings.http_page_size,
                            manifest_key=settings.pseudonym_key())


def _airflow_connection(url: str, token: str) -> tuple[str, str]:
    """Fill the URL and token from the Airflow connection `dvc_source`, where it exists."""
    connection = airflow_connection("dvc_source")
    if connection is None:
        return url, token
    base = connection.host or ""
    if base and "://" not in base:
        base = f"{connection.schema or 'http'}://{base}" + (f":{connection.port}" if connection.port else "")
    return url or base.rstrip("/"), token or (connection.password or "")


def land(source: str, start: dt.date, end: dt.date, settings: Settings,
         reader: SourceReader | None = None) -> LandingReport:
    """Land every batch day in [start, end) of one source."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    reader = reader or reader_for(settings, source)
    key = settings.pseudonym_key()
    dialects = settings.payment_dialects() if source == "payments" else {}
    totals = {"files": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}
    days = days_in(start, end)
    workers = min(len(days), settings.land_workers)
    if isinstance(reader, FileDropReader) and workers > 1:
        # A wide interval of dropped files (a backfill): slices of consecutive days in parallel
        # processes; days are independent and each writes its own partitions. Over HTTP, days stay
        # in order (manifest, lookback). Off by default: under a real scheduler a task that
        # spawned workers did not finish in our tests; the main job and the benchmarks turn it on
        # (they land in their own process).
        step = max(1, -(-len(days) // (workers * 4)))
        slices = [days[i:i + step] for i in range(0, len(days), step)]
        context = multiprocessing.get_context("spawn")
        # Each worker dies with this process: a killed landing leaves no writer behind.
        with ProcessPoolExecutor(workers, mp_context=context, initializer=die_with_parent,
                                 initargs=(os.getpid(),)) as pool:
            results = list(pool.map(land_days, [source] * len(slices), slices, [reader] * len(slices),
                                    [settings.lake_dir] * len(slices), [key] * len(slices),
                                    [dialects] * len(slices)))
    elif getattr(reader, "done", None) is None:
        results = [land_days(source, days, reader, settings.lake_dir, key, dialects)]
    else:
        results = []
        for day in days:
            results.append(land_days(source, [day], reader, settings.lake_dir, key, dialects))
            reader.done(source, day)  # type: ignore[attr-defined]
    landed_days: list[str] = []
    for counts, landed in results:
        for name, value in counts.items():
            totals[name] += value
        landed_days += landed
    unplaced = reader.unplaced(source) if isinstance(reader, FileDropReader) else []
    _write_unplaced(source, unplaced, settings.lake_dir)
    report = LandingReport(source, start.isoformat(), end.isoformat(), len(days), **totals, unplaced=len(unplaced),
                           landed_days=sorted(landed_days))
    log.info("landed %s", report)
    return report
