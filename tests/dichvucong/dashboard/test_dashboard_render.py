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
