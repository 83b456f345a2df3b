"""The source system's HTTP API (sources.md v2, "HTTP mode"), served from a v2
landing directory, with the faults real servers have.

    GET /api/v1/sync-calls?kind=dossiers|processing&from=yyyyMMddHHmmss&to=yyyyMMddHHmmss&page=N&page_size=M
        {"data": [envelope, ...], "page": N, "page_size": M, "total": T}
    GET /api/v1/agencies?as_of=yyyy-MM-dd
    GET /api/v1/catalog?as_of=yyyy-MM-dd
        {"as_of": "yyyy-MM-dd", "snapshot_date": "yyyy-MM-dd", "data": [{column: "value", ...}, ...]}
    GET /api/v1/payments/reconciliation?date=yyyy-MM-dd
        ["doisoat_YYYYMMDD_<MaTrungGian>.csv", ...]
    GET /api/v1/payments/reconciliation/<file name>
        the file, byte for byte

Every request needs `Authorization: Bearer <token>` (401 otherwise). Faults,
each drawn per request from a seeded generator: 429 with Retry-After (seconds,
or an HTTP date), a 5xx, a slow answer, or a connection dropped halfway
through the body.

Sync calls are the envelopes of `dossiers/YYYY-MM-DD/*.json` and
`processing/YYYY-MM-DD/*.json` whose `ThoiGianDongBo` lies in [from, to), in
outbox order: ThoiGianDongBo, then folder, then file name. A file that is not a
JSON object with a 14-digit ThoiGianDongBo string cannot be served as a call
and is left out, as a real API would never have stored it.

A snapshot answer is the agency list or catalog in force on `as_of` (the
latest `coquan_YYYYMMDD.csv` / `services_YYYYMMDD.csv` dated on or before it;
without `as_of`, the latest), its rows as JSON objects keyed by the file's
header with string values, and `snapshot_date`, the date of that file: a
client lands a snapshot on the day it takes effect (`snapshot_date == as_of`).
404 when none is in force yet. A row whose field count differs from the
header is left out.

`visible_until` (a local date) simulates the server's clock: only what was
synced before that day (its folder's day) is served, so late syncs appear late.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import email.utils
import io
import json
import logging
import random
import re
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote, urlparse

log = logging.getLogger(__name__)

MAX_PAGE_SIZE = 5000
SYNC_KINDS = ("dossiers", "processing")
SNAPSHOT_FILES = {"agencies": re.compile(r"coquan_(\d{8})\.csv", re.IGNORECASE),
                  "catalog": re.compile(r"services_(\d{8})\.csv", re.IGNORECASE)}
_TIMESTAMP = re.compile(r"[0-9]{14}")
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xfe\xff", "utf-16-be"),
         (b"\xff\xfe", "utf-16-le"), (b"\xef\xbb\xbf", "utf-8"))


@dataclass
class Faults:
    """Probabilities of each fault per request (0 = never). `retry_after_date` sends Retry-After
    as an HTTP date `retry_after_seconds` ahead instead of a number of seconds."""

    rate_429: float = 0.0
    retry_after_seconds: float = 1.0
    rate_5xx: float = 0.0
    rate_slow: float = 0.0
    slow_seconds: float = 1.0
    rate_drop: float = 0.0
    seed: int = 0
    retry_after_date: bool = False

    @classmethod
    def typical(cls, seed: int = 0) -> Faults:
        """What the main job's `--source http` runs against: every fault, now and then."""
        return cls(rate_429=0.05, retry_after_seconds=0.2, rate_5xx=0.05, rate_slow=0.05, slow_seconds=0.3,
                   rate_drop=0.03, seed=seed)

    def retry_after(self) -> str:
        if self.retry_after_date:
            return email.utils.formatdate(time.time() + self.retry_after_seconds, usegmt=True)
        return f"{self.retry_after_seconds:g}"


@dataclass
class _Call:
    at: str  # ThoiGianDongBo
    synced_on: dt.date  # the folder's day
    order: tuple[str, str]  # folder, file name
    body: bytes  # the envelope as compact JSON


def decode(data: bytes) -> str | None:
    """A landing file's text: decoded by its byte-order mark, else UTF-8; None if it is neither."""
    bom, encoding = next(((b, e) for b, e in _BOMS if data.startswith(b)), (b"", "utf-8"))
    try:
        return data[len(bom):].decode(encoding)
    except UnicodeDecodeError:
        return None


def _file_day(name: str, pattern: re.Pattern[str]) -> dt.date | None:
    match = pattern.fullmatch(name)
    try:
        return dt.datetime.strptime(match.group(1), "%Y%m%d").date() if match else None
    except ValueError:
        return None


