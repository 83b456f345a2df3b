import datetime as dt
import importlib.util
from pathlib import Path
from typing import Any

import duckdb
import pytest
import yaml

from dichvucong.config import REPO_ROOT
from dichvucong.workdays import (
    OVERRIDE_COLUMNS,
    OVERRIDES_PATH,
    SWAPPED_WORKDAY_NAME,
    CalendarOverride,
    WorkingDayCalendar,
    add_working_days,
    default_calendar,
    holiday_name,
    is_working_day,
    next_working_day,
    overrides_from_records,
    read_overrides,
    working_days_between,
)

D = dt.date
HEADER = "calendar_date,is_working_day,reason,decision\n"


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


def test_saturdays_swapped_into_working_days_count() -> None:
    # The library's swaps: Saturday 26 April 2025 worked for Friday 2 May off (30/4-1/5),
    # Saturday 22 August 2026 worked for Monday 31 August off (National Day).
    for worked, off in ((D(2025, 4, 26), D(2025, 5, 2)), (D(2026, 8, 22), D(2026, 8, 31))):
        assert worked.isoweekday() == 6 and is_working_day(worked), worked
        assert not is_working_day(off), off
        assert holiday_name(worked) == SWAPPED_WORKDAY_NAME
        assert worked.strftime("%d/%m/%Y") in (holiday_name(off) or "")
    assert is_working_day(D(2024, 5, 4)) and not is_working_day(D(2024, 4, 29))


def test_the_2026_new_year_swap_comes_from_the_overrides() -> None:
    assert not is_working_day(D(2026, 1, 2))  # Friday off
    assert is_working_day(D(2026, 1, 10))  # Saturday worked
    assert not is_working_day(D(2026, 1, 1))  # Tết Dương lịch itself, from the library
    calendar = default_calendar()
    assert calendar.is_override(D(2026, 1, 10)) and not calendar.is_override(D(2026, 1, 1))
    assert (holiday_name(D(2026, 1, 10)) or "").startswith("Làm bù")
    assert holiday_name(D(2026, 1, 2)) == calendar.overrides[D(2026, 1, 2)].reason
    assert {o.decision for o in calendar.overrides.values() if o.calendar_date.year == 2026} == {"12729/VPCP-KGVX"}
    assert next_working_day(D(2026, 1, 2)) == D(2026, 1, 5)
    assert add_working_days(D(2026, 1, 9), 1) == D(2026, 1, 10)


def test_the_2026_new_year_swap_changes_a_processing_day() -> None:
    # A dossier received Friday 9 January 2026 and ended Monday 12 January 2026:
    # processing_working_days counts working days d with received < d <= ended.
    received, ended = D(2026, 1, 9), D(2026, 1, 12)
    assert working_days_between(received, ended) == 2  # Saturday 10 January and Monday 12 January
    assert WorkingDayCalendar().working_days_between(received, ended) == 1  # the library alone: Monday only
    assert working_days_between(D(2025, 12, 31), D(2026, 1, 5)) == 1  # 1 and 2 January off, Monday 5 worked


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


def test_an_override_wins_over_the_library() -> None:
    calendar = WorkingDayCalendar(
        [
            CalendarOverride(D(2024, 5, 4), False, "Hủy làm bù", "1/TEST"),
            CalendarOverride(D(2024, 1, 5), False, "Nghỉ", "2/TEST"),
            CalendarOverride(D(2024, 2, 10), True, "Trực Tết", "3/TEST"),
        ]
    )
    assert not calendar.is_working_day(D(2024, 5, 4)) and not calendar.is_working_day(D(2024, 1, 5))
    assert calendar.is_working_day(D(2024, 2, 10)) and calendar.holiday_name(D(2024, 2, 10)) == "Trực Tết"
    with pytest.raises(ValueError, match="two overrides for 2024-05-04"):
        WorkingDayCalendar([CalendarOverride(D(2024, 5, 4), True, "a", "b")] * 2)


def test_the_repository_overrides_file_reads() -> None:
    by_date = {override.calendar_date: override for override in read_overrides(OVERRIDES_PATH)}
    assert not by_date[D(2026, 1, 2)].is_working_day and by_date[D(2026, 1, 10)].is_working_day
    assert by_date[D(2026, 1, 2)].decision == by_date[D(2026, 1, 10)].decision == "12729/VPCP-KGVX"


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("2026-01-02,false,a,b\n2026-13-01,true,a,b\n", r"line 3: calendar_date '2026-13-01' is not an ISO date"),
        ("2026-01-02,no,a,b\n", r"line 2: is_working_day 'no' is not true or false"),
        ("2026-01-02,false,a,\n", r"line 2: decision is empty"),
        ("2026-01-02,false,a,b\n2026-01-02,true,a,b\n", r"line 3: 2026-01-02 appears twice"),
    ],
)
def test_a_malformed_overrides_file_names_its_line(tmp_path: Path, rows: str, message: str) -> None:
    path = tmp_path / "calendar_overrides.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as raised:
        read_overrides(path)
    assert str(path) in str(raised.value)


