"""HTTP mode of the v2 contract: a v2 landing directory served by the source server on loopback
yields, through the HTTP reader, what the file drop holds for each source and batch day; and the
reader's answers to 429 (seconds or an HTTP date), 5xx, dropped answers, pages and a redirect to
another host."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dichvucong.landing import extract
from dichvucong.landing.http_source import (
    AGENCY_COLUMNS,
    CATALOG_COLUMNS,
    SOURCES,
    ExtractError,
    HttpSourceReader,
    RedirectRefused,
    Unauthorized,
)
from dichvucong.source_server import Faults, SourceData, SourceServer, decode

DAY1 = dt.date(2024, 2, 5)
DAY2 = dt.date(2024, 2, 6)
DAYS = (dt.date(2024, 1, 31), dt.date(2024, 2, 1), DAY1, DAY2, dt.date(2024, 2, 7))
TOKEN = "v2-test-token"
SYNC = "/api/v1/sync-calls"
H62 = "000.00.01.H62"


# --- a v2 landing directory, by hand ------------------------------------------------------------


@dataclass
class Landing:
    root: Path
    # Every personal value written (names, ID numbers, phones, e-mails, free text naming people).
    personal: list[str] = field(default_factory=list)


def dossier(landing: Landing, i: int, status: str = "2") -> dict[str, Any]:
    """A v2 dossier record (all values strings), with personal data unique to it, also in the
    attachment names and free text that the contract does not mark but that name people."""
    record = {
        "MaHoSo": f"{H62}-240205-{i:04d}", "MaTTHC": "1.004227", "TenTTHC": "Cấp giấy phép xây dựng",
        "MaLinhVuc": "XD", "TenLinhVuc": "Xây dựng", "KenhThucHien": "2", "LoaiDoiTuong": "1",
        "ChuHoSo": f"Nguyễn Văn Plantedname{i:04d}", "SoGiayToChuHoSo": f"02620{i:07d}",
        "SoDienThoai": f"09120{i:05d}", "Email": f"planted.mail{i:04d}@example.vn", "Fax": "",
        "MaDoiTuong": f"PlantedAccount{i:04d}",
        "DinhDanhCHS": [{"LoaiDinhDanh": "1", "SoDinhDanh": f"03820{i:07d}"}],
        "TrichYeuHoSo": f"Xây nhà cho Plantedsummary{i:04d}", "ThongTinTra": "", "GhiChu": "",
        "NgayNopHoSo": "20240205080000", "NgayTiepNhan": "20240205083000" if status != "1" else "",
        "NgayHenTra": "20240219170000", "NgayKetThucXuLy": "", "NgayTra": "", "NgayTuChoi": "",
        "TrangThaiHoSo": status, "HinhThuc": "2", "DonViXuLy": "Sở Xây dựng", "NoiNopHoSo": "2",
        "HoSoCoThanhPhanSoHoa": "1", "TaiKhoanDuocXacThucVoiVNeID": "1", "DuocThanhToanTrucTuyen": "1",
        "TaiLieuNop": [{"TepDinhKemId": f"T{i}", "TenTepDinhKem": f"CCCD_Plantedfile{i:04d}.pdf", "IsDeleted": "0",
                        "MaThanhPhanHoSo": "TP1", "DuongDanTaiTepTin": f"/tep/Plantedfile{i:04d}.pdf",
                        "DuocSoHoa": "1", "DuocTaiSuDung": "0", "DuocLayTuKhoDMQG": "0", "MaKetQuaThayThe": ""}],
        "DanhSachLePhi": [{"TenPhiLePhi": "Lệ phí cấp phép", "MaPhiLePhi": "LP1", "HinhThucThu": "1",
                           "Gia": "150000", "LoaiPhiLePhi": "2"}],
        "DanhSachHoSoBoSung": [{"NguoiYeuCauBoSung": f"Cán bộ Plantedofficer{i:04d}", "NoiDungBoSung": "Bản vẽ",
                                "NgayBoSung": "20240205100000", "NguoiTiepNhanBoSung": "",
                                "NgayTiepNhanBoSung": "", "TrangThaiBoSung": "0", "NgayHenTraTruoc": "",
                                "NgayHenTraMoi": ""}],
        "DanhSachGiayToKetQua": None,
        "DSKetNoiCSDL": [{"MaCSDL": "CSDLDC"}],
    }
    landing.personal += [record["ChuHoSo"], record["SoGiayToChuHoSo"], record["SoDienThoai"], record["Email"],
                         record["MaDoiTuong"], record["DinhDanhCHS"][0]["SoDinhDanh"], record["TrichYeuHoSo"],
                         f"Plantedfile{i:04d}", record["DanhSachHoSoBoSung"][0]["NguoiYeuCauBoSung"]]
    return record


def step(landing: Landing, i: int, at: str) -> dict[str, Any]:
    """A v2 processing-log record naming its official."""
    record = {"MaHoSo": f"{H62}-240205-{i:04d}", "NguoiXuLy": f"Trần Thị Plantedofficial{i:04d}",
              "ChucDanh": "Chuyên viên", "PhongBanXuLy": "Phòng Quản lý xây dựng",
              "NoiDungXuLy": f"Chuyển hồ sơ cho Plantedcolleague{i:04d}", "TrangThai": "4", "ThoiDiemXuLy": at,
              "NgayBatDau": at, "NgayKetThucTheoQuyDinh": "20240212170000"}
    landing.personal += [record["NguoiXuLy"], record["NoiDungXuLy"]]
    return record


def envelope(at: str, records: list[dict[str, Any]], loai: str = "insert", error_code: str = "0",
             message: str = "") -> dict[str, Any]:
    return {"MaDinhDanhDV": H62, "ThoiGianDongBo": at, "LoaiDongBo": loai,
            "KetQua": {"error_code": error_code, "message": message}, "data": records}


def _write_call(root: Path, source: str, folder: dt.date, name: str, call: dict[str, Any], bom: bool = False) -> None:
    path = root / source / folder.isoformat() / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + json.dumps(call, ensure_ascii=False, indent=1).encode())


def _write_csv(path: Path, header: tuple[str, ...], rows: list[dict[str, str]], prefix: bytes = b"") -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(prefix + out.getvalue().encode("utf-8"))


def _agency(code: str, name: str, level: str, parent: str, unit: str, start: str, end: str = "",
            successor: str = "") -> dict[str, str]:
    return dict(zip(AGENCY_COLUMNS, (code, name, level, parent, unit, start, end, successor), strict=True))


def _service(code: str, name: str, levels: str, level: str, fee: str) -> dict[str, str]:
    values = (code, name, "XD", "Xây dựng", levels, "000.00.01.H62" if "TINH" in levels else "", level, "1", "15",
              "NgayLamViec", fee, "1" if fee != "0" else "0", "1", "1", "1", "2023-06-01", "2023-07-01",
              "2023-06-15", "7")
    return dict(zip(CATALOG_COLUMNS, values, strict=True))


def write_v2_landing(root: Path, bulk: int = 0) -> Landing:
    """Two days of dossier and processing sync calls (one rejected, two at the same moment, one at
    23:59:59 and one at 00:00:00 the next day, file names not in outbox order, one file with a
    byte-order mark), two agency and two catalog snapshots (quoting needed, one with a BOM), and
    payment files with a BOM, CRLF and a total line. `bulk` more calls of each kind per day."""
    landing = Landing(root)
    calls = [
        (DAY1, "call_0000.json", envelope("20240205170000", [dossier(landing, 1, "4")], "update")),
        (DAY1, "call_0001.json", envelope("20240205083015", [dossier(landing, 1), dossier(landing, 2, "1")])),
        (DAY1, "call_0002.json", envelope("20240205120000", [dossier(landing, 3)], error_code="1",
                                          message="MaTTHC không tồn tại")),
        (DAY1, "call_0004.json", envelope("20240205235959", [dossier(landing, 2, "3")], "update")),
        (DAY1, "call_0003.json", envelope("20240205235959", [dossier(landing, 4)])),
        (DAY2, "call_0001.json", envelope("20240206000000", [dossier(landing, 1, "9")], "update")),
        (DAY2, "call_0002.json", envelope("20240206091500", [dossier(landing, 5)])),
    ]
    for folder, name, call in calls:
        _write_call(root, "dossiers", folder, name, call, bom=call["ThoiGianDongBo"] == "20240205235959")
    steps = [
        (DAY1, "log_0001.json", envelope("20240205090000", [step(landing, 1, "20240205085900")])),
        (DAY1, "log_0002.json", envelope("20240205235959", [step(landing, 2, "20240205235900"),
                                                             step(landing, 1, "20240205235930")])),
        (DAY2, "log_0001.json", envelope("20240206000000", [step(landing, 1, "20240205235959")])),
    ]
    for folder, name, call in steps:
        _write_call(root, "processing", folder, name, call)
    for day in (DAY1, DAY2):
        for n in range(bulk):
            seconds = 36000 + n * 7
            at = f"{day:%Y%m%d}{seconds // 3600:02d}{seconds // 60 % 60:02d}{seconds % 60:02d}"
            i = 1000 + n + (bulk if day == DAY2 else 0)
            _write_call(root, "dossiers", day, f"bulk_{n:05d}.json", envelope(at, [dossier(landing, i)]))
            _write_call(root, "processing", day, f"bulk_{n:05d}.json", envelope(at, [step(landing, i, at)]))

    commune = "UBND xã \"Tam Đảo\", huyện Tam Đảo"  # a comma and quotes: RFC 4180 quoting
    _write_csv(root / "agencies" / "coquan_20240201.csv", AGENCY_COLUMNS, [
        _agency(H62, "Sở Xây dựng", "TINH", "", "", "2020-01-01"),
        _agency("000.21.30.H62", commune, "XA", "000.00.30.H62", "09040", "2020-01-01"),
    ])
    _write_csv(root / "agencies" / "coquan_20240206.csv", AGENCY_COLUMNS, [
        _agency(H62, "Sở Xây dựng", "TINH", "", "", "2020-01-01"),
        _agency("000.21.30.H62", commune, "XA", "000.00.30.H62", "09040", "2020-01-01", "2024-02-06",
                "000.22.30.H62"),
        _agency("000.22.30.H62", "UBND thị trấn Tam Đảo", "XA", "000.00.30.H62", "09041", "2024-02-06"),
    ])
    _write_csv(root / "catalog" / "services_20240201.csv", CATALOG_COLUMNS, [
        _service("1.004227", "Cấp giấy phép xây dựng", "TINH;HUYEN", "4", "150000"),
        _service("1.001612", "Đăng ký khai sinh, \"lưu động\"", "XA", "3", "0"),
    ])
    _write_csv(root / "catalog" / "services_20240206.csv", CATALOG_COLUMNS, [
        _service("1.004227", "Cấp giấy phép xây dựng", "TINH", "4", "150000"),
        _service("1.001612", "Đăng ký khai sinh, \"lưu động\"", "XA", "4", "0"),
    ], prefix=b"\xef\xbb\xbf")

    for day, code in ((DAY1, "VNPTPAY"), (DAY2, "MOMO")):
        path = root / "payments" / day.isoformat() / f"doisoat_{day:%Y%m%d}_{code}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            "\ufeffMaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,"
            f"ThoiGianGiaoDich,NgayDoiSoat\r\nGD1,{code},1,{H62}-240205-0001,1.004227,2,150000,00,"
            f"{day} 08:40:00,{day}\r\nTổng cộng,,,,,,150000,,,\r\n".encode())
    return landing


# --- what the file drop holds ---------------------------------------------------------------------


def file_drop(root: Path, source: str, day: dt.date) -> list[tuple[str, bytes]]:
    """The (name, bytes) files of a source's batch day in the landing directory: through
    FileDropReader once extract.py reads the v2 layout (it knows the processing log), read
    directly from the layout until then."""
    if "processing" in extract.SOURCES:
        pieces = list(extract.FileDropReader(root).files_for(source, day))
        assert all(isinstance(data, bytes) for _, data in pieces), pieces
        return [(name, data) for name, data in pieces if isinstance(data, bytes)]
    if source in ("agencies", "catalog"):
        name = f"{'coquan' if source == 'agencies' else 'services'}_{day:%Y%m%d}.csv"
        path = root / source / name
        return [(name, path.read_bytes())] if path.exists() else []
    folder = root / source / day.isoformat()
    return [(p.name, p.read_bytes()) for p in sorted(folder.iterdir())] if folder.is_dir() else []


def _json(data: bytes) -> Any:
    text = decode(data)
    assert text is not None
    return json.loads(text)


def _rows(data: bytes) -> list[list[str]]:
    text = decode(data)
    assert text is not None
    return list(csv.reader(io.StringIO(text, newline="")))


def outbox(pieces: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """A folder's sync calls in outbox order (ThoiGianDongBo, then file name)."""
    calls = [(_json(data), name) for name, data in pieces]
    return [call for call, _ in sorted(calls, key=lambda c: (c[0]["ThoiGianDongBo"], c[1]))]


