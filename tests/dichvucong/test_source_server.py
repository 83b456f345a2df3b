"""The source system's API on loopback: authentication, pagination edges, faults."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from dichvucong.landing.http_source import ExtractError, HttpSourceReader
from dichvucong.source_server import Faults, SourceData, SourceServer
from tests.conftest import SMALL_START


@pytest.fixture
def server(small_landing: Path) -> Iterator[SourceServer]:
    srv = SourceServer(SourceData.load(small_landing), "secret-token")
    srv.start_in_thread()
    yield srv
    srv.shutdown()
    srv.server_close()


def _reader(srv: SourceServer, tmp_path: Path, **kwargs: object) -> HttpSourceReader:
    return HttpSourceReader(srv.url, "secret-token", tmp_path / "manifest", **kwargs)  # type: ignore[arg-type]


def test_a_request_without_the_token_is_refused(server: SourceServer, tmp_path: Path) -> None:
    assert requests.get(f"{server.url}/api/v1/catalog", timeout=5).status_code == 401
    bad = HttpSourceReader(server.url, "wrong", tmp_path)
    with pytest.raises(ExtractError, match="401"):
        list(bad.files_for("catalog", SMALL_START))


def test_an_empty_window_is_one_empty_page(server: SourceServer, tmp_path: Path) -> None:
    pieces = list(_reader(server, tmp_path).files_for("dossiers", dt.date(2030, 1, 1)))
    assert [data for _, data in pieces] == [b""]
    assert server.served == [("/api/v1/dossiers", "20300101000000", 1)]


def test_an_exact_multiple_of_the_page_size_costs_one_empty_probe_page(server: SourceServer, tmp_path: Path) -> None:
    day = SMALL_START
    window = (f"{day:%Y%m%d}000000", f"{day + dt.timedelta(days=1):%Y%m%d}000000")
    total = len(server.data.dossier_window(*window, None))
    assert total > 10
    divisors = [d for d in range(5, total) if total % d == 0] or [total]
    divisor = divisors[0]
    reader = _reader(server, tmp_path, page_size=divisor)
    pieces = list(reader.files_for("dossiers", day))
    assert len(pieces) == total // divisor
    assert sum(len(data.splitlines()) for _, data in pieces) == total
    # The end of data is probed, never taken from `total`: one more page, empty, closes the window.
    assert [page for _, _, page in server.served] == list(range(1, total // divisor + 2))


def _land_all(reader: HttpSourceReader, days: list[dt.date]) -> dict[str, bytes]:
    out = {}
    for day in days:
        for source in ("dossiers", "payments", "catalog"):
            for name, data in reader.files_for(source, day):
                out[f"{source}/{day}/{name}"] = data
            reader.done(source, day)
    return out


def test_faults_change_nothing_that_is_landed(small_landing: Path, tmp_path: Path) -> None:
    days = [SMALL_START + dt.timedelta(days=i) for i in range(4)]
    data = SourceData.load(small_landing)
    clean = SourceServer(data, "secret-token")
    faulty = SourceServer(data, "secret-token", Faults(rate_429=0.15, retry_after_seconds=0.05, rate_5xx=0.15,
                                                      rate_slow=0.1, slow_seconds=0.05, rate_drop=0.15, seed=7))
    for srv in (clean, faulty):
        srv.start_in_thread()
    try:
        expected = _land_all(_reader(clean, tmp_path / "a", page_size=20), days)
        reader = _reader(faulty, tmp_path / "b", page_size=20, max_backoff_seconds=0.05)
        got = _land_all(reader, days)
    finally:
        for srv in (clean, faulty):
            srv.shutdown()
            srv.server_close()
    assert got == expected and len(expected) > 10
    assert all(count > 0 for count in faulty.faults_served.values()), faulty.faults_served
    assert reader.stats["throttled"] == faulty.faults_served["429"]
    # Every answer that arrived whole was used once: no page was fetched twice.
    pages = Counter(p for p in faulty.served if p[0] == "/api/v1/dossiers")
    assert max(pages.values()) == 1


def test_an_extract_killed_halfway_resumes_without_refetching(server: SourceServer, tmp_path: Path) -> None:
    day = SMALL_START
    reference = list(_reader(server, tmp_path / "ref", page_size=10).files_for("dossiers", day))
    assert len(reference) >= 3
    server.served.clear()
    server.outage_after = 2
    reader = _reader(server, tmp_path / "run", page_size=10, request_budget_seconds=0.5, max_backoff_seconds=0.1)
    with pytest.raises(ExtractError, match="gave up"):
        list(reader.files_for("dossiers", day))
    manifest = json.loads((tmp_path / "run" / "manifest" / "dossiers" / day.isoformat() / "manifest.json").read_text())
    assert sorted(manifest["pages"]) == ["1", "2"]
    server.outage_after = None
    resumed = list(_reader(server, tmp_path / "run", page_size=10).files_for("dossiers", day))
    assert resumed == reference
    assert [page for _, _, page in server.served] == list(range(1, len(reference) + 1))


def test_a_window_that_changes_while_read_is_read_again(small_landing: Path, tmp_path: Path) -> None:
    day = SMALL_START
    srv = SourceServer(SourceData.load(small_landing), "secret-token")
    srv.start_in_thread()
    try:
        reader = _reader(srv, tmp_path, page_size=10)
        folder = tmp_path / "manifest" / "dossiers" / day.isoformat()
        folder.mkdir(parents=True)
        # A killed attempt had seen a different total for this window.
        (folder / "manifest.json").write_text(json.dumps({"page_size": 10, "total": 3, "pages": {}}))
        pieces = list(reader.files_for("dossiers", day))
    finally:
        srv.shutdown()
        srv.server_close()
    window = srv.data.dossier_window(f"{day:%Y%m%d}000000", f"{day + dt.timedelta(days=1):%Y%m%d}000000", None)
    assert sum(len(data.splitlines()) for _, data in pieces) == len(window)


def test_payment_files_arrive_byte_for_byte(server: SourceServer, small_landing: Path, tmp_path: Path) -> None:
    day = SMALL_START
    got = dict(_reader(server, tmp_path).files_for("payments", day))
    folder = small_landing / "payments" / day.isoformat()
    assert got == {p.name: p.read_bytes() for p in folder.iterdir()}


def test_late_syncs_are_served_only_once_synced(small_landing: Path, tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(small_landing, landing)
    data = SourceData.load(landing)
    late = [r for r in data.dossiers if r.synced_on > dt.date.fromisoformat(r.updated_at[:4] + "-" + r.updated_at[4:6]
                                                                              + "-" + r.updated_at[6:8])]
    assert late, "the simulator syncs some changes late"
    record = late[0]
    updated = dt.datetime.strptime(record.updated_at, "%Y%m%d%H%M%S").date()
    window = (f"{updated:%Y%m%d}000000", f"{updated + dt.timedelta(days=1):%Y%m%d}000000")
    assert record.record not in data.dossier_window(*window, visible_until=updated + dt.timedelta(days=1))
    assert record.record in data.dossier_window(*window, visible_until=record.synced_on + dt.timedelta(days=1))


def test_the_catalog_lands_on_the_days_it_changes(server: SourceServer, tmp_path: Path) -> None:
    reader = _reader(server, tmp_path)
    landed = {day: list(reader.files_for("catalog", day))
              for day in (SMALL_START, SMALL_START + dt.timedelta(days=1), dt.date(2024, 2, 15))}
    assert [len(pieces) for pieces in landed.values()] == [1, 0, 1]
    header = landed[SMALL_START][0][1].decode("utf-8").splitlines()[0]
    assert header.split(",") == ["MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaCoQuan", "TenCoQuan",
                                 "CapThucHien", "MucDo", "ThoiHanGiaiQuyet", "PhiLePhi"]
