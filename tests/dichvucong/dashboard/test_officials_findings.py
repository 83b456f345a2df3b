"""What officials met on the dashboard (issue 20), on the pages and in the files, against the marts:
tables that sort and filter on the page with their key columns on screen at 1366 px and no cap without
"show all"; overdue now as the whole backlog; every service findable with its slow flag; fees reconciled
on one line per month; each unit's gap to the province; wording; a failed build's banner; exports that
fit and filter; a print layout. Browser tests run headless Chromium (test_dashboard_browser's fixtures)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page

from dichvucong.dashboard import labels
from dichvucong.dashboard.tables import TABLES
from tests.dichvucong.dashboard.conftest import ARTIFACTS, Served, open_tab, serve
from tests.dichvucong.dashboard.test_dashboard_browser import _cells

FEB = dt.date(2024, 2, 1)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A tab at 1366 px, the width officials' screens have; any script error fails the test."""
    with open_tab(browser, 1366) as tab:
        yield tab


def vi_number(text: str) -> float | None:
    """A number as a Vietnamese page shows it (35.453 / 96,85 % / −0,51) back to a float."""
    text = text.replace("%", "").replace("\u2212", "-").replace("\xa0", "").strip()
    if text in ("", "\u2013"):
        return None
    return float(text.replace(".", "").replace(",", "."))


def _rows(served: Served, sql: str, params: list | None = None) -> list[tuple]:
    with served.marts() as con:
        return con.execute(sql, params or []).fetchall()


def _province_code(served: Served, period_type: str = "month", start: dt.date = FEB) -> str:
    return _rows(served, "select unit_code from marts.kpi_766 where geography_basis = 'as_was' and unit_type = "
                 "'province' and period_type = ? and period_start = ? order by dossiers_received desc nulls last, "
                 "unit_code limit 1", [period_type, start])[0][0]


def _kpi(served: Served, unit_type: str, code: str, start: dt.date = FEB) -> dict:
    with served.marts() as con:
        cur = con.execute("select * from marts.kpi_766 where geography_basis = 'as_was' and unit_type = ? and "
                          "unit_code = ? and period_type = 'month' and period_start = ?", [unit_type, code, start])
        return dict(zip([c[0] for c in cur.description], cur.fetchall()[0], strict=True))


def _busiest(served: Served, unit_type: str) -> str:
    return _rows(served, "select unit_code from marts.kpi_766 where geography_basis = 'as_was' and unit_type = ? "
                 "and period_type = 'month' and period_start = ? order by dossiers_received desc, unit_code limit 1",
                 [unit_type, FEB])[0][0]


def _visible(page: Page, table: str, column: str) -> list[str]:
    """The texts of a column's cells in the rows the page shows (a filter hides the others)."""
    return [t.strip() for t in page.locator(
        f'table[data-table="{table}"] tbody tr:not([hidden]) td[data-column="{column}"]').all_inner_texts()]


# ------------------------------------------------------------------ (a) sort, filter, key columns, show all

