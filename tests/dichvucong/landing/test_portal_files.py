"""The portal's own 766 figures: what officials save of its evaluation pages, read and landed."""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.parse
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from dichvucong.config import Settings
from dichvucong.landing import lake
from dichvucong.landing.extract import land
from dichvucong.landing.portal_files import NO_EVALUATION_CALL, NOT_AN_EVALUATION_FILE, parse_portal_file
from dichvucong.tasks import check_landing_accounts, validate_landed

GROUPS = {"CKMB": 15.5, "TDGQ": "18,2", "CLGQ": 9, "TTTT": 7.25, "MDSH": 16, "MDHL": 17, "TONG_SCORE": 82.95}


def _rest_call(params: dict[str, Any], answer: Any, *, form: str = "text", base64_answer: bool = False,
               started: str = "2025-09-03T09:15:00.000+07:00") -> dict[str, Any]:
    """One HAR entry of a POST to /jsp/rest.jsp, as a browser records it."""
    encoded = json.dumps(params)
    post: dict[str, Any] = {"mimeType": "application/x-www-form-urlencoded; charset=UTF-8"}
    if form == "text":
        post["text"] = "params=" + urllib.parse.quote(encoded)
    else:  # the parsed form a browser adds beside (or instead of) the text
        post["params"] = [{"name": "params", "value": urllib.parse.quote_plus(encoded)}]
    text = json.dumps(answer, ensure_ascii=False)
    content = ({"mimeType": "application/json", "encoding": "base64", "text": base64.b64encode(text.encode()).decode()}
               if base64_answer else {"mimeType": "application/json", "text": text})
    return {"startedDateTime": started,
            "request": {"method": "POST", "url": "https://dichvucong.gov.vn/jsp/rest.jsp",
                        "headers": [{"name": "Cookie", "value": "JSESSIONID=secret-session-0912345678"}],
                        "postData": post},
            "response": {"status": 200, "content": content}}


def _har(*entries: dict[str, Any]) -> bytes:
    noise = {"startedDateTime": "2025-09-03T02:14:59.000Z",
             "request": {"method": "GET", "url": "https://dichvucong.gov.vn/static/js/index.js"},
             "response": {"status": 200, "content": {"mimeType": "application/javascript", "text": "var a=1;"}}}
    return json.dumps({"log": {"version": "1.2", "entries": [noise, *entries]}}).encode()


def _accounted(parsed: Any) -> None:
    assert parsed.rows_read == len(parsed.rows) + len(parsed.quarantined)


def test_a_har_of_the_province_page_gives_one_row_per_group_and_unit() -> None:
    params = {"service": "report_tinh_766_service", "type": "ref", "p_nam": "2025", "p_thang": "8", "p_quy": "",
              "p_6thang": "", "p_tinh_id": "398126", "p_loaidonvi": "2"}
    answer = [{"ID": "398126", "TEN": "Tỉnh Phú Thọ", "ROW_STT": 12, **GROUPS},
              {"ID": "4001", "TEN": "UBND xã Tam Dương", "ROW_STT": "3", "CAPDONVIID": "3", "CKMB": 10,
               "TEN_TINH": "Phú Thọ"}]
    parsed = parse_portal_file(_har(_rest_call(params, answer)))
    _accounted(parsed)
    assert parsed.file_error is None and not parsed.quarantined
    province = {r["item_code"]: r for r in parsed.rows if r["portal_unit_id"] == "398126"}
    assert set(province) == set(GROUPS)
    assert province["TDGQ"]["points"] == pytest.approx(18.2)  # a decimal comma read
    assert province["TONG_SCORE"]["points"] == pytest.approx(82.95)
    first = province["CKMB"]
    assert (first["period_type"], first["period_year"], first["period_number"]) == ("month", 2025, 8)
    assert first["saved_at"] == dt.datetime(2025, 9, 3, 2, 15)  # UTC, from the HAR's local time
    assert (first["rank"], first["portal_province_id"], first["unit_name"]) == (12, "398126", "Tỉnh Phú Thọ")
    commune = [r for r in parsed.rows if r["portal_unit_id"] == "4001"]
    # Only the points: the label TEN_TINH is not a figure.
    assert [(r["item_code"], r["points"], r["portal_unit_level"], r["rank"]) for r in commune] == [
        ("CKMB", 10.0, "3", 3)]
    assert "secret-session" not in json.dumps(parsed.rows, default=str)


