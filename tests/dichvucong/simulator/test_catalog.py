"""The simulated catalog, its history and its publication decisions."""

from __future__ import annotations

import datetime as dt

from dichvucong.simulator.catalog import catalog_at, catalog_row, change_days


def test_catalog_is_larger_than_its_744_online_services() -> None:
    services = catalog_at(2022, dt.date(2020, 1, 1))
    online = [s for s in services if s.online_level in (3, 4)]
    assert len(online) == 744
    assert len(services) > 1.5 * len(online)
    assert len({s.field_code for s in services}) >= 10
    assert any(s.fee_vnd == 0 for s in services) and any(s.fee_vnd > 0 for s in services)
    # Changes put more procedures online: still about 744 during 2022.
    for day in (dt.date(2022, 1, 1), dt.date(2022, 12, 31)):
        assert 700 <= sum(s.online_level in (3, 4) for s in catalog_at(2022, day)) <= 820


def test_catalog_changes_apply_from_their_day() -> None:
    before = {s.code: s for s in catalog_at(2022, dt.date(2022, 8, 14))}
    after = {s.code: s for s in catalog_at(2022, dt.date(2022, 8, 15))}
    changed = [c for c in before if c in after and before[c] != after[c]]
    assert changed, "the 15th of a month publishes changes"
    assert catalog_at(2022, dt.date(2022, 8, 1)) == catalog_at(2022, dt.date(2022, 8, 14))
    assert change_days(dt.date(2022, 8, 1), dt.date(2022, 10, 1)) == [dt.date(2022, 8, 15), dt.date(2022, 9, 15)]


def test_each_change_day_publishes_a_decision() -> None:
    day = dt.date(2023, 4, 15)
    decided = [s for s in catalog_at(2022, day) if s.decided_on and day - dt.timedelta(days=40) <= s.decided_on < day]
    assert len(decided) >= 5
    # Mostly on time (decided ≥ 5 working days before the legal basis, public within 5 days) and complete.
    on_time = [s for s in decided if s.legal_basis_on and (s.legal_basis_on - s.decided_on).days >= 10]
    assert len(on_time) >= len(decided) / 2
    # A publication after the snapshot's day is not known to that snapshot.
    pending = [s for s in decided if s.public_on and s.public_on > day]
    for service in pending:
        assert catalog_row(service, day)[17] == ""
        assert catalog_row(service, service.public_on)[17] == service.public_on.isoformat()  # type: ignore[union-attr]


def test_population_database_connections_grow_from_2022() -> None:
    connected = [sum(s.population_db for s in catalog_at(2022, dt.date(year, 6, 1))) for year in (2021, 2022, 2024)]
    assert connected[0] == sum(s.population_db for s in catalog_at(2022, dt.date(2020, 1, 1)))
    assert connected[0] < connected[1] < connected[2]
    assert all(s.citizens for s in catalog_at(2022, dt.date(2024, 6, 1)) if s.population_db)


def test_procedures_of_several_levels_and_units() -> None:
    services = catalog_at(2022, dt.date(2023, 1, 1))
    assert {s.levels for s in services} >= {("TINH",), ("HUYEN",), ("XA",), ("HUYEN", "XA"), ("TINH", "HUYEN")}
    assert all(s.chair == s.department for s in services if "TINH" in s.levels)
    assert all(s.chair == "" for s in services if "TINH" not in s.levels)
    assert any(s.by_branch for s in services) and all(s.field_code == "DD" for s in services if s.by_branch)
    units = {s.deadline_unit for s in services}
    assert units == {"NgayLamViec", "", "Ngay", "Gio", "Thang"}
