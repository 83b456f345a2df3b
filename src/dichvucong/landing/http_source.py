"""Extraction from the source system's HTTP API (sources.md v2, "HTTP mode").

A `SourceReader` like the file drop: `files_for(source, day)` yields, for one
batch day, the (name, bytes) files a v2 landing directory holds for that day,
so that the same parsers read both:

- `dossiers`, `processing`: every sync call whose ThoiGianDongBo lies in
  [day 00:00, next day 00:00) local time, read in pages from
  `/api/v1/sync-calls`, each envelope as its own JSON file (UTF-8) named
  `<ThoiGianDongBo>_<n>.json`, n its 1-based place in the window's outbox
  order (six digits), so that names sort in outbox order;
- `agencies`, `catalog`: the snapshot in force that day as a CSV file with the
  contract's columns (`coquan_YYYYMMDD.csv`, `services_YYYYMMDD.csv`), only on
  the day it takes effect (the answer's `snapshot_date` is the day); nothing
  on other days;
- `payments`: the day's reconciliation files, byte for byte, under their names.

Nothing the server says is trusted:

- Requests: one deadline per request covers its retries, redirects, waits and
  every byte of the body. 5xx, dropped connections, truncated bodies and a
  body still arriving at the deadline are retried with backoff; 429 (and 503)
  wait their Retry-After (seconds or an HTTP date, RFC 9110), clamped.
  Redirects are followed only within the base URL's origin, so the token never
  leaves it and no other host can answer for the source. An answer larger than
  the limit is refused before it is held in memory. 401 fails at once.
- Pages: the shape of every page is checked, every call in it must have its
  ThoiGianDongBo in the window asked, the page number it echoes must be the
  one asked, the end of a window is probed (pages are read until one comes
  back short) rather than taken from `total`, a page that repeats calls of an
  earlier page of the window is caught, and the calls counted must equal the
  `total` the server states. (An outbox can hold the same call twice: copies
  next to each other in outbox order. Where such copies straddle a page
  boundary, the calls around it are read again in pages of another size and
  must be the same.) A window that fails a check is read again, a
  bounded number of times, then the day fails with a `PagingError`.
- Snapshots: the answer's shape and `snapshot_date` (a date, not after the day
  asked) are checked.
- File names: a reconciliation file's name must be the contract's
  (`doisoat_YYYYMMDD_<MaTrungGian>.csv`, of the day asked) or the day fails;
  names are carried as values only, never used as paths.

Pages and files are written to a landing manifest folder as they arrive, so a
task killed halfway resumes where it stopped: no page is fetched into the lake
twice, and none is skipped. The folder is removed once its day is in the lake
(`done`). It holds no readable personal data: a page of sync calls is stored
sealed whole (AES-256-GCM under a key derived from the manifest key, which is
not stored in the lake, bound to the page's place), so that names and ID
numbers anywhere in an envelope, free text included, never reach the disk in
clear, and the calls yielded are exactly the ones the server sent. An entry
that cannot be read back (cut short, altered, sealed with another key) is
deleted and fetched again.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import requests
import urllib3
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from urllib3.util.retry import Retry

log = logging.getLogger(__name__)

# The contract's columns, in order (sources.md §1 and §2): the header of a snapshot file.
AGENCY_COLUMNS = ("MaDinhDanh", "TenCoQuan", "CapCoQuan", "MaCoQuanCha", "MaDVHC", "NgayHieuLuc", "NgayHetHieuLuc",
                  "MaCoQuanKeThua")
CATALOG_COLUMNS = ("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "CapThucHien", "MaCoQuanChuTri", "MucDo",
                   "DuDieuKienToanTrinh", "ThoiHanGiaiQuyet", "DonViThoiHan", "PhiLePhi", "CoPhiLePhi", "CoKetQuaGiay",
                   "DoiTuongCongDan", "KetNoiCSDLDanCu", "NgayQuyetDinhCongBo", "NgayHieuLucVanBan", "NgayCongKhai",
                   "SoBoPhanCongKhai")
# Snapshot sources: (endpoint, columns, file name prefix of the landing layout).
SNAPSHOTS = {"agencies": ("/api/v1/agencies", AGENCY_COLUMNS, "coquan"),
             "catalog": ("/api/v1/catalog", CATALOG_COLUMNS, "services")}
SYNC_SOURCES = ("dossiers", "processing")
SOURCES = ("agencies", "catalog", "dossiers", "processing", "payments")

# sources.md §5: doisoat_YYYYMMDD_<MaTrungGian>.csv
RECONCILIATION_NAME = re.compile(r"doisoat_(?P<day>[0-9]{8})_(?P<code>[A-Z0-9_]{1,64})\.csv")

# 3: pages of sync-call envelopes, sealed whole (2 kept v1 dossier records with ID numbers sealed).
_MANIFEST_VERSION = 3
_TIMESTAMP = re.compile(r"[0-9]{14}")
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_DEFAULT_PORTS = {"http": 80, "https": 443}
_CHUNK_BYTES = 1 << 16
# urllib3's RFC 9110 Retry-After parser (delta-seconds or an HTTP-date, never negative).
_RETRY_AFTER = Retry(total=0)


class ExtractError(RuntimeError):
    """The source could not be read within the time allowed, refused the credentials, or answered
    something the extractor will not land."""


class ContractViolation(ExtractError):
    """An answer breaks the HTTP contract (its shape, a status, a page number); not retried."""


class InvalidFileName(ContractViolation):
    """A reconciliation file name listed by the server is not the contract's."""


