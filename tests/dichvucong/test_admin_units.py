"""The administrative-unit seeds: what the packages give, and the facts of 2025 they must hold."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
import tomllib
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "data" / "reference"
SCRIPT = ROOT / "scripts" / "build_admin_units.py"
SEEDS = ("admin_units.csv", "admin_unit_crosswalk.csv")
REORGANISATION = "2025-07-01"
VINH_PHUC_MERGES = "2025-01-01"


def _read(name: str) -> list[dict[str, str]]:
    with (REFERENCE / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def units() -> list[dict[str, str]]:
    return _read("admin_units.csv")


@pytest.fixture(scope="module")
def links() -> list[dict[str, str]]:
    return _read("admin_unit_crosswalk.csv")


def _provenance(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text(encoding="utf-8"))
    data.pop("built_on")
    return data


def test_the_seeds_are_what_the_installed_packages_give(tmp_path: Path) -> None:
    rebuilt = subprocess.run(
        [sys.executable, str(SCRIPT), "--out", str(tmp_path)], capture_output=True, text=True, check=False
    )
    assert rebuilt.returncode == 0, rebuilt.stderr
    for name in SEEDS:
        assert (tmp_path / name).read_bytes() == (REFERENCE / name).read_bytes(), f"{name}: rerun {SCRIPT.name}"
    provenance = REFERENCE / "admin_units_provenance.json"
    assert _provenance(tmp_path / provenance.name) == _provenance(provenance)
    recorded = json.loads(provenance.read_text(encoding="utf-8"))
    for name in SEEDS:
        assert recorded["seeds"][name]["sha256"] == hashlib.sha256((REFERENCE / name).read_bytes()).hexdigest()
    pins = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    pinned = dict(pin.split("==") for pin in pins["seeds"])
    assert {p["name"]: p["version"] for p in recorded["packages"]} == pinned, "pyproject.toml's seeds extra"
    checked = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stderr


def test_63_provinces_before_the_reorganisation_and_34_after(units: list[dict[str, str]]) -> None:
    provinces = [u for u in units if u["unit_level"] == "province"]
    before = {u["unit_code"] for u in provinces if u["valid_from"] == "" and u["valid_to"] == REORGANISATION}
    after = {u["unit_code"] for u in provinces if u["valid_from"] == REORGANISATION and u["valid_to"] == ""}
    assert len(before) == 63 and len(after) == 34 and len(provinces) == 97
    assert {"17", "25", "26"} <= before and "25" in after and "26" not in after


def test_phu_tho_has_148_communes_from_1_july_2025(units: list[dict[str, str]]) -> None:
    communes = [
        u
        for u in units
        if u["unit_level"] == "commune" and u["province_code"] == "25" and u["valid_from"] == REORGANISATION
    ]
    assert len(communes) == 148
    assert all(u["parent_code"] == "25" and u["valid_to"] == "" for u in communes)
    names = {u["unit_name"] for u in units if u["unit_level"] == "province" and u["unit_code"] == "25"}
    assert names == {"Tỉnh Phú Thọ"}


def test_the_three_provinces_merge_into_phu_tho(links: list[dict[str, str]]) -> None:
    provinces = {(x["old_unit_code"], x["new_unit_code"]) for x in links if x["old_unit_level"] == "province"}
    assert {("17", "25"), ("25", "25"), ("26", "25")} <= provinces
    assert len(provinces) == 63


def test_every_new_commune_of_phu_tho_keeps_the_code_of_one_of_its_old_communes(
    units: list[dict[str, str]], links: list[dict[str, str]]
) -> None:
    olds: dict[str, set[str]] = defaultdict(set)
    for x in links:
        if x["effective_date"] == REORGANISATION and x["new_unit_level"] == "commune":
            olds[x["new_unit_code"]].add(x["old_unit_code"])
    new_communes = [
        u["unit_code"]
        for u in units
        if u["unit_level"] == "commune" and u["province_code"] == "25" and u["valid_from"] == REORGANISATION
    ]
    assert [code for code in new_communes if code not in olds[code]] == []


def test_every_old_commune_of_the_three_provinces_has_one_primary_new_commune(
    units: list[dict[str, str]], links: list[dict[str, str]]
) -> None:
    primaries: Counter[tuple[str, str]] = Counter()
    parts: Counter[tuple[str, str]] = Counter()
    for x in links:
        if x["old_unit_level"] == "commune":
            key = (x["old_unit_code"], x["effective_date"])
            parts[key] += 1
            primaries[key] += x["is_primary"] == "true"
    old = [
        (u["unit_code"], u["valid_to"])
        for u in units
        if u["unit_level"] == "commune" and u["province_code"] in {"17", "25", "26"} and u["valid_to"] != ""
    ]
    assert len(old) > 400
    assert [key for key in old if primaries[key] != 1] == []
    # A split commune has one link per part, all marked partial; a whole one, one link.
    for x in links:
        key = (x["old_unit_code"], x["effective_date"])
        if x["old_unit_level"] == "commune":
            assert (x["is_partial"] == "true") == (parts[key] > 1)


def _successor(links: list[dict[str, str]], code: str, valid_to: str) -> list[tuple[str, str]]:
    """The primary hops from a commune version that ends on valid_to, to today's commune."""
    primary = {
        (x["old_unit_code"], x["effective_date"]): x["new_unit_code"]
        for x in links
        if x["old_unit_level"] == "commune" and x["is_primary"] == "true"
    }
    hops = []
    dates = {VINH_PHUC_MERGES: REORGANISATION, REORGANISATION: ""}
    while valid_to:
        code = primary[(code, valid_to)]
        hops.append((code, valid_to))
        valid_to = dates[valid_to]
    return hops


