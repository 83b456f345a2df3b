"""The `phu-tho-2025` scenario: Vĩnh Phúc, Hòa Bình and Phú Thọ, and their merger into Phú Thọ on
1 July 2025 (sources.md §1, metrics.md "Units and their history").

The units come from the seeds (`admin_units.py`): until 30 June 2025 the three provinces (codes 26,
17, 25) with their districts and communes — Vĩnh Phúc's communes merged on 1 January 2025 included —;
from 1 July 2025 the merged Phú Thọ (25) and its 148 communes and wards, no districts. Agency codes
follow `agencies.py`'s scheme (Decision 20/2020/QĐ-TTg, read from the right) with each province's
level-1 code: `H62` Vĩnh Phúc, `H30` Hòa Bình, `H44` Phú Thọ. The level-1 codes are numbered in the
order of the 63 province names written without diacritics (H29 Hồ Chí Minh, H35 Lai Châu, H38 Lào
Cai, H55 Thái Nguyên and H62 Vĩnh Phúc are all in published procedure codes); H30 and H44 are read
from that order, not from a published code.

Until 30 June 2025, per old province: its people's committee `000.00.00.<H>` (MaDVHC the province),
departments `000.00.01.<H>` … `000.00.15.<H>`, land registration branches `000.<i>.01.<H>` and
district committees `000.00.<30+i>.<H>` (districts in code order), commune committees
`000.<21+j>.<30+i>.<H>` under their district (communes in code order, those created on 1 January
2025 after the others). From 1 July 2025 the merged province's codes, which no published list gives
yet, are the simulator's own, under Phú Thọ's `H44`:

- the province's committee `000.00.00.H44` goes on (the merged province keeps Phú Thọ's name, code
  and seat); Vĩnh Phúc's and Hòa Bình's close, successor `000.00.00.H44`;
- the departments, merged by sector: `000.00.<50+n>.H44` for the old departments `000.00.<n>.<H>`
  of all three provinces, each of which closes with that successor;
- the land registration branches, one per former district area, `000.<k>.51.H44` under the merged
  land department (areas in district code order), no MaDVHC; each old branch's successor is the
  branch of its area;
- the communes' committees `000.<YY>.<ZZ>.H44`, in the order of their codes: YY = 01-99 in block
  ZZ = 70, then in block 71; parent the province's committee, MaDVHC the Decision 19/2025/QĐ-TTg
  code. An old commune's committee closes with the committee of the new commune its primary
  crosswalk link names (the same rule on 1 January 2025);
- the district committees close; the successor is the committee of the new commune that absorbed
  the district's seat, taken as its first town (thị trấn) in code order, else its first ward, else
  its first commune — the seat itself is in no seed.

Routing: an applicant lives in an old commune (weighted 1.5 for a ward or town, 1 for a rural
commune; Vĩnh Phúc's districts keep their reference shares) and each province's volume is its
population over Vĩnh Phúc's (1.2 M: 0.9 M Hòa Bình, 1.5 M Phú Thọ), so the scenario is about three
times the default one. After 30 June the applicant's old commune stands for the new commune that
absorbed it, and district-level procedures are done by the commune. The catalog keeps its
procedures; from 1 July 2025 its MaCoQuanChuTri is the merged department and its CapThucHien says
XA where it said HUYEN. Before, it names Vĩnh Phúc's departments, as the default catalog does.

A dossier in flight when its agency closes keeps its MaHoSo and is handed to the successor: what
changes from that day is sent by the successor's outbox (an `update` once the portal holds the
dossier), its steps are the successor's offices' and DonViXuLy names the successor. The old system
makes no call from that day.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import accumulate
from pathlib import Path

from dichvucong.simulator.admin_units import (
    CROSSWALK_FILE,
    REFERENCE_DIR,
    UNITS_FILE,
    AdminUnit,
    Link,
    load_crosswalk,
    load_units,
)
from dichvucong.simulator.agencies import AGENCY_LIST_SINCE, Agency, snapshot
from dichvucong.simulator.catalog import Service, catalog_row
from dichvucong.simulator.reference import DEPARTMENTS, DISTRICTS, LAND_BRANCH_LATE_RATE, Commune, District

SCENARIO = "phu-tho-2025"
REORGANISATION = dt.date(2025, 7, 1)
REFERENCE_POPULATION_M = 1.2  # Vĩnh Phúc's, the default scenario's volume
MERGED_PROVINCE = "25"
MERGED_SUFFIX = "H44"
MERGED_COMMITTEE = f"000.00.00.{MERGED_SUFFIX}"
NEW_DEPARTMENT_OFFSET = 50
NEW_LAND_DEPARTMENT = f"000.00.{NEW_DEPARTMENT_OFFSET + 1:02d}.{MERGED_SUFFIX}"
FIRST_COMMUNE_BLOCK = 70
COMMUNES_PER_BLOCK = 99
LAND_SECTOR = 1
_DISTRICT_PREFIXES = ("Thành phố ", "Thị xã ", "Huyện ", "Quận ")


@dataclass(frozen=True)
class OldProvince:
    code: str  # MaDVHC until 30 June 2025
    suffix: str  # level-1 agency code
    population_m: float


PROVINCES = (OldProvince("26", "H62", 1.2), OldProvince("17", "H30", 0.9), OldProvince("25", "H44", 1.5))


@dataclass(frozen=True)
class Location:
    """Where an applicant lives, and the agencies that serve it on the days of one period."""

    province: str  # old province code
    district: str  # old district code
    commune: Commune  # for addresses: the commune as the day knows it
    area: District  # for addresses: its district, or the province after 30 June 2025
    commune_agency: Agency  # XA-level work
    local_agency: Agency  # HUYEN-level work: the district's committee, the commune's after 30 June 2025
    branch: Agency  # province-level land registration
    departments: Mapping[int, Agency]  # by sector (the ZZ of the default scenario's department codes)


@dataclass(frozen=True)
class Period:
    locations: tuple[Location, ...]
    cumulative: tuple[float, ...]  # cumulative weights: the province's volume over Vĩnh Phúc's in all


def sector(department_code: str) -> int:
    """The sector of a department code `000.00.<n>.<H>`: n."""
    return int(department_code.split(".")[2])


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _area_name(district_name: str) -> str:
    for prefix in _DISTRICT_PREFIXES:
        if district_name.startswith(prefix):
            return district_name[len(prefix):]
    return district_name


def _since(unit: AdminUnit) -> dt.date:
    return max(AGENCY_LIST_SINCE, unit.valid_from) if unit.valid_from else AGENCY_LIST_SINCE


def _urban_weight(name: str) -> float:
    return 1.0 if name.startswith("Xã") else 1.5


class World:
    """The agencies of the three provinces and of the merged one, dated, and where dossiers go.

    Raises ValueError when the seeds lack a province, an old commune has no primary link on the day
    it closes, or two agencies would share a code."""

    def __init__(self, units: tuple[AdminUnit, ...], links: tuple[Link, ...]) -> None:
        codes = {p.code for p in PROVINCES}
        self.units = tuple(u for u in units if u.province in codes)
        self._primary = {(link.old_code, link.old_level, link.effective): link.new_code
                         for link in links if link.primary}
        self.volume_factor = sum(p.population_m for p in PROVINCES) / REFERENCE_POPULATION_M
        self._unit_agency: dict[tuple[str, dt.date | None], Agency] = {}
        self._district_agency: dict[str, Agency] = {}
        self._old_branch: dict[str, Agency] = {}
        self._new_branch: dict[str, Agency] = {}
        self._departments: dict[str, dict[int, Agency]] = {}
        self._district_province: dict[str, str] = {}
        agencies = self._build()
        self.agencies = tuple(agencies)
        self.by_code = {a.code: a for a in self.agencies}
        if len(self.by_code) != len(self.agencies):
            raise ValueError("two agencies of the merged scenario share a code")
        self._periods: dict[dt.date | None, Period] = {}
        self._change_days = self.change_days(AGENCY_LIST_SINCE, dt.date.max)
        self._chains: dict[str, tuple[tuple[dt.date, Agency], ...]] = {}

    # --- the agency list ---------------------------------------------------------------

    def _unit(self, code: str, level: str, day: dt.date) -> AdminUnit:
        for unit in self.units:
            if unit.code == code and unit.level == level and unit.valid_on(day):
                return unit
        raise ValueError(f"no {level} {code} in force on {day} in the administrative units seed")

    def _successor_unit(self, unit: AdminUnit) -> AdminUnit:
        assert unit.valid_to is not None
        new_code = self._primary.get((unit.code, unit.level, unit.valid_to))
        if new_code is None:
            raise ValueError(f"{unit.level} {unit.code} ({unit.name}) closes on {unit.valid_to} with no primary "
                             f"link in the crosswalk seed")
        return self._unit(new_code, unit.level, unit.valid_to)

    def _build(self) -> list[Agency]:
        eve = REORGANISATION - dt.timedelta(days=1)
        department_late = {sector(d.code): d.late_rate for d in DEPARTMENTS}
        merged = self._unit(MERGED_PROVINCE, "province", REORGANISATION)
        new_departments = {n: Agency(f"000.00.{NEW_DEPARTMENT_OFFSET + n:02d}.{MERGED_SUFFIX}",
                                     f"{d.name} {_lower_first(merged.name)}", "TINH", MERGED_COMMITTEE, "",
                                     "department", d.late_rate, REORGANISATION)
                           for d in DEPARTMENTS for n in [sector(d.code)]}
        committees: list[Agency] = []
        departments: list[Agency] = []
        communes: list[AdminUnit] = []
        all_districts: list[tuple[AdminUnit, float]] = []
        for province in PROVINCES:
            unit = self._unit(province.code, "province", eve)
            committee = f"000.00.00.{province.suffix}"
            if province.code == MERGED_PROVINCE:
                committees.append(Agency(committee, f"UBND {_lower_first(unit.name)}", "TINH", "", province.code,
                                         "province", 0.01))
            else:
                committees.append(Agency(committee, f"UBND {_lower_first(unit.name)}", "TINH", "", province.code,
                                         "province", 0.01, AGENCY_LIST_SINCE, REORGANISATION, MERGED_COMMITTEE))
            own = {n: Agency(f"000.00.{n:02d}.{province.suffix}", f"{d.name} {_lower_first(unit.name)}", "TINH",
                             committee, "", "department", department_late[n], AGENCY_LIST_SINCE, REORGANISATION,
                             new_departments[n].code)
                   for d in DEPARTMENTS for n in [sector(d.code)]}
            self._departments[province.code] = own
            departments.extend(own.values())
            old_districts = sorted((u for u in self.units if u.level == "district" and u.province == province.code
                                    and (u.valid_from is None or u.valid_from < REORGANISATION)),
                                   key=lambda u: u.code)
            for index, district in enumerate(old_districts):
                late = LAND_BRANCH_LATE_RATE.get(district.code, 0.03 + 0.01 * (int(district.code) % 6))
                branch = Agency(f"000.{index + 1:02d}.01.{province.suffix}",
                                f"Chi nhánh Văn phòng đăng ký đất đai {_lower_first(district.name)}", "TINH",
                                own[LAND_SECTOR].code, district.code, "branch", late, _since(district),
                                district.valid_to)
                self._old_branch[district.code] = branch
                self._district_province[district.code] = province.code
                all_districts.append((district, late))
                number = 30 + index
                committee_code = f"000.00.{number}.{province.suffix}"
                self._district_agency[district.code] = Agency(
                    committee_code, f"UBND {_lower_first(district.name)}", "HUYEN", committee, district.code,
                    "district", 0.008 + 0.003 * (index % 5), _since(district), district.valid_to)
                in_district = sorted((u for u in self.units if u.level == "commune" and u.parent == district.code
                                      and (u.valid_from is None or u.valid_from < REORGANISATION)),
                                     key=lambda u: (_since(u), u.code))
                for offset, commune in enumerate(in_district):
                    agency = Agency(f"000.{21 + offset:02d}.{number}.{province.suffix}",
                                    f"UBND {_lower_first(commune.name)}", "XA", committee_code, commune.code,
                                    "commune", 0.003 + 0.001 * (int(commune.code) % 5), _since(commune),
                                    commune.valid_to)
                    self._unit_agency[(commune.code, commune.valid_from)] = agency
                    communes.append(commune)
        new_branches = []
        for k, (district, late) in enumerate(sorted(all_districts, key=lambda d: d[0].code)):
            branch = Agency(f"000.{k + 1:02d}.{NEW_DEPARTMENT_OFFSET + LAND_SECTOR:02d}.{MERGED_SUFFIX}",
                            f"Chi nhánh Văn phòng đăng ký đất đai khu vực {_area_name(district.name)}", "TINH",
                            NEW_LAND_DEPARTMENT, "", "branch", late, REORGANISATION)
            new_branches.append(branch)
            self._new_branch[district.code] = branch
        new_communes = []
        merged_units = sorted((u for u in self.units if u.level == "commune" and u.province == MERGED_PROVINCE
                               and u.valid_from == REORGANISATION), key=lambda u: u.code)
        for index, commune in enumerate(merged_units):
            block, number = divmod(index, COMMUNES_PER_BLOCK)
            agency = Agency(f"000.{number + 1:02d}.{FIRST_COMMUNE_BLOCK + block:02d}.{MERGED_SUFFIX}",
                            f"UBND {_lower_first(commune.name)}", "XA", MERGED_COMMITTEE, commune.code, "commune",
                            0.003 + 0.001 * (int(commune.code) % 5), REORGANISATION, commune.valid_to)
            self._unit_agency[(commune.code, commune.valid_from)] = agency
            new_communes.append(agency)
        self._new_departments = new_departments
        self._merged_name = merged.name
        # Successors: of the communes (the crosswalk), of the districts (their seat), of the branches.
        old_communes = []
        for commune in communes:
            agency = self._unit_agency[(commune.code, commune.valid_from)]
            if commune.valid_to is not None:
                successor = self._successor_unit(commune)
                agency = replace(agency, successor=self._unit_agency[(successor.code, successor.valid_from)].code)
                self._unit_agency[(commune.code, commune.valid_from)] = agency
            old_communes.append(agency)
        for code, district_committee in list(self._district_agency.items()):
            successor = self._successor_unit(self._seat(code, eve))
            self._district_agency[code] = replace(
                district_committee, successor=self._unit_agency[(successor.code, successor.valid_from)].code)
        for code, branch in list(self._old_branch.items()):
            self._old_branch[code] = replace(branch, successor=self._new_branch[code].code)
        return [*committees, *departments, *self._old_branch.values(), *self._district_agency.values(),
                *old_communes, *new_departments.values(), *new_branches, *new_communes]

    def _seat(self, district: str, day: dt.date) -> AdminUnit:
        """The commune taken as a district's seat: its first town, else its first ward, else its first commune."""
        communes = sorted((u for u in self.units if u.level == "commune" and u.parent == district and u.valid_on(day)),
                          key=lambda u: u.code)
        for kind in ("Thị trấn", "Phường"):
            for commune in communes:
                if commune.name.startswith(kind):
                    return commune
        if not communes:
            raise ValueError(f"district {district} has no commune on {day} in the administrative units seed")
        return communes[0]

    def change_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Days in [start, end) on which the agency list changes (2025-01-01 and 2025-07-01)."""
        days = {a.valid_from for a in self.agencies if a.valid_from > AGENCY_LIST_SINCE}
        days |= {a.valid_to for a in self.agencies if a.valid_to is not None}
        return sorted(d for d in days if start <= d < end)

    def snapshot(self, day: dt.date, previous: dt.date | None = None) -> list[Agency]:
        """The agency list of `day` (sources.md §1): in force on it, and closed since `previous`."""
        return snapshot(self.agencies, day, previous)

    # --- where dossiers go -------------------------------------------------------------

    def period(self, day: dt.date) -> Period:
        """The applicants' locations and their agencies on `day`: the same from one change day to the next."""
        changes = [d for d in self._change_days if d <= day]
        key = changes[-1] if changes else None
        if key not in self._periods:
            self._periods[key] = self._period(day)
        return self._periods[key]

    def _period(self, day: dt.date) -> Period:
        merged = day >= REORGANISATION
        seen = REORGANISATION - dt.timedelta(days=1) if merged else day
        reference_share = {d.code: d.weight for d in DISTRICTS}
        raw: dict[str, list[tuple[AdminUnit, float]]] = defaultdict(list)
        for unit in sorted(self.units, key=lambda u: u.code):
            if unit.level == "commune" and unit.parent in self._district_province and unit.valid_on(seen):
                raw[unit.parent].append((unit, _urban_weight(unit.name)))
        population = {p.code: p.population_m / REFERENCE_POPULATION_M for p in PROVINCES}
        district_weight: dict[str, float] = {}
        for district, members in raw.items():
            total = sum(w for _, w in members)
            district_weight[district] = reference_share.get(district, total)
        province_total: dict[str, float] = defaultdict(float)
        for district in raw:
            province_total[self._district_province[district]] += district_weight[district]
        locations, weights = [], []
        area = District(MERGED_PROVINCE, self._merged_name, 1.0, ())
        for district, members in raw.items():
            committee = self._district_agency[district]
            province_code = self._district_province[district]
            total = sum(w for _, w in members)
            share = district_weight[district] / province_total[province_code] * population[province_code]
            district_unit = self._unit(district, "district", seen)
            for unit, weight in members:
                commune_agency = self._unit_agency[(unit.code, unit.valid_from)]
                if merged:
                    new = self._successor_unit(unit)
                    commune_agency = self._unit_agency[(new.code, new.valid_from)]
                    locations.append(Location(province_code, district, Commune(new.code, new.name), area,
                                              commune_agency, commune_agency, self._new_branch[district],
                                              self._new_departments))
                else:
                    locations.append(Location(province_code, district, Commune(unit.code, unit.name),
                                              District(district, district_unit.name, 1.0, ()), commune_agency,
                                              committee, self._old_branch[district],
                                              self._departments[province_code]))
                weights.append(share * weight / total)
        return Period(tuple(locations), tuple(accumulate(weights)))

    def handover(self, agency: Agency) -> tuple[tuple[dt.date, Agency], ...]:
        """The agencies that take over an agency's dossiers in flight, each with the day it does:
        its successor from the day it closes, that one's successor from the day that one closes, …"""
        chain = self._chains.get(agency.code)
        if chain is None:
            links: list[tuple[dt.date, Agency]] = []
            current = agency
            while current.valid_to is not None and current.successor and len(links) < 10:
                successor = self.by_code[current.successor]
                links.append((current.valid_to, successor))
                current = successor
            chain = self._chains[agency.code] = tuple(links)
        return chain

    # --- the catalog -------------------------------------------------------------------

    def catalog_change_days(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Days in [start, end) on which the catalog changes besides its own change days: 2025-07-01."""
        return [REORGANISATION] if start <= REORGANISATION < end else []

    def catalog_row(self, service: Service, day: dt.date) -> list[str]:
        """`catalog.catalog_row`, with the merged department in charge and district-level work done by
        the communes from 2025-07-01."""
        row = catalog_row(service, day)
        if day >= REORGANISATION:
            row[4] = ";".join(dict.fromkeys("XA" if level == "HUYEN" else level for level in service.levels))
            row[5] = self._new_departments[sector(service.chair)].code if service.chair else ""
        return row


@lru_cache(maxsize=2)
def world(reference_dir: Path = REFERENCE_DIR) -> World:
    """The merged scenario's world, from the seeds under `reference_dir` (read once)."""
    return World(load_units(reference_dir / UNITS_FILE), load_crosswalk(reference_dir / CROSSWALK_FILE))
