"""The source system's HTTP API (sources.md, "HTTP mode"), served from a
landing directory, with the faults real servers have.

    GET /api/v1/dossiers?updated_from=yyyyMMddHHmmss&updated_to=yyyyMMddHHmmss&page=N&page_size=M
    GET /api/v1/payments/reconciliation?date=yyyy-MM-dd
    GET /api/v1/payments/reconciliation/<file name>
    GET /api/v1/catalog[?as_of=yyyy-MM-dd]

Every request needs `Authorization: Bearer <token>` (401 otherwise). Faults,
each drawn per request from a seeded generator: 429 with Retry-After, a 5xx,
a slow answer, or a connection dropped halfway through the body.

`as_of` on the catalog is this server's extension for backfills: the catalog
in force on that day (the latest snapshot on or before it); without it, the
current catalog. A dossier line that is not valid JSON cannot be served as a
record and is left out, as a real API would never have stored it.

`visible_until` (a local date) simulates the server's clock: only what was
synced before that day is served, so late syncs appear late.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import io
import json
import logging
import random
import threading
import time
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 5000
_TS_LEN = 14


@dataclass
class Faults:
    """Probabilities of each fault per request (0 = never)."""

    rate_429: float = 0.0
    retry_after_seconds: float = 1.0
    rate_5xx: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 1.0
    rate_drop: float = 0.0
    seed: int = 0

    @classmethod
    def typical(cls, seed: int = 0) -> Faults:
        """What the main job's `--source http` runs against: every fault, now and then."""
        return cls(rate_429=0.05, retry_after_seconds=0.2, rate_5xx=0.05, rate_slow=0.05, slow_seconds=0.3,
                   rate_drop=0.03, seed=seed)


@dataclass
class _Record:
    updated_at: str
    synced_on: dt.date
    order: tuple[str, str, int]
    record: dict[str, Any]


@dataclass
class SourceData:
    """The landing directory, indexed for the API."""

    landing_dir: Path
    dossiers: list[_Record] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    catalog: list[tuple[dt.date, Path]] = field(default_factory=list)

    @classmethod
    def load(cls, landing_dir: Path) -> SourceData:
        data = cls(landing_dir)
        for path in sorted((landing_dir / "dossiers").glob("*/*.jsonl")):
            synced_on = dt.date.fromisoformat(path.parent.name)
            for number, line in enumerate(path.read_bytes().split(b"\n"), start=1):
                try:
                    record = json.loads(line.decode("utf-8"))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    continue
                updated = str(record.get("NgayCapNhat") or "") if isinstance(record, dict) else ""
                if len(updated) != _TS_LEN:
                    continue
                data.dossiers.append(_Record(updated, synced_on, (path.parent.name, path.name, number), record))
        data.dossiers.sort(key=lambda r: (r.updated_at, r.order))
        data.keys = [r.updated_at for r in data.dossiers]
        for path in sorted((landing_dir / "catalog").glob("services_*.csv")):
            data.catalog.append((dt.datetime.strptime(path.stem[-8:], "%Y%m%d").date(), path))
        return data

    def dossier_window(self, updated_from: str, updated_to: str, visible_until: dt.date | None) -> list[dict]:
        low = bisect.bisect_left(self.keys, updated_from)
        high = bisect.bisect_left(self.keys, updated_to)
        return [r.record for r in self.dossiers[low:high] if visible_until is None or r.synced_on < visible_until]

    def catalog_records(self, as_of: dt.date | None) -> list[dict[str, str]] | None:
        in_force = [path for day, path in self.catalog if as_of is None or day <= as_of]
        if not in_force:
            return None
        return list(csv.DictReader(io.StringIO(in_force[-1].read_text(encoding="utf-8"))))


class SourceServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, data: SourceData, token: str, faults: Faults | None = None, host: str = "127.0.0.1",
                 port: int = 0, visible_until: dt.date | None = None) -> None:
        super().__init__((host, port), _Handler)
        self.data = data
        self.token = token
        self.faults = faults or Faults()
        self.visible_until = visible_until
        self._rng = random.Random(self.faults.seed)
        self._lock = threading.Lock()
        self.requests = 0
        self.faults_served: dict[str, int] = {"429": 0, "5xx": 0, "slow": 0, "drop": 0}
        # Every complete 200 answer, as (path, window start, page): tests check no page is served twice.
        self.served: list[tuple[str, str | None, int | None]] = []
        # After this many complete answers the server is down (503) until it is set back to None.
        self.outage_after: int | None = None

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def draw(self) -> str | None:
        with self._lock:
            self.requests += 1
            roll = self._rng.random()
            f = self.faults
            for name, rate in (("429", f.rate_429), ("5xx", f.rate_5xx), ("slow", f.rate_slow), ("drop", f.rate_drop)):
                if roll < rate:
                    self.faults_served[name] += 1
                    return name
                roll -= rate
            return None

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="source-server", daemon=True)
        thread.start()
        return thread


