"""The "why did the score move?" page and its tables (issue: "an official reads it in a minute"),
against a real server over the published marts of the main job's run: the sentence, the indicators,
the agencies and the offices are the marts' numbers (agg_766_change, agg_766_change_by_agency,
fct_dossiers), on every unit type, and the page opens in a real browser."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any, get_args

import duckdb
import httpx
import pytest
from playwright.sync_api import Browser, Page

from dichvucong.dashboard.app import UnitType
from dichvucong.dashboard.tables import CHANGE_UNITS, SPLIT_UNITS, TABLES
from tests.dichvucong.dashboard.conftest import ARTIFACTS, Served, open_tab

MINUS = "\u2212"


def vi_points(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


def vi_signed(value: float) -> str:
    text = vi_points(abs(value))
    if text == "0,00":
        return text
    return ("+" if value > 0 else MINUS) + text


def _dicts(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [c[0] for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _default_province(con: duckdb.DuckDBPyConnection, basis: str = "as_was") -> str:
    """The pages' default province: the one with the most dossiers received in the latest complete month."""
    return con.execute(
        "select unit_code from marts.kpi_766 where geography_basis = ? and unit_type = 'province' "
        "and period_type = 'month' and period_start = (select max(period_start) from marts.kpi_766 "
        "where unit_type = 'province' and period_type = 'month' and is_complete) "
        "order by dossiers_received desc nulls last, unit_code limit 1", [basis]).fetchall()[0][0]


def _default_month(con: duckdb.DuckDBPyConnection, unit_type: str, code: str, basis: str = "as_was") -> dt.date:
    """The change pages' default month: the latest complete one the unit can be compared in, else the latest
    it can be compared in."""
    rows = con.execute(
        "select c.period_start, bool_and(k.is_complete) from marts.agg_766_change as c join marts.kpi_766 as k "
        "using (geography_basis, unit_type, unit_code, period_type, period_start) where c.geography_basis = ? "
        "and c.unit_type = ? and c.unit_code = ? and c.period_type = 'month' group by 1 order by 1",
        [basis, unit_type, code]).fetchall()
    assert rows, (unit_type, code)
    complete = [start for start, done in rows if done]
    return (complete or [start for start, _ in rows])[-1]


def _changes(con: duckdb.DuckDBPyConnection, unit_type: str, code: str, start: dt.date,
             basis: str = "as_was") -> list[dict[str, Any]]:
    return _dicts(con, "select * from marts.agg_766_change where geography_basis = ? and unit_type = ? and "
                       "unit_code = ? and period_type = 'month' and period_start = ? order by change_rank",
                  [basis, unit_type, code, start])


def _moved_unit(con: duckdb.DuckDBPyConnection, unit_type: str, basis: str = "as_was") -> str:
    """The unit of a type whose total moved most between two months (a unit with something to explain)."""
    return con.execute(
        "select unit_code from marts.agg_766_change where geography_basis = ? and unit_type = ? "
        "and period_type = 'month' order by abs(points_total_change) desc, unit_code limit 1",
        [basis, unit_type]).fetchall()[0][0]


def _sentence(html: str) -> tuple[str, float]:
    match = re.search(r'<p class="why-sentence" id="why-sentence" data-points-change="([^"]+)">(.*?)</p>', html, re.S)
    assert match, "the page opens with its sentence"
    return unescape(match.group(2)).strip(), float(match.group(1))


def _cells(html: str, table: str, column: str) -> list[str]:
    body = re.search(rf'<table data-table="{table}"[^>]*>(.*?)</table>', html, re.S)
    assert body, table
    return [unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(rf'<td class="[^"]*" data-column="{column}"[^>]*>(.*?)</td>', body.group(1), re.S)]


# ------------------------------------------------------------------ the tables (API)

