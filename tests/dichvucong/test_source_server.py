"""The source system's API on loopback, serving a v2 landing directory: authentication, the
sync-call windows and their pages, snapshots, faults, resumption."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from dichvucong.landing.http_source import ExtractError, HttpSourceReader, PagingError, Unauthorized
from dichvucong.source_server import Faults, SourceData, SourceServer
from tests.dichvucong.landing.test_http_v2 import DAY1, DAY2, Landing, write_v2_landing

TOKEN = "secret-token"
BULK = 23  # more calls of each kind per day, for pages
SYNC = "/api/v1/sync-calls"


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    return write_v2_landing(tmp_path_factory.mktemp("landing_v2_bulk"), bulk=BULK)


@pytest.fixture
def server(landing: Landing) -> Iterator[SourceServer]:
    srv = SourceServer(SourceData.load(landing.root), TOKEN)
    srv.start_in_thread(poll_interval=0.05)
    yield srv
    srv.shutdown()
    srv.server_close()


def _reader(srv: SourceServer, tmp_path: Path, **kwargs: Any) -> HttpSourceReader:
    return HttpSourceReader(srv.url, TOKEN, tmp_path / "manifest", **kwargs)


def _get(srv: SourceServer, path: str, **params: Any) -> requests.Response:
    return requests.get(f"{srv.url}{path}", params=params, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)


def _window(day: dt.date) -> dict[str, str]:
    return {"from": f"{day:%Y%m%d}000000", "to": f"{day + dt.timedelta(days=1):%Y%m%d}000000"}


# --- the API -------------------------------------------------------------------------------------


def test_a_request_without_the_token_is_refused(server: SourceServer, tmp_path: Path) -> None:
    for path in (SYNC, "/api/v1/agencies", "/api/v1/catalog", "/api/v1/payments/reconciliation"):
        assert requests.get(f"{server.url}{path}", timeout=5).status_code == 401
    with pytest.raises(Unauthorized, match="401"):
        list(HttpSourceReader(server.url, "wrong", tmp_path).files_for("catalog", DAY1))


def test_sync_calls_are_the_window_in_outbox_order(server: SourceServer) -> None:
    answer = _get(server, SYNC, kind="dossiers", page=1, page_size=100, **_window(DAY1)).json()
    assert answer["page"] == 1 and answer["page_size"] == 100 and answer["total"] == 5 + BULK
    times = [call["ThoiGianDongBo"] for call in answer["data"]]
    assert times == sorted(times) and times[0] == "20240205083015" and times[-1] == "20240205235959"
    assert all(t.startswith("20240205") for t in times)  # 00:00:00 of the next day is not in [from, to)
    # Two calls at the same moment come in the order of their files (call_0003, call_0004).
    assert [c["data"][0]["MaHoSo"][-4:] for c in answer["data"][-2:]] == ["0004", "0002"]
    rejected = [c for c in answer["data"] if c["KetQua"]["error_code"] != "0"]
    assert len(rejected) == 1 and rejected[0]["KetQua"]["message"] == "MaTTHC không tồn tại"
    # Pages cut the same list.
    paged = [c for page in (1, 2, 3, 4) for c in _get(server, SYNC, kind="dossiers", page=page, page_size=8,
                                                         **_window(DAY1)).json()["data"]]
    assert paged == answer["data"]
    logs = _get(server, SYNC, kind="processing", page=1, page_size=100, **_window(DAY2)).json()
    assert [c["ThoiGianDongBo"] for c in logs["data"]][0] == "20240206000000"


@pytest.mark.parametrize("params", [
    {"kind": "payments"}, {"from": "2024-02-05"}, {"to": "20240206"}, {"page": "0"}, {"page_size": "0"},
    {"page_size": "100000"}, {"page": "x"},
], ids=["kind", "from", "to", "page", "page-size-0", "page-size-huge", "page-text"])
def test_a_bad_sync_call_query_is_a_400(server: SourceServer, params: dict[str, str]) -> None:
    query = {"kind": "dossiers", "page": "1", "page_size": "10", **_window(DAY1), **params}
    assert _get(server, SYNC, **query).status_code == 400


def test_snapshots_are_the_one_in_force_with_its_date(server: SourceServer) -> None:
    assert _get(server, "/api/v1/agencies", as_of="2024-01-31").status_code == 404
    before = _get(server, "/api/v1/agencies", as_of="2024-02-05").json()
    assert before["as_of"] == "2024-02-05" and before["snapshot_date"] == "2024-02-01"
    assert [r["MaDinhDanh"] for r in before["data"]] == ["000.00.01.H62", "000.21.30.H62"]
    after = _get(server, "/api/v1/agencies", as_of="2024-02-06").json()
    assert after["snapshot_date"] == "2024-02-06" and len(after["data"]) == 3
    assert after["data"][1]["NgayHetHieuLuc"] == "2024-02-06" and after["data"][1]["MaCoQuanKeThua"] == "000.22.30.H62"
    assert after["data"][1]["TenCoQuan"] == "UBND xã \"Tam Đảo\", huyện Tam Đảo"
    catalog = _get(server, "/api/v1/catalog", as_of="2024-03-01").json()  # a BOM in the file: not in a name
    assert catalog["snapshot_date"] == "2024-02-06" and catalog["data"][0]["MaTTHC"] == "1.004227"
    assert all(isinstance(v, str) for r in catalog["data"] for v in r.values())
    assert _get(server, "/api/v1/catalog").json()["snapshot_date"] == "2024-02-06"  # no as_of: the latest
    assert _get(server, "/api/v1/catalog", as_of="5 Feb").status_code == 400


def test_a_file_that_is_not_a_sync_call_is_not_served(landing: Landing, tmp_path: Path) -> None:
    root = tmp_path / "landing"
    shutil.copytree(landing.root, root)
    folder = root / "dossiers" / DAY1.isoformat()
    (folder / "broken.json").write_bytes(b'{"MaDinhDanhDV": "000.00.01.H62", "ThoiGianDong')
    (folder / "no_time.json").write_text(json.dumps({"MaDinhDanhDV": "x", "data": []}))
    utf16 = '{"ThoiGianDongBo": "20240205100000", "x": "Đ"}'.encode("utf-16-le")
    (folder / "utf16_without_bom.json").write_bytes(utf16)
    (root / "dossiers" / "not-a-day").mkdir()
    (root / "dossiers" / "not-a-day" / "call.json").write_text(json.dumps({"ThoiGianDongBo": "20240205100000"}))
    data = SourceData.load(root)
    assert len(data.sync_window("dossiers", *_window(DAY1).values(), None)) == 5 + BULK


def test_late_syncs_are_served_only_once_synced(landing: Landing) -> None:
    data = SourceData.load(landing.root)
    window = tuple(_window(DAY1).values())
    assert data.sync_window("dossiers", *window, visible_until=DAY1) == []
    assert len(data.sync_window("dossiers", *window, visible_until=DAY2)) == 5 + BULK


# --- the reader against it -----------------------------------------------------------------------


def test_an_exact_multiple_of_the_page_size_costs_one_empty_probe_page(server: SourceServer, tmp_path: Path) -> None:
    total = 5 + BULK  # 28 calls in pages of 7
    pieces = list(_reader(server, tmp_path, page_size=7).files_for("dossiers", DAY1))
    assert len(pieces) == total
    # The end of data is probed, never taken from `total`: one more page, empty, closes the window.
    assert [s.page for s in server.served] == [1, 2, 3, 4, 5]


def _land_all(reader: HttpSourceReader, days: list[dt.date]) -> dict[str, bytes]:
    out = {}
    for day in days:
        for source in ("agencies", "catalog", "dossiers", "processing", "payments"):
            for name, data in reader.files_for(source, day):
                out[f"{source}/{day}/{name}"] = data
            reader.done(source, day)
    return out


def test_faults_change_nothing_that_is_landed(landing: Landing, tmp_path: Path) -> None:
    days = [DAY1 - dt.timedelta(days=4), DAY1, DAY2]
    data = SourceData.load(landing.root)
    clean = SourceServer(data, TOKEN)
    faulty = SourceServer(data, TOKEN, Faults(rate_429=0.15, retry_after_seconds=0.05, rate_5xx=0.15,
                                              rate_slow=0.1, slow_seconds=0.05, rate_drop=0.15, seed=7))
    for srv in (clean, faulty):
        srv.start_in_thread(poll_interval=0.05)
    try:
        expected = _land_all(_reader(clean, tmp_path / "a", page_size=4), days)
        reader = _reader(faulty, tmp_path / "b", page_size=4, max_backoff_seconds=0.05)
        got = _land_all(reader, days)
    finally:
        for srv in (clean, faulty):
            srv.shutdown()
            srv.server_close()
    # Snapshots on 1 and 6 February, the calls of both days, a payment file each day.
    assert got == expected and len(expected) == 4 + (5 + 2 + 2 + 1) + 4 * BULK + 2
    assert all(count > 0 for count in faulty.faults_served.values()), faulty.faults_served
    assert reader.stats["throttled"] == faulty.faults_served["429"]
    # Every answer that arrived whole was used once: no page was fetched twice.
    pages = Counter(s for s in faulty.served if s.path == SYNC)
    assert max(pages.values()) == 1


def test_an_extract_killed_halfway_resumes_without_refetching(server: SourceServer, tmp_path: Path) -> None:
    reference = list(_reader(server, tmp_path / "ref", page_size=10).files_for("processing", DAY1))
    assert len(reference) == 2 + BULK
    server.served.clear()
    server.outage_after = 2
    reader = _reader(server, tmp_path / "run", page_size=10, request_budget_seconds=0.5, max_backoff_seconds=0.1)
    with pytest.raises(ExtractError, match="gave up"):
        list(reader.files_for("processing", DAY1))
    manifest = json.loads((tmp_path / "run" / "manifest" / "processing" / DAY1.isoformat() / "manifest.json")
                          .read_text())
    assert sorted(manifest["pages"]) == ["1", "2"]
    server.outage_after = None
    resumed = list(_reader(server, tmp_path / "run", page_size=10).files_for("processing", DAY1))
    assert resumed == reference
    assert [s.page for s in server.served] == [1, 2, 3]


def test_a_window_that_changes_while_read_is_read_again(server: SourceServer, tmp_path: Path) -> None:
    reader = _reader(server, tmp_path, page_size=10)
    folder = tmp_path / "manifest" / "dossiers" / DAY1.isoformat()
    # A killed attempt had seen a different total for this window: the window is read again.
    reader._save_manifest(folder, {"page_size": 10, "total": 3, "pages": {}})
    assert len(list(reader.files_for("dossiers", DAY1))) == 5 + BULK


def test_a_window_whose_total_keeps_changing_fails_the_day(server: SourceServer, tmp_path: Path) -> None:
    reader = _reader(server, tmp_path, page_size=10, window_attempts=2)
    original = server.data.sync_window
    growing: list[bytes] = []

    def sync_window(*args: Any, **kwargs: Any) -> list[bytes]:
        growing.append(b'{"ThoiGianDongBo":"20240205000001","data":[]}')  # a call arrives before each page
        return [*growing, *original(*args, **kwargs)]

    server.data.sync_window = sync_window  # type: ignore[method-assign]
    with pytest.raises(PagingError, match="total changed"):
        list(reader.files_for("dossiers", DAY1))


def test_payment_files_arrive_byte_for_byte(server: SourceServer, landing: Landing, tmp_path: Path) -> None:
    got = dict(_reader(server, tmp_path).files_for("payments", DAY1))
    folder = landing.root / "payments" / DAY1.isoformat()
    assert got == {p.name: p.read_bytes() for p in folder.iterdir()}
    assert list(got.values())[0].startswith(b"\xef\xbb\xbf")
