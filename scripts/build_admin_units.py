"""Rebuilds the administrative-unit seeds from the packages that carry the official lists.

Writes data/reference/admin_units.csv (one row per unit version), admin_unit_crosswalk.csv (one
row per old-to-new link) and admin_units_provenance.json (the packages, the files read and their
checksums, the checksum of each seed). docs/admin_units.md says why these packages and what
each derivation does.

Sources, installed by the `seeds` extra (`pip install -c constraints.txt -e '.[seeds]'`), read
as data and never imported:
- vietnamadminunits: the units of 30 June 2025 (63 provinces, their districts and communes)
  and of 1 July 2025 (34 provinces, their communes), with official codes, and the old-to-new
  links of 1 July 2025, keyed by names that this script resolves to codes within the package;
- vietnam-provinces 0.5.0: the last snapshot before Vĩnh Phúc's communes merged on 1 January
  2025 (its codes and names of the communes that merge); which commune absorbed which comes
  from the former names that vietnamadminunits records for each commune of 30 June 2025.

    python scripts/build_admin_units.py            # rebuild the seeds in data/reference
    python scripts/build_admin_units.py --check    # fail unless the seeds are what the packages give
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import importlib.metadata
import io
import json
import logging
import sqlite3
import sys
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("build_admin_units")

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_DIR = REPO_ROOT / "data" / "reference"
UNITS_FILE = "admin_units.csv"
CROSSWALK_FILE = "admin_unit_crosswalk.csv"
PROVENANCE_FILE = "admin_units_provenance.json"

# Resolution 202/2025/QH15 and Decision 19/2025/QĐ-TTg: provinces merge, districts end.
REORGANISATION = "2025-07-01"
# The Standing Committee's resolution on Vĩnh Phúc's 2023-2025 arrangement of communes.
VINH_PHUC_MERGES = "2025-01-01"
VINH_PHUC = "26"

ADMIN_UNITS_PACKAGE = "vietnamadminunits"
SNAPSHOT_PACKAGE = "vietnam-provinces"
ADMIN_UNITS_FILES = ("vietnamadminunits/data/dataset.db", "vietnamadminunits/data/converter_2025.json")
SNAPSHOT_FILES = ("vietnam_provinces/data/nested-divisions.json",)

UNIT_COLUMNS = ("unit_code", "unit_level", "unit_name", "parent_code", "province_code", "valid_from", "valid_to")
CROSSWALK_COLUMNS = (
    "old_unit_code",
    "old_unit_level",
    "new_unit_code",
    "new_unit_level",
    "effective_date",
    "is_partial",
    "is_primary",
)
LEVEL_ORDER = {"province": 0, "district": 1, "commune": 2}


class SourceError(Exception):
    """The packages do not give a consistent crosswalk: the seeds are not written."""


@dataclass(frozen=True)
class Unit:
    unit_code: str
    unit_level: str
    unit_name: str
    parent_code: str
    province_code: str
    valid_from: str
    valid_to: str

    def row(self) -> tuple[str, ...]:
        return (
            self.unit_code,
            self.unit_level,
            self.unit_name,
            self.parent_code,
            self.province_code,
            self.valid_from,
            self.valid_to,
        )

    def sort_key(self) -> tuple[int, str, str]:
        # An empty valid_from (existed before the known history) sorts first.
        return (LEVEL_ORDER[self.unit_level], self.unit_code, self.valid_from)


@dataclass(frozen=True)
class Link:
    old_unit_code: str
    old_unit_level: str
    new_unit_code: str
    new_unit_level: str
    effective_date: str
    is_partial: bool
    is_primary: bool

    def row(self) -> tuple[str, ...]:
        return (
            self.old_unit_code,
            self.old_unit_level,
            self.new_unit_code,
            self.new_unit_level,
            self.effective_date,
            _bool(self.is_partial),
            _bool(self.is_primary),
        )

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.effective_date, LEVEL_ORDER[self.old_unit_level], self.old_unit_code, self.new_unit_code)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _name(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def _code(value: object, width: int) -> str:
    return str(int(str(value))).zfill(width)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _package_file(package: str, relative: str) -> Path:
    path = Path(str(importlib.metadata.distribution(package).locate_file(relative)))
    if not path.is_file():
        raise SourceError(f"{package} has no {relative}: install the seeds extra (pip install -e '.[seeds]')")
    return path


def _field(meta: importlib.metadata.PackageMetadata, name: str) -> str:
    values = meta.get_all(name) or []
    return str(values[0]) if values else ""


# Trove classifiers of the licences met here, as SPDX identifiers.
SPDX = {"MIT License": "MIT", "GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later"}


def _package_info(package: str, files: tuple[str, ...]) -> dict[str, object]:
    dist = importlib.metadata.distribution(package)
    meta = dist.metadata
    licence = _field(meta, "License-Expression") or _field(meta, "License")
    if not licence:
        classifiers = [c.rsplit(" :: ", 1)[-1] for c in meta.get_all("Classifier") or [] if c.startswith("License ::")]
        licence = SPDX.get(classifiers[0], classifiers[0]) if classifiers else "unknown"
    urls = [u.split(",", 1)[1].strip() for u in meta.get_all("Project-URL") or [] if "," in u]
    source_url = _field(meta, "Home-page") or (urls[0] if urls else "")
    return {
        "name": package,
        "version": dist.version,
        "licence": licence,
        "source_url": source_url.removesuffix(".git"),
        "files": [{"path": f, "sha256": _sha256(_package_file(package, f).read_bytes())} for f in files],
    }


# --- vietnamadminunits: 30 June and 1 July 2025 ------------------------------------------------


@dataclass
class Reorganisation:
    units: list[Unit]
    links: list[Link]
    # Communes of 30 June 2025 in Vĩnh Phúc: code -> (name, district code, key, former names' keys).
    vinh_phuc_communes: dict[str, tuple[str, str, str, frozenset[str]]]


def _read_reorganisation() -> Reorganisation:
    db = _package_file(ADMIN_UNITS_PACKAGE, ADMIN_UNITS_FILES[0])
    converter = json.loads(_package_file(ADMIN_UNITS_PACKAGE, ADMIN_UNITS_FILES[1]).read_text(encoding="utf-8"))
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        legacy = conn.execute(
            "select distinct provinceCode, province, provinceKey, districtCode, district, districtKey,"
            " wardCode, ward, wardKey, wardAlias from admin_units_legacy"
        ).fetchall()
        current = conn.execute(
            "select distinct provinceCode, province, provinceKey, wardCode, ward, wardKey from admin_units"
        ).fetchall()

    units: dict[tuple[str, str, str], Unit] = {}

    def add(unit: Unit) -> None:
        key = (unit.unit_level, unit.unit_code, unit.valid_from)
        if key in units and units[key] != unit:
            raise SourceError(f"two {unit.unit_level}s with code {unit.unit_code}: {units[key]} and {unit}")
        units[key] = unit

    old_by_key: dict[str, tuple[str, str]] = {}
    old_province_by_key: dict[str, str] = {}
    province_of_old_unit: dict[tuple[str, str], str] = {}
    vinh_phuc: dict[str, tuple[str, str, str, frozenset[str]]] = {}
    for p_code, p_name, p_key, d_code, d_name, d_key, w_code, w_name, w_key, w_alias in legacy:
        province = _code(p_code, 2)
        district = _code(d_code, 3)
        add(Unit(province, "province", _name(p_name), "", province, "", REORGANISATION))
        add(Unit(district, "district", _name(d_name), province, province, "", REORGANISATION))
        old_province_by_key[p_key] = province
        province_of_old_unit[("district", district)] = province
        if w_code is None:
            # An island district without communes: it maps as a whole to its special zone.
            old_by_key[f"{p_key}_{d_key}_"] = ("district", district)
            continue
        commune = _code(w_code, 5)
        add(Unit(commune, "commune", _name(w_name), district, province, "", REORGANISATION))
        old_by_key[f"{p_key}_{d_key}_{w_key}"] = ("commune", commune)
        province_of_old_unit[("commune", commune)] = province
        if province == VINH_PHUC:
            former = frozenset(json.loads(w_alias)) if w_alias else frozenset()
            vinh_phuc[commune] = (_name(w_name), district, w_key, former)

    new_by_key: dict[tuple[str, str], str] = {}
    new_province_by_key: dict[str, str] = {}
    for p_code, p_name, p_key, w_code, w_name, w_key in current:
        province = _code(p_code, 2)
        commune = _code(w_code, 5)
        add(Unit(province, "province", _name(p_name), "", province, REORGANISATION, ""))
        add(Unit(commune, "commune", _name(w_name), province, province, REORGANISATION, ""))
        if (p_key, w_key) in new_by_key:
            raise SourceError(f"two communes keyed {p_key}/{w_key} after {REORGANISATION}")
        new_by_key[(p_key, w_key)] = commune
        new_province_by_key[p_key] = province

    # Old and new units share codes (a new commune takes the code of one of the communes merged
    # into it), so a unit is identified by its level, code and first day.
    old_units = [u for u in units.values() if u.valid_to == REORGANISATION]
    new_units = [u for u in units.values() if u.valid_from == REORGANISATION]
    units_list = old_units + new_units

    links = _reorganisation_links(converter, old_by_key, new_by_key, old_province_by_key, new_province_by_key)
    _check_links(links, old_units, new_units, province_of_old_unit)
    return Reorganisation(units_list, links, vinh_phuc)


def _reorganisation_links(
    converter: dict[str, Any],
    old_by_key: dict[str, tuple[str, str]],
    new_by_key: dict[tuple[str, str], str],
    old_province_by_key: dict[str, str],
    new_province_by_key: dict[str, str],
) -> list[Link]:
    links: list[Link] = []
    for new_key, old_keys in converter["DICT_PROVINCE"].items():
        for old_key in old_keys:
            links.append(
                Link(
                    old_province_by_key[old_key],
                    "province",
                    new_province_by_key[new_key],
                    "province",
                    REORGANISATION,
                    is_partial=False,
                    is_primary=True,
                )
            )

    def old(key: str) -> tuple[str, str]:
        if key not in old_by_key:
            raise SourceError(f"the conversion names an old unit not in the list of 30 June 2025: {key}")
        return old_by_key[key]

    def new(province_key: str, ward_key: str) -> str:
        if (province_key, ward_key) not in new_by_key:
            raise SourceError(f"the conversion names a new commune not in the list: {province_key}/{ward_key}")
        return new_by_key[(province_key, ward_key)]

    # Old communes that went whole into one new commune.
    for province_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for ward_key, old_keys in wards.items():
            for old_key in old_keys:
                level, code = old(old_key)
                links.append(Link(code, level, new(province_key, ward_key), "commune", REORGANISATION, False, True))
    # Old communes split between several new ones; the package flags one part as the default.
    for province_key, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in olds.items():
            level, code = old(old_key)
            defaults = [p for p in parts if p["isDefaultNewWard"]]
            if len(parts) < 2 or len(defaults) != 1:
                raise SourceError(f"{old_key}: a split commune needs two parts or more and one default part")
            for part in parts:
                links.append(
                    Link(
                        code,
                        level,
                        new(province_key, part["newWardKey"]),
                        "commune",
                        REORGANISATION,
                        is_partial=True,
                        is_primary=bool(part["isDefaultNewWard"]),
                    )
                )
    return links


def _check_links(
    links: list[Link], old_units: list[Unit], new_units: list[Unit], province_of_old: dict[tuple[str, str], str]
) -> None:
    pairs = [(link.old_unit_level, link.old_unit_code, link.new_unit_code) for link in links]
    if len(set(pairs)) != len(pairs):
        raise SourceError("the conversion links an old unit to the same new unit twice")
    primaries: dict[tuple[str, str], int] = defaultdict(int)
    for link in links:
        primaries[(link.old_unit_level, link.old_unit_code)] += link.is_primary
    new_province_of_old_province = {
        link.old_unit_code: link.new_unit_code for link in links if link.old_unit_level == "province"
    }
    new_commune_province = {u.unit_code: u.province_code for u in new_units if u.unit_level == "commune"}
    for link in links:
        if link.old_unit_level == "province":
            continue
        old_province = province_of_old[(link.old_unit_level, link.old_unit_code)]
        if new_commune_province[link.new_unit_code] != new_province_of_old_province[old_province]:
            raise SourceError(f"{link}: the new commune is outside the province its old province merged into")
    old_communes = {u.unit_code for u in old_units if u.unit_level == "commune"}
    old_provinces = {u.unit_code for u in old_units if u.unit_level == "province"}
    linked = {code for (level, code), n in primaries.items() if n == 1 and level in ("commune", "province")}
    if {(level, code) for (level, code), n in primaries.items() if n != 1}:
        raise SourceError("an old unit has no primary successor or more than one")
    if not old_communes | old_provinces <= linked:
        missing = sorted((old_communes | old_provinces) - linked)
        raise SourceError(f"old units without a successor: {missing[:10]}")
    reached = {link.new_unit_code for link in links if link.new_unit_level == "commune"}
    if reached != set(new_commune_province):
        raise SourceError("a new commune has no old unit in the conversion")


# --- vietnam-provinces 0.5.0: Vĩnh Phúc before 1 January 2025 ---------------------------------


def _vinh_phuc_merges(reorganisation: Reorganisation) -> tuple[list[Unit], list[Unit], list[Link]]:
    """Versions and links of Vĩnh Phúc's 1 January 2025 commune merges.

    Returns the communes as they stood before (valid to 1 January 2025), the communes of
    30 June 2025 they became (valid from 1 January 2025, replacing their undated version) and
    the links between them. A commune that disappeared went into the commune of its district
    that lists its name among its former names; a commune that absorbed another, or changed
    its name, is a new version of the same code.
    """
    snapshot = json.loads(_package_file(SNAPSHOT_PACKAGE, SNAPSHOT_FILES[0]).read_text(encoding="utf-8"))
    provinces = [p for p in snapshot if _code(p["code"], 2) == VINH_PHUC]
    if len(provinces) != 1:
        raise SourceError(f"the snapshot has {len(provinces)} provinces coded {VINH_PHUC}")
    before: dict[str, tuple[str, str, str]] = {}
    districts_before = set()
    for district in provinces[0]["districts"]:
        district_code = _code(district["code"], 3)
        districts_before.add(district_code)
        for ward in district["wards"]:
            before[_code(ward["code"], 5)] = (_name(ward["name"]), district_code, ward["codename"].replace("_", ""))

    after = reorganisation.vinh_phuc_communes
    if districts_before != {district for _, district, _, _ in after.values()}:
        raise SourceError("Vĩnh Phúc's districts differ between the snapshot and 30 June 2025")
    if set(after) - set(before):
        raise SourceError(f"communes of 30 June 2025 missing from the snapshot: {sorted(set(after) - set(before))}")

    absorbed_into: dict[str, str] = {}
    for code in sorted(set(before) - set(after)):
        _, district, key = before[code]
        into = [c for c, (_, d, _, former) in after.items() if d == district and key in former]
        if len(into) != 1:
            raise SourceError(f"commune {code} ({before[code][0]}) is named as former by {len(into)} communes")
        absorbed_into[code] = into[0]
    changed = set(absorbed_into.values()) | {c for c in set(before) & set(after) if before[c][2] != after[c][2]}

    previous: list[Unit] = []
    links: list[Link] = []
    for code in sorted(set(absorbed_into) | changed):
        name, district, _ = before[code]
        previous.append(Unit(code, "commune", name, district, VINH_PHUC, "", VINH_PHUC_MERGES))
        successor = absorbed_into.get(code, code)
        links.append(Link(code, "commune", successor, "commune", VINH_PHUC_MERGES, False, True))
    replaced = [
        u
        for u in reorganisation.units
        if u.unit_level == "commune" and u.unit_code in changed and u.valid_to == REORGANISATION
    ]
    return previous, replaced, links


# --- output ----------------------------------------------------------------------------------


def _csv(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def build() -> dict[str, bytes]:
    """The seed files' contents, from the installed packages (provenance without its build date)."""
    reorganisation = _read_reorganisation()
    previous, replaced, merge_links = _vinh_phuc_merges(reorganisation)
    replaced_keys = {(u.unit_level, u.unit_code, u.valid_from) for u in replaced}
    units = [u for u in reorganisation.units if (u.unit_level, u.unit_code, u.valid_from) not in replaced_keys]
    units += previous
    units += [
        Unit(u.unit_code, u.unit_level, u.unit_name, u.parent_code, u.province_code, VINH_PHUC_MERGES, u.valid_to)
        for u in replaced
    ]
    units.sort(key=Unit.sort_key)
    links = sorted(reorganisation.links + merge_links, key=Link.sort_key)
    if len({(u.unit_code, u.unit_level, u.valid_from) for u in units}) != len(units):
        raise SourceError("two versions of a unit start on the same day")

    files = {
        UNITS_FILE: _csv(UNIT_COLUMNS, [u.row() for u in units]),
        CROSSWALK_FILE: _csv(CROSSWALK_COLUMNS, [link.row() for link in links]),
    }
    provenance = {
        "description": (
            "Administrative units of Việt Nam before and after 1 July 2025 (Decision 19/2025/QĐ-TTg code list)"
            " and the old-to-new crosswalk, with Vĩnh Phúc's commune merges of 1 January 2025;"
            " rebuilt by scripts/build_admin_units.py (docs/admin_units.md)."
        ),
        "packages": [
            {
                **_package_info(ADMIN_UNITS_PACKAGE, ADMIN_UNITS_FILES),
                "role": "units of 30 June and 1 July 2025 with official codes; old-to-new links of 1 July 2025",
            },
            {
                **_package_info(SNAPSHOT_PACKAGE, SNAPSHOT_FILES),
                "role": "Vĩnh Phúc's communes before 1 January 2025 (read as data, not imported)",
            },
        ],
        "seeds": {
            name: {"sha256": _sha256(content), "rows": content.count(b"\n") - 1} for name, content in files.items()
        },
    }
    files[PROVENANCE_FILE] = json.dumps(provenance, ensure_ascii=False, indent=2).encode("utf-8")
    return files


