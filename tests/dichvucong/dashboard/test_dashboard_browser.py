"""The dashboard in a real browser: headless Chromium from Debian's packages,
driven by Playwright, over a real server on loopback. Each page loads without
errors and shows the marts' numbers; filters, links, the language switch and
the downloads work. Screenshots are kept in test-artifacts/screenshots (or
$DVC_TEST_ARTIFACTS/screenshots)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page

from tests.dichvucong.dashboard.conftest import ARTIFACTS, Served, open_tab

FEB = dt.date(2024, 2, 1)


def vi_rate(value: float) -> str:
    return f"{value * 100:.2f}".replace(".", ",") + " %"


def vi_points(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with open_tab(browser, 1280) as tab:
        yield tab


def _cells(page: Page, table: str, column: str) -> list[str]:
    cells = page.locator(f'table[data-table="{table}"] td[data-column="{column}"]')
    return [text.strip() for text in cells.all_inner_texts()]


def _kpi(served: Served, unit_type: str, period_type: str, start: dt.date, code: str | None = None,
         basis: str = "as_was") -> dict:
    """The mart row a page shows: the same basis (the pages' default: the units as they were)."""
    with served.marts() as con:
        cur = con.execute(
            "select * from marts.kpi_766 where geography_basis = ? and unit_type = ? and period_type = ? "
            "and period_start = ? and (? is null or unit_code = ?)", [basis, unit_type, period_type, start, code,
                                                                      code])
        names = [c[0] for c in cur.description]
        rows = cur.fetchall()
        assert len(rows) == 1, (basis, unit_type, code)
        return dict(zip(names, rows[0], strict=True))


def _scored(served: Served, unit_type: str) -> list[tuple[str, str]]:
    """(code, name) of each indicator the points table scores at this level."""
    with served.marts() as con:
        return con.execute("select indicator_code, indicator_name from marts.dim_766_indicators where is_scored "
                           "and scored_units in ('all', ?) order by indicator_code", [unit_type]).fetchall()


def _rank_count(served: Served, unit_type: str, basis: str = "as_was") -> int:
    with served.marts() as con:
        return con.execute("select count(*) from marts.kpi_766 where geography_basis = ? and unit_type = ? and "
                           "period_type = 'month' and period_start = ?", [basis, unit_type, FEB]).fetchall()[0][0]


def test_every_page_shows_the_numbers_of_the_marts(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    assert page.locator("html").get_attribute("lang") == "vi"
    assert "04/03/2024 00:00" in page.locator("#as-of").inner_text(), "the data's as-of time is shown"
    assert page.locator("#period option:checked").inner_text().strip() == "Tháng 02/2024"
    province = _kpi(served, "province", "month", FEB)
    sections = _cells(page, "province_points", "section")
    rates = dict(zip(sections, _cells(page, "province_points", "rate"), strict=True))
    points = dict(zip(sections, _cells(page, "province_points", "points"), strict=True))
    maxima = _cells(page, "province_points", "max_points")
    for code, name in _scored(served, "province"):
        assert rates[code] == vi_rate(province[name]), name
        assert points[code] == vi_points(province[f"points_{name}"]), name
    assert _cells(page, "province_points", "points")[-1] == vi_points(province["points_total"])
    assert maxima[-1] == vi_points(province["points_measurable"])
    scoring = _cells(page, "province_points", "scoring")
    assert scoring.count("Không đo được từ nguồn dữ liệu này") == 2, "group 5 and certified copies"
    assert page.locator("#province_trend svg.chart").count() == 3
    for unit_type in ("agency", "department", "district", "commune"):
        assert len(_cells(page, f"{unit_type}_ranks", "unit_code")) == _rank_count(served, unit_type), unit_type
    page.screenshot(path=ARTIFACTS / "province.png", full_page=True)

    # The best agency's page, by its link in the ranking.
    first = page.locator('table[data-table="agency_ranks"] td[data-column="unit_code"] a').first
    code = first.inner_text().strip()
    first.click()
    page.wait_for_url(f"**/agency/{code}**")
    agency = _kpi(served, "agency", "month", FEB, code)
    assert agency["rank_in_level"] == 1
    assert (agency["unit_name"] or code) in page.locator("h1").inner_text()
    assert _cells(page, "agency_points", "points")[-1] == vi_points(agency["points_total"])
    assert _cells(page, "agency_points", "max_points")[-1] == vi_points(agency["points_measurable"])
    volume = _cells(page, "agency_channel_volume", "dossiers_received")
    assert volume[-1] == f"{agency['dossiers_received']:,}".replace(",", ".")
    assert page.locator("#agency_channel_volume svg.chart rect").count() >= 3
    page.screenshot(path=ARTIFACTS / "agency.png", full_page=True)

    # A district, from the district ranking.
    page.goto(served.url + "/")
    district = page.locator('table[data-table="district_ranks"] td[data-column="unit_code"] a').first
    district_code = district.inner_text().strip()
    district.click()
    page.wait_for_url(f"**/district/{district_code}**")
    district_kpi = _kpi(served, "district", "month", FEB, district_code)
    assert _cells(page, "district_points", "points")[-1] == vi_points(district_kpi["points_total"])
    page.screenshot(path=ARTIFACTS / "district.png", full_page=True)

    # A commune, from the commune ranking, then today's units: the page keeps the basis it was given.
    page.goto(served.url + "/")
    commune = page.locator('table[data-table="commune_ranks"] td[data-column="unit_code"] a').first
    commune_code = commune.inner_text().strip()
    commune.click()
    page.wait_for_url(f"**/commune/{commune_code}**")
    assert _cells(page, "commune_points", "points")[-1] == vi_points(
        _kpi(served, "commune", "month", FEB, commune_code)["points_total"])

    # Services, then the busiest service's page.
    page.click("nav >> text=Thủ tục")
    page.wait_for_url("**/services**")
    with served.marts() as con:
        busiest, received = con.execute(
            "select unit_code, dossiers_received from marts.agg_unit_period_indicators where unit_type = 'service' "
            "and period_type = 'month' and period_start = ? order by dossiers_received desc, "
            "dossiers_ended desc, unit_code limit 1", [FEB]).fetchall()[0]
    assert _cells(page, "services", "service_code")[0] == busiest
    page.screenshot(path=ARTIFACTS / "services.png", full_page=False)
    page.locator('table[data-table="services"] td[data-column="service_code"] a').first.click()
    page.wait_for_url(f"**/service/{busiest}**")
    assert _cells(page, "service_summary", "dossiers_received") == [f"{received:,}".replace(",", ".")]
    page.screenshot(path=ARTIFACTS / "service.png", full_page=True)

    # Overdue now, fees, quality, API.
    page.click("nav >> text=Hồ sơ quá hạn")
    page.wait_for_url("**/overdue**")
    with served.marts() as con:
        overdue = {r[0] for r in con.execute(
            "select dossier_id from marts.fct_dossiers where is_overdue_at_as_of").fetchall()}
    assert set(_cells(page, "overdue_dossiers", "dossier_id")) == overdue
    page.screenshot(path=ARTIFACTS / "overdue.png", full_page=True)
    page.click("nav >> text=Phí, lệ phí")
    page.wait_for_url("**/fees**")
    assert _cells(page, "reconciliation_states", "reconciliation_state")
    page.screenshot(path=ARTIFACTS / "fees.png", full_page=True)
    page.click("nav >> text=Chất lượng dữ liệu")
    page.wait_for_url("**/quality**")
    assert "kpi_766" in _cells(page, "quality_gates", "suite")
    page.screenshot(path=ARTIFACTS / "quality.png", full_page=True)
    page.click("nav >> text=API")
    page.wait_for_url("**/api**")
    assert page.locator("code", has_text="/api/v1/province_points").count() == 1


def test_period_filter_and_language_switch(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    page.select_option("#period", "quarter:2024-01-01")
    page.click("#apply")
    page.wait_for_url("**p=quarter%3A2024-01-01**")
    quarter = _kpi(served, "province", "quarter", dt.date(2024, 1, 1))
    assert not quarter["is_complete"]
    assert _cells(page, "province_points", "points")[-1] == vi_points(quarter["points_total"])
    assert page.locator(".filters .warn").count() == 1, "an incomplete period says so"
    page.click("#switch-lang")
    page.wait_for_url("**lang=en**")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#period option:checked").inner_text().strip().startswith("Quarter Q1/2024")
    headers = page.locator('#province_points th').all_inner_texts()
    assert "Points" in headers and "Max points" in headers
    assert _cells(page, "province_points", "points")[-1] == f"{quarter['points_total']:.2f}"
    page.screenshot(path=ARTIFACTS / "province-en-quarter.png", full_page=False)


def test_basis_switch_shows_todays_units(page: Page, served: Served) -> None:
    """The basis filter: today's units recast the province and its communes; districts are gone; the
    choice follows the links and the menu, and the numbers are those of the marts on that basis."""
    page.goto(served.url + "/")
    assert page.locator("#basis option:checked").inner_text().strip() == "Theo đơn vị khi đó"
    then = _kpi(served, "province", "month", FEB)
    assert then["unit_code"] in page.locator(".subtitle").inner_text()
    page.select_option("#basis", "current")
    page.click("#apply")
    page.wait_for_url("**basis=current**")
    now = _kpi(served, "province", "month", FEB, basis="current")
    assert page.locator("#basis option:checked").inner_text().strip() == "Theo đơn vị hiện nay"
    assert now["unit_code"] in page.locator(".subtitle").inner_text()
    assert _cells(page, "province_points", "points")[-1] == vi_points(now["points_total"])
    assert len(_cells(page, "commune_ranks", "unit_code")) == _rank_count(served, "commune", "current")
    assert page.locator("#district_ranks .empty").count() == 1, "no districts among today's units"
    link = page.locator('table[data-table="commune_ranks"] td[data-column="unit_code"] a').first
    code = link.inner_text().strip()
    link.click()
    page.wait_for_url(f"**/commune/{code}**basis=current**")
    assert _cells(page, "commune_points", "points")[-1] == vi_points(
        _kpi(served, "commune", "month", FEB, code, basis="current")["points_total"])
    page.screenshot(path=ARTIFACTS / "commune-current.png", full_page=True)


def test_downloads_open_as_files(page: Page, served: Served, tmp_path: Path) -> None:
    page.goto(served.url + "/")
    with page.expect_download() as csv_download:
        page.click("#agency_ranks a.export-csv")
    path = tmp_path / csv_download.value.suggested_filename
    csv_download.value.save_as(path)
    assert path.name == "agency_ranks_month_2024-02-01.csv"
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    shown = _cells(page, "agency_ranks", "unit_code")
    assert rows[0][:3] == ["Hạng", "Mã đơn vị", "Tên đơn vị"]
    assert [r[1] for r in rows[1:]] == shown

    with page.expect_download() as xlsx_download:
        page.click("#province_points a.export-xlsx")
    book_path = tmp_path / xlsx_download.value.suggested_filename
    xlsx_download.value.save_as(book_path)
    sheet = load_workbook(book_path)["province_points"]
    province = _kpi(served, "province", "month", FEB)
    on_time = next(row for row in sheet.iter_rows(min_row=2) if row[0].value == "2.1")
    assert on_time[1].value == "Giải quyết đúng hạn (2.1)"
    assert on_time[2].value == pytest.approx(province["on_time_rate"], abs=1e-12)
    assert on_time[2].number_format == "0.00%"
    assert sheet.cell(sheet.max_row, 6).value == pytest.approx(province["points_total"], abs=1e-12)
    assert sheet.cell(sheet.max_row, 5).value == province["points_measurable"]