# --- servers and readers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Landing:
    return write_v2_landing(tmp_path_factory.mktemp("landing_v2"))


@pytest.fixture
def server(landing: Landing) -> Iterator[SourceServer]:
    srv = SourceServer(SourceData.load(landing.root), TOKEN)
    srv.start_in_thread(poll_interval=0.05)
    yield srv
    srv.shutdown()
    srv.server_close()


def reader(srv: SourceServer | str, tmp_path: Path, **options: Any) -> HttpSourceReader:
    settings = {"page_size": 2, "request_budget_seconds": 10.0, "max_backoff_seconds": 0.05, **options}
    url = srv if isinstance(srv, str) else srv.url
    return HttpSourceReader(url, TOKEN, tmp_path / "lake" / "_http_manifest", **settings)


def _pages(srv: SourceServer, kind: str, day: dt.date) -> list[int | None]:
    return [s.page for s in srv.served if s.path == SYNC and s.kind == kind and s.start == f"{day:%Y%m%d}000000"]


# --- the same files as the file drop ---------------------------------------------------------------


def test_http_yields_what_the_file_drop_holds_for_every_source_and_day(landing: Landing, server: SourceServer,
                                                                      tmp_path: Path) -> None:
    http = reader(server, tmp_path)
    seen = dict.fromkeys(SOURCES, 0)
    for day in DAYS:
        for source in SOURCES:
            got = list(http.files_for(source, day))
            http.done(source, day)
            expected = file_drop(landing.root, source, day)
            seen[source] += len(got)
            if source in ("dossiers", "processing"):
                calls = outbox(expected)
                assert [_json(data) for _, data in got] == calls, (source, day)
                assert [name for name, _ in got] == [f"{c['ThoiGianDongBo']}_{n:06d}.json"
                                                     for n, c in enumerate(calls, start=1)]
                assert all(data.decode("utf-8") for _, data in got)
            elif source == "payments":
                assert got == expected, day
            else:
                assert [name for name, _ in got] == [name for name, _ in expected], (source, day)
                assert [_rows(data) for _, data in got] == [_rows(data) for _, data in expected], (source, day)
    assert seen == {"agencies": 2, "catalog": 2, "dossiers": 7, "processing": 3, "payments": 2}
    assert not any((tmp_path / "lake" / "_http_manifest").rglob("*.*")), "done() leaves no manifest behind"


