"""Land one source's batch days into the lake, idempotently.

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
import hashlib
import logging
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa

from dichvucong.config import Settings, airflow_connection
from dichvucong.landing import lake
from dichvucong.landing.parsers import ParsedFile, parse_catalog_file, parse_dossier_file, parse_payment_file
from dichvucong.processes import die_with_parent

log = logging.getLogger(__name__)

SOURCES = ("catalog", "dossiers", "payments")


class AccountingError(RuntimeError):
    """Rows read differ from rows loaded plus rows quarantined."""


class SourceReader(Protocol):
    def files_for(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes]]:
        """The (file name, content) pairs the source delivered for a batch day."""
        ...


@dataclass(frozen=True)
class FileDropReader:
    """Files laid out under a landing directory as in `sources.md`."""

    landing_dir: Path

    def files_for(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes]]:
        if source == "catalog":
            path = self.landing_dir / "catalog" / f"services_{day:%Y%m%d}.csv"
            candidates = [path] if path.exists() else []
        else:
            folder = self.landing_dir / source / day.isoformat()
            pattern = "*.jsonl" if source == "dossiers" else "doisoat_*.csv"
            candidates = sorted(folder.glob(pattern)) if folder.is_dir() else []
        for path in candidates:
            yield path.name, path.read_bytes()


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

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def days_in(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days)]


def _parse(source: str, data: bytes, key: bytes) -> ParsedFile:
    if source == "dossiers":
        return parse_dossier_file(data, key)
    if source == "payments":
        return parse_payment_file(data, key)
    return parse_catalog_file(data, key)


def land_day(source: str, day: dt.date, reader: SourceReader, lake_dir: Path, key: bytes) -> dict[str, int]:
    return land_days(source, [day], reader, lake_dir, key)


def land_days(source: str, days: list[dt.date], reader: SourceReader, lake_dir: Path,
              key: bytes) -> dict[str, int]:
    """Land consecutive batch days; returns the summed counts."""
    totals = {"files": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}

    def add(counts: dict[str, int]) -> None:
        for name, value in counts.items():
            totals[name] += value

    if source != "dossiers":
        for day in days:
            add(_write_day(source, day, [(name, data, _parse(source, data, key), None)
                                         for name, data in reader.files_for(source, day)], lake_dir))
        return totals
    from dichvucong.landing.fast_dossiers import BATCH_BYTES, DossierTyper

    with DossierTyper(key) as typer:
        pending: list[tuple[dt.date, list[tuple[str, bytes]]]] = []
        size = 0
        for index, day in enumerate(days):
            files = list(reader.files_for(source, day))
            pending.append((day, files))
            size += sum(len(data) for _, data in files)
            if size < BATCH_BYTES and index < len(days) - 1:
                continue
            typed = iter(typer.parse_many([data for _, batch in pending for _, data in batch]))
            for batch_day, batch in pending:
                parsed_files: list[tuple[str, bytes, ParsedFile, pa.Table | None]] = []
                for name, data in batch:
                    rows, parsed = next(typed)
                    parsed_files.append((name, data, parsed, rows))
                add(_write_day(source, batch_day, parsed_files, lake_dir))
            pending, size = [], 0
    return totals


def _write_day(source: str, day: dt.date, files: list[tuple[str, bytes, ParsedFile, pa.Table | None]],
               lake_dir: Path) -> dict[str, int]:
    """Replace one day's raw, quarantine and audit partitions from its parsed files (rows either
    in the ParsedFile or, typed in bulk, in a table)."""
    table = lake.SOURCE_TABLES[source]
    parts: list[pa.Table] = []
    quarantined: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    loaded = 0
    parsed_schema = lake.parsed_schema(table)
    for name, data, parsed, typed in files:
        if typed is None:
            typed = pa.Table.from_pylist(parsed.rows, schema=parsed_schema)
        if parsed.rows_read != typed.num_rows + len(parsed.quarantined):
            raise AccountingError(
                f"{source} {name}: read {parsed.rows_read} != loaded {typed.num_rows}"
                f" + quarantined {len(parsed.quarantined)}"
            )
        loaded += typed.num_rows
        parts.append(typed.append_column("_source_file", pa.array([name] * typed.num_rows, pa.string()))
                     .append_column("_batch_date", pa.array([day] * typed.num_rows, pa.date32())))
        quarantined.extend(
            dict(q, source=source, batch_date=day, file_name=name) for q in parsed.quarantined
        )
        audit.append({
            "source": source, "batch_date": day, "file_name": name,
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data),
            "rows_read": parsed.rows_read, "rows_loaded": typed.num_rows,
            "rows_quarantined": len(parsed.quarantined), "has_total_line": parsed.has_total_line,
            "total_line_amount": parsed.total_line_amount, "file_error": parsed.file_error,
        })
    if source == "catalog" and not audit:
        # No snapshot that day: the previous snapshot stays in force. A snapshot landed for
        # this day before (and since withdrawn or corrected away) is removed with its audit.
        for name, kind in ((table, None), ("quarantine", source), ("load_audit", source)):
            lake.partition_path(lake_dir, name, day, kind).unlink(missing_ok=True)
        return {"files": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}
    rows = pa.concat_tables(parts).select(lake.SCHEMAS[table].names) if parts else lake.SCHEMAS[table].empty_table()
    # Data first, audit last: an audit row exists only for a day whose data is in place.
    lake.write_partition(lake.partition_path(lake_dir, table, day), table, rows)
    lake.write_partition(lake.partition_path(lake_dir, "quarantine", day, source), "quarantine", quarantined)
    lake.write_partition(lake.partition_path(lake_dir, "load_audit", day, source), "load_audit", audit)
    return {
        "files": len(audit),
        "rows_read": sum(int(a["rows_read"]) for a in audit),
        "rows_loaded": loaded,
        "rows_quarantined": len(quarantined),
    }


def reader_for(settings: Settings) -> SourceReader:
    if settings.source_mode == "file":
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
    reader = reader or reader_for(settings)
    key = settings.pseudonym_key()
    totals = {"files": 0, "rows_read": 0, "rows_loaded": 0, "rows_quarantined": 0}
    days = days_in(start, end)
    workers = min(len(days), int(os.environ.get("DVC_LAND_WORKERS", "1")))
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
                                    [settings.lake_dir] * len(slices), [key] * len(slices)))
    elif getattr(reader, "done", None) is None:
        results = [land_days(source, days, reader, settings.lake_dir, key)]
    else:
        results = []
        for day in days:
            results.append(land_day(source, day, reader, settings.lake_dir, key))
            reader.done(source, day)  # type: ignore[attr-defined]
    for counts in results:
        for name, value in counts.items():
            totals[name] += value
    report = LandingReport(source, start.isoformat(), end.isoformat(), len(days), **totals)
    log.info("landed %s", report)
    return report