def test_the_unit_types_are_those_of_the_change_marts(served: Served) -> None:
    assert set(get_args(UnitType)) == set(CHANGE_UNITS)
    with served.marts() as con:
        types = {r[0] for r in con.execute("select distinct unit_type from marts.agg_766_change").fetchall()}
        split = {r[0] for r in con.execute("select distinct unit_type from marts.agg_766_change_by_agency").fetchall()}
    assert types == set(CHANGE_UNITS) and split == set(SPLIT_UNITS)


def test_the_total_is_the_change_of_the_marts_and_its_indicators_add_up(served: Served, client: httpx.Client) -> None:
    """Default: the busiest province and the latest complete month it can be compared in (else the latest one
    it can be: the small run's only pair is 02/2024 → 03/2024)."""
    with served.marts() as con:
        code = _default_province(con)
        month = _default_month(con, "province", code)
        changes = _changes(con, "province", code, month)
        kpi = {start: total for start, total in con.execute(
            "select period_start, points_total from marts.kpi_766 where geography_basis = 'as_was' and unit_type = "
            "'province' and unit_code = ? and period_type = 'month'", [code]).fetchall()}
    body = client.get("/api/v1/why_total").json()
    assert body["filters"] | {"period_end": None} == {
        "period_type": "month", "period_start": month.isoformat(), "period_end": None, "code": code,
        "basis": "as_was", "unit_type": "province"}
    (total,) = body["rows"]
    previous = dt.date.fromisoformat(total["previous_period_start"])
    assert previous == changes[0]["previous_period_start"]
    assert total["points_total_before"] == pytest.approx(kpi[previous], abs=1e-12)
    assert total["points_total_after"] == pytest.approx(kpi[month], abs=1e-12)
    assert total["points_total_change"] == pytest.approx(
        total["points_total_after"] - total["points_total_before"], abs=1e-9)
    assert total["indicators_moved"] == sum(1 for c in changes if c["points_change"])

    indicators = client.get("/api/v1/why_indicators").json()["rows"]
    assert [r["indicator_code"] for r in indicators] == [c["indicator_code"] for c in changes]
    for row, change in zip(indicators, changes, strict=True):
        for column in ("rate_before", "rate_after", "rate_change", "points_before", "points_after", "points_change"):
            assert row[column] == (None if change[column] is None else pytest.approx(change[column], abs=1e-12))
    moves = [abs(r["points_change"]) for r in indicators if r["points_change"] is not None]
    assert moves == sorted(moves, reverse=True), "the indicator that moved most first"
    assert sum(r["points_change"] or 0 for r in indicators) == pytest.approx(total["points_total_change"], abs=1e-9)


