"""The `phu-tho-2025` scenario: three provinces until 30 June 2025, the merged Phú Thọ after, dated
agencies with successors, dossiers in flight handed over — and the default scenario unchanged."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest

from dichvucong.cli import SIMULATOR_SCENARIOS
from dichvucong.simulator import DEFAULT_SCENARIO, SCENARIOS, GenerationStats, generate
from dichvucong.simulator.admin_units import REFERENCE_DIR
from dichvucong.simulator.agencies import AGENCY_COLUMNS, Agency
from dichvucong.simulator.merged import REORGANISATION, World, world

EVE = REORGANISATION - dt.timedelta(days=1)
NEW_YEAR = dt.date(2025, 1, 1)
PROVINCES = {"26": "H62", "17": "H30", "25": "H44"}
START, END = dt.date(2025, 6, 23), dt.date(2025, 7, 8)


def _seed(name: str) -> list[dict[str, str]]:
    with (REFERENCE_DIR / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _in_force(row: dict[str, str], day: dt.date) -> bool:
    return (row["valid_from"] <= day.isoformat()) and (not row["valid_to"] or day.isoformat() < row["valid_to"])


def _seed_communes(day: dt.date, provinces: set[str]) -> set[str]:
    return {r["unit_code"] for r in _seed("admin_units.csv")
            if r["unit_level"] == "commune" and r["province_code"] in provinces and _in_force(r, day)}


def _primary(day: dt.date) -> dict[str, str]:
    return {r["old_unit_code"]: r["new_unit_code"] for r in _seed("admin_unit_crosswalk.csv")
            if r["effective_date"] == day.isoformat() and r["is_primary"] == "true"}


def _valid(agency: Agency, day: dt.date) -> bool:
    return agency.valid_from <= day and (agency.valid_to is None or day < agency.valid_to)


@pytest.fixture(scope="module")
def merged_world() -> World:
    return world()


def test_the_cli_offers_the_simulators_scenarios() -> None:
    assert SIMULATOR_SCENARIOS == SCENARIOS and SCENARIOS[0] == DEFAULT_SCENARIO == "vinh-phuc"
    assert "phu-tho-2025" in SCENARIOS
    with pytest.raises(ValueError, match="unknown scenario"):
        generate(Path("unused"), START, END, scenario="ha-noi")


def test_until_30_june_three_provinces_with_districts_and_communes(merged_world: World) -> None:
    rows = [a for a in merged_world.snapshot(EVE) if _valid(a, EVE)]
    committees = {a.unit_code: a for a in rows if a.kind == "province"}
    assert {code: a.code for code, a in committees.items()} == {
        code: f"000.00.00.{suffix}" for code, suffix in PROVINCES.items()}
    by_code = {a.code: a for a in rows}
    districts = [a for a in rows if a.level == "HUYEN"]
    assert len(districts) == 9 + 10 + 13
    assert all(by_code[a.parent].kind == "province" and len(a.unit_code) == 3 for a in districts)
    communes = [a for a in rows if a.level == "XA"]
    assert {a.unit_code for a in communes} == _seed_communes(EVE, set(PROVINCES))
    assert all(by_code[a.parent].level == "HUYEN" for a in communes)
    for code, suffix in PROVINCES.items():
        own = [a for a in rows if a.code.endswith(suffix)]
        assert sum(a.kind == "department" for a in own) == 15
        assert sum(a.kind == "commune" for a in own) == len(_seed_communes(EVE, {code}))
    assert sum(a.unit_code.startswith("0") and a.code.endswith("H62") for a in communes) == 121


def test_from_1_july_one_province_no_district_and_the_148_new_communes(merged_world: World) -> None:
    rows = [a for a in merged_world.snapshot(REORGANISATION, EVE) if _valid(a, REORGANISATION)]
    assert [(a.code, a.unit_code) for a in rows if a.kind == "province"] == [("000.00.00.H44", "25")]
    assert not [a for a in rows if a.level == "HUYEN"]
    communes = [a for a in rows if a.level == "XA"]
    new_communes = {r["unit_code"] for r in _seed("admin_units.csv") if r["unit_level"] == "commune"
                    and r["province_code"] == "25" and r["valid_from"] == REORGANISATION.isoformat()}
    assert len(communes) == len(new_communes) == 148
    assert {a.unit_code for a in communes} == new_communes
    assert all(a.parent == "000.00.00.H44" and a.code.endswith(".H44") for a in communes)
    departments = [a for a in rows if a.kind == "department"]
    assert len(departments) == 15 and all(a.valid_from == REORGANISATION for a in departments)
    assert all(a.code.endswith(".H44") for a in rows)


def test_every_agency_closed_on_1_july_has_a_successor_in_force_then(merged_world: World) -> None:
    rows = merged_world.snapshot(REORGANISATION, EVE)
    closed = [a for a in rows if a.valid_to == REORGANISATION]
    assert len(closed) == len(merged_world.snapshot(EVE)) - 1  # all but the province's committee
    by_code = merged_world.by_code
    new_commune = _primary(REORGANISATION)
    for agency in closed:
        successor = by_code[agency.successor]
        assert _valid(successor, REORGANISATION) and successor in rows, agency
        if agency.kind == "commune":
            assert successor.level == "XA" and successor.unit_code == new_commune[agency.unit_code]
        elif agency.kind == "department":
            assert successor.kind == "department" and successor.name.split(" tỉnh ")[0] == agency.name.split(
                " tỉnh ")[0]
        elif agency.kind == "district":
            assert successor.level == "XA"  # the committee of the commune that absorbed the district's seat
        else:
            assert successor.kind == agency.kind


def test_vinh_phucs_communes_merged_on_1_january_2025(merged_world: World) -> None:
    assert merged_world.change_days(dt.date(2024, 1, 1), dt.date(2026, 1, 1)) == [NEW_YEAR, REORGANISATION]
    closed = [a for a in merged_world.snapshot(NEW_YEAR, dt.date(2024, 12, 31)) if a.valid_to == NEW_YEAR]
    merges = _primary(NEW_YEAR)
    assert len(closed) == len(merges) > 0
    for agency in closed:
        successor = merged_world.by_code[agency.successor]
        assert agency.code.endswith(".H62") and _valid(successor, NEW_YEAR)
        assert successor.unit_code == merges[agency.unit_code] and successor.valid_to == REORGANISATION
        # A dossier in flight from December 2024 to July 2025 goes to the January commune, then to the new one.
        chain = merged_world.handover(agency)
        assert [on for on, _ in chain] == [NEW_YEAR, REORGANISATION] and chain[0][1] == successor


def _read(path: Path) -> dict[str, Any] | None:
    raw = path.read_bytes()
    try:
        return json.loads(raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8"))
    except json.JSONDecodeError:
        return None


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GenerationStats]:
    """Two weeks across 1 July 2025 at 5 % of Vĩnh Phúc's volume, without dirt."""
    out = tmp_path_factory.mktemp("merged")
    return out, generate(out, START, END, seed=17, scale=0.05, dirt_rate=0, scenario="phu-tho-2025")


