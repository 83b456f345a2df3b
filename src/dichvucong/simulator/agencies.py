"""The province's agencies and their electronic identifier codes (sources.md §1).

Codes follow Decision 20/2020/QĐ-TTg: `XXX.YY.ZZ.H62`, read from the right —
`H62` is Vĩnh Phúc (level 1), `ZZ` an agency directly under the province
(level 2), `YY` one under that agency (level 3), `XXX` one level further down
(level 4, unused here). The simulator's scheme:

- the province's people's committee: `000.00.00.H62`, TINH, no parent,
  MaDVHC `26`;
- a department (sở, ngành): ZZ = 01-15, `000.00.01.H62` … `000.00.15.H62`,
  TINH, parent the province's committee, no MaDVHC;
- a department's branch: YY = 01-20 under its department — the land
  registration branches, one per district in district order, `000.01.01.H62`
  … `000.09.01.H62`; TINH, parent its department, MaDVHC the district it
  serves (3 digits);
- a district people's committee: ZZ = 30-38 in district order,
  `000.00.30.H62` … `000.00.38.H62`; HUYEN, parent the province's committee,
  MaDVHC the district (3 digits);
- a district office: YY = 01-20 under its district (reserved: none listed);
- a commune people's committee: YY = 21 onwards under its district, in the
  order of the commune codes, `000.21.30.H62` …; XA, parent its district's
  committee, MaDVHC the commune (5 digits).

Every row holds from `AGENCY_LIST_SINCE`; none has closed yet. The list is a
function of the day (`agencies_at`) and snapshots are written on the first
day of a range and on every day in `change_days`. This is the single-province
world of the default scenario (`vinh-phuc`); the 1 July 2025 reorganisation
(Phú Thọ, code 25: new communes, no districts, departments merged) is the
`phu-tho-2025` scenario of `merged.py`, whose dated rows (`valid_to`,
`successor`) go through the same `snapshot` and writers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from dichvucong.simulator.reference import (
    DEPARTMENTS,
    DISTRICTS,
    LAND_BRANCH_LATE_RATE,
    PROVINCE_CODE,
    PROVINCE_NAME,
    PROVINCE_SUFFIX,
)

AGENCY_LIST_SINCE = dt.date(2020, 1, 1)
AGENCY_COLUMNS = ("MaDinhDanh", "TenCoQuan", "CapCoQuan", "MaCoQuanCha", "MaDVHC", "NgayHieuLuc",
                  "NgayHetHieuLuc", "MaCoQuanKeThua")
PROVINCE_COMMITTEE = f"000.00.00.{PROVINCE_SUFFIX}"
LAND_DEPARTMENT = f"000.00.01.{PROVINCE_SUFFIX}"
FIRST_DISTRICT_NUMBER = 30
FIRST_COMMUNE_NUMBER = 21


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    level: str  # CapCoQuan
    parent: str
    unit_code: str  # MaDVHC
    kind: str  # province, department, branch, district, commune: picks titles and offices
    late_rate: float  # share of its dossiers finished late
    valid_from: dt.date = AGENCY_LIST_SINCE
    valid_to: dt.date | None = None
    successor: str = ""


@dataclass(frozen=True)
class Directory:
    """Every agency, and the ones a dossier is routed to."""

    agencies: tuple[Agency, ...]
    departments: dict[str, Agency]  # by code
    land_branches: dict[str, Agency]  # by district code
    districts: dict[str, Agency]  # by district code
    communes: dict[str, Agency]  # by commune code


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


@lru_cache(maxsize=1)
def directory() -> Directory:
    province = Agency(PROVINCE_COMMITTEE, f"UBND {PROVINCE_NAME}", "TINH", "", PROVINCE_CODE, "province", 0.01)
    departments = {d.code: Agency(d.code, d.name, "TINH", PROVINCE_COMMITTEE, "", "department", d.late_rate)
                   for d in DEPARTMENTS}
    land_branches, districts, communes = {}, {}, {}
    for index, district in enumerate(DISTRICTS):
        number = FIRST_DISTRICT_NUMBER + index
        land_branches[district.code] = Agency(
            f"000.{index + 1:02d}.01.{PROVINCE_SUFFIX}",
            f"Chi nhánh Văn phòng đăng ký đất đai {_lower_first(district.name)}",
            "TINH", LAND_DEPARTMENT, district.code, "branch", LAND_BRANCH_LATE_RATE[district.code])
        committee = Agency(f"000.00.{number}.{PROVINCE_SUFFIX}", f"UBND {_lower_first(district.name)}", "HUYEN",
                           PROVINCE_COMMITTEE, district.code, "district", 0.008 + 0.003 * (index % 5))
        districts[district.code] = committee
        for offset, commune in enumerate(sorted(district.communes, key=lambda c: c.code)):
            communes[commune.code] = Agency(
                f"000.{FIRST_COMMUNE_NUMBER + offset:02d}.{number}.{PROVINCE_SUFFIX}",
                f"UBND {_lower_first(commune.name)}", "XA", committee.code, commune.code, "commune",
                0.003 + 0.001 * (int(commune.code) % 5))
    agencies = (province, *departments.values(), *land_branches.values(), *districts.values(), *communes.values())
    return Directory(agencies, departments, land_branches, districts, communes)


def change_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Days in [start, end) on which the default scenario's agency list changes: none."""
    return []


def agencies_at(day: dt.date, previous: dt.date | None = None) -> list[Agency]:
    """The snapshot of `day`: agencies in force on it, and those closed since the snapshot of `previous`."""
    return snapshot(directory().agencies, day, previous)


def snapshot(agencies: Iterable[Agency], day: dt.date, previous: dt.date | None = None) -> list[Agency]:
    """The rows of `agencies` a snapshot of `day` lists (sources.md §1), in their order: those in force
    on `day` and those closed after the snapshot of `previous` (none when `previous` is None)."""
    rows = []
    for agency in agencies:
        if agency.valid_from > day:
            continue
        closed_on = agency.valid_to
        if closed_on is None or closed_on > day or previous is not None and closed_on > previous:
            rows.append(agency)
    return rows


def agency_row(agency: Agency) -> tuple[str, ...]:
    return (agency.code, agency.name, agency.level, agency.parent, agency.unit_code, agency.valid_from.isoformat(),
            agency.valid_to.isoformat() if agency.valid_to else "", agency.successor)
