"""The portal's own 766 figures, as an official saves them from its evaluation pages (source `portal`).

The National Public Service Portal publishes each unit's Decision 766 score on its evaluation pages
(`dichvucong.gov.vn/p/home/dvc-index-*.html`). The pages load their figures with POST calls to
`/jsp/rest.jsp` (form field `params`: a JSON object naming a `service` and the period
`p_nam`, `p_thang`, `p_quy`, `p_6thang`), and newer pages from `/api/v1/reporting/evaluation/...`.
An official saves what a page loaded, in either of two forms, into `portal/YYYY-MM-DD/` (the day it
was saved):

- a browser's HAR file (`*.har`, developer tools, "Save all as HAR with content"): every call the
  page made, requests and answers; only the evaluation calls are read, and nothing of the request
  but the URL's query and the form field `params` (no header, no cookie);
- a saved answer (`*.json`): `{"request": {<the params object>}, "response": <the answer>}`, or a
  list of them, as a script calling the same services writes it.

What is read (one row of `lake.SCHEMAS["raw_portal_scores"]` per value, `item_code` as the portal
names it; staging maps the names to the 766 groups and indicators through a seed):

- `report_tinh_766_service`: one entry per unit, `ID` (the portal's unit id), `TEN`, `ROW_STT`
  (its rank), `CAPDONVIID`, and the points of the six groups and the total (`CKMB`, `TDGQ`,
  `CLGQ`, `TTTT`, `MDSH`, `MDHL`, `TONG_SCORE`, `GROUP_KEYS`; any other key with a numeric value
  too);
- `report_xuhuongdiem_chiso_service`: one entry per indicator of the unit the request names
  (`p_donvi_id`, else `p_tinh_id`): `CODE`, `DESCRIPTION`, `SCORE`, `MAX_SCORE`, `TB_SCORE`;
- `/api/v1/reporting/evaluation/...`: a tree of units (`maDinhDanh` or `ma`, `ten`, children under
  `children` or `donViCon`), each with its indicators (`chiSo` or `indicators`: `ma`/`code`,
  `tuSo`/`numerator`, `mauSo`/`denominator`, `diem`/`score`, `diemToiDa`/`maxScore`), the period in
  the URL's query (`nam`/`year`, `thang`/`month`, `quy`/`quarter`). No public sample of this API's
  answer was found: these key names are the project's reading of it, and a file whose calls match
  none of the three shapes is a file error that says so.

Records: one per value read (a group's points, an indicator's score), and one per entry that is not
a unit (not an object, no id, code or name), which is quarantined with its reason. A value that is
not a number is quarantined as `<key>: not a number`. Raises nothing on bad input: a file that is not
JSON, not a HAR nor a saved answer, or that holds no evaluation call, gets a `file_error`.
Periods: `p_thang` → month, `p_quy` → quarter, `p_6thang` → half_year, else year.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
import math
import re
import urllib.parse
from collections import deque
from collections.abc import Iterator
from typing import Any

from dichvucong.landing.parsers import (
    ENTRY_NOT_OBJECT,
    MISSING,
    NOT_A_JSON_OBJECT,
    NOT_A_NUMBER,
    OUT_OF_RANGE,
    ParsedFile,
    Reason,
    _decoded,
    json_reason,
    masked_record,
)

GROUP_SERVICE = "report_tinh_766_service"
INDICATOR_SERVICE = "report_xuhuongdiem_chiso_service"
EVALUATION_API = "reporting/evaluation"
SERVICES = (GROUP_SERVICE, INDICATOR_SERVICE, EVALUATION_API)

NOT_AN_EVALUATION_FILE = "not a HAR file nor a saved portal answer"
NO_EVALUATION_CALL = "no portal evaluation call (report_tinh_766_service, report_xuhuongdiem_chiso_service, " \
                     "/api/v1/reporting/evaluation)"
FILE_RULES = (NOT_AN_EVALUATION_FILE, NO_EVALUATION_CALL)

# The points of a group-service entry: the six groups and the total (the portal's names; staging maps
# them). Any other numeric key is read too (a group the portal adds); other keys are labels.
GROUP_KEYS = ("CKMB", "TDGQ", "CLGQ", "TTTT", "MDSH", "MDHL", "TONG_SCORE")
# Keys of a group-service entry that are not points.
_UNIT_KEYS = {"ID", "TEN", "ROW_STT", "CAPDONVIID", "MA_DINH_DANH", "MADINHDANH", "MA", "PARENT_ID", "STT"}
_TREE_CODE = ("maDinhDanh", "ma", "code", "maDonVi")
_TREE_NAME = ("ten", "name", "tenDonVi")
_TREE_CHILDREN = ("children", "donViCon")
_TREE_INDICATORS = ("chiSo", "indicators")
_MAX_TREE_DEPTH = 8


def _first(entry: dict[str, Any], names: tuple[str, ...]) -> Any:
    return next((entry[name] for name in names if name in entry), None)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    """A JSON number or a numeric text (`"8,5"` with a decimal comma included); None when empty;
    ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (bool, dict, list)):
        raise ValueError
    number = float(str(value).strip().replace(",", "."))
    if not math.isfinite(number):
        raise ValueError
    return number


