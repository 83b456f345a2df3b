"""Synthetic saves of the portal's evaluation page (`portal/YYYY-MM-DD/*.har`, landing/portal_files.py).

For each month of the range whose last day is in it and that has one province, a HAR file as a
browser saves it on the month's last day: the page's script and stylesheet loads (which the landing
skips) and one `report_tinh_766_service` call listing the province (its portal id is the request's
`p_tinh_id`), its departments and its communes, named as the agency list names them, and one unit
the agency list does not know (the province's public-administration service centre), which the
comparison shows as `unit_not_found`.

The points are drawn, not computed: a simulated portal does not score dossiers. The comparison of
generated data shows how figures are landed, matched and shown; its differences mean nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import urllib.parse
from collections.abc import Callable, Iterable
from pathlib import Path

from dichvucong.simulator.agencies import Agency

# The portal's group keys and their maxima (Decision 766: 18, 20, 12, 10, 22, 18 points).
GROUPS = (("CKMB", 18.0), ("TDGQ", 20.0), ("CLGQ", 12.0), ("TTTT", 10.0), ("MDSH", 22.0), ("MDHL", 18.0))
UNKNOWN_UNIT = "Trung tâm Phục vụ hành chính công tỉnh"


def portal_province_id(province_code: str) -> str:
    """A stable stand-in for the portal's own id of a province (the portal numbers units its own way)."""
    return f"3981{province_code}"


def _month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    ends = []
    month = start.replace(day=1)
    while month < end:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        last = following - dt.timedelta(days=1)
        if start <= last < end:
            ends.append(last)
        month = following
    return ends


def _entry(rng: random.Random, unit_id: str, name: str, level: str) -> dict[str, object]:
    points = {key: round(maximum * rng.uniform(0.55, 0.98), 2) for key, maximum in GROUPS}
    return {"ID": unit_id, "TEN": name, "CAPDONVIID": level, **points,
            "TONG_SCORE": round(sum(points.values()), 2)}


def _har(started: dt.datetime, params: dict[str, str], answer: list[dict[str, object]]) -> dict[str, object]:
    page = "https://dichvucong.gov.vn/p/home/dvc-index-tinhthanhpho-tonghop.html"
    noise = [{"startedDateTime": f"{started:%Y-%m-%dT%H:%M:%S}.000Z",
              "request": {"method": "GET", "url": f"https://dichvucong.gov.vn/static/{name}", "headers": []},
              "response": {"status": 200, "content": {"mimeType": mime, "text": ""}}}
             for name, mime in (("js/index.js", "application/javascript"), ("css/index.css", "text/css"))]
    call = {
        "startedDateTime": f"{started:%Y-%m-%dT%H:%M:%S}.500Z",
        "request": {"method": "POST", "url": "https://dichvucong.gov.vn/jsp/rest.jsp",
                    "headers": [{"name": "Referer", "value": page}],
                    "postData": {"mimeType": "application/x-www-form-urlencoded; charset=UTF-8",
                                 "text": "params=" + urllib.parse.quote(json.dumps(params))}},
        "response": {"status": 200, "content": {"mimeType": "application/json",
                                                "text": json.dumps(answer, ensure_ascii=False)}},
    }
    return {"log": {"version": "1.2", "creator": {"name": "WebInspector", "version": "537.36"},
                    "pages": [{"id": "page_1", "title": page}], "entries": [*noise, call]}}


def write_portal_pages(out: Path, start: dt.date, end: dt.date, seed: int,
                       agencies_at: Callable[[dt.date], Iterable[Agency]]) -> int:
    """Write one HAR per month of [start, end) (see the module docstring); returns how many."""
    written = 0
    for last in _month_ends(start, end):
        valid = [a for a in agencies_at(last) if a.valid_from <= last and (a.valid_to is None or a.valid_to > last)]
        provinces = [a for a in valid if a.kind == "province"]
        if len(provinces) != 1:
            continue
        province = provinces[0]
        rng = random.Random(f"{seed}-portal-{last:%Y%m}")
        tinh_id = portal_province_id(province.unit_code)
        answer = [_entry(rng, tinh_id, province.name, "1")]
        answer += [_entry(rng, f"{tinh_id}{i:04d}", a.name, "2")
                   for i, a in enumerate(a for a in valid if a.kind == "department")]
        answer += [_entry(rng, f"{tinh_id}9{i:04d}", a.name, "3")
                   for i, a in enumerate(a for a in valid if a.kind == "commune")]
        answer.append(_entry(rng, f"{tinh_id}8000", UNKNOWN_UNIT, "2"))
        answer.sort(key=lambda e: -float(e["TONG_SCORE"]))  # type: ignore[arg-type]
        for rank, entry in enumerate(answer, start=1):
            entry["ROW_STT"] = rank
        params = {"service": "report_tinh_766_service", "type": "ref", "p_nam": str(last.year),
                  "p_thang": str(last.month), "p_quy": "", "p_6thang": "", "p_tinh_id": tinh_id,
                  "p_loaidonvi": ""}
        folder = out / "portal" / last.isoformat()
        folder.mkdir(parents=True, exist_ok=True)
        har = _har(dt.datetime.combine(last, dt.time(16, 30)), params, answer)
        (folder / f"danhgia_766_{last:%Y%m}.har").write_text(json.dumps(har, ensure_ascii=False), encoding="utf-8")
        written += 1
    return written
