"""The simulated service catalog and its history.

The catalog at any date is a pure function of the seed and the date: a base
catalog plus the changes published on the 15th of every month since
`CATALOG_EPOCH` (a fee, an online level or a deadline changes; now and then a
procedure is added or withdrawn). Two runs over overlapping ranges therefore
agree on every snapshot.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, replace
from functools import lru_cache

from dichvucong.simulator.reference import DEPARTMENTS, FIELDS, PROVINCE_SUFFIX, Field

CATALOG_EPOCH = dt.date(2020, 1, 15)
LEVELS = ("TINH", "HUYEN", "XA")


@dataclass(frozen=True)
class Service:
    code: str
    name: str
    field_code: str
    field_name: str
    agency_code: str
    agency_name: str
    level: str  # CapThucHien
    online_level: int  # MucDo: 2 = information only, 3 = online in part, 4 = fully online
    deadline_days: int
    fee_vnd: int
    weight: float  # relative volume within its field


_DEPARTMENT_NAMES = {d.code: d.name for d in DEPARTMENTS}


def _round_fee(value: float) -> int:
    return int(round(value / 1000.0)) * 1000


def _field_services(field: Field, rng: random.Random, first_number: int) -> list[Service]:
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
        deadline = rng.randint(low, high)
        fee = 0
        if rng.random() < field.fee_share:
            fee = _round_fee(rng.uniform(*field.fee_range))
        services.append(
            Service(
                code=code,
                name=name,
                field_code=field.code,
                field_name=field.name,
                agency_code=field.department,
                agency_name=_DEPARTMENT_NAMES[field.department],
                level=level,
                online_level=online_level,
                deadline_days=deadline,
                fee_vnd=fee,
                weight=weights[index],
            )
        )
    return services


@lru_cache(maxsize=4)
def base_catalog(seed: int) -> tuple[Service, ...]:
    rng = random.Random(f"{seed}-catalog-base")
    services: list[Service] = []
    number = 4000
    for field in FIELDS:
        services.extend(_field_services(field, rng, number))
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
    codes = sorted(services)
    for code in rng.sample(codes, k=rng.randint(3, 8)):
        service = services[code]
        kind = rng.random()
        if kind < 0.45 and service.fee_vnd > 0:
            services[code] = replace(service, fee_vnd=_round_fee(service.fee_vnd * rng.uniform(0.8, 1.5)))
        elif kind < 0.75 and service.online_level in (2, 3):
            services[code] = replace(service, online_level=service.online_level + 1)
        else:
            services[code] = replace(service, deadline_days=max(0, service.deadline_days - rng.randint(1, 3)))
    if rng.random() < 0.3:
        template = services[rng.choice(codes)]
        new_code = f"2.{rng.randint(1000, 999999):06d}"
        if new_code not in services:
            services[new_code] = replace(
                template, code=new_code, name=f"{template.name} (mới)", online_level=4, weight=template.weight / 4
            )
    if rng.random() < 0.2:
        level2 = [c for c in codes if services[c].online_level == 2]
        if level2:
            del services[rng.choice(level2)]


@lru_cache(maxsize=64)
def catalog_at(seed: int, day: dt.date) -> tuple[Service, ...]:
    """The catalog in force on `day`: every change published on or before it."""
    services = {s.code: s for s in base_catalog(seed)}
    for change_day in change_days(CATALOG_EPOCH, day + dt.timedelta(days=1)):
        _apply_changes(seed, change_day, services)
    return tuple(services[c] for c in sorted(services))