def test_the_agencies_split_each_indicator_exactly(served: Served, client: httpx.Client) -> None:
    """For every fraction indicator of the province: one row per row of agg_766_change_by_agency, named; the
    effects add up to the rate change and the points effects to the points change; the reason says which
    count moved; the agencies that moved the rate the way it went come first."""
    with served.marts() as con:
        code = _default_province(con)
        month = _default_month(con, "province", code)
        changes = {c["indicator_code"]: c for c in _changes(con, "province", code, month)}
        parts = _dicts(con, "select * from marts.agg_766_change_by_agency where geography_basis = 'as_was' and "
                            "unit_type = 'province' and unit_code = ? and period_type = 'month' and period_start = ?",
                       [code, month])
        names = dict(con.execute("select agency_code, arg_max(agency_name, valid_from) from marts.dim_agencies "
                                 "group by 1").fetchall())
    split = {p["indicator_code"] for p in parts}
    assert split, "the small run has fraction indicators to split"
    default = client.get("/api/v1/why_agencies").json()
    splittable = [c for c in changes.values() if c["indicator_code"] in split and any(
        p["points_effect"] is not None for p in parts if p["indicator_code"] == c["indicator_code"])]
    top = min(splittable or [changes[i] for i in split], key=lambda c: c["change_rank"])
    assert {r["indicator_code"] for r in default["rows"]} == {top["indicator_code"]}, "default: the top one"
    for indicator in sorted(split):
        rows = client.get("/api/v1/why_agencies", params={"indicator": indicator}).json()["rows"]
        mine = [p for p in parts if p["indicator_code"] == indicator]
        change = changes[indicator]
        assert sorted((r["agency_code"] or "") for r in rows) == sorted((p["agency_code"] or "") for p in mine)
        for row in rows:
            assert row["agency_name"] == (names.get(row["agency_code"]) if row["agency_code"] else None)
            if row["numerator_effect"] is None or row["denominator_effect"] is None:
                assert row["rate_effect"] is None
            else:
                assert row["rate_effect"] == pytest.approx(row["numerator_effect"] + row["denominator_effect"],
                                                           abs=1e-15)
            assert row["misses_before"] == row["denominator_before"] - row["numerator_before"]
            assert row["misses_after"] == row["denominator_after"] - row["numerator_after"]
            effect = row["rate_effect"] or 0
            expected = ("no_effect" if not effect else
                        "more_misses" if effect < 0 and row["misses_after"] > row["misses_before"] else
                        "fewer_misses" if effect > 0 and row["misses_after"] < row["misses_before"] else
                        "more_dossiers" if row["denominator_after"] > row["denominator_before"] else
                        "fewer_dossiers" if row["denominator_after"] < row["denominator_before"] else "no_effect")
            assert row["reason"] == expected, row
        if change["rate_change"]:
            assert sum(r["rate_effect"] for r in rows) == pytest.approx(change["rate_change"], abs=1e-9)
            assert sum(r["points_effect"] for r in rows) == pytest.approx(change["points_change"], abs=1e-9)
            pushed = [r["rate_effect"] * (1 if change["rate_change"] > 0 else -1) for r in rows]
            assert pushed == sorted(pushed, reverse=True), "the agencies that moved it most first"
        else:
            assert all(r["points_effect"] is None for r in rows)


def test_the_late_offices_are_the_late_dossiers_of_the_marts(served: Served, client: httpx.Client) -> None:
    """2.1: the dossiers that ended late in the month and the month before, by the office of their first
    overrunning step; they add up to the province's ended_late of kpi_766 in both months."""
    with served.marts() as con:
        code = _default_province(con)
        month = _default_month(con, "province", code)
        previous = _changes(con, "province", code, month)[0]["previous_period_start"]
        late = dict(con.execute(
            "select period_start, ended_late from marts.kpi_766 where geography_basis = 'as_was' and unit_type = "
            "'province' and unit_code = ? and period_type = 'month'", [code]).fetchall())
        offices = dict(con.execute(
            "select coalesce(first_overrun_office, ''), count(*) from marts.fct_dossiers where is_ended and not "
            "is_on_time and province_code = ? and ended_at >= ? and ended_at < ? group by 1",
            [code, month, (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)]).fetchall())
    rows = client.get("/api/v1/why_late_offices").json()["rows"]
    assert sum(r["late_before"] for r in rows) == late[previous] > 0
    assert sum(r["late_after"] for r in rows) == late[month]
    after: dict[str, int] = {}
    for row in rows:
        assert row["late_change"] == row["late_after"] - row["late_before"]
        after[row["office_name"] or ""] = after.get(row["office_name"] or "", 0) + row["late_after"]
    assert {k: v for k, v in after.items() if v} == offices
    assert any(r["office_name"] for r in rows), "the late dossiers' offices are named"


