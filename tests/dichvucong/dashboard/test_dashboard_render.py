"""Labels and number formats of the dashboard, without a server."""

from __future__ import annotations

import datetime as dt

import pytest

from dichvucong.dashboard import labels
from dichvucong.dashboard.render import fmt
from dichvucong.dashboard.tables import KINDS, TABLES


def test_every_column_has_a_vietnamese_and_an_english_label_and_a_known_kind() -> None:
    for table in TABLES.values():
        assert table.title in labels.UI, table.name
        for name, kind in table.columns:
            assert kind in KINDS, (table.name, name)
            vi, en = labels.COLUMNS[name]
            assert vi and en and vi != name, (table.name, name)


@pytest.mark.parametrize(("value", "kind", "vi", "en"), [
    (35453, "int", "35.453", "35,453"),
    (-1234567, "vnd", "-1.234.567", "-1,234,567"),
    (0.968512, "rate", "96,85 %", "96.85 %"),
    (1.0, "rate", "100,00 %", "100.00 %"),
    (19.3704, "points", "19,37", "19.37"),
    (3.0, "days", "3", "3"),
    (4.5, "days", "4,5", "4.5"),
    (None, "rate", "–", "–"),
    (float("nan"), "points", "–", "–"),
    (dt.date(2022, 9, 1), "month", "09/2022", "09/2022"),
    (dt.date(2022, 9, 1), "date", "01/09/2022", "01/09/2022"),
    (dt.datetime(2022, 9, 1, 1, 30, tzinfo=dt.UTC), "timestamp", "01/09/2022 08:30", "01/09/2022 08:30"),
    ("on_time_rate", "label", "Giải quyết đúng hạn (2.1)", "On-time processing (2.1)"),
    ("matched", "label", "Khớp", "Matched"),
    (True, "bool", "✔", "✔"),
])
def test_numbers_read_as_officials_write_them(value: object, kind: str, vi: str, en: str) -> None:
    assert fmt(value, kind, "vi") == vi
    assert fmt(value, kind, "en") == en


def test_a_trend_across_1_july_2025_marks_the_reorganisation() -> None:
    from dichvucong.dashboard.reader import Result
    from dichvucong.dashboard.render import REORGANISATION_LABEL, line_chart, stacked_bars
    from dichvucong.dashboard.tables import Table

    table = Table("trend", "province", "t", "a trend", "select 1",
                  (("month_start", "month"), ("points_total", "points")))
    months = [dt.date(2025, m, 1) for m in (5, 6, 7, 8)]
    across = Result(table, [(m, 40.0 + i) for i, m in enumerate(months)])
    before = Result(table, [(m, 40.0 + i) for i, m in enumerate(months[:2])])
    for lang in ("vi", "en"):
        assert REORGANISATION_LABEL[lang] in line_chart(across, "month_start", ["points_total"], lang, percent=False)
        assert REORGANISATION_LABEL[lang] not in line_chart(before, "month_start", ["points_total"], lang,
                                                            percent=False)
    assert 'class="reorganisation"' in stacked_bars(across, "month_start", ["points_total"], "vi")


def test_chart_ticks_use_the_languages_decimal_mark() -> None:
    """Issue 20: a chart of small numbers (days) had dot decimals on its ticks in Vietnamese."""
    import re

    from dichvucong.dashboard.reader import Result
    from dichvucong.dashboard.render import line_chart
    from dichvucong.dashboard.tables import Table

    table = Table("trend", "service", "t", "a trend", "select 1",
                  (("month_start", "month"), ("p90_processing_working_days", "days")))
    result = Result(table, [(dt.date(2024, m, 1), 2.5 + m / 10) for m in (1, 2, 3)])
    ticks = {lang: re.findall(r'text-anchor="end">([^<]+)<', line_chart(
        result, "month_start", ["p90_processing_working_days"], lang, percent=False)) for lang in ("vi", "en")}
    assert any("," in t for t in ticks["vi"]) and not any("." in t for t in ticks["vi"]), ticks
    assert any("." in t for t in ticks["en"]) and not any("," in t for t in ticks["en"]), ticks


@pytest.mark.parametrize(("value", "vi"), [
    ("platform", "Nền tảng thanh toán quốc gia"), ("provincial_gateway", "Cổng thanh toán của tỉnh"),
    ("online_level_4", "Toàn trình"), ("online_level_3", "Một phần"), ("refunded_beyond_paid", "Hoàn quá số đã nộp"),
    ("expect_column_values_to_not_be_null", "Không được để trống"),
])
def test_code_values_are_shown_in_words(value: str, vi: str) -> None:
    assert fmt(value, "label", "vi") == vi and fmt(value, "label", "en") != value


def test_quarters_are_named_once() -> None:
    from dichvucong.dashboard.app import Period

    quarter = Period("quarter", dt.date(2022, 7, 1), dt.date(2022, 10, 1), True)
    assert labels.ui("quarter", "vi") + " " + quarter.label("vi") == "Quý 3/2022"
    assert labels.ui("quarter", "en") + " " + quarter.label("en") == "Quarter Q3/2022"


def test_every_table_says_what_its_period_means() -> None:
    from types import SimpleNamespace

    from dichvucong.dashboard.app import _scope_key

    for period in (dt.date(2024, 2, 1), None):  # overdue now: the whole backlog, or a period of reception
        for table in TABLES.values():
            key = _scope_key(table, SimpleNamespace(period=period))  # type: ignore[arg-type]
            assert key in labels.SCOPES, table.name
            assert all(labels.SCOPES[key]), table.name


def test_every_check_type_of_the_suites_is_said_in_words() -> None:
    """The quality page names the checks in words, not by Great Expectations' type names."""
    import yaml

    from dichvucong.config import REPO_ROOT

    types = {item["type"] for path in (REPO_ROOT / "expectations").glob("*.yml")
             for item in yaml.safe_load(path.read_text(encoding="utf-8")).get("expectations", [])}
    assert types
    for name in types:
        assert not fmt(name, "label", "vi").startswith("expect_"), name
    assert dict(TABLES["quality_failures"].columns)["expectation_type"] == "label"