@pytest.mark.parametrize("page_size", [1, 2])
def test_a_call_the_outbox_holds_twice_lands_twice_even_across_a_page_boundary(landing: Landing, tmp_path: Path,
                                                                               page_size: int) -> None:
    root = tmp_path / "landing"
    shutil.copytree(landing.root, root)
    folder = root / "dossiers" / DAY1.isoformat()
    # The rejected call (12:00:00, second in outbox order) delivered twice: copies at places 2 and 3.
    shutil.copy(folder / "call_0002.json", folder / "call_0002_again.json")
    srv = SourceServer(SourceData.load(root), TOKEN)
    srv.start_in_thread(poll_interval=0.05)
    try:
        got = list(reader(srv, tmp_path, page_size=page_size).files_for("dossiers", DAY1))
    finally:
        srv.shutdown()
        srv.server_close()
    calls = outbox(file_drop(root, "dossiers", DAY1))
    assert [_json(data) for _, data in got] == calls and len(calls) == 6
    assert [name for name, _ in got][1:3] == ["20240205120000_000002.json", "20240205120000_000003.json"]
    # The copies straddle a page boundary: the calls around it were read once more in pages of another size.
    checks = [s for s in srv.served if s.page_size != page_size]
    assert [(s.page, s.page_size) for s in checks] == [(1, 3)]  # places 1 to 3
    assert [s.page for s in srv.served if s.page_size == page_size] == list(range(1, 6 // page_size + 2))


def test_the_day_boundary_is_local_midnight(server: SourceServer, tmp_path: Path) -> None:
    http = reader(server, tmp_path)
    day1 = [name for name, _ in http.files_for("dossiers", DAY1)]
    day2 = [name for name, _ in http.files_for("dossiers", DAY2)]
    assert day1[-2:] == ["20240205235959_000004.json", "20240205235959_000005.json"]
    assert day2[0] == "20240206000000_000001.json"
    # Two calls at the same moment: outbox order is then the file name (call_0003 before call_0004).
    last_two = [_json(data)["data"][0]["MaHoSo"] for _, data in http.files_for("dossiers", DAY1)][-2:]
    assert last_two == [f"{H62}-240205-0004", f"{H62}-240205-0002"]


def test_a_rejected_call_is_yielded_as_sent(server: SourceServer, tmp_path: Path) -> None:
    calls = [_json(data) for _, data in reader(server, tmp_path).files_for("dossiers", DAY1)]
    rejected = [c for c in calls if c["KetQua"]["error_code"] != "0"]
    assert rejected == [envelope("20240205120000", [rejected[0]["data"][0]], error_code="1",
                                 message="MaTTHC không tồn tại")]


def test_snapshots_are_rfc_4180_csv_with_the_contracts_columns(server: SourceServer, tmp_path: Path) -> None:
    http = reader(server, tmp_path)
    (name, data), = http.files_for("agencies", DAY2)
    assert name == "coquan_20240206.csv"
    lines = data.decode("utf-8").split("\r\n")
    assert lines[0] == ",".join(AGENCY_COLUMNS) and lines[-1] == ""
    assert '"UBND xã ""Tam Đảo"", huyện Tam Đảo"' in lines[2]
    (name, data), = http.files_for("catalog", dt.date(2024, 2, 1))
    assert name == "services_20240201.csv"
    assert _rows(data)[0] == list(CATALOG_COLUMNS)
    # In force but not taking effect that day: nothing, as in the file drop.
    assert list(http.files_for("catalog", dt.date(2024, 2, 3))) == []


# --- faults ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("retry_after", "as_date", "cap", "low", "high"), [
    (2, False, 10.0, 1.9, 3.5),  # seconds, honoured
    (30, False, 0.5, 0.45, 2.0),  # seconds, capped
    (3, True, 10.0, 1.9, 4.5),  # an HTTP date 2-3 s ahead (whole seconds), honoured
    (30, True, 0.5, 0.45, 2.0),  # an HTTP date, capped
], ids=["seconds", "seconds-capped", "http-date", "http-date-capped"])
def test_a_429_waits_its_retry_after_in_seconds_or_as_an_http_date(
        landing: Landing, tmp_path: Path, retry_after: int, as_date: bool, cap: float, low: float,
        high: float) -> None:
    srv = SourceServer(SourceData.load(landing.root), TOKEN,
                       Faults(retry_after_seconds=retry_after, retry_after_date=as_date))
    srv.start_in_thread(poll_interval=0.05)
    try:
        expected = list(reader(srv, tmp_path / "a").files_for("processing", DAY1))
        srv.scripted.append("429")
        http = reader(srv, tmp_path / "b", max_retry_after_seconds=cap)
        started = time.monotonic()
        got = list(http.files_for("processing", DAY1))
        waited = time.monotonic() - started
    finally:
        srv.shutdown()
        srv.server_close()
    assert got == expected
    assert http.stats["throttled"] == 1 and srv.faults_served["429"] == 1
    assert low <= waited < high, waited


