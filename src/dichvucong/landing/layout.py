"""The landing directory's layout (`shared/spec/sources.md` v2), in one place.

    agencies/coquan_YYYYMMDD.csv                             full snapshots of the agency list
    catalog/services_YYYYMMDD.csv                            full snapshots of the procedure catalog
    dossiers/YYYY-MM-DD/*.json                               one dossier sync call per file
    processing/YYYY-MM-DD/*.json                             one processing-log sync call per file
    payments/YYYY-MM-DD/doisoat_YYYYMMDD_<MaTrungGian>.csv   one reconciliation file per intermediary
    portal/YYYY-MM-DD/*.har | *.json                         the portal's own 766 figures, saved by an official

Names match case-insensitively (`.CSV`, `.JSON`). A snapshot source's batch day is the date in its
file name; the other sources' is their folder's. The processing log is optional: a province whose
one-stop system does not send it still gets every mart but the processing-step ones. The portal's
figures are optional too, and always a file drop (an official saves them from the portal's pages;
the one-stop system's API does not carry them): `landing/portal_files.py`.
Reads no file content and imports nothing heavy: the DAG files and the CLI use it.
"""

from __future__ import annotations

import datetime as dt
import re

SOURCES = ("agencies", "catalog", "dossiers", "processing", "payments", "portal")
"""Every source, in landing order: the dated lists first, as the dossiers are read against them."""

REQUIRED_SOURCES = ("agencies", "catalog", "dossiers", "payments")
"""The folders a landing directory must have; `processing/` and `portal/` may be absent."""

SNAPSHOT_SOURCES = ("agencies", "catalog")
"""Sources delivered as full snapshots named by their day, rather than in day folders."""

SPARSE_SOURCES = (*SNAPSHOT_SOURCES, "portal")
"""Sources for which a day without a file is the rule: such a day leaves no partition (a snapshot
stays in force until the next; the portal's figures come when an official saves them), and is
neither validated nor counted as a day that delivered nothing."""

FILE_DROP_ONLY = ("portal",)
"""Sources read from the landing directory even when the others come over HTTP."""

FILE_NAMES = {
    "agencies": re.compile(r"coquan_(\d{8})\.csv", re.IGNORECASE),
    "catalog": re.compile(r"services_(\d{8})\.csv", re.IGNORECASE),
    "dossiers": re.compile(r"[^/]+\.json", re.IGNORECASE),
    "processing": re.compile(r"[^/]+\.json", re.IGNORECASE),
    "payments": re.compile(r"doisoat_\d{8}_[^/]+\.csv", re.IGNORECASE),
    "portal": re.compile(r"[^/]+\.(?:har|json)", re.IGNORECASE),
}

EXPECTED = {
    "agencies": "agencies/coquan_YYYYMMDD.csv",
    "catalog": "catalog/services_YYYYMMDD.csv",
    "dossiers": "dossiers/YYYY-MM-DD/*.json",
    "processing": "processing/YYYY-MM-DD/*.json",
    "payments": "payments/YYYY-MM-DD/doisoat_YYYYMMDD_<MaTrungGian>.csv",
    "portal": "portal/YYYY-MM-DD/*.har or *.json",
}

EXPECTED_LAYOUT = "expected layout (shared/spec/sources.md v2): " + ", ".join(EXPECTED.values())


def snapshot_day(source: str, name: str) -> dt.date | None:
    """The day of a snapshot file (`coquan_YYYYMMDD.csv`, `services_YYYYMMDD.csv`, any case); None
    for a name outside the layout or an impossible date."""
    match = FILE_NAMES[source].fullmatch(name)
    try:
        return dt.datetime.strptime(match.group(1), "%Y%m%d").date() if match else None
    except ValueError:
        return None


def folder_day(name: str) -> dt.date | None:
    """The batch day of a folder named `YYYY-MM-DD` with a real date; None for any other name
    (`20220706` and `2022-13-45` included: `date.fromisoformat` alone takes `20220706`)."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", name):
        return None
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None