def _folder_day(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(name) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", name) else None
    except ValueError:
        return None


@dataclass
class SourceData:
    """The landing directory, indexed for the API."""

    landing_dir: Path
    calls: dict[str, list[_Call]] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    snapshots: dict[str, list[tuple[dt.date, Path]]] = field(default_factory=dict)

    @classmethod
    def load(cls, landing_dir: Path) -> SourceData:
        data = cls(landing_dir)
        for kind in SYNC_KINDS:
            calls = []
            for path in sorted((landing_dir / kind).glob("*/*.json")):
                synced_on = _folder_day(path.parent.name)
                if synced_on is None or not path.is_file():
                    continue
                envelope = _envelope(path.read_bytes())
                if envelope is None:
                    log.debug("source server: %s is not a sync call: not served", path.name)
                    continue
                body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                calls.append(_Call(envelope["ThoiGianDongBo"], synced_on, (path.parent.name, path.name), body))
            calls.sort(key=lambda c: (c.at, c.order))
            data.calls[kind] = calls
            data.keys[kind] = [c.at for c in calls]
        for source, pattern in SNAPSHOT_FILES.items():
            dated = [(day, path) for path in (landing_dir / source).glob("*.csv")
                     if (day := _file_day(path.name, pattern)) is not None and path.is_file()]
            data.snapshots[source] = sorted(dated, key=lambda d: (d[0], d[1].name))
        return data

    def sync_window(self, kind: str, start: str, end: str, visible_until: dt.date | None) -> list[bytes]:
        """The envelopes (compact JSON) of `kind` whose ThoiGianDongBo lies in [start, end), in
        outbox order."""
        keys = self.keys.get(kind, [])
        low, high = bisect.bisect_left(keys, start), bisect.bisect_left(keys, end)
        return [c.body for c in self.calls[kind][low:high] if visible_until is None or c.synced_on < visible_until]

    def snapshot(self, source: str, as_of: dt.date | None) -> tuple[dt.date, list[dict[str, str]]] | None:
        """(its date, its rows) of the snapshot of `source` in force on `as_of` (the latest
        without it); None when there is none, or it cannot be decoded."""
        in_force = [(day, path) for day, path in self.snapshots.get(source, []) if as_of is None or day <= as_of]
        if not in_force:
            return None
        day, path = in_force[-1]
        text = decode(path.read_bytes())
        if text is None:
            return None
        rows = list(csv.reader(io.StringIO(text, newline="")))
        if not rows:
            return day, []
        header = rows[0]
        return day, [dict(zip(header, row, strict=True)) for row in rows[1:] if len(row) == len(header)]


def _envelope(data: bytes) -> dict[str, Any] | None:
    text = decode(data)
    if text is None:
        return None
    try:
        envelope = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(envelope, dict):
        return None
    at = envelope.get("ThoiGianDongBo")
    return envelope if isinstance(at, str) and _TIMESTAMP.fullmatch(at) else None


class Served(NamedTuple):
    """A complete 200 answer: its path; for sync calls the kind, window start, page and page size."""

    path: str
    kind: str | None
    start: str | None
    page: int | None
    page_size: int | None = None


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
        # Every complete 200 answer: tests check no page is served twice.
        self.served: list[Served] = []
        # After this many complete answers the server is down (503) until it is set back to None.
        self.outage_after: int | None = None
        # Faults ("429", "5xx", "slow", "drop") for the next authorised requests, in order, before drawn ones.
        self.scripted: deque[str] = deque()
        # Where to redirect every request (a base URL), for redirect tests.
        self.redirect_to: str | None = None
        # The Authorization header of every request (None without one), for redirect tests.
        self.authorizations: list[str | None] = []

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def draw(self) -> str | None:
        with self._lock:
            self.requests += 1
            if self.scripted:
                fault = self.scripted.popleft()
                self.faults_served[fault] += 1
                return fault
            roll = self._rng.random()
            f = self.faults
            for name, rate in (("429", f.rate_429), ("5xx", f.rate_5xx), ("slow", f.rate_slow), ("drop", f.rate_drop)):
                if roll < rate:
                    self.faults_served[name] += 1
                    return name
                roll -= rate
            return None

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up (a reset keep-alive connection, a request it gave up on) is not
        # the server's error: no traceback on stderr.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            log.debug("source server: %s hung up", client_address)
            return
        super().handle_error(request, client_address)

    def start_in_thread(self, poll_interval: float = 0.5) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": poll_interval},
                                  name="source-server", daemon=True)
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
        with self.server._lock:
            self.server.authorizations.append(self.headers.get("Authorization"))
        if self.server.redirect_to is not None:
            self._send(HTTPStatus.FOUND, b"", headers={"Location": self.server.redirect_to.rstrip("/") + self.path})
            return
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
                       headers={"Retry-After": self.server.faults.retry_after()})
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
            url = urlparse(self.path)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            with self.server._lock:
                self.server.served.append(Served(url.path, query.get("kind"), query.get("from"),
                                                 int(query["page"]) if "page" in query else None,
                                                 int(query["page_size"]) if "page_size" in query else None))
        self._send(status, body, content_type, drop=fault == "drop")

    def _route(self) -> tuple[int, bytes, str]:
        url = urlparse(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        data = self.server.data
        if url.path == "/api/v1/sync-calls":
            kind, start, end = query.get("kind", ""), query.get("from", ""), query.get("to", "")
            if kind not in SYNC_KINDS:
                raise ValueError(f"kind is one of {', '.join(SYNC_KINDS)}")
            if not _TIMESTAMP.fullmatch(start) or not _TIMESTAMP.fullmatch(end):
                raise ValueError("from and to are yyyyMMddHHmmss")
            page, page_size = int(query.get("page", "1")), int(query.get("page_size", "1000"))
            if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
                raise ValueError(f"page >= 1 and 1 <= page_size <= {MAX_PAGE_SIZE}")
            calls = data.sync_window(kind, start, end, self.server.visible_until)
            chunk = calls[(page - 1) * page_size: page * page_size]
            tail = json.dumps({"page": page, "page_size": page_size, "total": len(calls)})[1:]
            return 200, b'{"data":[' + b",".join(chunk) + b"]," + tail.encode(), "application/json"
        if url.path in ("/api/v1/agencies", "/api/v1/catalog"):
            source = url.path.rsplit("/", 1)[-1]
            as_of = dt.date.fromisoformat(query["as_of"]) if query.get("as_of") else None
            snapshot = data.snapshot(source, as_of)
            if snapshot is None:
                return 404, b'{"error": "no snapshot in force"}', "application/json"
            day, rows = snapshot
            body = {"as_of": (as_of or day).isoformat(), "snapshot_date": day.isoformat(), "data": rows}
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