def test_5xx_and_dropped_answers_are_retried_and_no_page_is_read_twice(server: SourceServer,
                                                                       tmp_path: Path) -> None:
    expected = list(reader(server, tmp_path / "a").files_for("dossiers", DAY1))
    server.served.clear()
    server.scripted.extend(["5xx", "drop", "5xx", "slow", "drop"])
    server.faults.slow_seconds = 0.05
    http = reader(server, tmp_path / "b")
    assert list(http.files_for("dossiers", DAY1)) == expected
    assert http.stats["retries"] == 4
    # Five calls in pages of two: pages 1 to 3, each served whole once.
    assert _pages(server, "dossiers", DAY1) == [1, 2, 3]


def test_an_exact_multiple_of_the_page_size_costs_one_empty_probe_page(server: SourceServer, tmp_path: Path) -> None:
    assert len(list(reader(server, tmp_path).files_for("dossiers", DAY2))) == 2
    assert _pages(server, "dossiers", DAY2) == [1, 2]


def test_an_empty_window_yields_nothing_after_one_page(server: SourceServer, tmp_path: Path) -> None:
    assert list(reader(server, tmp_path).files_for("processing", dt.date(2030, 1, 1))) == []
    assert _pages(server, "processing", dt.date(2030, 1, 1)) == [1]