def test_tables_sort_numerically_and_filter_on_the_page(page: Page, served: Served) -> None:
    page.goto(served.url + "/")
    received = sorted(r[0] for r in _rows(
        served, "select dossiers_received from marts.kpi_766 where geography_basis = 'as_was' and unit_type = "
        "'agency' and period_type = 'month' and period_start = ?", [FEB]))
    header = page.locator('table[data-table="agency_ranks"] th[data-column="dossiers_received"]')
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    shown = [vi_number(t) for t in _cells(page, "agency_ranks", "dossiers_received")]
    # Numbers, not text: 987 before 1.234 (text order would put "1.234" first).
    assert shown == received
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    assert [vi_number(t) for t in _cells(page, "agency_ranks", "dossiers_received")] == received[::-1]
    # Rates with a decimal comma sort as numbers too.
    rates = sorted(r[0] for r in _rows(
        served, "select on_time_rate from marts.kpi_766 where geography_basis = 'as_was' and unit_type = 'agency' "
        "and period_type = 'month' and period_start = ? and on_time_rate is not null", [FEB]))
    page.locator('table[data-table="agency_ranks"] th[data-column="on_time_rate"]').click()
    shown_rates = [vi_number(t) for t in _cells(page, "agency_ranks", "on_time_rate")]
    assert shown_rates[:len(rates)] == [pytest.approx(r * 100, abs=0.006) for r in rates]
    assert all(r is None for r in shown_rates[len(rates):]), "empty cells last"
    # Text sorts as Vietnamese text.
    page.locator('table[data-table="agency_ranks"] th[data-column="unit_code"]').click()
    codes = _cells(page, "agency_ranks", "unit_code")
    assert codes == sorted(codes)

    # The box filters the rows: an agency's code keeps the rows holding it.
    code = codes[len(codes) // 2]
    page.fill('input.table-filter[data-for="agency_ranks"]', code)
    kept = _visible(page, "agency_ranks", "unit_code")
    names = dict(_rows(served, "select unit_code, coalesce(unit_name, '') from marts.kpi_766 where geography_basis = "
                       "'as_was' and unit_type = 'agency' and period_type = 'month' and period_start = ?", [FEB]))
    assert kept and code in kept
    assert set(kept) == {c for c, n in names.items() if code.lower() in c.lower() or code.lower() in n.lower()}
    assert "/" in page.locator('.table-count[data-for="agency_ranks"]').inner_text()
    page.fill('input.table-filter[data-for="agency_ranks"]', "")
    assert len(_visible(page, "agency_ranks", "unit_code")) == len(names)


KEY_COLUMNS = [  # (path, table, column): what an official looks for first
    ("/", "province_points", "points_lost"),
    ("/", "agency_ranks", "points_lost"),
    ("/", "agency_ranks", "largest_gap_points"),
    ("/overdue", "overdue_dossiers", "days_overdue"),
    ("/overdue", "overdue_by_agency", "max_days_overdue"),
    ("/services", "services", "is_slow"),
    ("/services", "services", "p90_processing_working_days"),
    ("/services", "services", "deadline_working_days"),
]


@pytest.mark.parametrize("width", [1366, 1920])
def test_key_columns_are_on_screen_without_scrolling(browser: Browser, served: Served, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        tab = context.new_page()
        for path, table, column in KEY_COLUMNS:
            tab.goto(served.url + path)
            header = tab.locator(f'table[data-table="{table}"] th[data-column="{column}"]')
            box = header.bounding_box()
            assert box is not None, (path, table, column)
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (path, table, column, box)
            scroller = tab.locator(f"#{table} .scroll")
            # Nothing scrolled: the table fits its box, or the column is left of the box's right edge.
            edge = scroller.evaluate("e => e.getBoundingClientRect().right")
            assert box["x"] + box["width"] <= edge + 1, (path, table, column, box, edge)
        if width == 1366:
            tab.goto(served.url + "/services")
            tab.screenshot(path=ARTIFACTS / "services-1366.png", full_page=False)
            tab.goto(served.url + "/overdue")
            tab.screenshot(path=ARTIFACTS / "overdue-1366.png", full_page=False)
    finally:
        context.close()


def test_a_capped_table_has_a_show_all_link(page: Page, served: Served) -> None:
    """The why page's agencies (15 rows on the page): a link shows them all, filters kept."""
    page.goto(served.url + "/why")
    shown = _cells(page, "why_agencies", "agency_code")
    total = len(httpx.get(served.url + page.locator("#why_agencies a.export-json").get_attribute("href")
                          ).json()["rows"])
    assert total > 15 and len(shown) == 15
    assert f"{total}" in page.locator("#why_agencies a.show-all").inner_text()
    page.click("#why_agencies a.show-all")
    page.wait_for_url("**all=1**")
    assert len(_cells(page, "why_agencies", "agency_code")) == total
    assert page.locator("a.show-all").count() == 0
    # The unit's pages: the agency's services are capped at 50 the same way.
    agency, services = _rows(served, """
        select agency_code, count(distinct service_code) from marts.fct_dossiers
        where (is_received and received_at >= '2024-02-01' and received_at < '2024-03-01')
           or (is_ended and ended_at >= '2024-02-01' and ended_at < '2024-03-01')
        group by 1 order by 2 desc, 1 limit 1""")[0]
    page.goto(served.url + f"/agency/{agency}?all=1")
    assert len(_cells(page, "agency_services", "service_code")) == services


def test_the_district_ranking_is_one_click_away(page: Page, served: Served) -> None:
    """It started 2,865 px down, under the agency ranking: the page lists its tables at the top."""
    page.goto(served.url + "/")
    page.click('#toc a[href="#district_ranks"]')
    top = page.locator("#district_ranks h2").bounding_box()
    assert top is not None and 0 <= top["y"] < 900


# ------------------------------------------------------------------ (b) overdue now; period semantics

def test_overdue_from_the_menu_is_the_whole_backlog_and_says_so(page: Page, served: Served) -> None:
    backlog = {r[0]: r[1] for r in _rows(served, "select dossier_id, received_at from marts.fct_dossiers "
                                                 "where is_overdue_at_as_of")}
    assert backlog
    page.goto(served.url + "/?p=month%3A2024-02-01")
    page.click("nav >> text=Hồ sơ quá hạn")
    page.wait_for_url("**/overdue**")
    assert "2024-02-01" not in page.url, "the menu does not carry the month into overdue now"
    assert set(_cells(page, "overdue_dossiers", "dossier_id")) == set(backlog)
    assert page.locator("#period option:checked").inner_text().strip() == "Toàn bộ hồ sơ đang quá hạn"
    assert page.locator("#overdue_dossiers-scope").inner_text().startswith("Toàn bộ hồ sơ")
    assert page.locator("#overdue_by_agency-scope").inner_text().startswith("Toàn bộ hồ sơ")
    # A period of reception is a choice, and then the label says so.
    page.select_option("#period", "month:2024-02-01")
    page.click("#apply")
    page.wait_for_url("**p=month**")
    feb = {d for d, received in backlog.items() if dt.date(2024, 2, 1) <= received.date() < dt.date(2024, 3, 1)}
    assert set(_cells(page, "overdue_dossiers", "dossier_id")) == feb
    assert "Chỉ hồ sơ tiếp nhận trong tháng 02/2024" in page.locator("#overdue_dossiers-scope").inner_text()
    assert page.locator("#period option:checked").inner_text().strip().startswith("Chỉ hồ sơ tiếp nhận trong")


def test_every_table_on_every_page_states_its_period(client: httpx.Client, served: Served) -> None:
    agency, district = _busiest(served, "agency"), _busiest(served, "district")
    service = _rows(served, "select unit_code from marts.agg_unit_period_indicators where unit_type = 'service' "
                    "and geography_basis = 'as_was' and period_type = 'month' and period_start = ? "
                    "order by dossiers_received desc, unit_code limit 1", [FEB])[0][0]
    for path in ("/", f"/agency/{agency}", f"/district/{district}", f"/service/{service}", "/services", "/overdue",
                 "/fees", "/quality", "/why", "/?lang=en"):
        html = client.get(path).text
        sections = re.findall(r'<section id="([a-z0-9_]+)">', html)
        assert sections, path
        for name in sections:
            scope = re.search(rf'<p class="scope" id="{name}-scope">([^<]+)</p>', html)
            assert scope and len(scope.group(1)) > 20, (path, name)


# ------------------------------------------------------------------ (c) slow services findable

def test_every_service_is_listed_with_its_slow_flag_and_level(page: Page, served: Served) -> None:
    services = {r[0]: r for r in _rows(served, """
        with s as (select * from marts.agg_unit_period_indicators where geography_basis = 'as_was'
                   and unit_type = 'service' and period_type = 'month' and period_start = ?
                   and (dossiers_submitted > 0 or dossiers_received > 0 or dossiers_ended > 0)),
        d as (select service_code, arg_max(deadline_working_days, month_start) as deadline
              from marts.agg_processing_time_monthly where month_start >= ? and month_start < ? group by 1),
        l as (select service_code, arg_max(online_level, valid_from) as online_level from marts.dim_services
              where valid_from < ? group by 1)
        select s.unit_code, s.p90_processing_working_days > d.deadline, l.online_level
        from s left join d on d.service_code = s.unit_code left join l on l.service_code = s.unit_code""",
        [FEB, FEB, dt.date(2024, 3, 1), dt.date(2024, 3, 1)])}
    slow = {code for code, row in services.items() if row[1]}
    page.goto(served.url + "/services")
    assert set(_cells(page, "services", "service_code")) == set(services), "every service, no cap"
    assert page.locator("#services a.show-all").count() == 0
    levels = dict(zip(_cells(page, "services", "service_code"), _cells(page, "services", "online_level"),
                      strict=True))
    for code, row in services.items():
        assert levels[code] == (labels.value_label(f"online_level_{row[2]}", "vi") if row[2] is not None else "–")
    assert {"Toàn trình", "Một phần"} & set(levels.values()), "MucDo in words"
    flagged = {c for c, s in zip(_cells(page, "services", "service_code"), _cells(page, "services", "is_slow"),
                                 strict=True) if s == "Chậm"}
    assert flagged == slow
    # Slow ones first with a click on the flag's header, or only them with the box.
    page.locator('table[data-table="services"] th[data-column="is_slow"]').click()
    page.locator('table[data-table="services"] th[data-column="is_slow"]').click()
    assert set(_cells(page, "services", "service_code")[:len(slow)]) == slow
    page.check('input.table-only[data-for="services"]')
    assert set(_visible(page, "services", "service_code")) == slow
    note = page.locator("main > p.note").inner_text()
    assert "p90 = 90 % hồ sơ giải quyết xong trong" in note
    assert "90 % hồ sơ xong trong" in page.locator('table[data-table="services"] th[data-column='
                                                   '"p90_processing_working_days"]').inner_text()


# ------------------------------------------------------------------ (d) fees reconciled per month

def test_fees_reconcile_on_one_line_per_month(client: httpx.Client, served: Served) -> None:
    body = client.get("/api/v1/fees_reconciliation", params={"period_type": "quarter",
                                                             "period_start": "2024-01-01"}).json()
    daily = {r[0]: r[1:] for r in _rows(served, """
        select date_trunc('month', settlement_date)::date, sum(collected_vnd), sum(refunded_vnd), sum(orphan_vnd)
        from marts.agg_fees_daily where settlement_date >= '2024-01-01' and settlement_date < '2024-04-01'
        group by 1""")}
    payments = _rows(served, """
        select date_trunc('month', p.settlement_date)::date as m, p.amount_vnd, p.is_orphan,
            d.reconciliation_state, d.received_at
        from marts.fct_payments as p left join marts.fct_dossiers as d using (dossier_id)
        where p.status = 'succeeded' and p.settlement_date >= '2024-01-01' and p.settlement_date < '2024-04-01'""")
    rows = body["rows"]
    assert [dt.date.fromisoformat(r["month_start"]) for r in rows] == sorted(daily)
    for row in rows:
        month = dt.date.fromisoformat(row["month_start"])
        collected, refunded, orphans = daily[month]
        assert (row["collected_vnd"], row["refunded_vnd"], row["orphan_vnd"]) == (collected, refunded, orphans)
        mine = [p for p in payments if p[0] == month]
        nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)

        def same_month(received: dt.datetime | None, start: dt.date = month, end: dt.date = nxt) -> bool:
            return received is not None and start <= received.date() < end

        assert row["matched_vnd"] == sum(p[1] for p in mine if not p[2] and p[3] == "matched" and same_month(p[4]))
        assert row["timing_vnd"] == sum(p[1] for p in mine if not p[2] and not same_month(p[4]))
        # The line adds up: collected − refunds − matched − orphans − timing = gap.
        assert row["collected_vnd"] - row["refunded_vnd"] - row["matched_vnd"] - row["orphan_vnd"] \
            - row["timing_vnd"] == row["gap_vnd"]
    # The gap is explained: the payments of that month's dossiers that are not matched, by state.
    parts = client.get("/api/v1/fees_gap", params={"period_type": "quarter", "period_start": "2024-01-01"}).json()
    for row in rows:
        mine = [p for p in parts["rows"] if p["month_start"] == row["month_start"]]
        assert sum(p["amount_vnd"] for p in mine) == row["gap_vnd"]
        assert all(p["reconciliation_state"] != "matched" for p in mine)
    assert any(r["gap_vnd"] for r in rows), "the small run has a gap to explain"
    page = client.get("/fees").text
    assert 'id="fees_reconciliation"' in page and "thu − hoàn − khớp − mồ côi − lệch thời điểm = chênh lệch" in page


# ------------------------------------------------------------------ (e) gap to the province

def test_each_unit_shows_its_gap_to_the_province_on_each_indicator(client: httpx.Client, served: Served) -> None:
    province = _kpi(served, "province", _province_code(served))
    scored = _rows(served, "select indicator_code, indicator_name from marts.dim_766_indicators where is_scored "
                   "and scored_units in ('all', 'agency')")
    ranks = client.get("/api/v1/agency_ranks", params={"period_start": "2024-02-01"}).json()["rows"]
    assert "costliest_indicator" not in ranks[0]
    for row in ranks[:10]:
        unit = _kpi(served, "agency", row["unit_code"])
        gaps = {name: (unit[f"points_{name}"] or 0) - (province[f"points_{name}"] or 0) for _, name in scored}
        assert row["largest_gap_points"] == pytest.approx(min(gaps.values()), abs=1e-9)
        assert gaps[row["largest_gap_indicator"]] == pytest.approx(min(gaps.values()), abs=1e-9)
        assert row["points_lost"] == pytest.approx(unit["points_measurable"] - unit["points_total"], abs=1e-9)
    code = _busiest(served, "district")
    unit = _kpi(served, "district", code)
    body = client.get("/api/v1/district_vs_province", params={"code": code, "period_start": "2024-02-01"}).json()
    assert {r["indicator"] for r in body["rows"]} == {name for _, name in _rows(
        served, "select indicator_code, indicator_name from marts.dim_766_indicators where is_scored "
        "and scored_units in ('all', 'district')")}
    for row in body["rows"]:
        name = row["indicator"]
        assert row["points_gap"] == pytest.approx(unit[f"points_{name}"] - province[f"points_{name}"], abs=1e-9)
        if unit[name] is not None and province[name] is not None:
            assert row["rate_gap"] == pytest.approx(unit[name] - province[name], abs=1e-12)
    gaps = [r["points_gap"] for r in body["rows"]]
    assert gaps == sorted(gaps), "the widest gap below the province first"
    html = client.get(f"/district/{code}").text
    assert 'id="district_vs_province"' in html


# ------------------------------------------------------------------ (f) wording

def test_codes_and_labels_are_said_in_vietnamese(client: httpx.Client, served: Served) -> None:
    fees = client.get("/fees").text
    assert "Ngày đối soát" in fees and "Ngày quyết toán" not in fees
    for raw in (">platform<", ">provincial_gateway<"):
        assert raw not in fees
    channels = {r[0] for r in _rows(served, "select distinct payment_channel from marts.fct_payments "
                                    "where payment_channel is not null")}
    assert channels and all(labels.value_label(c, "vi") != c for c in channels)
    home = client.get("/").text
    assert "Quý Quý" not in home and re.search(r">Quý \d/\d{4}", home)
    assert "Bộ chỉ số 766" in home and "766/QĐ-TTg" in home
    code = _busiest(served, "district")
    name = _kpi(served, "district", code)["unit_name"]
    district = client.get(f"/district/{code}").text
    h1 = re.search(r"<h1>([^<]*)</h1>", district).group(1)
    assert h1 == name and not h1.startswith("Huyện, thành phố")
    assert "Huyện, thành phố · " + code in district
    english = client.get("/?lang=en").text
    assert ">Quarter Q1/2024" in english


# ------------------------------------------------------------------ (g) a failed build shows

def test_a_failed_build_shows_a_banner(served: Served, tmp_path: Path) -> None:
    published = tmp_path / "published" / "dichvucong.duckdb"
    published.parent.mkdir()
    shutil.copyfile(served.published, published)
    with serve(published) as url:
        assert 'id="build-failed"' not in httpx.get(url + "/").text
        state = published.with_name("build_state.json")
        # A failure older than the publication is over: no banner.
        state.write_text(json.dumps({"status": "failed", "failed_at": "2000-01-01T00:00:00+00:00",
                                     "error": "TransformError: dbt build failed"}), encoding="utf-8")
        assert 'id="build-failed"' not in httpx.get(url + "/").text
        state.write_text(json.dumps({
            "status": "failed", "failed_at": dt.datetime.now(dt.UTC).isoformat(), "as_of": None,
            "error": "TransformError: dbt build failed: model.kpi_766 (error: Out of Memory Error: ...)"}),
            encoding="utf-8")
        for path in ("/", "/fees", "/overdue", "/quality", "/why"):
            html = httpx.get(url + path).text
            banner = re.search(r'<p class="banner" id="build-failed">([^<]+)</p>', html)
            assert banner and "không thành công" in banner.group(1) and "thiếu bộ nhớ" in banner.group(1), path


def test_a_failed_build_is_recorded_for_the_dashboard(dvc_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dichvucong import tasks, transform
    from dichvucong.config import Settings
    from dichvucong.dashboard.reader import build_failure

    def broken(*args: object, **kwargs: object) -> None:
        raise transform.TransformError("dbt build failed: model.x (error: Out of Memory Error: failed to allocate)")

    monkeypatch.setattr(transform, "build", broken)
    before = dt.datetime.now(dt.UTC)
    with pytest.raises(transform.TransformError):
        tasks.build_marts("2024-03-04")
    published = Settings.from_env().published_path
    failure = build_failure(published, before - dt.timedelta(seconds=1))
    assert failure is not None and "Out of Memory" in failure[1]
    assert build_failure(published, dt.datetime.now(dt.UTC)) is None, "a later publication clears it"


# ------------------------------------------------------------------ (h) exports

def test_xlsx_fits_its_columns_filters_and_prints_on_one_page_wide(client: httpx.Client) -> None:
    body = client.get("/api/v1/overdue_dossiers").json()
    book = load_workbook(io.BytesIO(client.get("/api/v1/overdue_dossiers", params={"format": "xlsx"}).content))
    sheet = book.worksheets[0]
    names = TABLES["overdue_dossiers"].column_names
    ids = [r["dossier_id"] for r in body["rows"]]
    assert ids
    letter = sheet.cell(1, names.index("dossier_id") + 1).column_letter
    assert sheet.column_dimensions[letter].width >= max(len(i) for i in ids), "ids not cut"
    service = sheet.cell(1, names.index("service_name") + 1).column_letter
    assert sheet.column_dimensions[service].width > 12
    assert sheet.auto_filter.ref == f"A1:{sheet.cell(1, len(names)).column_letter}{len(ids) + 1}"
    assert sheet.freeze_panes == "A2"
    assert sheet.page_setup.orientation == "landscape"
    assert sheet.page_setup.fitToWidth == 1 and sheet.page_setup.fitToHeight == 0
    assert sheet.sheet_properties.pageSetUpPr.fitToPage
    assert sheet.print_title_rows.replace("$", "") == "1:1", "the header on every printed page"


def test_csv_in_the_vietnamese_form(client: httpx.Client, served: Served) -> None:
    body = client.get("/api/v1/province_trend").json()
    response = client.get("/api/v1/province_trend", params={"format": "csv", "locale": "vi"})
    assert response.status_code == 200 and response.content.startswith(b"\xef\xbb\xbf")
    assert 'filename="province_trend_month_2024-02-01_vi.csv"' in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    header = rows[0]
    assert header == [labels.column_label(c, "vi") for c in TABLES["province_trend"].column_names]
    rate = header.index(labels.column_label("on_time_rate", "vi"))
    for shown, row in zip(rows[1:], body["rows"], strict=True):
        if row["on_time_rate"] is not None:
            assert "." not in shown[rate] and float(shown[rate].replace(",", ".")) == row["on_time_rate"]
    default = client.get("/api/v1/province_trend", params={"format": "csv"}).content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(default)))[0] == header, "the default form is unchanged"
    html = client.get("/").text
    assert re.search(r'class="export-csv-vi"', html) and "locale=vi" in html


