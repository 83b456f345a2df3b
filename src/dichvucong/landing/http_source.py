"""Extraction from the source system's HTTP API (sources.md, "HTTP mode").

A `SourceReader` like the file drop: it yields, for one batch day, the
(name, bytes) pieces the landing step parses. Dossiers come by update window
([day 00:00, next day 00:00) local) in pages; payments as the day's
reconciliation files, byte for byte; the catalog as the one in force that day, on the days it changed.

Every request retries with backoff on 5xx, dropped connections and truncated
bodies, honours Retry-After on 429, and gives up after a bounded time. Pages
and files are written to a landing manifest folder as they arrive, so a task
killed halfway resumes where it stopped: no page is fetched into the lake
twice, and none is skipped (the page count is checked against `total`, and a
window whose total changes while it is read is read again). The folder is
removed once its day is in the lake.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import logging
import math
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

log = logging.getLogger(__name__)

CATALOG_COLUMNS = ("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaCoQuan", "TenCoQuan", "CapThucHien",
                   "MucDo", "ThoiHanGiaiQuyet", "PhiLePhi")


class ExtractError(RuntimeError):
    """The source could not be read within the time allowed, or refused the credentials."""


@dataclass
class HttpSourceReader:
    base_url: str
    token: str
    manifest_dir: Path
    page_size: int = 1000
    request_budget_seconds: float = 60.0
    max_backoff_seconds: float = 2.0

    def __post_init__(self) -> None:
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {self.token}"
        self.stats = {"requests": 0, "retries": 0, "throttled": 0, "records": 0}

    # --- requests -------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, Any] | None = None) -> requests.Response:
        """GET with retries: 429 waits Retry-After, 5xx and broken connections back off."""
        deadline = time.monotonic() + self.request_budget_seconds
        attempt = 0
        while True:
            attempt += 1
            self.stats["requests"] += 1
            wait: float
            try:
                response = self.session.get(f"{self.base_url}{path}", params=params,
                                            timeout=(5, max(1.0, deadline - time.monotonic())))
                if response.status_code == 401:
                    raise ExtractError(f"the source refused the token (401) on {path}")
                if response.status_code == 429:
                    self.stats["throttled"] += 1
                    wait = float(response.headers.get("Retry-After", "1"))
                elif response.status_code >= 500:
                    wait = min(self.max_backoff_seconds, 0.1 * 2 ** attempt)
                else:
                    response.content  # noqa: B018 - read the whole body now: a dropped connection raises here
                    return response
                reason = f"HTTP {response.status_code}"
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                wait = min(self.max_backoff_seconds, 0.1 * 2 ** attempt)
                reason = type(exc).__name__
            if time.monotonic() + wait > deadline:
                raise ExtractError(f"gave up on {path} {params or ''} after {attempt} attempts ({reason})")
            self.stats["retries"] += 1
            log.info("retrying %s in %.1f s (%s)", path, wait, reason)
            time.sleep(wait)

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        for _ in range(3):
            response = self.get(path, params)
            if response.status_code == 404:
                return None
            try:
                return response.json()
            except ValueError:  # a body cut short that still parsed as HTTP
                self.stats["retries"] += 1
        raise ExtractError(f"{path}: the body is not JSON after 3 tries")

    # --- the landing manifest ---------------------------------------------------------------

    def _folder(self, source: str, day: dt.date) -> Path:
        return self.manifest_dir / source / day.isoformat()

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)

    def _manifest(self, folder: Path) -> dict[str, Any]:
        path = folder / "manifest.json"
        return json.loads(path.read_text()) if path.exists() else {}

    def _save_manifest(self, folder: Path, manifest: dict[str, Any]) -> None:
        self._write(folder / "manifest.json", json.dumps(manifest, indent=1).encode())

    def done(self, source: str, day: dt.date) -> None:
        """The day is in the lake: its manifest folder is no longer needed."""
        shutil.rmtree(self._folder(source, day), ignore_errors=True)

    # --- sources ---------------------------------------------------------------------------

    def files_for(self, source: str, day: dt.date) -> Iterator[tuple[str, bytes]]:
        if source == "dossiers":
            yield from self._dossier_pages(day)
        elif source == "payments":
            yield from self._payment_files(day)
        elif source == "catalog":
            yield from self._catalog(day)
        else:
            raise ValueError(f"unknown source {source!r}")

    def _dossier_pages(self, day: dt.date) -> Iterator[tuple[str, bytes]]:
        folder = self._folder("dossiers", day)
        window = {"updated_from": f"{day:%Y%m%d}000000",
                  "updated_to": f"{day + dt.timedelta(days=1):%Y%m%d}000000"}
        for _ in range(3):
            manifest = self._manifest(folder)
            if manifest.get("page_size") not in (None, self.page_size):
                manifest = {}
            pages = self._fetch_pages(folder, window, manifest)
            if pages is not None:
                break
            log.warning("dossier window %s changed while it was read: reading it again", day)
            shutil.rmtree(folder, ignore_errors=True)
        else:
            raise ExtractError(f"dossier window {day} kept changing while it was read")
        for number in range(1, pages + 1):
            body = (folder / f"page_{number:05d}.json").read_bytes()
            records = json.loads(body)["data"]
            self.stats["records"] += len(records)
            lines = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
            yield f"api_dossiers_{day:%Y%m%d}_p{number:05d}.jsonl", lines.encode("utf-8")

    def _fetch_pages(self, folder: Path, window: dict[str, str], manifest: dict[str, Any]) -> int | None:
        """Fetch the pages the manifest lacks; the page count, or None when the window changed."""
        manifest.setdefault("page_size", self.page_size)
        manifest.setdefault("pages", {})
        total = manifest.get("total")
        number = 1
        while True:
            pages = max(1, math.ceil(total / self.page_size)) if total is not None else None
            if pages is not None and number > pages:
                return pages
            path = folder / f"page_{number:05d}.json"
            if str(number) in manifest["pages"] and path.exists():
                number += 1
                continue
            body = self.get_json("/api/v1/dossiers", {**window, "page": number, "page_size": self.page_size})
            if body is None or not isinstance(body.get("data"), list):
                raise ExtractError(f"dossier page {number} of {window}: unexpected answer")
            if total is None:
                total = int(body["total"])
                manifest["total"] = total
            expected = max(0, min(self.page_size, total - (number - 1) * self.page_size))
            if int(body["total"]) != total or len(body["data"]) != expected:
                return None
            raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
            self._write(path, raw)
            manifest["pages"][str(number)] = hashlib.sha256(raw).hexdigest()
            self._save_manifest(folder, manifest)
            number += 1

    def _payment_files(self, day: dt.date) -> Iterator[tuple[str, bytes]]:
        folder = self._folder("payments", day)
        manifest = self._manifest(folder)
        if "files" not in manifest:
            names = self.get_json("/api/v1/payments/reconciliation", {"date": day.isoformat()}) or []
            manifest = {"files": names, "fetched": {}}
            self._save_manifest(folder, manifest)
        for name in manifest["files"]:
            path = folder / name
            if name not in manifest["fetched"] or not path.exists():
                response = self.get(f"/api/v1/payments/reconciliation/{name}")
                if response.status_code != 200:
                    raise ExtractError(f"reconciliation file {name} listed for {day} but not served")
                self._write(path, response.content)
                manifest["fetched"][name] = hashlib.sha256(response.content).hexdigest()
                self._save_manifest(folder, manifest)
            yield name, path.read_bytes()

    def _catalog(self, day: dt.date) -> Iterator[tuple[str, bytes]]:
        """The catalog in force that day, as a snapshot only if it differs from the day before's:
        like the file drop, a snapshot is delivered when the catalog changes."""
        records = self.get_json("/api/v1/catalog", {"as_of": day.isoformat()})
        if not records:
            return
        if records == self.get_json("/api/v1/catalog", {"as_of": (day - dt.timedelta(days=1)).isoformat()}):
            return
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=CATALOG_COLUMNS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        yield f"api_catalog_{day:%Y%m%d}.csv", out.getvalue().encode("utf-8")
