"""Reading the published copy of the marts, and never anything else.

The connection is read-only and has file access switched off, so no query can
write, read another file or attach the warehouse. The pipeline publishes by
renaming a new file over the old one: each request looks at the file's inode
and opens the new copy when it changed; requests already running keep the copy
they started with. The dashboard therefore never holds a lock the pipeline
needs and always answers, from the last good marts.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import duckdb

from dichvucong.config import LOCAL_TZ
from dichvucong.dashboard.tables import Table

_PARAM = re.compile(r"\$([a-z_]+)")


class NotPublished(RuntimeError):
    """No published marts to read yet."""


@dataclass(frozen=True)
class Publication:
    as_of: dt.datetime  # local time, naive (as in the marts)
    published_at: dt.datetime  # aware
    run_id: str

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
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._identity: tuple[int, int, int] | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the current published copy (one per request: its queries see one copy)."""
        try:
            stat = os.stat(self.path)
        except FileNotFoundError as exc:
            raise NotPublished(f"no published marts at {self.path}: run the pipeline first") from exc
        identity = (stat.st_dev, stat.st_ino, stat.st_mtime_ns)
        with self._lock:
            if self._con is None or identity != self._identity:
                # A new in-memory database per published copy, with the copy attached read-only: DuckDB
                # reuses an open database for a path it already has, which would keep serving the old copy.
                # The old one is not closed: cursors of running requests still use it, and it goes with the
                # last of them. File access is switched off once the copy is attached.
                con = duckdb.connect(config={"threads": 2})
                con.execute("attach ? as published (read_only)", [str(self.path)])
                con.execute("set enable_external_access = false")
                self._con = con
                self._identity = identity
            cur = self._con.cursor()
        cur.execute("use published")
        return cur


def publication(cur: duckdb.DuckDBPyConnection) -> Publication:
    as_of, published_at, run_id = cur.execute(
        "select as_of, published_at, run_id from meta.publication").fetchall()[0]
    return Publication(as_of, published_at, run_id)


def run(cur: duckdb.DuckDBPyConnection, table: Table, params: dict[str, Any]) -> Result:
    """Run a table's SQL with bound parameters (only those its SQL names)."""
    wanted = set(_PARAM.findall(table.sql))
    missing = wanted - params.keys()
    if missing:
        raise ValueError(f"{table.name} needs {sorted(missing)}")
    rows = cur.execute(table.sql, {name: params[name] for name in wanted}).fetchall()
    return Result(table, rows)