# ------------------------------------------------------------------ (i) print

def test_every_page_prints_without_menus_with_its_unit_and_period(page: Page, served: Served) -> None:
    agency = _busiest(served, "agency")
    for path in ("/", f"/agency/{agency}", "/services", "/overdue", "/fees", "/quality", "/why"):
        page.emulate_media(media="screen")
        page.goto(served.url + path)
        assert not page.locator("#print-header").is_visible(), path
        page.emulate_media(media="print")
        assert page.locator("#print-header").is_visible(), path
        header = page.locator("#print-header").inner_text()
        assert "Số liệu tính đến" in header, path
        assert re.search(r"Tháng \d\d/\d{4}|Toàn bộ hồ sơ đang quá hạn", header), (path, header)
        for hidden in ("nav", "form.filters", ".exports", ".table-tools", ".toc"):
            assert all(not el.is_visible() for el in page.locator(hidden).all()), (path, hidden)
        overflow = page.locator(".scroll").first.evaluate("e => getComputedStyle(e).overflowX")
        assert overflow == "visible", path
    page.goto(served.url + f"/agency/{agency}")
    assert _kpi(served, "agency", agency)["unit_name"] in page.locator("#print-header").inner_text()
    page.screenshot(path=ARTIFACTS / "agency-print.png", full_page=True)