def test_form_params_a_base64_answer_and_saved_answers_are_read_alike() -> None:
    params = {"service": "report_tinh_766_service", "p_nam": "2025", "p_quy": "3", "p_tinh_id": "1"}
    answer = [{"ID": "1", "TEN": "Tỉnh Phú Thọ", **GROUPS}]
    from_har = parse_portal_file(_har(_rest_call(params, answer, form="params", base64_answer=True)))
    saved = parse_portal_file(json.dumps([{"request": params, "response": answer}]).encode())
    assert from_har.file_error is None and saved.file_error is None
    strip = [{k: v for k, v in r.items() if k != "saved_at"} for r in from_har.rows]
    assert strip == [{k: v for k, v in r.items() if k != "saved_at"} for r in saved.rows]
    assert {(r["period_type"], r["period_number"]) for r in saved.rows} == {("quarter", 3)}
    assert saved.rows[0]["saved_at"] is None


def test_the_indicator_service_names_its_unit_in_the_request() -> None:
    params = {"service": "report_xuhuongdiem_chiso_service", "p_nam": "2025", "p_6thang": "1",
              "p_tinh_id": "398126", "p_donvi_id": "4001"}
    answer = [{"CODE": "2.1", "DESCRIPTION": "Tiến độ giải quyết", "SCORE": 17.5, "MAX_SCORE": 20, "TB_SCORE": 16.1},
              {"CODE": " 4.5b ", "SCORE": None, "MAX_SCORE": 2},
              {"DESCRIPTION": "no code"}]
    parsed = parse_portal_file(json.dumps({"request": params, "response": answer}).encode())
    _accounted(parsed)
    assert [(r["item_code"], r["points"], r["max_points"], r["average_points"], r["portal_unit_id"])
            for r in parsed.rows] == [("2.1", 17.5, 20.0, 16.1, "4001"), ("4.5b", None, 2.0, None, "4001")]
    assert parsed.rows[0]["period_type"] == "half_year"
    assert [q["reason"] for q in parsed.quarantined] == ["CODE: missing"]


def test_an_evaluation_tree_gives_numerators_and_denominators_with_parents() -> None:
    tree = {"data": [{"maDinhDanh": "000.00.00.H44", "ten": "UBND tỉnh Phú Thọ",
                      "chiSo": [{"ma": "2.1", "tuSo": 812, "mauSo": 1000, "diem": 16.24, "diemToiDa": 20}],
                      "children": [{"ma": "000.00.01.H44", "ten": "Sở Tư pháp",
                                    "indicators": [{"code": "1.4", "numerator": "99", "denominator": "100"}],
                                    "donViCon": []}]}]}
    entry = {"startedDateTime": "2025-10-01T01:00:00Z",
             "request": {"method": "GET",
                         "url": "https://dichvucong.gov.vn/api/v1/reporting/evaluation/tree?nam=2025&thang=9"},
             "response": {"content": {"text": json.dumps(tree)}}}
    parsed = parse_portal_file(_har(entry))
    _accounted(parsed)
    rows = {(r["unit_code"], r["item_code"]): r for r in parsed.rows}
    top = rows[("000.00.00.H44", "2.1")]
    assert (top["numerator"], top["denominator"], top["points"], top["max_points"]) == (812, 1000, 16.24, 20)
    assert (top["service"], top["period_type"], top["period_number"]) == ("reporting/evaluation", "month", 9)
    child = rows[("000.00.01.H44", "1.4")]
    assert (child["parent_unit_code"], child["numerator"], child["denominator"]) == ("000.00.00.H44", 99, 100)


