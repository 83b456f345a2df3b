"""Reading the published copy of the marts, and never anything else.

The connection is read-only and has file access switched off, so no query can
write, read another file or attach the warehouse. The pipeline publishes by
renaming a new file over the old one: each request looks at the file's inode
and opens the new copy when it changed; requests already running keep the copy
they started with. The dashboard therefore never holds a lock the pipeline
needs and always answers, from the last good marts. The quality tables come
from the quality file published after every validation, when there is one.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from dichvucong.config import LOCAL_TZ
from dichvucong.dashboard.tables import Table
from dichvucong.publish import BUILD_STATE_FILE, QUALITY_FILE

_PARAM = re.compile(r"\$([a-z_]+)")


class NotPublished(RuntimeError):
    """No published marts to read yet."""


@dataclass(frozen=True)
class Publication:
    as_of: dt.datetime  # local time, naive (as in the marts)
    published_at: dt.datetime  # aware
    run_id: str
    province_name: str = ""  # the configured province the marts were built for (empty in older copies)

    @property
    def published_local(self) -> dt.datetime:
        return self.published_at.astimezone(ZoneInfo(LOCAL_TZ)).replace(tzinfo=None)


@dataclass(frozen=True)
class Result:
    table: Table
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        names = self.table.column_names
        return [dict(zip(names, row, strict=True)) for row in self.rows]


class PublishedMarts:
    """The published marts, and the quality tables published after every validation when present
    (`quality.duckdb` beside the marts: newer than the marts' own copy when a run stopped at a gate)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.quality_path = path.with_name(QUALITY_FILE)
        self._lock = threading.Lock()
        self._identity: tuple[Any, ...] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    @staticmethod
    def _identity_of(path: Path) -> tuple[int, int, int] | None:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return None
        return (stat.st_dev, stat.st_ino, stat.st_mtime_ns)

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the current published copy (one per request: its queries see one copy)."""
        marts = self._identity_of(self.path)
        if marts is None:
            raise NotPublished(f"no published marts at {self.path}: run the pipeline first")
        identity = (marts, self._identity_of(self.quality_path))
        with self._lock:
            if self._con is None or identity != self._identity:
                # A new in-memory database per published copy, the files attached read-only and their tables
                # seen through views: DuckDB reuses an open database for a path it already has, which would
                # keep serving the old copy. The old one is not closed: cursors of running requests still use
                # it, and it goes with the last of them. File access is switched off once the files are
                # attached: no query can read, attach or write anything else.
                self._con = self._open(identity[1] is not None)
                self._identity = identity
            return self._con.cursor()

    def _open(self, with_quality: bool) -> duckdb.DuckDBPyConnection:
        """A read-only database of views over the attached files: the marts' tables, and the quality
        file's tables in place of the marts' copy of them. Built in a scratch file, then opened read-only
        (the file is unlinked at once; the open handle keeps it): nothing in the connection can be written."""
        attachments = [("published_marts", self.path)]
        if with_quality:
            attachments.append(("published_quality", self.quality_path))
        scratch = Path(tempfile.mkdtemp(prefix="dichvucong-dashboard-"))
        catalog = scratch / "catalog.duckdb"
        try:
            with duckdb.connect(str(catalog)) as build:
                sources: dict[tuple[str, str], str] = {}
                for alias, path in attachments:
                    build.execute(f"attach ? as {alias} (read_only)", [str(path)])
                    for schema, table in build.execute(
                            "select schema_name, table_name from duckdb_tables() where database_name = ?",
                            [alias]).fetchall():
                        sources[(schema, table)] = alias
                for schema in sorted({schema for schema, _ in sources}):
                    build.execute(f'create schema "{schema}"')
                for (schema, table), alias in sources.items():
                    build.execute(f'create view "{schema}"."{table}" as select * from {alias}."{schema}"."{table}"')
            con = duckdb.connect(str(catalog), read_only=True, config={"threads": 2})
            for alias, path in attachments:
                con.execute(f"attach ? as {alias} (read_only)", [str(path)])
            con.execute("set enable_external_access = false")
            con.execute("set lock_configuration = true")
            return con
        finally:
            shutil.rmtree(scratch, ignore_errors=True)


def publication(cur: duckdb.DuckDBPyConnection) -> Publication:
    row = cur.execute("select * from meta.publication").fetchall()[0]
    names = [c[0] for c in cur.description]
    values = dict(zip(names, row, strict=True))
    return Publication(values["as_of"], values["published_at"], values["run_id"],
                       values.get("province_name") or "")


def closed_gate(cur: duckdb.DuckDBPyConnection, since: dt.datetime) -> tuple[dt.datetime, str] | None:
    """The latest critical check that failed after the marts were published (so they are not those of
    the latest run), with its suite; None when every gate since then passed."""
    rows = cur.execute(
        "select validated_at, suite from quality.validation_results where not success and severity = 'critical' "
        "and validated_at > ? order by validated_at desc limit 1", [since]).fetchall()
    return (rows[0][0], rows[0][1]) if rows else None


def run(cur: duckdb.DuckDBPyConnection, table: Table, params: dict[str, Any]) -> Result:
    """Run a table's SQL with bound parameters (only those its SQL names)."""
    wanted = set(_PARAM.findall(table.sql))
    missing = wanted - params.keys()
    if missing:
        raise ValueError(f"{table.name} needs {sorted(missing)}")
    rows = cur.execute(table.sql, {name: params[name] for name in wanted}).fetchall()
    return Result(table, rows)


def build_failure(published: Path, since: dt.datetime) -> tuple[dt.datetime, str] | None:
    """The pipeline's last failed build (publish.BUILD_STATE_FILE beside the published file: its time, and the
    error's type and first line) when it failed after the publication `since`; None otherwise, or when
    there is no record, or one that does not read."""
    try:
        state = json.loads(published.with_name(BUILD_STATE_FILE).read_text(encoding="utf-8"))
        failed_at = dt.datetime.fromisoformat(state["failed_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if failed_at.tzinfo is None or state.get("status") != "failed" or failed_at <= since:
        return None
    return failed_at, str(state.get("error") or "")