def test_a_vinh_phuc_commune_merged_on_1_january_2025_reaches_todays_commune_in_two_hops(
    units: list[dict[str, str]], links: list[dict[str, str]]
) -> None:
    names = {(u["unit_code"], u["valid_from"]): u["unit_name"] for u in units if u["unit_level"] == "commune"}
    assert names[("08734", "")] == "Phường Trưng Trắc"
    hops = _successor(links, "08734", VINH_PHUC_MERGES)
    assert hops == [("08740", VINH_PHUC_MERGES), ("08740", REORGANISATION)]
    assert names[("08740", VINH_PHUC_MERGES)] == "Phường Hai Bà Trưng"
    assert names[("08740", REORGANISATION)] == "Phường Phúc Yên"
    assert ("08734", VINH_PHUC_MERGES) not in names, "Trưng Trắc ended on 1 January 2025"


def test_vinh_phucs_28_communes_became_13_on_1_january_2025(
    units: list[dict[str, str]], links: list[dict[str, str]]
) -> None:
    merges = [x for x in links if x["effective_date"] == VINH_PHUC_MERGES]
    assert len({x["old_unit_code"] for x in merges}) == 28
    assert len({x["new_unit_code"] for x in merges}) == 13
    ended = {u["unit_code"] for u in units if u["valid_to"] == VINH_PHUC_MERGES}
    started = {u["unit_code"] for u in units if u["valid_from"] == VINH_PHUC_MERGES}
    assert ended == {x["old_unit_code"] for x in merges} and started == {x["new_unit_code"] for x in merges}
    assert {u["province_code"] for u in units if u["valid_to"] == VINH_PHUC_MERGES} == {"26"}
    # Vĩnh Phúc had 136 communes before, 121 on 30 June 2025.
    vinh_phuc = [u for u in units if u["unit_level"] == "commune" and u["province_code"] == "26"]
    assert sum(u["valid_from"] == "" for u in vinh_phuc) == 136
    assert sum(u["valid_to"] == REORGANISATION for u in vinh_phuc) == 121


def test_codes_are_text_with_their_width_and_names_nfc(units: list[dict[str, str]]) -> None:
    widths = {"province": 2, "district": 3, "commune": 5}
    assert all(len(u["unit_code"]) == widths[u["unit_level"]] and u["unit_code"].isdigit() for u in units)
    assert all(unicodedata.is_normalized("NFC", u["unit_name"]) for u in units)
    columns = ["unit_code", "unit_level", "unit_name", "parent_code", "province_code", "valid_from", "valid_to"]
    assert list(units[0]) == columns, "the simulator reads exactly these columns"
