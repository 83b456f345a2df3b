"""The administrative units and their crosswalk, as the seeds `data/reference/admin_units.csv` and
`data/reference/admin_unit_crosswalk.csv` hold them (metrics.md, "Units and their history").

- `admin_units.csv`: one row per unit and period — unit_code (text, leading zeros kept: province 2
  digits, district 3, commune 5), unit_level (`province`, `district`, `commune`), unit_name,
  parent_code (the district of a commune before 1 July 2025, the province after), province_code,
  valid_from and valid_to (`yyyy-MM-dd`, half-open; empty = since ever / still in force). The same
  code can name two units in two periods.
- `admin_unit_crosswalk.csv`: one row per old→new link — old_unit_code, old_unit_level,
  new_unit_code, new_unit_level, effective_date (the first day of the new unit), is_partial (only
  part of the old unit went there), is_primary (the link that holds the old unit's seat: exactly one
  per old unit and day). The old unit is the one in force the day before effective_date, the new
  one the one in force on it.

The seeds are built from an official package (their provenance and checksums are in
`admin_units_provenance.json`); the simulator reads them, it never holds codes of its own.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from dichvucong.config import REPO_ROOT

REFERENCE_DIR = REPO_ROOT / "data" / "reference"
UNITS_FILE = "admin_units.csv"
CROSSWALK_FILE = "admin_unit_crosswalk.csv"
UNIT_COLUMNS = ("unit_code", "unit_level", "unit_name", "parent_code", "province_code", "valid_from", "valid_to")
CROSSWALK_COLUMNS = ("old_unit_code", "old_unit_level", "new_unit_code", "new_unit_level", "effective_date",
                     "is_partial", "is_primary")
LEVELS = ("province", "district", "commune")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class AdminUnit:
    code: str
    level: str  # province, district, commune
    name: str
    parent: str
    province: str
    valid_from: dt.date | None  # None: since before any date the simulator writes
    valid_to: dt.date | None  # None: still in force

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day < self.valid_to)


@dataclass(frozen=True)
class Link:
    old_code: str
    old_level: str
    new_code: str
    new_level: str
    effective: dt.date
    partial: bool
    primary: bool


def _rows(path: Path, columns: tuple[str, ...]) -> list[dict[str, str]]:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: the administrative units seed is missing; the merged scenario needs it "
                                f"(columns {', '.join(columns)})")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        if tuple(reader.fieldnames or ()) != columns:
            raise ValueError(f"{path}: header {reader.fieldnames} is not {list(columns)}")
        return list(reader)


def _date(text: str, where: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{where}: {text!r} is not a date (yyyy-MM-dd)") from None


def _flag(text: str, where: str) -> bool:
    try:
        return _BOOLEANS[text.strip().lower()]
    except KeyError:
        raise ValueError(f"{where}: {text!r} is not a boolean (true/false)") from None


def load_units(path: Path = REFERENCE_DIR / UNITS_FILE) -> tuple[AdminUnit, ...]:
    """Every row of the units seed. Raises FileNotFoundError when it is missing and ValueError on a
    header other than UNIT_COLUMNS, an unknown level or a value that is not a date."""
    units = []
    for number, row in enumerate(_rows(path, UNIT_COLUMNS), start=2):
        where = f"{path.name} line {number}"
        if row["unit_level"] not in LEVELS:
            raise ValueError(f"{where}: unit_level {row['unit_level']!r} is not one of {LEVELS}")
        units.append(AdminUnit(row["unit_code"], row["unit_level"], row["unit_name"], row["parent_code"],
                               row["province_code"], _date(row["valid_from"], where), _date(row["valid_to"], where)))
    return tuple(units)


def load_crosswalk(path: Path = REFERENCE_DIR / CROSSWALK_FILE) -> tuple[Link, ...]:
    """Every row of the crosswalk seed; the same errors as `load_units`, and ValueError on a row
    without an effective date."""
    links = []
    for number, row in enumerate(_rows(path, CROSSWALK_COLUMNS), start=2):
        where = f"{path.name} line {number}"
        effective = _date(row["effective_date"], where)
        if effective is None:
            raise ValueError(f"{where}: effective_date is empty")
        links.append(Link(row["old_unit_code"], row["old_unit_level"], row["new_unit_code"], row["new_unit_level"],
                          effective, _flag(row["is_partial"], where), _flag(row["is_primary"], where)))
    return tuple(links)