class Unauthorized(ExtractError):
    """The source refused the token (401): not retried."""


class PagingError(ExtractError):
    """A window's pages disagree with each other or with `total` on every read allowed."""


class RedirectRefused(ExtractError):
    """The server redirected to another origin (scheme, host, port), or too many times."""


class ResponseTooLarge(ExtractError):
    """An answer is larger than `max_response_bytes`."""


class _Retry(Exception):
    def __init__(self, wait: float, reason: str) -> None:
        super().__init__(reason)
        self.wait = wait
        self.reason = reason


class _BodyLate(Exception):
    """The deadline passed while the body was still arriving."""


class _WindowFault(Exception):
    """A read of a window that cannot be trusted: the window is read again."""


class _Unreadable(Exception):
    """A manifest entry that does not read back as written."""


# What a broken connection or a body cut short raises, from requests or (reading the body) urllib3.
_TRANSPORT_ERRORS = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                     requests.exceptions.ContentDecodingError, urllib3.exceptions.HTTPError, _BodyLate)


@dataclass(frozen=True)
class Fetched:
    """A complete answer: status, body bytes (content-decoded), the URL that answered."""

    status: int
    body: bytes
    url: str


@dataclass(frozen=True)
class _Page:
    records: list[dict[str, Any]]
    fingerprints: list[str]
    total: int


class _Keys:
    """The manifest's keyed pieces: call fingerprints (HMAC-SHA-256) and sealed pages
    (AES-256-GCM, bound to their manifest entry), from one secret through HKDF."""

    def __init__(self, secret: bytes) -> None:
        material = HKDF(algorithm=hashes.SHA256(), length=64, salt=None,
                        info=b"dichvucong http manifest v3").derive(secret)
        self._aead = AESGCM(material[:32])
        self._mac = material[32:]
        self.check = hmac.new(self._mac, b"key check", hashlib.sha256).hexdigest()[:16]

    def fingerprint(self, record: Any) -> str:
        canonical = json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hmac.new(self._mac, canonical.encode("utf-8"), hashlib.sha256).hexdigest()[:32]

    def seal(self, value: Any, context: str) -> bytes:
        nonce = os.urandom(12)
        plain = json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return nonce + self._aead.encrypt(nonce, plain, context.encode())

    def open(self, sealed: bytes, context: str) -> Any:
        return json.loads(self._aead.decrypt(sealed[:12], sealed[12:], context.encode()))


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number")