def test_bad_entries_are_quarantined_with_a_reason_and_nothing_personal() -> None:
    params = {"service": "report_tinh_766_service", "p_nam": "2025", "p_thang": "8", "p_tinh_id": "1"}
    answer = [{"ID": "1", "TEN": "Tỉnh Phú Thọ", "CKMB": "mười lăm", "TDGQ": 18},
              {"TEN": None, "ID": "", "GHI_CHU": "liên hệ 0912345678 a@b.vn"},
              "0912345678"]
    parsed = parse_portal_file(_har(_rest_call(params, answer)))
    _accounted(parsed)
    assert [(r["item_code"], r["points"]) for r in parsed.rows] == [("TDGQ", 18.0)]
    assert [(q["line_number"], q["reason"]) for q in parsed.quarantined] == [
        (1, "points: not a number"), (2, "ID: missing"), (3, "not a JSON object")]
    held = json.dumps(parsed.quarantined, ensure_ascii=False)
    assert "0912345678" not in held and "a@b.vn" not in held and "mười lăm" not in held


@pytest.mark.parametrize(("period", "reason"), [({"p_nam": "2025", "p_thang": "13"}, "period: out of range"),
                                                ({"p_thang": "8"}, "period: missing"),
                                                ({"p_nam": "1925"}, "period: out of range")])
def test_a_call_for_no_real_period_is_quarantined_entry_by_entry(period: dict[str, str], reason: str) -> None:
    answer = [{"ID": "1", "TEN": "Tỉnh Phú Thọ", **GROUPS}, {"ID": "2", "TEN": "Sở Tư pháp", "CKMB": 1}]
    parsed = parse_portal_file(_har(_rest_call({"service": "report_tinh_766_service", **period}, answer)))
    _accounted(parsed)
    assert not parsed.rows and [q["reason"] for q in parsed.quarantined] == [reason, reason]


@pytest.mark.parametrize(("data", "error"), [
    (b"\xff\xfe\x00not json", "not UTF-16"),
    (b"{\"log\": ", "invalid JSON"),
    (b"[1, 2]", NOT_AN_EVALUATION_FILE),
    (b"{\"ID\": 1}", NOT_AN_EVALUATION_FILE),
    (_har(), NO_EVALUATION_CALL),
    (json.dumps({"request": {"service": "report_by_year_sum_service", "p_nam": "2025"}, "response": []}).encode(),
     NO_EVALUATION_CALL),
])
def test_a_file_that_is_no_save_of_the_portal_is_a_file_error(data: bytes, error: str) -> None:
    parsed = parse_portal_file(data)
    assert parsed.file_error is not None and parsed.file_error.startswith(error)
    assert parsed.rows_read == 0 and not parsed.rows


def _drop(landing: Path, day: str, name: str, data: bytes) -> None:
    folder = landing / "portal" / day
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def test_landing_accounts_for_every_portal_file_and_leaves_days_without_one_empty(
        dvc_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    landing = tmp_path / "landing"
    params = {"service": "report_tinh_766_service", "p_nam": "2025", "p_thang": "8", "p_tinh_id": "1"}
    _drop(landing, "2025-08-31", "danhgia.har", _har(_rest_call(params, [{"ID": "1", "TEN": "T", **GROUPS}, 7])))
    _drop(landing, "2025-08-31", "trang.json", b"<html>not json</html>")
    _drop(landing, "2025-08-31", "ghichu.txt", b"a note")
    # HTTP mode reads the one-stop system's API; the portal's figures still come from the folder.
    monkeypatch.setenv("DVC_SOURCE_MODE", "http")
    monkeypatch.setenv("DVC_LANDING_DIR", str(landing))
    settings = Settings.from_env()
    report = land("portal", dt.date(2025, 8, 30), dt.date(2025, 9, 2), settings)
    assert (report.files, report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 8, 7, 1)
    audit = {a["file_name"]: a for a in pq.read_table(
        lake.partition_path(settings.lake_dir, "load_audit", dt.date(2025, 8, 31), "portal")).to_pylist()}
    assert audit["trang.json"]["file_error"].startswith("invalid JSON")
    assert audit["ghichu.txt"]["file_error"].startswith("name outside the layout")
    assert (audit["danhgia.har"]["rows_loaded"], audit["danhgia.har"]["rows_quarantined"]) == (7, 1)
    # No file, no partition: a day without a save is not a day that delivered nothing.
    assert not lake.partition_path(settings.lake_dir, "raw_portal_scores", dt.date(2025, 8, 30)).exists()
    assert check_landing_accounts()["sources"]
    result = validate_landed("portal", dt.date(2025, 8, 30), dt.date(2025, 9, 2))
    assert result["rows"] >= 7 and result["snapshots"] == 1
