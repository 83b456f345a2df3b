"""The agency list and its codes (Decision 20/2020/QĐ-TTg), and the uptake curves the simulator uses."""

from __future__ import annotations

import datetime as dt

from dichvucong.simulator.agencies import agencies_at, change_days, directory
from dichvucong.simulator.generator import (
    data_reuse_uptake,
    digitisation_uptake,
    payment_uptake,
    population_db_uptake,
    vneid_uptake,
)
from dichvucong.simulator.reference import DISTRICTS


def test_codes_follow_one_scheme() -> None:
    d = directory()
    assert len({a.code for a in d.agencies}) == len(d.agencies)
    for index, district in enumerate(DISTRICTS):
        committee = d.districts[district.code]
        assert committee.code == f"000.00.{30 + index}.H62" and committee.unit_code == district.code
        branch = d.land_branches[district.code]
        assert branch.code == f"000.{index + 1:02d}.01.H62" and branch.parent == "000.00.01.H62"
        assert branch.level == "TINH" and branch.unit_code == district.code
        for commune in district.communes:
            agency = d.communes[commune.code]
            assert agency.parent == committee.code and agency.code.endswith(f".{30 + index}.H62")
            assert int(agency.code.split(".")[1]) >= 21 and agency.name.startswith("UBND ")
    assert d.communes["08707"].code == "000.21.30.H62"  # Phường Tích Sơn, the first commune of Vĩnh Yên
    assert sum(len(district.communes) for district in DISTRICTS) == 121


def test_the_list_is_dated() -> None:
    # No change yet; the 1 July 2025 reorganisation will add its change day and dated rows here.
    assert change_days(dt.date(2020, 1, 1), dt.date(2026, 1, 1)) == []
    assert len(agencies_at(dt.date(2024, 1, 1))) == len(directory().agencies)
    assert agencies_at(dt.date(2019, 12, 31)) == []


def test_uptakes_start_rare_and_grow() -> None:
    assert payment_uptake(dt.date(2021, 1, 1)) < 0.03
    uptake = [payment_uptake(dt.date(year, 9, 1)) for year in (2022, 2023, 2024)]
    assert uptake == sorted(uptake) and uptake[0] < uptake[-1] / 3
    assert vneid_uptake(dt.date(2022, 1, 1)) == 0
    for curve in (digitisation_uptake, vneid_uptake, population_db_uptake, data_reuse_uptake):
        values = [curve(dt.date(year, 6, 1)) for year in (2022, 2023, 2024, 2025)]
        assert values == sorted(values) and values[0] < values[-1] <= 1