class _Handler(BaseHTTPRequestHandler):
    server: SourceServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        log.debug("source server: " + format, *args)

    def _send(self, status: int, body: bytes, content_type: str = "application/json",
              headers: dict[str, str] | None = None, drop: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if drop:
            # Half the body, then the connection goes away.
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, **kwargs: Any) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), **kwargs)

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            self._json(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"})
            return
        outage = self.server.outage_after
        if outage is not None and len(self.server.served) >= outage:
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "down for maintenance"})
            return
        fault = self.server.draw()
        if fault == "429":
            self._json(HTTPStatus.TOO_MANY_REQUESTS, {"error": "slow down"},
                       headers={"Retry-After": f"{self.server.faults.retry_after_seconds:g}"})
            return
        if fault == "5xx":
            self._json(HTTPStatus.SERVICE_UNAVAILABLE, {"error": "upstream unavailable"})
            return
        if fault == "slow":
            time.sleep(self.server.faults.slow_seconds)
        try:
            status, body, content_type = self._route()
        except ValueError as exc:
            self._json(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
            return
        if status == 200 and fault != "drop":
            # Recorded before the answer goes out, so that a client that has read it finds it recorded.
            query = parse_qs(urlparse(self.path).query)
            with self.server._lock:
                self.server.served.append((urlparse(self.path).path, query.get("updated_from", [None])[0],
                                           int(query["page"][0]) if "page" in query else None))
        self._send(status, body, content_type, drop=fault == "drop")

    def _route(self) -> tuple[int, bytes, str]:
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        data = self.server.data
        if url.path == "/api/v1/dossiers":
            updated_from, updated_to = query.get("updated_from", ""), query.get("updated_to", "")
            if len(updated_from) != _TS_LEN or len(updated_to) != _TS_LEN:
                raise ValueError("updated_from and updated_to are yyyyMMddHHmmss")
            page, page_size = int(query.get("page", "1")), int(query.get("page_size", "1000"))
            if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
                raise ValueError(f"page >= 1 and 1 <= page_size <= {MAX_PAGE_SIZE}")
            records = data.dossier_window(updated_from, updated_to, self.server.visible_until)
            chunk = records[(page - 1) * page_size: page * page_size]
            body = {"data": chunk, "page": page, "page_size": page_size, "total": len(records)}
            return 200, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json"
        if url.path == "/api/v1/payments/reconciliation":
            settled = dt.date.fromisoformat(query.get("date", ""))
            folder = data.landing_dir / "payments" / settled.isoformat()
            visible = self.server.visible_until is None or settled < self.server.visible_until
            names = sorted(p.name for p in folder.glob("*.csv")) if folder.is_dir() and visible else []
            return 200, json.dumps(names).encode(), "application/json"
        if url.path.startswith("/api/v1/payments/reconciliation/"):
            name = unquote(url.path.rsplit("/", 1)[-1])
            # Only a reconciliation file's name (doisoat_YYYYMMDD_<code>.csv), nothing that walks the tree.
            matches = sorted((data.landing_dir / "payments").glob(f"*/{name}")) if name.startswith("doisoat_") \
                and "/" not in name and ".." not in name else []
            if not matches:
                return 404, b'{"error": "no such file"}', "application/json"
            return 200, matches[-1].read_bytes(), "text/csv; charset=utf-8"
        if url.path == "/api/v1/catalog":
            as_of = dt.date.fromisoformat(query["as_of"]) if query.get("as_of") else None
            catalog = data.catalog_records(as_of)
            if catalog is None:
                return 404, b'{"error": "no catalog in force"}', "application/json"
            return 200, json.dumps(catalog, ensure_ascii=False).encode("utf-8"), "application/json"
        return 404, b'{"error": "not found"}', "application/json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve a landing directory as the source system's HTTP API.")
    parser.add_argument("--landing", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--token-env", default="DVC_SOURCE_TOKEN", help="environment variable holding the token")
    parser.add_argument("--faults", choices=["none", "typical"], default="typical")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import os

    token = os.environ.get(args.token_env)
    if not token:
        parser.error(f"set the bearer token in ${args.token_env}")
    faults = Faults.typical(args.seed) if args.faults == "typical" else Faults(seed=args.seed)
    server = SourceServer(SourceData.load(args.landing), token, faults, args.host, args.port)
    logging.basicConfig(level=logging.INFO)
    log.info("serving %s at %s with faults %s", args.landing, server.url, faults)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