def test_a_wrong_token_fails_clearly(server: SourceServer, tmp_path: Path) -> None:
    bad = HttpSourceReader(server.url, "wrong", tmp_path)
    for source in SOURCES:
        with pytest.raises(Unauthorized, match=r"refused the token \(401\)"):
            list(bad.files_for(source, DAY1))
    assert server.served == []


@pytest.mark.parametrize("target", ["other-port", "same-port-other-host"])
def test_a_redirect_to_another_host_never_receives_the_token(landing: Landing, tmp_path: Path, target: str) -> None:
    source = SourceServer(SourceData.load(landing.root), TOKEN)
    other = SourceServer(SourceData.load(landing.root), TOKEN)  # would answer, token or not, if asked
    for srv in (source, other):
        srv.start_in_thread(poll_interval=0.05)
    port = (other if target == "other-port" else source).server_address[1]
    source.redirect_to = f"http://localhost:{port}"
    try:
        for kind in ("dossiers", "agencies", "payments"):
            with pytest.raises(RedirectRefused, match="another origin"):
                list(reader(source, tmp_path).files_for(kind, DAY1))
    finally:
        for srv in (source, other):
            srv.shutdown()
            srv.server_close()
    # 127.0.0.1 was asked (with the token) once per source; localhost, on either port, never.
    assert source.authorizations == [f"Bearer {TOKEN}"] * 3
    assert other.authorizations == []