_PERIOD_LIMITS = {"month": 12, "quarter": 4, "half_year": 2}


def _lowered(params: dict[str, Any]) -> dict[str, Any]:
    """A request's params by lower-case name (the portal writes `p_nam`; a script may write `P_NAM`)."""
    return {str(k).lower(): v for k, v in params.items()}


def _period(params: dict[str, Any]) -> tuple[str, int, int | None] | None:
    """(period_type, year, number) from the portal's params, or None without a year. ValueError for a
    year outside 2000-2100 or a number outside its period's range (a month 13)."""
    lowered = _lowered(params)
    try:
        year = int(str(_first(lowered, ("p_nam", "nam", "year")) or "").strip())
    except ValueError:
        return None
    for names, kind in ((("p_thang", "thang", "month"), "month"), (("p_quy", "quy", "quarter"), "quarter"),
                        (("p_6thang", "6thang", "half"), "half_year")):
        raw = _text(_first(lowered, names))
        if raw is not None and raw.isdigit() and int(raw) > 0:
            if int(raw) > _PERIOD_LIMITS[kind] or not 2000 <= year <= 2100:
                raise ValueError(kind)
            return kind, year, int(raw)
    if not 2000 <= year <= 2100:
        raise ValueError("year")
    return "year", year, None


class _Reader:
    def __init__(self, parsed: ParsedFile) -> None:
        self.parsed = parsed
        self.calls = 0
        self.entry = 0  # 1-based position of an entry among all entries read from the file

    def row(self, base: dict[str, Any], item_code: str, item_name: str | None, values: dict[str, Any],
            entry: Any) -> None:
        """One value read: typed into a row, or quarantined as `<item>: not a number`."""
        self.parsed.rows_read += 1
        typed: dict[str, float | None] = {}
        for name, value in values.items():
            try:
                typed[name] = _number(value)
            except ValueError:
                self.parsed.quarantine(self.entry, Reason(name, NOT_A_NUMBER), masked_record(entry))
                return
        self.parsed.rows.append({**base, "item_code": item_code, "item_name": item_name, **typed,
                                 "_line_number": self.entry})

    def bad_entry(self, entry: Any, reason: Reason) -> None:
        self.parsed.rows_read += 1
        self.parsed.quarantine(self.entry, reason, masked_record(entry))

    def group_answer(self, answer: Any, period: tuple[str, int, int | None], params: dict[str, Any],
                     saved_at: dt.datetime | None) -> None:
        common = self.base(GROUP_SERVICE, period, saved_at, params)
        for entry in answer if isinstance(answer, list) else [answer]:
            self.entry += 1
            if not isinstance(entry, dict):
                self.bad_entry(entry, Reason(None, NOT_A_JSON_OBJECT))
                continue
            unit_id, name = _text(entry.get("ID")), _text(entry.get("TEN"))
            if unit_id is None and name is None:
                self.bad_entry(entry, Reason("ID", MISSING))
                continue
            rank = _text(entry.get("ROW_STT"))
            base = common | {
                "portal_unit_id": unit_id, "unit_name": name,
                "unit_code": _text(_first(entry, ("MA_DINH_DANH", "MADINHDANH", "MA"))),
                "portal_unit_level": _text(entry.get("CAPDONVIID")) or _text(params.get("p_loaidonvi")),
                "rank": int(rank) if rank is not None and rank.isdigit() else None,
            }
            for key, value in entry.items():
                if key in _UNIT_KEYS or (key not in GROUP_KEYS and value is not None
                                         and not isinstance(value, (int, float, str))):
                    continue
                if key not in GROUP_KEYS and isinstance(value, str) and not re.fullmatch(r"\s*-?[\d.,]*\s*", value):
                    continue  # a name or a label, not points
                self.row(base, key, None, {"points": value}, entry)

    def indicator_answer(self, answer: Any, period: tuple[str, int, int | None], params: dict[str, Any],
                         saved_at: dt.datetime | None) -> None:
        lowered = _lowered(params)
        base = self.base(INDICATOR_SERVICE, period, saved_at, params) | {
            "portal_unit_id": _text(lowered.get("p_donvi_id")) or _text(lowered.get("p_tinh_id")),
            "portal_unit_level": _text(lowered.get("p_loaidonvi")),
        }
        for entry in answer if isinstance(answer, list) else [answer]:
            self.entry += 1
            if not isinstance(entry, dict):
                self.bad_entry(entry, Reason(None, NOT_A_JSON_OBJECT))
                continue
            code = _text(entry.get("CODE"))
            if code is None:
                self.bad_entry(entry, Reason("CODE", MISSING))
                continue
            self.row(base, code, _text(entry.get("DESCRIPTION")),
                     {"points": entry.get("SCORE"), "max_points": entry.get("MAX_SCORE"),
                      "average_points": entry.get("TB_SCORE")}, entry)

    def tree_answer(self, answer: Any, period: tuple[str, int, int | None], params: dict[str, Any],
                    saved_at: dt.datetime | None) -> None:
        if isinstance(answer, dict) and not any(k in answer for k in _TREE_CODE + _TREE_NAME):
            answer = _first(answer, ("data", "items", "result"))
        common = self.base(EVALUATION_API, period, saved_at, params)
        queue: deque[tuple[Any, str | None, int]] = deque(
            (node, None, 0) for node in (answer if isinstance(answer, list) else [answer]))
        while queue:
            node, parent, depth = queue.popleft()
            self.entry += 1
            if not isinstance(node, dict):
                self.bad_entry(node, Reason(None, NOT_A_JSON_OBJECT))
                continue
            code, name = _text(_first(node, _TREE_CODE)), _text(_first(node, _TREE_NAME))
            if code is None and name is None:
                self.bad_entry(node, Reason("maDinhDanh", MISSING))
                continue
            base = common | {"unit_code": code, "unit_name": name, "parent_unit_code": parent}
            for indicator in _first(node, _TREE_INDICATORS) or []:
                indicator_code = _text(_first(indicator, ("ma", "code", "maChiSo"))) \
                    if isinstance(indicator, dict) else None
                if indicator_code is None:
                    self.bad_entry(indicator, Reason("chiSo", MISSING if isinstance(indicator, dict)
                                                     else ENTRY_NOT_OBJECT))
                    continue
                self.row(base, indicator_code,
                         _text(_first(indicator, ("ten", "name"))),
                         {"points": _first(indicator, ("diem", "score")),
                          "max_points": _first(indicator, ("diemToiDa", "maxScore")),
                          "numerator": _first(indicator, ("tuSo", "numerator")),
                          "denominator": _first(indicator, ("mauSo", "denominator"))}, indicator)
            if depth < _MAX_TREE_DEPTH:
                children = _first(node, _TREE_CHILDREN)
                queue.extend((child, code, depth + 1) for child in (children if isinstance(children, list) else []))

    @staticmethod
    def base(service: str, period: tuple[str, int, int | None], saved_at: dt.datetime | None,
             params: dict[str, Any]) -> dict[str, Any]:
        lowered = _lowered(params)
        return {"service": service, "period_type": period[0], "period_year": period[1],
                "period_number": period[2], "saved_at": saved_at,
                "portal_province_id": _text(lowered.get("p_tinh_id")),
                "portal_unit_id": None, "unit_code": None, "unit_name": None, "portal_unit_level": None,
                "parent_unit_code": None, "rank": None}

    def call(self, service: str | None, params: dict[str, Any], answer: Any, saved_at: dt.datetime | None) -> None:
        if service is None:
            return
        try:
            period = _period(params)
            reason = None if period is not None else Reason("period", MISSING)
        except ValueError:
            period, reason = None, Reason("period", OUT_OF_RANGE)
        self.calls += 1
        if period is None:
            # A call without a year, or for a period that does not exist (a month 13): every entry of
            # its answer is quarantined with why.
            assert reason is not None
            for entry in answer if isinstance(answer, list) else [answer]:
                self.entry += 1
                self.bad_entry(entry, reason)
            return
        if service == GROUP_SERVICE:
            self.group_answer(answer, period, params, saved_at)
        elif service == INDICATOR_SERVICE:
            self.indicator_answer(answer, period, params, saved_at)
        else:
            self.tree_answer(answer, period, params, saved_at)


