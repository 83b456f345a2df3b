import datetime as dt

from dichvucong.workdays import add_working_days, is_working_day, next_working_day, working_days_between

D = dt.date


def test_weekends_are_not_working_days() -> None:
    assert is_working_day(D(2024, 1, 5))  # Friday
    assert not is_working_day(D(2024, 1, 6))
    assert not is_working_day(D(2024, 1, 7))


def test_lunar_new_year_2024_and_observed_days() -> None:
    for day in range(8, 15):
        assert not is_working_day(D(2024, 2, day)), day
    assert is_working_day(D(2024, 2, 15))
    # 1 January 2023 fell on a Sunday; Monday 2 January was the observed day off.
    assert not is_working_day(D(2023, 1, 2))
    # National Day 2022 (1-2 September).
    assert not is_working_day(D(2022, 9, 1)) and not is_working_day(D(2022, 9, 2))


def test_weekend_days_swapped_into_working_days_do_not_count() -> None:
    # Saturday 4 May 2024 was worked to bridge 29 April; metrics.md counts Monday-Friday only.
    assert not is_working_day(D(2024, 5, 4))
    assert not is_working_day(D(2024, 4, 29))


def test_working_days_between_is_half_open() -> None:
    assert working_days_between(D(2024, 2, 7), D(2024, 2, 15)) == 1
    assert working_days_between(D(2024, 1, 8), D(2024, 1, 8)) == 0
    assert working_days_between(D(2024, 1, 8), D(2024, 1, 5)) == 0
    assert working_days_between(D(2024, 1, 5), D(2024, 1, 12)) == 5


def test_add_working_days() -> None:
    assert next_working_day(D(2024, 2, 10)) == D(2024, 2, 15)
    assert add_working_days(D(2024, 2, 7), 1) == D(2024, 2, 15)
    assert add_working_days(D(2024, 1, 8), 0) == D(2024, 1, 8)
    assert add_working_days(D(2024, 1, 6), 0) == D(2024, 1, 8)
