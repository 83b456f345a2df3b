"""The HTTP extractor against hostile servers: each test serves, on loopback, exactly one way a
source system can lie or misbehave, and checks the extractor neither lands it nor loses data."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from dichvucong.landing import http_source
from dichvucong.landing.http_source import ExtractError, HttpSourceReader

DAY = dt.date(2024, 2, 5)
TOKEN = "hostile-test-token"
PAGE_SIZE = 50
SYNC = "/api/v1/sync-calls"
FILES = "/api/v1/payments/reconciliation"


# --- a hostile server ------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    query: dict[str, str]
    authorization: str | None
    at: float


class Handler(BaseHTTPRequestHandler):
    server: Hostile
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # headers and body in one segment (no delayed-ACK stall per answer)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass

    def do_GET(self) -> None:  # noqa: N802 - the base class's name
        url = urlsplit(self.path)
        request = Request(url.path, {k: v[-1] for k, v in parse_qs(url.query).items()},
                          self.headers.get("Authorization"), time.monotonic())
        with self.server.lock:
            self.server.requests.append(request)
        try:
            self.server.behaviour(self, request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should have

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None,
             content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if self.server.close_delimited:
            # No Content-Length to check first: the body ends when the connection does.
            self.close_connection = True
            headers = {"Connection": "close", **(headers or {})}
        else:
            headers = {"Content-Length": str(len(body)), **(headers or {})}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers)


class Hostile(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, behaviour: Callable[[Handler, Request], None]) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.behaviour = behaviour
        self.lock = threading.Lock()
        self.requests: list[Request] = []
        self.close_delimited = False

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def pages_asked(self) -> list[int]:
        return [int(r.query["page"]) for r in self.requests if r.path == SYNC]


@contextmanager
def serving(behaviour: Callable[[Handler, Request], None]) -> Iterator[Hostile]:
    server = Hostile(behaviour)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _reader(server: Hostile, tmp_path: Path, **options: Any) -> HttpSourceReader:
    settings = {"page_size": PAGE_SIZE, "request_budget_seconds": 2.0, "max_backoff_seconds": 0.05, **options}
    return HttpSourceReader(server.url, TOKEN, tmp_path / "lake" / "_http_manifest", **settings)


# --- sync calls and an honest window that tests bend ----------------------------------------------


def _call(i: int) -> dict[str, Any]:
    """A v2 dossier sync call of DAY (sources.md §3) carrying personal data unique to it."""
    record = {
        "MaHoSo": f"000.00.01.H62-240205-{i:04d}", "MaTTHC": "1.004003", "KenhThucHien": "2", "LoaiDoiTuong": "1",
        "ChuHoSo": f"Nguyễn Thị Plantedname{i:04d}", "SoGiayToChuHoSo": f"0262{i:08d}",
        "SoDienThoai": f"0918{i:06d}", "Email": f"planted.mail{i:04d}@example.vn",
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": f"0382{i:08d}"}],
        "NgayNopHoSo": f"20240205{8 + i // 60 % 8:02d}{i % 60:02d}00", "NgayTiepNhan": "", "NgayHenTra": "",
        "NgayKetThucXuLy": "", "NgayTra": "", "NgayTuChoi": "", "TrangThaiHoSo": "1",
        "DuocThanhToanTrucTuyen": "0",
        "TaiLieuNop": [{"TepDinhKemId": f"T{i}", "TenTepDinhKem": f"CCCD_Plantedfile{i:04d}.pdf", "IsDeleted": "0"}],
        "DanhSachLePhi": [{"MaPhiLePhi": "PHI-DD", "TenPhiLePhi": "Phí thẩm định", "LoaiPhiLePhi": "1",
                           "Gia": str(1000 * i)}],
        "DanhSachHoSoBoSung": [{"NgayBoSung": "20240205100000", "NgayTiepNhanBoSung": "",
                                "NguoiYeuCauBoSung": f"Cán bộ Plantedofficer{i:04d}"}],
    }
    return {"MaDinhDanhDV": "000.00.01.H62",
            "ThoiGianDongBo": f"20240205{16 + i // 3600:02d}{i // 60 % 60:02d}{i % 60:02d}", "LoaiDongBo": "insert",
            "KetQua": {"error_code": "0", "message": ""}, "data": [record]}


def _personal_values(call: dict[str, Any]) -> list[str]:
    record = call["data"][0]
    return [record["ChuHoSo"], record["SoGiayToChuHoSo"], record["SoDienThoai"], record["Email"],
            record["DinhDanhCHS"][0]["SoDinhDanh"], record["TaiLieuNop"][0]["TenTepDinhKem"],
            record["DanhSachHoSoBoSung"][0]["NguoiYeuCauBoSung"]]


@dataclass
class Window:
    """The dossier sync calls of DAY, paged honestly unless a test changes `page_body` or sets faults."""

    records: list[dict[str, Any]]
    failing_from_page: int | None = None  # 503 for this page and the next while set
    reads: dict[int, int] = field(default_factory=dict)  # answers given per page

    def page_body(self, page: int, page_size: int) -> Any:
        chunk = self.records[(page - 1) * page_size: page * page_size]
        return {"data": chunk, "page": page, "page_size": page_size, "total": len(self.records)}

    def __call__(self, handler: Handler, request: Request) -> None:
        if request.authorization != f"Bearer {TOKEN}":
            handler.json(401, {"error": "token"})
            return
        if request.path != SYNC or request.query.get("kind") != "dossiers":
            handler.json(404, {"error": "not found"})
            return
        page, page_size = int(request.query["page"]), int(request.query["page_size"])
        if self.failing_from_page is not None and page >= self.failing_from_page:
            handler.json(503, {"error": "down"})
            return
        self.reads[page] = self.reads.get(page, 0) + 1
        handler.json(200, self.page_body(page, page_size))


def _landed(pieces: list[tuple[str, bytes]]) -> list[str]:
    """The calls landed (one per piece), in order, by the MaHoSo they carry."""
    return [json.loads(data)["data"][0]["MaHoSo"] for _, data in pieces]


def _ids(calls: list[dict[str, Any]]) -> list[str]:
    return [c["data"][0]["MaHoSo"] for c in calls]


# --- 1. reconciliation file names -------------------------------------------------------------

GOOD_NAME = "doisoat_20240205_VNPTPAY.csv"
CSV = b"MaGiaoDich,MaTrungGian\r\nT1,VNPTPAY\r\n"


def _files(names: Any) -> Callable[[Handler, Request], None]:
    def behaviour(handler: Handler, request: Request) -> None:
        if request.path == FILES:
            handler.json(200, names)
        else:
            handler.send(200, CSV, content_type="text/csv")
    return behaviour


@pytest.mark.parametrize("bad", [
    "../../../x.csv", "{outside}/x.csv", "a/b.csv", "doisoat_..csv", "doisoat_20240205_VNPT\x00.csv",
    "doisoat_20240205_VN\\PT.csv", "doisoat_20240204_VNPTPAY.csv", "doisoat_20240205_vnptpay.csv",
    "doisoat_20240205_.csv", "doisoat_20240205_VNPTPAY.csv.exe", 42,
], ids=["parent", "absolute", "subfolder", "dots", "nul", "backslash", "other-day", "lower-case", "no-code",
        "suffix", "not-text"])
def test_a_file_name_that_is_not_the_contracts_fails_the_day_and_writes_nothing(bad: Any, tmp_path: Path) -> None:
    if isinstance(bad, str):
        bad = bad.replace("{outside}", str(tmp_path / "outside"))
    with serving(_files([GOOD_NAME, bad])) as server, pytest.raises(ExtractError) as info:
        list(_reader(server, tmp_path).files_for("payments", DAY))
    assert isinstance(info.value, http_source.InvalidFileName)
    assert "doisoat_YYYYMMDD_<MaTrungGian>.csv" in str(info.value) or "not the day asked" in str(info.value)
    assert str(bad) not in str(info.value)
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert [p.name for p in written if p.name != "manifest.json"] == []
    assert not (tmp_path / "outside").exists()


def test_file_names_from_the_server_are_values_never_paths(tmp_path: Path) -> None:
    names = [GOOD_NAME, "doisoat_20240205_VIETTEL_MONEY.csv"]
    with serving(_files(names)) as server:
        got = list(_reader(server, tmp_path).files_for("payments", DAY))
    assert got == [(name, CSV) for name in names]
    stored = {p.name for p in (tmp_path / "lake" / "_http_manifest").rglob("*") if p.is_file()}
    assert stored.isdisjoint(names)


def test_a_file_list_that_is_not_an_array_fails_the_day(tmp_path: Path) -> None:
    with serving(_files({"files": [GOOD_NAME]})) as server, pytest.raises(ExtractError) as info:
        list(_reader(server, tmp_path).files_for("payments", DAY))
    assert isinstance(info.value, http_source.InvalidFileName)
    assert "not an array" in str(info.value)


# --- 2. the end of a window is probed, not taken from `total` ------------------------------------


@pytest.mark.parametrize(("truth", "stated"), [(212, 200), (200, 150)], ids=["short-page", "page-boundary"])
def test_a_total_lower_than_the_truth_fails_the_day(truth: int, stated: int, tmp_path: Path) -> None:
    window = Window([_call(i) for i in range(truth)])
    honest = window.page_body
    window.page_body = lambda page, size: {**honest(page, size), "total": stated}  # type: ignore[method-assign]
    with serving(window) as server, pytest.raises(ExtractError) as info:
        list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert isinstance(info.value, http_source.PagingError)
    assert f"total ({stated})" in str(info.value)


def test_a_total_that_was_wrong_once_is_read_again_and_loses_nothing(tmp_path: Path) -> None:
    records = [_call(i) for i in range(212)]
    window = Window(records)
    honest = window.page_body
    window.page_body = lambda page, size: {  # type: ignore[method-assign]
        **honest(page, size), "total": 200 if window.reads[1] == 1 else len(records)}
    with serving(window) as server:
        pieces = list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert _landed(pieces) == _ids(records)


# --- 3. pages that repeat or are not the page asked --------------------------------------------


def _bent(window: Window, kind: str, always: bool) -> Callable[[int, int], Any]:
    honest = window.page_body

    def page_body(page: int, size: int) -> Any:
        if page != 3 or (not always and window.reads[3] > 1):
            return honest(page, size)
        if kind == "repeat":  # page 2's records, said to be page 3
            return {**honest(2, size), "page": 3}
        if kind == "previous":  # page 2, as it is
            return honest(2, size)
        if kind == "shifted":  # one record of page 2 again, one of page 3 lost
            body = honest(3, size)
            return {**body, "data": [window.records[2 * size - 1], *body["data"][:-1]]}
        return {**honest(3, size), "page": 4}  # the right records, the wrong page number
    return page_body


@pytest.mark.parametrize("kind", ["repeat", "previous", "shifted", "wrong-number"])
def test_a_page_that_repeats_records_or_is_not_the_one_asked_fails_the_day(kind: str, tmp_path: Path) -> None:
    window = Window([_call(i) for i in range(212)])
    window.page_body = _bent(window, kind, always=True)  # type: ignore[method-assign]
    with serving(window) as server, pytest.raises(ExtractError) as info:
        list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert isinstance(info.value, http_source.PagingError)
    assert "page 3" in str(info.value) and "3 reads" in str(info.value)


@pytest.mark.parametrize("kind", ["repeat", "shifted", "wrong-number"])
def test_a_page_repeated_once_is_read_again_and_lands_every_record_once(kind: str, tmp_path: Path) -> None:
    records = [_call(i) for i in range(212)]
    window = Window(records)
    window.page_body = _bent(window, kind, always=False)  # type: ignore[method-assign]
    with serving(window) as server:
        pieces = list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert _landed(pieces) == _ids(records)


# --- 4. redirects --------------------------------------------------------------------------------


def test_a_redirect_to_another_origin_is_refused(tmp_path: Path) -> None:
    def elsewhere(handler: Handler, request: Request) -> None:  # another port, no token needed: an empty day
        handler.json(200, {"data": [], "page": 1, "page_size": PAGE_SIZE, "total": 0})

    with serving(elsewhere) as other:
        def redirect(handler: Handler, request: Request) -> None:
            handler.send(302, b"", {"Location": f"{other.url}{handler.path}"})

        with serving(redirect) as server, pytest.raises(ExtractError) as info:
            list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert isinstance(info.value, http_source.RedirectRefused)
    assert "another origin" in str(info.value)
    assert other.requests == []


def test_a_redirect_loop_is_a_clear_error(tmp_path: Path) -> None:
    def loop(handler: Handler, request: Request) -> None:
        handler.send(307, b"", {"Location": "/elsewhere?again=1"})

    with serving(loop) as server, pytest.raises(ExtractError) as info:
        list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert isinstance(info.value, http_source.RedirectRefused)


def test_a_redirect_within_the_origin_is_followed_with_the_token(tmp_path: Path) -> None:
    """Not a fault: kept working (passes before and after the hardening)."""
    records = [_call(i) for i in range(60)]
    window = Window(records)

    def moved(handler: Handler, request: Request) -> None:
        if "moved" not in request.query:
            handler.send(301, b"", {"Location": f"{handler.path}&moved=1"})
        else:
            window(handler, request)

    with serving(moved) as server:
        pieces = list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert _landed(pieces) == _ids(records)
    assert all(r.authorization == f"Bearer {TOKEN}" for r in server.requests)


# --- 5. Retry-After ------------------------------------------------------------------------------


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@pytest.mark.parametrize(("value", "waits"), [
    (lambda: _http_date(3), True), (lambda: _http_date(-3600), False), (lambda: "-1", False),
    (lambda: "nan", False), (lambda: "soon", False), (lambda: "1e3", False), (lambda: "99999999999999", True),
], ids=["future-date", "past-date", "negative", "nan", "garbage", "exponent", "huge"])
def test_any_retry_after_is_honoured_clamped_or_ignored(value: Callable[[], str], waits: bool,
                                                         tmp_path: Path) -> None:
    records = [_call(i) for i in range(10)]
    window = Window(records)

    def throttled(handler: Handler, request: Request) -> None:
        if len(handler.server.requests) == 1:
            handler.json(429, {"error": "slow down"}, {"Retry-After": value()})
        else:
            window(handler, request)

    with serving(throttled) as server:
        reader = _reader(server, tmp_path, max_retry_after_seconds=0.6)
        pieces = list(reader.files_for("dossiers", DAY))
    assert _landed(pieces) == _ids(records)
    gap = server.requests[1].at - server.requests[0].at
    if waits:
        assert 0.3 < gap < 1.0, gap  # honoured, within the cap
    else:
        assert gap < 0.3, gap  # the normal backoff
    assert reader.stats["throttled"] == 1


def test_a_503_with_retry_after_waits_it(tmp_path: Path) -> None:
    records = [_call(i) for i in range(10)]
    window = Window(records)

    def unavailable(handler: Handler, request: Request) -> None:
        if len(handler.server.requests) == 1:
            handler.json(503, {"error": "maintenance"}, {"Retry-After": "1"})
        else:
            window(handler, request)

    with serving(unavailable) as server:
        pieces = list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert _landed(pieces) == _ids(records)
    assert server.requests[1].at - server.requests[0].at >= 0.9


def test_a_retry_after_beyond_the_budget_gives_up_at_once(tmp_path: Path) -> None:
    """Not a fault of the old code: kept working (passes before and after the hardening)."""
    def throttled(handler: Handler, request: Request) -> None:
        handler.json(429, {"error": "slow down"}, {"Retry-After": "20"})

    started = time.monotonic()
    with serving(throttled) as server, pytest.raises(ExtractError, match="gave up"):
        list(_reader(server, tmp_path, request_budget_seconds=1.0).files_for("dossiers", DAY))
    assert time.monotonic() - started < 0.8


# --- 6. one deadline for the whole request, body included ----------------------------------------


def test_a_body_trickled_byte_by_byte_stops_at_the_deadline(tmp_path: Path) -> None:
    body = json.dumps({"data": [], "page": 1, "page_size": PAGE_SIZE, "total": 0}).encode()

    def trickle(handler: Handler, request: Request) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        for byte in body:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.1)

    started = time.monotonic()
    with serving(trickle) as server, pytest.raises(ExtractError) as info:
        list(_reader(server, tmp_path, request_budget_seconds=0.8).files_for("dossiers", DAY))
    assert time.monotonic() - started < 1.5
    assert "deadline" in str(info.value)


# --- 7. size limits, and manifest entries that do not read back ----------------------------------


def test_an_answer_declared_too_large_is_refused_without_reading_it(tmp_path: Path) -> None:
    def huge(handler: Handler, request: Request) -> None:
        handler.send(200, b'{"data": [', {"Content-Length": str(300 * 2**20)})

    started = time.monotonic()
    with serving(huge) as server, pytest.raises(ExtractError) as info:
        list(_reader(server, tmp_path, max_response_bytes=2**20).files_for("dossiers", DAY))
    assert isinstance(info.value, http_source.ResponseTooLarge)
    assert "over the limit" in str(info.value)
    assert len(server.requests) == 1 and time.monotonic() - started < 0.5  # refused at once, not retried


def test_an_answer_that_grows_too_large_is_refused_and_never_cached(tmp_path: Path) -> None:
    records = [_call(i) for i in range(60)]
    window = Window(records)
    honest = window.page_body

    def padded(page: int, size: int) -> Any:
        body = honest(page, size)
        if page == 2:
            body["data"] = [{**body["data"][0], "padding": "x" * (2 * 2**20)}, *body["data"][1:]]
        return body

    window.page_body = padded  # type: ignore[method-assign]
    with serving(window) as server:
        server.close_delimited = True
        with pytest.raises(ExtractError) as info:
            list(_reader(server, tmp_path, max_response_bytes=2**20).files_for("dossiers", DAY))
        assert isinstance(info.value, http_source.ResponseTooLarge)
        window.page_body = honest  # type: ignore[method-assign]
        pieces = list(_reader(server, tmp_path, max_response_bytes=2**20).files_for("dossiers", DAY))
    assert _landed(pieces) == _ids(records)


@pytest.mark.parametrize("damage", ["page-cut-short", "page-altered", "manifest-cut-short"])
def test_a_manifest_entry_that_does_not_read_back_is_fetched_again(damage: str, tmp_path: Path) -> None:
    records = [_call(i) for i in range(120)]
    window = Window(records, failing_from_page=3)
    folder = tmp_path / "lake" / "_http_manifest" / "dossiers" / DAY.isoformat()
    with serving(window) as server:
        with pytest.raises(ExtractError, match="gave up"):
            list(_reader(server, tmp_path, request_budget_seconds=0.3).files_for("dossiers", DAY))
        target = folder / ("manifest.json" if damage.startswith("manifest") else "page_00001.sealed")
        data = target.read_bytes()
        flipped = data[:-1] + bytes([data[-1] ^ 1])
        target.write_bytes(data[: len(data) // 2] if damage.endswith("cut-short") else flipped)
        window.failing_from_page = None
        pieces = list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert _landed(pieces) == _ids(records)
    assert window.reads[1] == 2  # the damaged page (or the whole window) was fetched again


# --- 8. answers of the wrong shape ---------------------------------------------------------------

_ONE = _call(0)
_NEXT_DAY = {**_ONE, "ThoiGianDongBo": "20240206000000"}
_UNTIMED = {k: v for k, v in _ONE.items() if k != "ThoiGianDongBo"}


@pytest.mark.parametrize(("body", "named"), [
    ([], "a JSON array, not an object"),
    ({"data": [_ONE], "page": 1, "page_size": PAGE_SIZE}, "'total' is missing"),
    ({"page": 1, "page_size": PAGE_SIZE, "total": 1}, "'data' is missing"),
    ({"data": "x", "page": 1, "page_size": PAGE_SIZE, "total": 1}, "'data' is not an array"),
    ({"data": [1, "a"], "page": 1, "page_size": PAGE_SIZE, "total": 2}, "2 entries that are not objects"),
    ({"data": [_ONE], "page": 1, "page_size": PAGE_SIZE, "total": "1"}, "'total' is not a count"),
    ({"data": [_ONE], "page": 1, "page_size": PAGE_SIZE, "total": True}, "'total' is not a count"),
    ({"data": [_ONE], "page": 1, "page_size": PAGE_SIZE, "total": -1}, "'total' is not a count"),
    ({"data": [_ONE], "page_size": PAGE_SIZE, "total": 1}, "'page' is missing"),
    ({"data": [_ONE], "page": 1, "page_size": 10, "total": 1}, "pages by 10"),
    ({"data": [_ONE, _NEXT_DAY], "page": 1, "page_size": PAGE_SIZE, "total": 2},
     "1 calls without a ThoiGianDongBo (yyyyMMddHHmmss) in the window asked [20240205000000, 20240206000000)"),
    ({"data": [_UNTIMED, {**_ONE, "ThoiGianDongBo": 20240205160000}], "page": 1, "page_size": PAGE_SIZE,
      "total": 2}, "2 calls without a ThoiGianDongBo"),
], ids=["array", "no-total", "no-data", "data-text", "not-objects", "total-text", "total-bool", "total-negative",
        "no-page", "other-page-size", "outside-the-window", "no-time"])
def test_a_page_of_the_wrong_shape_is_a_clear_error(body: Any, named: str, tmp_path: Path) -> None:
    def answer(handler: Handler, request: Request) -> None:
        handler.json(200, body)

    with serving(answer) as server, pytest.raises(ExtractError) as info:
        list(_reader(server, tmp_path).files_for("dossiers", DAY))
    assert isinstance(info.value, http_source.ContractViolation)
    assert named in str(info.value)
    assert [p for p in tmp_path.rglob("*.sealed")] == []  # nothing of it was kept


@pytest.mark.parametrize(("body", "named"), [
    ({"error": "maintenance"}, "'data' is missing"), ([1, 2], "a JSON array, not an object"),
    ("catalog", "a JSON string, not an object"),
    ({"snapshot_date": "2024-02-05", "data": [1, 2]}, "2 entries that are not objects"),
    ({"data": []}, "'snapshot_date' is missing"),
    ({"snapshot_date": "2024-02-06", "data": []}, "'snapshot_date' is not a date (yyyy-MM-dd) on or before"),
    ({"snapshot_date": "20240205", "data": []}, "'snapshot_date' is not a date"),
], ids=["object", "array", "text", "not-objects", "no-date", "date-after-the-day", "date-format"])
@pytest.mark.parametrize("source", ["agencies", "catalog"])
def test_a_snapshot_of_the_wrong_shape_is_a_clear_error(source: str, body: Any, named: str, tmp_path: Path) -> None:
    def answer(handler: Handler, request: Request) -> None:
        handler.json(200, body)

    with serving(answer) as server, pytest.raises(ExtractError) as info:
        list(_reader(server, tmp_path).files_for(source, DAY))
    assert isinstance(info.value, http_source.ContractViolation)
    assert named in str(info.value)
    assert server.requests[0].path == f"/api/v1/{source}" and server.requests[0].query == {"as_of": "2024-02-05"}


def test_snapshot_values_that_are_not_text_go_to_the_parser_as_text(tmp_path: Path) -> None:
    row = {"MaDinhDanh": "000.00.01.H62", "TenCoQuan": "Sở Tư pháp", "CapCoQuan": "TINH", "MaCoQuanCha": None,
           "MaDVHC": 26, "NgayHieuLuc": "2020-01-01", "NgayHetHieuLuc": None, "MaCoQuanKeThua": ["x"],
           "Extra": "dropped"}

    def answer(handler: Handler, request: Request) -> None:
        handler.json(200, {"as_of": "2024-02-05", "snapshot_date": "2024-02-05", "data": [row]})

    with serving(answer) as server:
        (name, data), = _reader(server, tmp_path).files_for("agencies", DAY)
    assert name == "coquan_20240205.csv"
    assert data.decode("utf-8").split("\r\n")[1] == '000.00.01.H62,Sở Tư pháp,TINH,,26,2020-01-01,,"[""x""]"'


# --- 9. no personal data in the manifest, and the calls yielded as sent ---------------------------------


def _assert_no_personal_data(folder: Path, calls: list[dict[str, Any]]) -> None:
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    planted = [v for c in calls for v in _personal_values(c)]
    for path in files:
        data = path.read_bytes()
        assert b"Planted" not in data, path.name
        for value in planted:
            for form in (value.encode("utf-8"), json.dumps(value).encode("ascii")):
                assert form not in data, f"{path.name} holds a planted personal value"


def test_the_manifest_never_holds_personal_data_and_the_calls_come_as_sent(tmp_path: Path) -> None:
    calls = [_call(i) for i in range(120)]
    calls[7]["data"][0]["TrangThaiHoSo"] = "99"  # for the parser to quarantine, not for the reader to judge
    calls[8]["data"].append({"MaHoSo": "", "ChuHoSo": 42, "GhiChu": {"Planted": ["nested"]}})
    window = Window(calls, failing_from_page=3)
    manifest = tmp_path / "lake" / "_http_manifest"
    with serving(window) as server:
        with pytest.raises(ExtractError, match="gave up"):
            list(_reader(server, tmp_path, request_budget_seconds=0.3).files_for("dossiers", DAY))
        assert (manifest / "dossiers" / DAY.isoformat() / "page_00002.sealed").exists()
        _assert_no_personal_data(manifest, calls)
        window.failing_from_page = None
        pieces = list(_reader(server, tmp_path).files_for("dossiers", DAY))
        _assert_no_personal_data(manifest, calls)
    assert window.reads == {1: 1, 2: 1, 3: 1}  # resumed, nothing fetched twice
    # What the parser gets is what the server sent: personal data included (the parser drops it).
    assert [json.loads(data) for _, data in pieces] == calls
    assert [name for name, _ in pieces][:2] == ["20240205160000_000001.json", "20240205160001_000002.json"]


def test_a_manifest_sealed_under_another_key_is_fetched_again(tmp_path: Path) -> None:
    calls = [_call(i) for i in range(120)]
    window = Window(calls, failing_from_page=3)
    with serving(window) as server:
        with pytest.raises(ExtractError, match="gave up"):
            list(_reader(server, tmp_path, request_budget_seconds=0.3, manifest_key=b"key one").files_for(
                "dossiers", DAY))
        window.failing_from_page = None
        pieces = list(_reader(server, tmp_path, manifest_key=b"key two").files_for("dossiers", DAY))
    assert _landed(pieces) == _ids(calls)
    assert window.reads == {1: 2, 2: 2, 3: 1}