def _service_of(url: str, params: dict[str, Any]) -> str | None:
    if EVALUATION_API in url:
        return EVALUATION_API
    service = _text(params.get("service"))
    return service if service in (GROUP_SERVICE, INDICATOR_SERVICE) else None


def _har_calls(document: dict[str, Any]) -> Iterator[tuple[str | None, dict[str, Any], Any, dt.datetime | None]]:
    """(service, params, answer, started) of each evaluation call a HAR file recorded."""
    entries = document["log"].get("entries") if isinstance(document["log"], dict) else None
    for entry in entries if isinstance(entries, list) else []:
        request = entry.get("request") if isinstance(entry, dict) else None
        response = entry.get("response") if isinstance(entry, dict) else None
        if not isinstance(request, dict) or not isinstance(response, dict):
            continue
        url = str(request.get("url") or "")
        if "rest.jsp" not in url and EVALUATION_API not in url:
            continue
        params: dict[str, Any] = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).items()}
        post: dict[str, Any] = request["postData"] if isinstance(request.get("postData"), dict) else {}
        form = dict(urllib.parse.parse_qsl(str(post.get("text") or "")))
        pairs = post.get("params")
        for pair in pairs if isinstance(pairs, list) else []:
            if isinstance(pair, dict) and "name" in pair:
                form.setdefault(str(pair["name"]), urllib.parse.unquote_plus(str(pair.get("value") or "")))
        if "params" in form:
            try:
                inner = json.loads(form["params"])
            except ValueError:
                inner = None
            if isinstance(inner, dict):
                params.update(inner)
        content: dict[str, Any] = response["content"] if isinstance(response.get("content"), dict) else {}
        text = content.get("text")
        if not isinstance(text, str):
            continue
        if content.get("encoding") == "base64":
            try:
                text = base64.b64decode(text).decode("utf-8-sig")
            except ValueError:
                continue
        try:
            answer = json.loads(text)
        except ValueError:
            continue
        started = None
        with contextlib.suppress(ValueError, TypeError):
            started = dt.datetime.fromisoformat(str(entry.get("startedDateTime")).replace("Z", "+00:00"))
            started = started.astimezone(dt.UTC).replace(tzinfo=None) if started.tzinfo else started
        yield _service_of(url, params), params, answer, started