def test_snapshots_on_the_first_day_and_on_1_july(landing: tuple[Path, GenerationStats]) -> None:
    out, stats = landing
    assert sorted(p.name for p in (out / "agencies").iterdir()) == ["coquan_20250623.csv", "coquan_20250701.csv"]
    assert sorted(p.name for p in (out / "catalog").iterdir()) == ["services_20250623.csv", "services_20250701.csv"]
    assert stats.agency_snapshots == stats.catalog_snapshots == 2
    with (out / "agencies" / "coquan_20250701.csv").open(encoding="utf-8") as handle:
        assert tuple(next(csv.reader(handle))) == AGENCY_COLUMNS
    after = _rows(out / "agencies" / "coquan_20250701.csv")
    closed = [r for r in after if r["NgayHetHieuLuc"] == "2025-07-01"]
    in_force = {r["MaDinhDanh"] for r in after if not r["NgayHetHieuLuc"]}
    assert closed and all(r["MaCoQuanKeThua"] in in_force for r in closed)
    before = {r["MaDinhDanh"] for r in _rows(out / "agencies" / "coquan_20250623.csv")}
    departments_before = {c for c in before if c.startswith("000.00.")}
    old_catalog = _rows(out / "catalog" / "services_20250623.csv")
    new_catalog = _rows(out / "catalog" / "services_20250701.csv")
    assert [r["MaTTHC"] for r in old_catalog] == [r["MaTTHC"] for r in new_catalog]  # the same procedures
    assert {r["MaCoQuanChuTri"] for r in old_catalog} - {""} <= departments_before
    assert {r["MaCoQuanChuTri"] for r in new_catalog} - {""} <= in_force
    assert not any("HUYEN" in r["CapThucHien"] for r in new_catalog)


def test_calls_come_from_agencies_in_force_or_in_flight_and_volumes_follow_population(
        landing: tuple[Path, GenerationStats]) -> None:
    out, _ = landing
    before = {r["MaDinhDanh"] for r in _rows(out / "agencies" / "coquan_20250623.csv")}
    after = {r["MaDinhDanh"] for r in _rows(out / "agencies" / "coquan_20250701.csv") if not r["NgayHetHieuLuc"]}
    received: Counter[str] = Counter()
    for path in (out / "dossiers").rglob("*.json"):
        envelope = _read(path)
        assert envelope is not None
        sender, at = envelope["MaDinhDanhDV"], envelope["ThoiGianDongBo"]
        assert sender in (after | before if at >= "20250701" else before), (sender, at)
        for record in envelope["data"]:
            # After 1 July a closed code only sends the dossiers it received before (in flight).
            assert at < "20250701" or sender in after or record["MaHoSo"].rsplit("-", 2)[0] == sender
            if envelope["LoaiDongBo"] == "insert" and record["NgayNopHoSo"] < "20250701":
                received[record["MaHoSo"].split("-")[0][-3:]] += 1
    # Dossiers per province as population: Phú Thọ 1.5 M, Vĩnh Phúc 1.2 M, Hòa Bình 0.9 M.
    total = sum(received.values())
    for suffix, share in (("H44", 1.5 / 3.6), ("H62", 1.2 / 3.6), ("H30", 0.9 / 3.6)):
        assert abs(received[suffix] / total - share) < 0.04, received