def _with_build_date(provenance: bytes, built_on: str) -> bytes:
    data = json.loads(provenance)
    data["built_on"] = built_on
    return (json.dumps(data, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def _without_build_date(provenance: bytes) -> dict[str, object]:
    data: dict[str, object] = json.loads(provenance)
    data.pop("built_on", None)
    return data


def write(out_dir: Path) -> None:
    files = build()
    out_dir.mkdir(parents=True, exist_ok=True)
    provenance_path = out_dir / PROVENANCE_FILE
    built_on = dt.date.today().isoformat()
    # Keep the recorded date while nothing changed, so that a rebuild leaves the files untouched.
    if provenance_path.is_file():
        recorded = provenance_path.read_bytes()
        if _without_build_date(recorded) == _without_build_date(files[PROVENANCE_FILE]):
            built_on = json.loads(recorded).get("built_on", built_on)
    files[PROVENANCE_FILE] = _with_build_date(files[PROVENANCE_FILE], built_on)
    for name, content in files.items():
        (out_dir / name).write_bytes(content)
        log.info("wrote %s (%d bytes)", out_dir / name, len(content))


def check(out_dir: Path) -> list[str]:
    """Differences between the seeds in out_dir and what the installed packages give."""
    files = build()
    problems = []
    for name in (UNITS_FILE, CROSSWALK_FILE):
        path = out_dir / name
        if not path.is_file() or path.read_bytes() != files[name]:
            problems.append(f"{path} is not what the packages give: run scripts/build_admin_units.py")
    path = out_dir / PROVENANCE_FILE
    if not path.is_file() or _without_build_date(path.read_bytes()) != _without_build_date(files[PROVENANCE_FILE]):
        problems.append(f"{path} does not match the installed packages and the seeds")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REFERENCE_DIR, help="folder of the seeds (data/reference)")
    parser.add_argument("--check", action="store_true", help="compare instead of writing; exit 1 on a difference")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        if args.check:
            problems = check(args.out)
            for problem in problems:
                log.error(problem)
            return 1 if problems else 0
        write(args.out)
    except SourceError as error:
        log.error("cannot build the administrative units: %s", error)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