def parse_portal_file(data: bytes, key: bytes | None = None) -> ParsedFile:
    """One file of `portal/YYYY-MM-DD/` (a HAR file or saved answers): rows of
    `lake.SCHEMAS["raw_portal_scores"]`, one per value read, as the module docstring describes."""
    parsed = ParsedFile()
    _, text, rule = _decoded(data)
    if rule is not None or text is None:
        parsed.file_error = rule or NOT_AN_EVALUATION_FILE
        return parsed
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        parsed.file_error = str(json_reason(exc))
        return parsed
    reader = _Reader(parsed)
    if isinstance(document, dict) and "log" in document:
        for service, params, answer, started in _har_calls(document):
            reader.call(service, params, answer, started)
    else:
        saved = document if isinstance(document, list) else [document]
        if not all(isinstance(s, dict) and isinstance(s.get("request"), dict) and "response" in s for s in saved):
            parsed.file_error = NOT_AN_EVALUATION_FILE if isinstance(document, (dict, list)) else NOT_A_JSON_OBJECT
            return parsed
        for one in saved:
            params = one["request"]
            reader.call(_service_of(str(params.get("url") or ""), params), params, one["response"], None)
    if reader.calls == 0:
        parsed.file_error = NO_EVALUATION_CALL
    return parsed


__all__ = ["FILE_RULES", "SERVICES", "parse_portal_file"]
