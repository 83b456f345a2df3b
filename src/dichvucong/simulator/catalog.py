"""The simulated service catalog and its history (sources.md §2).

The catalog at any date is a pure function of the seed and the date: a base
catalog plus the changes published on the 15th of every month since
`CATALOG_EPOCH` (a fee, an online level or a deadline changes; now and then a
procedure is added or withdrawn; from 2022 procedures get connected to the
population database). Two runs over overlapping ranges therefore agree on
every snapshot.

Each change day also carries a publication decision (quyết định công bố): the
changed procedures, and a batch of one field's procedures republished after a
ministry's amendment, get a new decision date, legal-basis date, publication
date and count of published parts — mostly on time and complete, some late or
with parts missing, as group 1 of the 766 index measures. A publication date
after a snapshot's day is not yet known to that snapshot.

The attributes v1 had are drawn from the same random stream as in v1, so a
seed gives v1's procedures, online levels, deadlines and fees; the v2
attributes come from streams of their own.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace
from functools import lru_cache

from dichvucong.simulator.reference import FIELDS, PROVINCE_SUFFIX, Field

CATALOG_EPOCH = dt.date(2020, 1, 15)
POPULATION_DB_FROM = dt.date(2022, 1, 1)
LEVELS = ("TINH", "HUYEN", "XA")
CATALOG_COLUMNS = ("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "CapThucHien", "MaCoQuanChuTri", "MucDo",
                   "DuDieuKienToanTrinh", "ThoiHanGiaiQuyet", "DonViThoiHan", "PhiLePhi", "CoPhiLePhi",
                   "CoKetQuaGiay", "DoiTuongCongDan", "KetNoiCSDLDanCu", "NgayQuyetDinhCongBo",
                   "NgayHieuLucVanBan", "NgayCongKhai", "SoBoPhanCongKhai")
# Fields whose procedures are open to citizens (not only organisations), as a share of their procedures.
CITIZEN_SHARE = {"HT": 1.0, "CT": 1.0, "LLTP": 1.0, "DD": 0.9, "LDTBXH": 0.9, "GD": 0.8, "XD": 0.8,
                 "GTVT": 0.8, "DKKD": 0.2}
# Fields performed at both district and commune level for a large share of their procedures.
SHARED_LEVEL_FIELDS = {"HT": 0.5, "CT": 0.6}


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    field_code: str
    field_name: str
    department: str  # the department of its field (MaCoQuanChuTri when performed at province level)
    levels: tuple[str, ...]  # CapThucHien, in TINH, HUYEN, XA order
    by_branch: bool  # province-level work done by the district's land registration branch
    online_level: int  # MucDo: 1-2 not online, 3 online in part, 4 fully online
    deadline: int  # ThoiHanGiaiQuyet, in deadline_unit
    deadline_unit: str  # DonViThoiHan; "" is read as working days
    fee_vnd: int
    weight: float  # relative volume within its field
    full_online_eligible: bool
    fee_listed: bool  # CoPhiLePhi
    paper_result: bool  # CoKetQuaGiay
    citizens: bool  # DoiTuongCongDan
    population_db: bool  # KetNoiCSDLDanCu
    decided_on: dt.date | None  # NgayQuyetDinhCongBo
    legal_basis_on: dt.date | None  # NgayHieuLucVanBan
    public_on: dt.date | None  # NgayCongKhai
    public_parts: int  # SoBoPhanCongKhai

    @property
    def chair(self) -> str:
        """MaCoQuanChuTri: the department in charge of a province-level procedure."""
        return self.department if "TINH" in self.levels else ""


def _round_fee(value: float) -> int:
    return int(round(value / 1000.0)) * 1000


def _publication(rng: random.Random, decided: dt.date) -> dict[str, object]:
    """A publication decision: on time (≥ 5 working days before the legal basis takes effect, made
    public within 5 working days) and complete for most procedures."""
    if rng.random() < 0.8:
        legal_basis = decided + dt.timedelta(days=rng.randint(10, 45))
    else:
        legal_basis = decided + dt.timedelta(days=rng.randint(-30, 4))
    if rng.random() < 0.85:
        public = decided + dt.timedelta(days=rng.randint(0, 5))
    else:
        public = decided + dt.timedelta(days=rng.randint(9, 40))
    parts = 7 if rng.random() < 0.85 else rng.randint(4, 6)
    return {"decided_on": decided, "legal_basis_on": legal_basis, "public_on": public, "public_parts": parts}


def _levels(field: Field, level: str, rng: random.Random) -> tuple[tuple[str, ...], bool]:
    if field.code == "DD" and level == "HUYEN" and rng.random() < 0.75:
        return ("TINH",), True  # household land registration: the branch of the province's office
    share = SHARED_LEVEL_FIELDS.get(field.code, 0.08)
    others = [lv for lv, mix in zip(LEVELS, field.level_mix, strict=True) if mix > 0 and lv != level]
    if others and rng.random() < share:
        extra = rng.choice(others)
        return tuple(lv for lv in LEVELS if lv in (level, extra)), False
    return (level,), False


def _deadline(days: int, rng: random.Random) -> tuple[int, str]:
    draw = rng.random()
    if days <= 2 and draw < 0.15:
        return rng.choice((2, 4, 8, 16, 24)), "Gio"
    if days >= 20 and draw < 0.1:
        return max(1, round(days / 22)), "Thang"
    if draw > 0.94:
        return round(days * 7 / 5), "Ngay"
    if draw > 0.91:
        return days, ""
    return days, "NgayLamViec"


def _field_services(field: Field, rng: random.Random, extra: random.Random, first_number: int) -> list[Service]:
    weights = [1.0 / (rank**1.15) for rank in range(1, field.services + 1)]
    # Popular procedures were put online first: draw the online set by weight.
    pool = list(range(field.services))
    online: set[int] = set()
    while len(online) < field.online_services:
        pick = rng.choices(pool, weights=[weights[i] ** 0.5 for i in pool])[0]
        online.add(pick)
        pool.remove(pick)
    services = []
    for index in range(field.services):
        number = first_number + index
        code = f"1.{number:06d}"
        if rng.random() < 0.2:
            code += f".000.00.00.{PROVINCE_SUFFIX}"
        stem = field.name_stems[index % len(field.name_stems)]
        variant = index // len(field.name_stems)
        name = stem if variant == 0 else f"{stem} (trường hợp {variant + 1})"
        level = rng.choices(LEVELS, weights=field.level_mix)[0]
        if index in online:
            online_level = 4 if rng.random() < 0.45 else 3
        else:
            online_level = 2
        low, high = field.deadline_range
        days = rng.randint(low, high)
        fee = 0
        if rng.random() < field.fee_share:
            fee = _round_fee(rng.uniform(*field.fee_range))
        # v2 attributes, from their own stream.
        levels, by_branch = _levels(field, level, extra)
        if online_level == 2 and extra.random() < 0.3:
            online_level = 1
        deadline, unit = _deadline(days, extra)
        citizens = extra.random() < CITIZEN_SHARE.get(field.code, 0.5)
        eligible = online_level == 4 or extra.random() < (0.5 if online_level == 3 else 0.15)
        publication: dict[str, object] = {"decided_on": None, "legal_basis_on": None, "public_on": None,
                                          "public_parts": 7 if extra.random() < 0.8 else extra.randint(3, 6)}
        if extra.random() < 0.95:
            publication = _publication(extra, dt.date(2017, 3, 1) + dt.timedelta(days=extra.randint(0, 1000)))
        services.append(
            Service(
                code=code,
                name=name,
                field_code=field.code,
                field_name=field.name,
                department=field.department,
                levels=levels,
                by_branch=by_branch,
                online_level=online_level,
                deadline=deadline,
                deadline_unit=unit,
                fee_vnd=fee,
                weight=weights[index],
                full_online_eligible=eligible,
                fee_listed=extra.random() < (0.97 if fee > 0 else 0.04),
                paper_result=extra.random() < 0.85,
                citizens=citizens,
                population_db=citizens and extra.random() < 0.1,
                **publication,  # type: ignore[arg-type]
            )
        )
    return services


@lru_cache(maxsize=4)
def base_catalog(seed: int) -> tuple[Service, ...]:
    rng = random.Random(f"{seed}-catalog-base")
    extra = random.Random(f"{seed}-catalog-base-v2")
    services: list[Service] = []
    number = 4000
    for field in FIELDS:
        services.extend(_field_services(field, rng, extra, number))
        number += field.services + rng.randint(50, 400)
    return tuple(services)


def change_days(start: dt.date, end: dt.date) -> list[dt.date]:
    """Days in [start, end) on which the catalog changes."""
    days = []
    month = dt.date(start.year, start.month, 15)
    while month < end:
        if month >= start:
            days.append(month)
        month = dt.date(month.year + (month.month == 12), month.month % 12 + 1, 15)
    return days


def _apply_changes(seed: int, day: dt.date, services: dict[str, Service]) -> None:
    rng = random.Random(f"{seed}-catalog-{day.isoformat()}")
    extra = random.Random(f"{seed}-catalog-v2-{day.isoformat()}")
    codes = sorted(services)
    changed: set[str] = set()
    for code in rng.sample(codes, k=rng.randint(3, 8)):
        service = services[code]
        kind = rng.random()
        if kind < 0.45 and service.fee_vnd > 0:
            services[code] = replace(service, fee_vnd=_round_fee(service.fee_vnd * rng.uniform(0.8, 1.5)))
        elif kind < 0.75 and service.online_level in (2, 3):
            level = service.online_level + 1
            services[code] = replace(service, online_level=level,
                                     full_online_eligible=service.full_online_eligible or level == 4)
        else:
            floor = 1 if service.deadline_unit in ("Gio", "Thang") else 0
            services[code] = replace(service, deadline=max(floor, service.deadline - rng.randint(1, 3)))
        changed.add(code)
    if rng.random() < 0.3:
        template = services[rng.choice(codes)]
        new_code = f"2.{rng.randint(1000, 999999):06d}"
        if new_code not in services:
            services[new_code] = replace(template, code=new_code, name=f"{template.name} (mới)", online_level=4,
                                         full_online_eligible=True, weight=template.weight / 4)
            changed.add(new_code)
    if rng.random() < 0.2:
        level2 = [c for c in codes if services[c].online_level == 2]
        if level2:
            gone = rng.choice(level2)
            del services[gone]
            changed.discard(gone)
    # v2: connections to the population database, and the month's publication decision.
    if day >= POPULATION_DB_FROM:
        waiting = [c for c in sorted(services) if services[c].citizens and not services[c].population_db]
        for code in extra.sample(waiting, k=min(len(waiting), extra.randint(4, 14))):
            services[code] = replace(services[code], population_db=True)
    field_code = extra.choice(FIELDS).code
    in_field = [c for c in sorted(services) if services[c].field_code == field_code]
    changed.update(extra.sample(in_field, k=min(len(in_field), extra.randint(5, 25))))
    for code in sorted(changed):
        decided = day - dt.timedelta(days=extra.randint(8, 40))
        services[code] = replace(services[code], **_publication(extra, decided))  # type: ignore[arg-type]


@lru_cache(maxsize=64)
def catalog_at(seed: int, day: dt.date) -> tuple[Service, ...]:
    """The catalog in force on `day`: every change published on or before it."""
    services = {s.code: s for s in base_catalog(seed)}
    for change_day in change_days(CATALOG_EPOCH, day + dt.timedelta(days=1)):
        _apply_changes(seed, change_day, services)
    return tuple(services[c] for c in sorted(services))


def _date(day: dt.date | None) -> str:
    return day.isoformat() if day else ""


def catalog_row(service: Service, day: dt.date) -> list[str]:
    """The CSV row of `service` in the snapshot of `day` (a publication after `day` is not known yet)."""
    public_on = service.public_on if service.public_on and service.public_on <= day else None
    return [service.code, service.name, service.field_code, service.field_name, ";".join(service.levels),
            service.chair, str(service.online_level), str(int(service.full_online_eligible)), str(service.deadline),
            service.deadline_unit, str(service.fee_vnd), str(int(service.fee_listed)), str(int(service.paper_result)),
            str(int(service.citizens)), str(int(service.population_db)), _date(service.decided_on),
            _date(service.legal_basis_on), _date(public_on), str(service.public_parts)]