def test_dossiers_in_flight_on_30_june_carry_over_to_the_successor(landing: tuple[Path, GenerationStats]) -> None:
    out, _ = landing
    agencies = {r["MaDinhDanh"]: r for r in _rows(out / "agencies" / "coquan_20250701.csv")}
    calls: defaultdict[str, list[tuple[str, str, str, str, str]]] = defaultdict(list)
    for path in (out / "dossiers").rglob("*.json"):
        envelope = _read(path)
        assert envelope is not None
        for record in envelope["data"]:
            calls[record["MaHoSo"]].append((envelope["ThoiGianDongBo"], envelope["MaDinhDanhDV"],
                                            envelope["LoaiDongBo"], envelope["KetQua"]["error_code"],
                                            record["DonViXuLy"]))
    steps: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
    for path in (out / "processing").rglob("*.json"):
        envelope = _read(path)
        assert envelope is not None
        for record in envelope["data"]:
            steps[record["MaHoSo"]].append((envelope["ThoiGianDongBo"], envelope["MaDinhDanhDV"]))
    carried = [dossier for dossier, sent in calls.items()
               if min(sent)[0] < "20250701" <= max(sent)[0]]
    assert len(carried) > 100
    for dossier in carried:
        receiver = dossier.rsplit("-", 2)[0]
        successor = agencies[receiver]["MaCoQuanKeThua"]
        assert agencies[receiver]["NgayHetHieuLuc"] == "2025-07-01" and successor
        sent = sorted(calls[dossier])
        # Sent under the code that received it, before and after (sources.md v2 §1: a call under a
        # closed code is kept and flagged), at the successor's outbox runs.
        assert {sender for at, sender, *_ in sent} == {receiver}
        accepted_before = any(at < "20250701" and code == "0" for at, _, _, code, _ in sent)
        if accepted_before:  # the portal holds it: the successor updates it under the same MaHoSo
            assert all(kind == "update" for at, _, kind, _, _ in sent if at >= "20250701")
        assert sent[-1][4] in (agencies[receiver]["TenCoQuan"], agencies[successor]["TenCoQuan"])
        for at, sender in steps[dossier]:  # the old outbox makes no call after 30 June
            assert sender == (receiver if at < "20250701" else successor), (dossier, at, sender)
    assert any(sorted(calls[d])[-1][4] == agencies[agencies[d.rsplit("-", 2)[0]]["MaCoQuanKeThua"]]["TenCoQuan"]
               for d in carried)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_default_scenario_is_unchanged(tmp_path: Path) -> None:
    # Vĩnh Phúc alone, across 1 July 2025: the same single snapshot of 155 agencies as before the
    # merged scenario existed (these digests are of that version's files), the same calls' agencies.
    generate(tmp_path / "a", EVE, REORGANISATION + dt.timedelta(days=2), seed=3, scale=0.01, dirt_rate=0)
    generate(tmp_path / "b", EVE, REORGANISATION + dt.timedelta(days=2), seed=3, scale=0.01, dirt_rate=0,
             scenario=DEFAULT_SCENARIO)
    agencies, catalog = tmp_path / "a" / "agencies", tmp_path / "a" / "catalog"
    assert [p.name for p in agencies.iterdir()] == ["coquan_20250630.csv"]
    assert [p.name for p in catalog.iterdir()] == ["services_20250630.csv"]
    assert _digest(agencies / "coquan_20250630.csv") == (
        "9f553b769d427be49ecc70e2a8b3c1efa19ebd90d90f70bfb82ef87a64321770")
    assert _digest(catalog / "services_20250630.csv") == (
        "05b8d1298d1dc10710c9b4ffa0b26e173c2b9d683bccaa799f72dde582450b8c")
    rows = _rows(agencies / "coquan_20250630.csv")
    assert Counter(r["CapCoQuan"] for r in rows) == {"TINH": 1 + 15 + 9, "HUYEN": 9, "XA": 121}
    assert all(r["MaDinhDanh"].endswith(".H62") and not r["NgayHetHieuLuc"] for r in rows)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*") if p.is_file())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    envelopes = [_read(p) for p in (tmp_path / "a" / "dossiers").rglob("*.json")]
    senders = {envelope["MaDinhDanhDV"] for envelope in envelopes if envelope is not None}
    assert senders and senders <= {r["MaDinhDanh"] for r in rows}