def test_the_manifest_holds_no_personal_data_and_a_killed_read_resumes(landing: Landing, server: SourceServer,
                                                                       tmp_path: Path) -> None:
    expected = list(reader(server, tmp_path / "a").files_for("dossiers", DAY1))
    server.served.clear()
    server.outage_after = 2
    http = reader(server, tmp_path / "b", request_budget_seconds=0.5)
    with pytest.raises(ExtractError, match="gave up"):
        list(http.files_for("dossiers", DAY1))
    manifest = tmp_path / "b" / "lake" / "_http_manifest"
    stored = [p.read_bytes() for p in manifest.rglob("*") if p.is_file()]
    assert len(stored) == 3  # the manifest and two pages
    for value in landing.personal:
        for form in (value.encode("utf-8"), json.dumps(value).encode("ascii")):
            assert not any(form in data for data in stored), value
    assert not any(b"Planted" in data or b"H62" in data for data in stored)
    server.outage_after = None
    assert list(reader(server, tmp_path / "b").files_for("dossiers", DAY1)) == expected
    assert _pages(server, "dossiers", DAY1) == [1, 2, 3]


def test_every_planted_value_reaches_the_parser_unchanged(landing: Landing, server: SourceServer,
                                                         tmp_path: Path) -> None:
    """The reader strips nothing: the parser, which drops personal data, gets the calls as sent."""
    got = b"".join(data for day in (DAY1, DAY2) for source in ("dossiers", "processing")
                   for _, data in reader(server, tmp_path).files_for(source, day))
    assert all(value.encode("utf-8") in got for value in landing.personal)