@pytest.mark.parametrize("unit_type", CHANGE_UNITS)
def test_every_unit_type_explains_its_move(served: Served, client: httpx.Client, unit_type: str) -> None:
    """The unit whose total moved most, of each type: its total change is after - before and its
    indicators add up to it; its page says so; the unit's own page links to it, keeping unit and period."""
    with served.marts() as con:
        code = _moved_unit(con, unit_type)
        month = _default_month(con, unit_type, code)
        changes = _changes(con, unit_type, code, month)
    params = {"unit_type": unit_type, "code": code}
    (total,) = client.get("/api/v1/why_total", params=params).json()["rows"]
    assert total["points_total_change"] == pytest.approx(
        changes[0]["points_total_after"] - changes[0]["points_total_before"], abs=1e-9)
    assert sum(c["points_change"] or 0 for c in changes) == pytest.approx(total["points_total_change"], abs=1e-9)
    agencies = client.get("/api/v1/why_agencies", params=params).json()["rows"]
    if unit_type not in SPLIT_UNITS:
        assert agencies == [], "an agency's changes are not split further"
    if agencies and agencies[0]["unit_rate_change"]:
        assert sum(r["points_effect"] for r in agencies) == pytest.approx(agencies[0]["unit_points_change"],
                                                                          abs=1e-9)
    html = client.get("/why", params=params).text
    sentence, points_change = _sentence(html)
    assert points_change == pytest.approx(total["points_total_after"] - total["points_total_before"], abs=1e-9)
    assert sentence.startswith(f"Tháng {month:%m/%Y} ")
    assert f"{vi_points(abs(points_change))} điểm so với tháng {changes[0]['previous_period_start']:%m/%Y}" in sentence
    assert ("giảm" if points_change < 0 else "tăng") in sentence
    top = changes[0]
    assert f"nhiều nhất ở chỉ tiêu {top['indicator_code']} ({vi_signed(top['points_change'])} điểm)" in sentence
    shown = dict(zip(_cells(html, "why_indicators", "indicator_code"), _cells(html, "why_indicators", "points_change"),
                     strict=True))
    assert shown == {c["indicator_code"]: vi_signed(c["points_change"]) if c["points_change"] is not None else "–"
                     for c in changes}

    page_path = "/" if unit_type == "province" else f"/{unit_type}/{code}"
    unit_page = client.get(page_path, params={"p": f"month:{month}"}).text
    link = re.search(r'id="why-link" href="([^"]+)"', unit_page)
    assert link, f"the {unit_type} page links to why its score moved"
    href = unescape(link.group(1))
    assert href.startswith("/why?") and f"unit_type={unit_type}" in href and f"code={code}" in href
    assert f"period_start={month}" in href
    followed = client.get(href)
    assert followed.status_code == 200 and _sentence(followed.text) == (sentence, points_change)


def test_the_page_in_english_and_its_filters(served: Served, client: httpx.Client) -> None:
    with served.marts() as con:
        code = _default_province(con)
        month = _default_month(con, "province", code)
        changes = _changes(con, "province", code, month)
    html = client.get("/why", params={"lang": "en"}).text
    sentence, change = _sentence(html)
    moved = "lost" if change < 0 else "gained"
    assert sentence.startswith(f"In {month:%m/%Y} the province {moved} {abs(change):.2f} points against "
                               f"{changes[0]['previous_period_start']:%m/%Y}")
    switch = unescape(re.search(r'id="switch-lang" href="([^"]+)"', html).group(1))  # type: ignore[union-attr]
    assert "lang=vi" in switch and "unit_type=province" in switch and f"code={code}" in switch
    # A period with no previous one says so, and points to the latest that has one.
    first = client.get("/why", params={"p": f"month:{changes[0]['previous_period_start']}"}).text
    assert "không có số liệu" in _plain(first, "why-sentence")
    assert "/why?" in first and 'id="why-latest"' in first
    # The basis switch: today's units, and the agencies' indicator selector.
    current = client.get("/why", params={"basis": "current", "indicator": "2.1"}).text
    assert '<option value="current" selected>' in current
    assert re.search(r'<option value="2\.1" selected>', current)