def _well_formed(manifest: Any) -> bool:
    """A manifest as this module writes it (not cut short or altered into another shape)."""
    if not isinstance(manifest, dict):
        return False
    maps = [manifest.get(name, {}) for name in ("pages", "fetched")]
    return all(isinstance(m, dict) and all(isinstance(v, str) for v in m.values()) for m in maps) \
        and all(_is_count(manifest[name]) for name in ("page_size", "total", "last", "version")
                if manifest.get(name) is not None) \
        and isinstance(manifest.get("files", []), list)


def _origin(url: str) -> tuple[str, str, int | None, str | None, str | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = -1
    # Credentials in the URL are part of it: requests would send them instead of the token.
    return scheme, (parts.hostname or ""), port, parts.username, parts.password


def _narrow_read_timeout(response: requests.Response, seconds: float) -> None:
    # requests' read timeout bounds each socket read, not the body: a byte every few seconds never
    # trips it. The connection's socket is given what is left of the deadline before each read.
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        sock.settimeout(max(seconds, 0.001))


@dataclass
class HttpSourceReader:
    """Reads one source system over HTTP for landing (`files_for`, then `done` once a day is in
    the lake).

    Limits, per request (`get`): `request_budget_seconds` in all, Retry-After waits clamped to
    `max_retry_after_seconds`, backoff up to `max_backoff_seconds`, `max_response_bytes` of body,
    `max_redirects` same-origin redirects. `page_size` is in sync calls. A window whose pages
    cannot be trusted is read up to `window_attempts` times. `manifest_key` keys the manifest's
    fingerprints and sealed pages (give it the pseudonym key); without it a key is derived from
    the token, so a token change only makes the manifest's pages unreadable: they are fetched
    again.
    """

    base_url: str
    token: str = field(repr=False)
    manifest_dir: Path
    page_size: int = 1000
    request_budget_seconds: float = 60.0
    max_backoff_seconds: float = 2.0
    max_retry_after_seconds: float = 30.0
    max_response_bytes: int = 64 * 2**20
    max_redirects: int = 5
    window_attempts: int = 3
    connect_timeout_seconds: float = 5.0
    manifest_key: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.stats = {"requests": 0, "retries": 0, "throttled": 0, "redirects": 0, "calls": 0}
        secret = self.manifest_key if self.manifest_key is not None else self.token.encode("utf-8")
        self._keys = _Keys(secret)

    # --- requests -------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> Fetched:
        """GET `base_url + path`, its body read whole, within one deadline of
        `request_budget_seconds` for every attempt, redirect, wait and byte of the body.

        429 and 503 wait their Retry-After (RFC 9110: delta-seconds or an HTTP-date; clamped to
        [0, max_retry_after_seconds]; absent or invalid: the backoff). Other 5xx, broken
        connections, truncated bodies and a body still arriving at the deadline back off
        (0.2 s, 0.4 s, ... up to max_backoff_seconds). Redirects are followed within the base
        URL's origin only. Any other status is returned with its body.

        Raises Unauthorized on 401, ExtractError when the next attempt could not start before the deadline,
        RedirectRefused (a redirect to another origin, or more than max_redirects),
        ResponseTooLarge (a body over max_response_bytes, declared or counted).
        """
        deadline = time.monotonic() + self.request_budget_seconds
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(path, params, deadline, attempt)
            except _Retry as retry:
                if time.monotonic() + retry.wait > deadline:
                    raise ExtractError(f"gave up on {path} {params or ''} after {attempt} attempts"
                                       f" ({retry.reason})") from None
                self.stats["retries"] += 1
                log.info("retrying %s in %.1f s (%s)", path, retry.wait, retry.reason)
                time.sleep(retry.wait)

    def _attempt(self, path: str, params: dict[str, Any] | None, deadline: float, attempt: int) -> Fetched:
        url, query = f"{self.base_url}{path}", params
        for _ in range(self.max_redirects + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Retry(0.0, "deadline passed")
            self.stats["requests"] += 1
            try:
                with self.session.get(url, params=query, stream=True, allow_redirects=False,
                                      timeout=(min(self.connect_timeout_seconds, remaining), remaining)) as response:
                    status = response.status_code
                    if status in _REDIRECT_STATUSES:
                        url, query = self._redirect_target(response, path), None
                        self.stats["redirects"] += 1
                        continue
                    if status == 401:
                        raise Unauthorized(f"the source refused the token (401) on {path}: check DVC_SOURCE_TOKEN"
                                           " or the password of the Airflow connection 'dvc_source'")
                    if status == 429 or status >= 500:
                        if status == 429:
                            self.stats["throttled"] += 1
                        wait = self._backoff(attempt)
                        if status in (429, 503):
                            wait = self._retry_after(response.headers.get("Retry-After"), wait)
                        raise _Retry(wait, f"HTTP {status}")
                    return Fetched(status, self._read_body(response, deadline, path), response.url)
            except _TRANSPORT_ERRORS as exc:
                reason = "the body was still arriving" if isinstance(exc, _BodyLate) else type(exc).__name__
                if time.monotonic() >= deadline:
                    reason = f"no complete answer by the deadline: {reason}"
                raise _Retry(self._backoff(attempt), reason) from exc
        raise RedirectRefused(f"{path}: more than {self.max_redirects} redirects")

    def _backoff(self, attempt: int) -> float:
        return min(self.max_backoff_seconds, 0.1 * 2 ** min(attempt, 30))

    def _retry_after(self, value: str | None, fallback: float) -> float:
        """Seconds to wait for a Retry-After value, within [0, max_retry_after_seconds]; the
        fallback when there is none or it is not RFC 9110's."""
        if value is None:
            return fallback
        try:
            seconds = float(_RETRY_AFTER.parse_retry_after(value))
        except (urllib3.exceptions.InvalidHeader, ValueError, OverflowError, IndexError, TypeError):
            log.warning("ignoring an invalid Retry-After header (%d characters)", len(value))
            return fallback
        return min(max(seconds, 0.0), self.max_retry_after_seconds)

    def _redirect_target(self, response: requests.Response, path: str) -> str:
        location = response.headers.get("Location")
        if not location:
            raise ContractViolation(f"{path}: HTTP {response.status_code} without a Location")
        target = urljoin(response.url, location)
        if _origin(target) != _origin(self.base_url):
            scheme, host, port = _origin(target)[:3]
            raise RedirectRefused(f"{path}: HTTP {response.status_code} redirects to another origin"
                                  f" ({scheme}://{host}:{port}); only the source's own origin is read")
        return target

    def _read_body(self, response: requests.Response, deadline: float, path: str) -> bytes:
        limit = self.max_response_bytes
        declared = response.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise ResponseTooLarge(f"{path}: the answer declares {int(declared)} bytes, over the limit of {limit}")
        chunks: list[bytes] = []
        size = 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _BodyLate()
            _narrow_read_timeout(response, remaining)
            # read1: whatever has arrived (at most one socket read), so the deadline is checked
            # between reads; iter_content would wait for a whole chunk.
            chunk = response.raw.read1(_CHUNK_BYTES, decode_content=True)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > limit:
                raise ResponseTooLarge(f"{path}: the answer is over the limit of {limit} bytes")
            chunks.append(chunk)

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The JSON of a 200 answer, None for a 404. A body that is not JSON (cut short yet
        delivered as complete) is fetched again, up to 3 times in all; then ExtractError. Any other
        status, or JSON nested too deeply to parse, is a ContractViolation."""
        for _ in range(3):
            answer = self.get(path, params)
            if answer.status == 404:
                return None
            if answer.status != 200:
                raise ContractViolation(f"{path}: unexpected HTTP {answer.status}")
            try:
                return json.loads(answer.body)
            except ValueError:
                self.stats["retries"] += 1
            except RecursionError:
                raise ContractViolation(f"{path}: the answer is nested too deeply to parse") from None
        raise ExtractError(f"{path}: the body is not JSON after 3 tries")

    # --- the landing manifest ---------------------------------------------------------------

    def _folder(self, source: str, day: dt.date) -> Path:
        return self.manifest_dir / source / day.isoformat()

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _manifest(self, folder: Path) -> dict[str, Any]:
        """The folder's manifest; {} (and the folder emptied) when there is none this code wrote
        with this key, or it does not parse."""
        path = folder / "manifest.json"
        try:
            manifest = json.loads(path.read_bytes())
            if _well_formed(manifest) and manifest.get("version") == _MANIFEST_VERSION \
                    and manifest.get("key") == self._keys.check:
                return manifest
        except (OSError, ValueError, RecursionError):
            pass
        # Left by a killed first write, an older version (which kept raw pages), or another key.
        shutil.rmtree(folder, ignore_errors=True)
        return {}

    def _save_manifest(self, folder: Path, manifest: dict[str, Any]) -> None:
        manifest["version"] = _MANIFEST_VERSION
        manifest["key"] = self._keys.check
        self._write(folder / "manifest.json", json.dumps(manifest, indent=1).encode())

    def done(self, source: str, day: dt.date) -> None:
        """The day is in the lake: its manifest folder is no longer needed."""
        shutil.rmtree(self._folder(source, day), ignore_errors=True)

    # --- sources ---------------------------------------------------------------------------

    def files_for(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes]]:
        """The (name, bytes) files of one batch day, as a v2 landing directory holds them (see the
        module's docstring). Raises ExtractError (or a subclass) when the day cannot be read
        whole; nothing is yielded for a day that fails a check made before its first file."""
        if source in SYNC_SOURCES:
            yield from self._sync_calls(source, day)
        elif source == "payments":
            yield from self._payment_files(day)
        elif source in SNAPSHOTS:
            yield from self._snapshot(source, day)
        else:
            raise ValueError(f"unknown source {source!r} (one of {', '.join(SOURCES)})")

    def _sync_calls(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes]]:
        """Each call of the day's window as `<ThoiGianDongBo>_<n>.json` (n: six digits, from 1, in
        the server's outbox order), the envelope as compact JSON in UTF-8."""
        folder = self._folder(source, day)
        window = {"kind": source, "from": f"{day:%Y%m%d}000000", "to": f"{day + dt.timedelta(days=1):%Y%m%d}000000"}
        position = 0
        for _, calls in self.window_pages(folder, "/api/v1/sync-calls", window, f"{source} sync calls of {day}"):
            self.stats["calls"] += len(calls)
            for call in calls:
                position += 1
                data = json.dumps(call, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
                yield f"{call['ThoiGianDongBo']}_{position:06d}.json", data

    def window_pages(self, folder: Path, path: str, params: dict[str, str],
                     label: str) -> Iterator[tuple[int, list[dict[str, Any]]]]:
        """Every page of one window of sync calls (`params`: kind, from, to; answers
        `{"data": [envelope...], "page", "page_size", "total"}`) as (page number, envelopes),
        through the manifest in `folder`; an empty window is one empty page. The whole window is
        read and checked before the first page is yielded.

        Raises PagingError when the pages repeat calls or disagree with `total` on each of
        `window_attempts` reads, ContractViolation for an answer of the wrong shape or a call
        outside [from, to), and what `get` raises."""
        manifest = self._read_window(folder, path, params, label)
        for number in range(1, int(manifest["last"]) + 1):
            try:
                page = self._load_page(folder, number, manifest["pages"][str(number)])
            except _Unreadable as exc:
                raise ExtractError(f"{label}: page {number} could not be read back from the manifest") from exc
            yield number, page.records

    def _read_window(self, folder: Path, path: str, params: dict[str, str], label: str) -> dict[str, Any]:
        """Fetch what the manifest lacks; the manifest of the whole window (its last page under "last")."""
        reason = ""
        for _ in range(self.window_attempts):
            manifest = self._manifest(folder)
            if manifest and manifest.get("page_size") != self.page_size:
                shutil.rmtree(folder, ignore_errors=True)
                manifest = {}
            try:
                self._fetch_window(folder, path, params, manifest, label)
                return manifest
            except _WindowFault as fault:
                reason = str(fault)
                log.warning("%s: %s: reading the window again", label, reason)
                shutil.rmtree(folder, ignore_errors=True)
        raise PagingError(f"{label}: {reason} (on each of {self.window_attempts} reads)")

    def _fetch_window(self, folder: Path, path: str, params: dict[str, str], manifest: dict[str, Any],
                      label: str) -> None:
        manifest.setdefault("page_size", self.page_size)
        manifest.setdefault("pages", {})
        total: int | None = manifest.get("total")
        first_seen: dict[str, int] = {}
        sequence: list[str] = []  # the window's call fingerprints, in order
        boundaries: list[int] = []  # where a page begins with the call that ended the page before
        count = 0
        number = 1
        while True:
            page = self._cached_page(folder, manifest, number, label)
            if page is None:
                if "last" in manifest and number > manifest["last"]:
                    break
                body = self.get_json(path, {**params, "page": number, "page_size": self.page_size})
                records, page_total = self._check_page(body, number, label, params)
                if total is None:
                    total = manifest["total"] = page_total
                if page_total != total:
                    raise _WindowFault(f"the total changed from {total} to {page_total} while the window was read")
                if not records and number > 1:
                    # The probe past a full last page: the window ended there.
                    manifest["last"] = number - 1
                    self._save_manifest(folder, manifest)
                    break
                page = self._store_page(folder, manifest, number, records, page_total)
            elif page.total != total:
                raise _WindowFault(f"page {number} in the manifest has another total")
            for index, fingerprint in enumerate(page.fingerprints):
                earlier = first_seen.setdefault(fingerprint, number)
                if earlier != number:
                    # An outbox can hold the same call twice (delivered twice): in outbox order the
                    # copies are next to each other. A repeat that is not the call just before it is
                    # a fault; one that is, across a page boundary, is checked once the window is read.
                    if not sequence or sequence[-1] != fingerprint:
                        raise _WindowFault(f"page {number} repeats calls of page {earlier}")
                    if index == 0:
                        boundaries.append(len(sequence))
                sequence.append(fingerprint)
            count += len(page.fingerprints)
            if len(page.fingerprints) < self.page_size:
                if manifest.get("last") != number:
                    manifest["last"] = number
                    self._save_manifest(folder, manifest)
                break
            if total is not None and count > total:
                break
            number += 1
        if count != total:
            raise _WindowFault(f"the server's total ({total}) disagrees with the {count} calls it served")
        for offset in boundaries:
            self._check_boundary(path, params, sequence, offset, label)

    def _check_boundary(self, path: str, params: dict[str, str], sequence: list[str], offset: int,
                        label: str) -> None:
        """The call at `offset` begins a page and repeats the call before it, which ended the
        previous page: either the outbox holds that call twice, or the window shifted under the
        reader (a call served twice, another never). The page holding both calls in pages of
        another size must show the same calls there as the window read; otherwise _WindowFault."""
        size = next(s for d in range(1, 64) for s in (self.page_size - d, self.page_size + d) if s >= 2 and offset % s)
        number = (offset - 1) // size + 1
        records, total = self._check_page(self.get_json(path, {**params, "page": number, "page_size": size}),
                                          number, label, params, size)
        start = (number - 1) * size
        expected = sequence[start:start + size]
        if total != len(sequence) or [self._keys.fingerprint(r) for r in records] != expected:
            raise _WindowFault(f"page {offset // self.page_size + 1} begins with the call that ended the page"
                               f" before, and the calls there differ when read in pages of {size}")

    def _check_page(self, body: Any, number: int, label: str, window: dict[str, str],
                    size: int | None = None) -> tuple[list[dict[str, Any]], int]:
        """The calls and total of a page answer (asked in pages of `size`, by default
        `page_size`), or ContractViolation naming what is wrong (a page number other than the one
        asked is a _WindowFault: the window is read again)."""
        size = size or self.page_size
        where = f"{label}, page {number}"
        if body is None:
            raise ContractViolation(f"{where}: HTTP 404")
        if not isinstance(body, dict):
            raise ContractViolation(f"{where}: the answer is a JSON {_json_kind(body)}, not an object")
        data = body.get("data")
        if not isinstance(data, list):
            raise ContractViolation(f"{where}: 'data' is {'missing' if 'data' not in body else 'not an array'}")
        for name in ("total", "page", "page_size"):
            if not _is_count(body.get(name)):
                raise ContractViolation(f"{where}: '{name}' is {'missing' if name not in body else 'not a count'}")
        strays = sum(not isinstance(r, dict) for r in data)
        if strays:
            raise ContractViolation(f"{where}: 'data' holds {strays} entries that are not objects")
        if body["page_size"] != size:
            raise ContractViolation(f"{where}: the server pages by {body['page_size']}, not the"
                                    f" {size} asked (set page_size to what it serves)")
        if len(data) > size:
            raise ContractViolation(f"{where}: {len(data)} calls in a page of {size}")
        if body["page"] != number:
            raise _WindowFault(f"asked for page {number}, the server answered page {body['page']}")
        start, end = window["from"], window["to"]
        outside = sum(not (isinstance(at := call.get("ThoiGianDongBo"), str) and _TIMESTAMP.fullmatch(at)
                           and start <= at < end) for call in data)
        if outside:
            # The value is not quoted: it could be anything.
            raise ContractViolation(f"{where}: {outside} calls without a ThoiGianDongBo (yyyyMMddHHmmss)"
                                    f" in the window asked [{start}, {end})")
        return data, body["total"]

    @staticmethod
    def _page_file(folder: Path, number: int) -> Path:
        return folder / f"page_{number:05d}.sealed"

    def _context(self, folder: Path, number: int) -> str:
        return f"{folder.relative_to(self.manifest_dir).as_posix()}/{number}"

    def _store_page(self, folder: Path, manifest: dict[str, Any], number: int, records: list[dict[str, Any]],
                    total: int) -> _Page:
        fingerprints = [self._keys.fingerprint(r) for r in records]
        entry = {"page": number, "total": total, "records": records, "fingerprints": fingerprints}
        data = self._keys.seal(entry, self._context(folder, number))
        self._write(self._page_file(folder, number), data)
        manifest["pages"][str(number)] = hashlib.sha256(data).hexdigest()
        self._save_manifest(folder, manifest)
        return _Page(records, fingerprints, total)

    def _load_page(self, folder: Path, number: int, digest: str) -> _Page:
        """A stored page, opened; _Unreadable unless it reads back exactly as it was written (its
        digest in the manifest, its seal, its shape)."""
        try:
            data = self._page_file(folder, number).read_bytes()
            if hashlib.sha256(data).hexdigest() != digest:
                raise ValueError("digest")
            entry = self._keys.open(data, self._context(folder, number))
            records, fingerprints = entry["records"], entry["fingerprints"]
            if entry["page"] != number or not _is_count(entry["total"]) or not isinstance(records, list) \
                    or not isinstance(fingerprints, list) or len(records) != len(fingerprints) \
                    or not all(isinstance(r, dict) for r in records) \
                    or not all(isinstance(f, str) for f in fingerprints):
                raise ValueError("shape")
        except (OSError, ValueError, KeyError, IndexError, TypeError, RecursionError, InvalidTag) as exc:
            raise _Unreadable(str(exc)) from exc
        return _Page(records, fingerprints, entry["total"])

    def _cached_page(self, folder: Path, manifest: dict[str, Any], number: int, label: str) -> _Page | None:
        """Page `number` from the manifest, or None when it has none; an entry that does not read
        back is deleted, so that the page is fetched again."""
        digest = manifest["pages"].get(str(number))
        if digest is None:
            return None
        try:
            return self._load_page(folder, number, digest)
        except _Unreadable:
            log.warning("%s: page %d in the manifest is unreadable: fetching it again", label, number)
            self._page_file(folder, number).unlink(missing_ok=True)
            del manifest["pages"][str(number)]
            self._save_manifest(folder, manifest)
            return None

    def _payment_files(self, day: dt.date) -> Iterator[tuple[str, bytes]]:
        folder = self._folder("payments", day)
        manifest = self._manifest(folder)
        names = manifest.get("files")
        try:
            if names is not None:
                self.check_reconciliation_names(names, day)
        except InvalidFileName:
            shutil.rmtree(folder, ignore_errors=True)
            manifest, names = {}, None
        if names is None:
            names = self.get_json("/api/v1/payments/reconciliation", {"date": day.isoformat()})
            names = [] if names is None else names
            self.check_reconciliation_names(names, day)
            manifest = {"files": names, "fetched": {}}
            self._save_manifest(folder, manifest)
        for index, name in enumerate(names):
            # The server's name is a value here, never a path: the copy is stored by its index.
            path = folder / f"file_{index:05d}.csv"
            data = self._cached_file(path, manifest["fetched"].get(str(index)))
            if data is None:
                answer = self.get(f"/api/v1/payments/reconciliation/{quote(name, safe='')}")
                if answer.status != 200:
                    raise ExtractError(f"reconciliation file {name} listed for {day} but not served"
                                       f" (HTTP {answer.status})")
                data = answer.body
                self._write(path, data)
                manifest["fetched"][str(index)] = hashlib.sha256(data).hexdigest()
                self._save_manifest(folder, manifest)
            yield name, data

    @staticmethod
    def _cached_file(path: Path, digest: str | None) -> bytes | None:
        if digest is None:
            return None
        try:
            data = path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() == digest:
            return data
        path.unlink(missing_ok=True)
        return None

    @staticmethod
    def check_reconciliation_names(names: Any, day: dt.date) -> None:
        """The day's file list must be a JSON array of distinct names of the form
        `doisoat_YYYYMMDD_<MaTrungGian>.csv` (sources.md §5): YYYYMMDD the day asked, MaTrungGian
        of A-Z, 0-9 and _. Otherwise InvalidFileName names the rule and the entry's position, not
        the value (which could be anything, personal data included): the whole day fails."""
        if not isinstance(names, list):
            raise InvalidFileName(f"reconciliation files of {day}: the list is a JSON {_json_kind(names)},"
                                  " not an array")
        for position, name in enumerate(names, start=1):
            match = RECONCILIATION_NAME.fullmatch(name) if isinstance(name, str) else None
            if match is None:
                raise InvalidFileName(f"reconciliation files of {day}: entry {position} is not a name of the form"
                                      " doisoat_YYYYMMDD_<MaTrungGian>.csv (MaTrungGian: A-Z, 0-9, _)")
            if match["day"] != f"{day:%Y%m%d}":
                raise InvalidFileName(f"reconciliation files of {day}: entry {position} is dated"
                                      f" {match['day']}, not the day asked ({day:%Y%m%d})")
        if len(set(names)) != len(names):
            raise InvalidFileName(f"reconciliation files of {day}: a name is listed twice")

    def _snapshot(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes]]:
        """The snapshot in force on `day` as `<prefix>_YYYYMMDD.csv` (the contract's columns, in
        order, RFC 4180), if it takes effect that day; nothing otherwise, or when none is in force
        (404). A value that is not a string is written as its JSON text (null as empty), for
        the parser to judge."""
        path, columns, prefix = SNAPSHOTS[source]
        where = f"{source} as of {day}"
        body = self.get_json(path, {"as_of": day.isoformat()})
        if body is None:
            return
        if not isinstance(body, dict):
            raise ContractViolation(f"{where}: the answer is a JSON {_json_kind(body)}, not an object")
        rows = body.get("data")
        if not isinstance(rows, list):
            raise ContractViolation(f"{where}: 'data' is {'missing' if 'data' not in body else 'not an array'}")
        strays = sum(not isinstance(r, dict) for r in rows)
        if strays:
            raise ContractViolation(f"{where}: 'data' holds {strays} entries that are not objects")
        taking_effect = _date(body.get("snapshot_date"))
        if taking_effect is None or taking_effect > day:
            problem = "missing" if "snapshot_date" not in body else "not a date (yyyy-MM-dd) on or before the day asked"
            raise ContractViolation(f"{where}: 'snapshot_date' is {problem}")
        if taking_effect != day:
            return
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        writer.writerows([_cell(row.get(name)) for name in columns] for row in rows)
        yield f"{prefix}_{day:%Y%m%d}.csv", out.getvalue().encode("utf-8")


def _date(value: Any) -> dt.date | None:
    """A `yyyy-MM-dd` date, or None."""
    if not isinstance(value, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    return "" if value is None else json.dumps(value, ensure_ascii=False)