def test_an_overrides_file_without_a_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "calendar_overrides.csv"
    path.write_text("calendar_date,is_working_day,reason\n2026-01-02,false,a\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"line 1: missing column\(s\) decision"):
        read_overrides(path)


def test_records_take_typed_values_and_name_their_row() -> None:
    record = {"calendar_date": D(2026, 1, 10), "is_working_day": True, "reason": "Làm bù", "decision": "X"}
    assert overrides_from_records([record], "seed") == (CalendarOverride(D(2026, 1, 10), True, "Làm bù", "X"),)
    with pytest.raises(ValueError, match=r"seed, row 2: is_working_day None"):
        overrides_from_records([record, {**record, "calendar_date": D(2026, 1, 11), "is_working_day": None}], "seed")


def test_the_seed_is_the_file_the_python_reads() -> None:
    project_dir = REPO_ROOT / "dbt_project"
    project = yaml.safe_load((project_dir / "dbt_project.yml").read_text(encoding="utf-8"))
    assert OVERRIDES_PATH.parent in [(project_dir / path).resolve() for path in project["seed-paths"]]
    seeds = yaml.safe_load((OVERRIDES_PATH.parent / "_calendar_overrides.yml").read_text(encoding="utf-8"))["seeds"]
    (seed,) = [seed for seed in seeds if seed["name"] == OVERRIDES_PATH.stem]
    assert tuple(column["name"] for column in seed["columns"]) == OVERRIDE_COLUMNS
    assert tuple(seed["config"]["column_types"]) == OVERRIDE_COLUMNS


class _Dbt:
    """What int_calendar_days uses of dbt's Python model API."""

    def __init__(self, refs: dict[str, Any]) -> None:
        self.refs = refs

    def config(self, **kwargs: Any) -> None:
        pass

    def ref(self, name: str) -> Any:
        return self.refs[name]


def _calendar_model() -> Any:
    path = REPO_ROOT / "dbt_project" / "models" / "intermediate" / "calendar" / "int_calendar_days.py"
    spec = importlib.util.spec_from_file_location("int_calendar_days", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.model


def _seed(connection: duckdb.DuckDBPyConnection, path: Path) -> duckdb.DuckDBPyRelation:
    # As dbt seed loads it, with the column types of _calendar_overrides.yml.
    types = "{'calendar_date': 'DATE', 'is_working_day': 'BOOLEAN', 'reason': 'VARCHAR', 'decision': 'VARCHAR'}"
    return connection.sql(f"select * from read_csv('{path}', header = true, columns = {types})")


def _syncs(connection: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
    columns = ("submitted_at", "received_at", "due_at", "processing_finished_at", "returned_at", "refused_at")
    values = ", ".join(f"timestamp '2026-01-09 09:00:00' as {column}" for column in columns)
    return connection.sql(f"select {values}, date '2026-01-12' as batch_date")


def test_int_calendar_days_uses_the_seed() -> None:
    connection = duckdb.connect()
    refs = {"calendar_overrides": _seed(connection, OVERRIDES_PATH), "stg_onestop__dossier_syncs": _syncs(connection)}
    table = _calendar_model()(_Dbt(refs), connection)
    rows = {row["calendar_date"]: row for row in table.to_pylist()}
    assert min(rows) == D(2025, 1, 1) and max(rows) == D(2027, 12, 31)
    columns = ["calendar_date", "is_working_day", "working_day_index", "holiday_name", "iso_weekday", "is_override"]
    assert table.column_names == columns
    saturday, friday = rows[D(2026, 1, 10)], rows[D(2026, 1, 2)]
    assert saturday["is_working_day"] and saturday["is_override"] and saturday["iso_weekday"] == 6
    assert not friday["is_working_day"] and friday["is_override"]
    assert rows[D(2026, 1, 12)]["working_day_index"] - rows[D(2026, 1, 9)]["working_day_index"] == 2
    assert not rows[D(2026, 1, 1)]["is_override"] and rows[D(2026, 1, 1)]["holiday_name"]
    assert all(row["is_working_day"] == is_working_day(day) for day, row in rows.items())


def test_int_calendar_days_refuses_a_seed_that_differs_from_the_file(tmp_path: Path) -> None:
    stale = tmp_path / "calendar_overrides.csv"
    stale.write_text(HEADER + "2026-01-02,false,Nghỉ,12729/VPCP-KGVX\n", encoding="utf-8")
    connection = duckdb.connect()
    refs = {"calendar_overrides": _seed(connection, stale), "stg_onestop__dossier_syncs": _syncs(connection)}
    with pytest.raises(ValueError, match="seed calendar_overrides differs"):
        _calendar_model()(_Dbt(refs), connection)