def _plain(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</', html, re.S)
    assert match, element_id
    return unescape(match.group(1))


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/api/v1/why_total", {"unit_type": "town"}, 422),
    ("/api/v1/why_total", {"unit_type": "agency"}, 422),
    ("/api/v1/why_indicators", {"unit_type": "commune", "code": "no-such-commune"}, 404),
    ("/api/v1/why_total", {"code": "99"}, 404),
    ("/api/v1/why_agencies", {"indicator": "9.9"}, 404),
    ("/api/v1/why_agencies", {"indicator": "x" * 65}, 422),
    ("/api/v1/why_late_offices", {"period_start": "2031-01-01"}, 404),
    ("/api/v1/why_late_offices", {"code": "' or 1=1 --", "unit_type": "district"}, 404),
    ("/why", {"unit_type": "town"}, 422),
    ("/why", {"unit_type": "commune", "code": "no-such-commune"}, 404),
    ("/why", {"p": "month:2031-01-01"}, 404),
])
def test_bad_parameters_get_clear_errors(client: httpx.Client, path: str, params: dict[str, str],
                                         status: int) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status, response.text
    assert "detail" in response.json()


def test_the_tables_are_registered_like_the_others(client: httpx.Client) -> None:
    spec = client.get("/api/openapi.json").json()
    for name in ("why_total", "why_indicators", "why_agencies", "why_late_offices"):
        assert TABLES[name].page == "why" and TABLES[name].takes_basis
        params = {p["name"] for p in spec["paths"][f"/api/v1/{name}"]["get"]["parameters"]}
        assert {"period_type", "period_start", "unit_type", "code", "basis", "format", "lang"} <= params
        assert ("indicator" in params) == (name == "why_agencies")
        assert client.get(f"/api/v1/{name}", params={"format": "csv"}).status_code == 200
    assert "/api/v1/why_agencies" in client.get("/api").text


# ------------------------------------------------------------------ in a browser

@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with open_tab(browser, 1280, downloads=False) as tab:
        yield tab


def test_the_page_in_a_browser(page: Page, served: Served, tmp_path: Path) -> None:
    """From the province page's link to the sentence, the tables, another indicator and English."""
    with served.marts() as con:
        code = _default_province(con)
        month = _default_month(con, "province", code)
        changes = _changes(con, "province", code, month)
    page.goto(served.url + f"/?p=month:{month}")
    page.click("#why-link")
    page.wait_for_url("**/why?**unit_type=province**")
    sentence = page.locator("#why-sentence")
    assert sentence.is_visible()
    text = sentence.inner_text()
    change = changes[0]["points_total_after"] - changes[0]["points_total_before"]
    assert text.startswith(f"Tháng {month:%m/%Y} tỉnh {'giảm' if change < 0 else 'tăng'} {vi_points(abs(change))} điểm")
    assert page.locator("nav a.active").inner_text().strip() == "Vì sao điểm thay đổi"
    assert page.locator('table[data-table="why_indicators"] tbody tr').count() == len(changes)
    assert page.locator('table[data-table="why_agencies"] tbody tr').count() > 0
    assert page.locator("#why_agencies-lead").is_visible()
    assert page.locator("#why_late_offices-lead").is_visible()
    shot = tmp_path / "why.png"
    page.screenshot(path=shot, full_page=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, ARTIFACTS / "why.png")
    print(f"why page screenshot: {shot} (and {ARTIFACTS / 'why.png'})")

    page.select_option("#indicator", "2.1")
    page.click("#apply")
    page.wait_for_url("**indicator=2.1**")
    assert page.locator("#indicator option:checked").get_attribute("value") == "2.1"
    assert "2.1" in page.locator("#why_agencies-lead").inner_text()
    page.click("#switch-lang")
    page.wait_for_url("**lang=en**")
    assert page.locator("#why-sentence").inner_text().startswith(f"In {month:%m/%Y} the province")
    assert "indicator=2.1" in page.url and "unit_type=province" in page.url
    page.screenshot(path=tmp_path / "why-en.png", full_page=False)
