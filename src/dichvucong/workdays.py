"""The working-day calendar, the one definition the pipeline uses (metrics.md, "Calendar").

A working day is a day the civil service works: Monday to Friday, less the
Vietnamese public holidays and their substitute days off, plus the Saturdays the
government swaps into working days (làm bù). Two sources, the first that speaks
wins:

1. the province's overrides, `data/reference/calendar_overrides.csv` (also the
   dbt seed `calendar_overrides`): one row per date, whether it is worked, the
   reason and the decision or dispatch that says so, for announcements the
   library does not carry yet (the 2026 New Year swap: Friday 2 January off,
   Saturday 10 January worked, dispatch 12729/VPCP-KGVX);
2. the maintained `holidays` library (Vietnam, names in Vietnamese):
   `is_working_day` counts its holidays, substitute days off and swapped
   weekend days (`weekend_workdays`).

The module-level functions use the repository's overrides file, read once; the
dbt model `int_calendar_days` builds a `WorkingDayCalendar` from the seed's rows
and checks that they are the same overrides, so the two cannot disagree.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import holidays

from dichvucong.config import REPO_ROOT

OVERRIDES_PATH = REPO_ROOT / "data" / "reference" / "calendar_overrides.csv"
OVERRIDE_COLUMNS = ("calendar_date", "is_working_day", "reason", "decision")
# The library names the substitute day off, not the weekend day worked in exchange.
SWAPPED_WORKDAY_NAME = "Làm bù (hoán đổi ngày làm việc)"
_BOOLEANS = {"true": True, "false": False}


@dataclass(frozen=True)
class CalendarOverride:
    """One announced day: worked or not, why, and the decision or dispatch that says so."""

    calendar_date: dt.date
    is_working_day: bool
    reason: str
    decision: str


def _parse_date(value: object, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        raise ValueError(f"{where}: calendar_date {value!r} is a timestamp, not a date")
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(f"{where}: calendar_date {value!r} is not an ISO date (YYYY-MM-DD)") from None


def _parse_bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    parsed = _BOOLEANS.get(str(value).strip().lower())
    if parsed is None:
        raise ValueError(f"{where}: is_working_day {value!r} is not true or false")
    return parsed


def _parse_text(row: Mapping[str, object], column: str, where: str) -> str:
    value = row.get(column)
    text = "" if value is None else str(value).strip()
    if not text:
        raise ValueError(f"{where}: {column} is empty")
    return text


def _parse_rows(rows: Iterable[tuple[str, Mapping[str, object]]], source: str) -> tuple[CalendarOverride, ...]:
    overrides: dict[dt.date, CalendarOverride] = {}
    for where, row in rows:
        day = _parse_date(row.get("calendar_date"), where)
        if day in overrides:
            raise ValueError(f"{where}: {day} appears twice in {source}")
        overrides[day] = CalendarOverride(
            calendar_date=day,
            is_working_day=_parse_bool(row.get("is_working_day"), where),
            reason=_parse_text(row, "reason", where),
            decision=_parse_text(row, "decision", where),
        )
    return tuple(sorted(overrides.values(), key=lambda override: override.calendar_date))


def read_overrides(path: Path = OVERRIDES_PATH) -> tuple[CalendarOverride, ...]:
    """The overrides of a CSV file with the columns `OVERRIDE_COLUMNS` (UTF-8, header first;
    `calendar_date` ISO, `is_working_day` true/false, `reason` and `decision` not empty), by date.

    Raises ValueError naming the file and line of a missing column, a bad date or boolean,
    an empty reason or decision, or a date given twice; OSError when the file cannot be read.
    """
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [column for column in OVERRIDE_COLUMNS if column not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}, line 1: missing column(s) {', '.join(missing)}")
        rows = [(f"{path}, line {reader.line_num}", row) for row in reader]
    return _parse_rows(rows, str(path))


def overrides_from_records(records: Iterable[Mapping[str, object]], source: str) -> tuple[CalendarOverride, ...]:
    """The overrides of records shaped like the CSV's rows (dates may be `datetime.date`, booleans
    `bool`), e.g. the dbt seed's rows; `source` names them in errors. Validated as `read_overrides`."""
    return _parse_rows(((f"{source}, row {number}", record) for number, record in enumerate(records, 1)), source)


class WorkingDayCalendar:
    """The working-day rule with a given set of overrides (metrics.md, "Calendar"): an override
    decides its date; any other date is a working day when the `holidays` library's Vietnam
    calendar says so (Monday to Friday less holidays and days off, plus swapped weekend days)."""

    def __init__(self, overrides: Iterable[CalendarOverride] = ()) -> None:
        self.overrides: dict[dt.date, CalendarOverride] = {}
        for override in overrides:
            if override.calendar_date in self.overrides:
                raise ValueError(f"two overrides for {override.calendar_date}")
            self.overrides[override.calendar_date] = override
        self._library = holidays.country_holidays("VN", language="vi")
        self._working: dict[dt.date, bool] = {}

    def is_override(self, day: dt.date) -> bool:
        """Whether the overrides, not the library, decide `day`."""
        return day in self.overrides

    def is_working_day(self, day: dt.date) -> bool:
        """Whether the civil service works on `day` (a local calendar day)."""
        working = self._working.get(day)
        if working is None:
            override = self.overrides.get(day)
            working = override.is_working_day if override else bool(self._library.is_working_day(day))
            self._working[day] = working
        return working

    def holiday_name(self, day: dt.date) -> str | None:
        """Why `day` is not an ordinary day, in Vietnamese: the override's reason, else the library's
        holiday or day-off name, else `SWAPPED_WORKDAY_NAME` for a weekend day worked in exchange;
        None for an ordinary weekday or weekend day."""
        override = self.overrides.get(day)
        if override:
            return override.reason
        name = self._library.get(day)
        if name:
            return str(name)
        if day in self._library.weekend_workdays:
            return SWAPPED_WORKDAY_NAME
        return None

    def next_working_day(self, day: dt.date) -> dt.date:
        """`day` itself when it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += dt.timedelta(days=1)
        return day

    def add_working_days(self, day: dt.date, count: int) -> dt.date:
        """The `count`-th working day after `day` (0: `day` or the next working day)."""
        current = self.next_working_day(day)
        for _ in range(count):
            current = self.next_working_day(current + dt.timedelta(days=1))
        return current

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days d with start < d <= end (0 when end <= start)."""
        count = 0
        day = start + dt.timedelta(days=1)
        while day <= end:
            count += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return count


@lru_cache(maxsize=1)
def default_calendar() -> WorkingDayCalendar:
    """The calendar with the repository's overrides file (`OVERRIDES_PATH`), read once.
    Raises ValueError as `read_overrides` does."""
    return WorkingDayCalendar(read_overrides(OVERRIDES_PATH))


def holiday_name(day: dt.date) -> str | None:
    """`WorkingDayCalendar.holiday_name` with the repository's overrides."""
    return default_calendar().holiday_name(day)


@lru_cache(maxsize=8192)
def is_working_day(day: dt.date) -> bool:
    """`WorkingDayCalendar.is_working_day` with the repository's overrides."""
    return default_calendar().is_working_day(day)


def next_working_day(day: dt.date) -> dt.date:
    """`WorkingDayCalendar.next_working_day` with the repository's overrides."""
    return default_calendar().next_working_day(day)


def add_working_days(day: dt.date, count: int) -> dt.date:
    """`WorkingDayCalendar.add_working_days` with the repository's overrides."""
    return default_calendar().add_working_days(day, count)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """`WorkingDayCalendar.working_days_between` with the repository's overrides."""
    return default_calendar().working_days_between(start, end)
