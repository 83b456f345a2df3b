"""Writes synthetic source files exactly as `shared/spec/sources.md` (v2) lays them out.

The world is simulated dossier by dossier: each one is submitted, accepted,
maybe asked for supplements or a financial obligation, paid for, processed
office by office (on time or late), and its result returned. Every state
change is a new full state of the dossier, which the agency's outbox sends to
the portal in a sync call (`outbox.py`); every step is a processing-log
record sent the same way; every payment attempt becomes a row in its
intermediary's reconciliation file. Only what has happened before the end of
the range is written, so dossiers still in progress at the end look exactly
like that.

Layout under `out`, for the days in [start, end):

- `agencies/coquan_YYYYMMDD.csv` — the agency list on the first day (and on
  each day the list changes);
- `catalog/services_YYYYMMDD.csv` — the catalog on the first day and on each
  change day (the 15th);
- `dossiers/YYYY-MM-DD/hoso_<ThoiGianDongBo>_<MaDinhDanhDV>_<n>.json` and
  `processing/YYYY-MM-DD/tiendo_<ThoiGianDongBo>_<MaDinhDanhDV>_<n>.json` —
  one sync call each, in the folder of the call's local day; file names sort
  in the order the calls were made;
- `payments/YYYY-MM-DD/doisoat_YYYYMMDD_<MaTrungGian>.csv` — unchanged from v1.

Processing steps: the one-stop office receives and transfers a dossier, the
specialised office examines it (asking for supplements or a financial
obligation on the way), the leadership signs, the one-stop office returns the
result. The dossier's deadline is split among them (transfer 5 %, examination
to 75 %, signature at the due date), each step's own deadline in office hours;
the clock stops for the first supplement round only. A dossier that is not
late has no overrunning step; one finished after its due date has at least one,
mostly at the specialised office (else the leadership, now and then the
one-stop office). A dossier late only because of a second supplement round
need not have one.

The output is a pure function of (seed, start, end, scale, dirt_rate, scenario). The default
scenario is Vĩnh Phúc alone; `phu-tho-2025` (`merged.py`) adds Hòa Bình and Phú Thọ and their
merger on 1 July 2025, with agency snapshots on each day the list changes, a catalog snapshot on
1 July 2025 and dossiers in flight handed over to their agency's successor.
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import heapq
import io
import json
import logging
import math
import random
import shutil
import tempfile
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from itertools import accumulate
from pathlib import Path
from typing import Any, TypeVar

from dichvucong.simulator import agencies as agency_list
from dichvucong.simulator import merged
from dichvucong.simulator.agencies import AGENCY_COLUMNS, Agency, agency_row, directory
from dichvucong.simulator.catalog import CATALOG_COLUMNS, Service, base_catalog, catalog_at, catalog_row, change_days
from dichvucong.simulator.outbox import (
    INSERT,
    STEPS,
    UPDATE,
    Call,
    Portal,
    Schedule,
    Spool,
    assemble,
    schedule_for,
    seconds,
    spool_line,
    timestamp,
)
from dichvucong.simulator.people import CITIZEN, ENTERPRISE, ORGANISATION, STATE_AGENCY, Applicant, new_applicant, staff
from dichvucong.simulator.portal import write_portal_pages
from dichvucong.simulator.reference import (
    ATTACHMENT_NAMES,
    BRANCH_OFFICE,
    COMMUNE_DEFAULT_OFFICE,
    COMMUNE_OFFICES,
    DEPARTMENT_OFFICES,
    DISTRICT_OFFICES,
    DISTRICTS,
    EXPERT_TITLES,
    FIELDS,
    INTERMEDIARIES,
    LEADER_TITLES,
    LEADERSHIP_OFFICE,
    NOTES,
    ONE_STOP_OFFICE,
    RECEPTION_TITLES,
    REFUSAL_REASONS,
    STOP_REASONS,
    SUPPLEMENT_REASONS,
    Commune,
    District,
    Intermediary,
)
from dichvucong.simulator.reference import Field as FieldDef
from dichvucong.workdays import add_working_days, is_working_day

log = logging.getLogger(__name__)
T = TypeVar("T")

MONTHLY_DOSSIERS = 36_700
WORKING_DAYS_PER_MONTH = 21.75
OTHER_DAYS_PER_MONTH = 365.25 / 12 - WORKING_DAYS_PER_MONTH
OTHER_DAY_SHARE = 0.1  # of a working day's volume, online only, on weekends and holidays
SENDS_PER_DOSSIER = 3.5  # dossier records a dossier's changes make, after a run's coalescing
PAYMENT_COLUMNS = ("MaGiaoDich", "MaTrungGian", "KenhThanhToan", "MaHoSo", "MaTTHC",
                   "LoaiPhiLePhi", "SoTien", "TrangThai", "ThoiGianGiaoDich", "NgayDoiSoat")
# A dossier record's fields, in order: those fixed at submission, the dates and codes, the lists.
HEAD_FIELDS = ("MaHoSo", "MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "KenhThucHien", "LoaiDoiTuong", "ChuHoSo",
               "SoGiayToChuHoSo", "SoDienThoai", "Email", "Fax", "MaDoiTuong", "DinhDanhCHS", "TrichYeuHoSo",
               "ThongTinTra", "GhiChu")
STATE_FIELDS = ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi",
                "TrangThaiHoSo", "HinhThuc", "DonViXuLy", "NoiNopHoSo", "HoSoCoThanhPhanSoHoa",
                "TaiKhoanDuocXacThucVoiVNeID", "DuocThanhToanTrucTuyen")
TAIL_FIELDS = ("TaiLieuNop", "DanhSachLePhi", "DanhSachHoSoBoSung", "DanhSachGiayToKetQua", "DSKetNoiCSDL")
LIST_FIELDS = ("DinhDanhCHS", *TAIL_FIELDS)
DATE_FIELDS = ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy", "NgayTra", "NgayTuChoi")
NOT_DATES = ("20231345000000", "20240230101010", "00000000000000", "Chưa xác định")
NOT_AMOUNTS = ("50000đ", "Miễn phí", "1.000.000", "theo quy định")
POPULATION_DB = [{"MaCSDL": "CSDLDC"}]
RESEND_AFTER_REJECTION = 0.85
DEFAULT_SCENARIO = "vinh-phuc"
SCENARIOS = (DEFAULT_SCENARIO, merged.SCENARIO)
# Who sends a dossier's changes from when: (second since the outbox epoch, agency code), in time order.
_Handover = tuple[tuple[int, str], ...]


@dataclass
class GenerationStats:
    """What one `generate` call wrote.

    - agency_snapshots, catalog_snapshots: files under agencies/ and catalog/.
    - dossiers: dossiers submitted in the range (each has a MaHoSo, whether or not it was sent).
    - dossier_files: dossier sync-call files (one call each), repeated copies and unreadable ones included.
    - sync_records: records read from the dossier call files as sources.md counts them — the
      HoSoDongBoDVC records of every readable file (copies, rejected calls and records that must be
      quarantined included), and one for each file that cannot be read (quarantined whole).
    - rejected_calls: dossier call files whose KetQua.error_code is not "0".
    - unsynced_dossiers: dossiers sent at least once none of whose calls the portal accepted.
    - processing_files, processing_records, rejected_processing_calls: the same for the processing log
      (QuaTrinhXuLyDongBoDVC records).
    - processing_steps: distinct processing steps sent (one re-sent after a rejection, or sent twice,
      counts once).
    - payment_files, payment_rows: reconciliation files and their transaction rows (duplicates
      included, total lines not).
    - portal_pages: saves of the portal's evaluation page (portal/, simulator/portal.py), one a month.
    - dirt: what was injected, by kind: records (no_dossier_id, bad_status, bad_date, bad_fee_amount,
      record_not_object; step_bad_date, step_text_nfd_or_spaces, step_sent_twice), files (broken_json,
      broken_processing_json, repeated_/utf16_ call_file and processing_file), dossiers (the kept values:
      empty_optional_flag, amount_with_decimals, negative_fee, text_nfd_or_spaces, code_spaces,
      unknown_payment_code, missing_due, due_before_received, received_without_date, bad_date_order,
      supplement_answered_before_asked), payment rows (bad_amount, duplicate_payment, orphan_payment)
      and catalog or agency cells (catalog_text, agency_text).
    """

    agency_snapshots: int = 0
    catalog_snapshots: int = 0
    dossiers: int = 0
    sync_records: int = 0
    dossier_files: int = 0
    rejected_calls: int = 0
    unsynced_dossiers: int = 0
    processing_steps: int = 0
    processing_records: int = 0
    processing_files: int = 0
    rejected_processing_calls: int = 0
    payment_rows: int = 0
    payment_files: int = 0
    portal_pages: int = 0
    dirt: Counter[str] = field(default_factory=Counter)


def expected_dossiers(day: dt.date, scale: float) -> float:
    """Mean number of dossiers submitted on `day`: MONTHLY_DOSSIERS × scale a month, a working day
    carrying ten times the volume of a weekend day or holiday."""
    per_working_day = MONTHLY_DOSSIERS / (WORKING_DAYS_PER_MONTH + OTHER_DAY_SHARE * OTHER_DAYS_PER_MONTH)
    return per_working_day * scale * (1.0 if is_working_day(day) else OTHER_DAY_SHARE)


def _logistic(day: dt.date, midpoint: dt.date, days: float, top: float) -> float:
    return top / (1.0 + math.exp(-(day - midpoint).days / days))


def payment_uptake(day: dt.date) -> float:
    """Share of online, fee-bearing dossiers paid online: rare in 2021, common by 2024."""
    return _logistic(day, dt.date(2023, 3, 1), 180.0, 0.7)


def digitisation_uptake(day: dt.date) -> float:
    """Share of dossiers received in person whose components the one-stop office digitises."""
    return min(0.9, 0.35 + 0.2 * max(0.0, (day - dt.date(2022, 1, 1)).days / 365.0))


def vneid_uptake(day: dt.date) -> float:
    """Share of citizens' online dossiers filed from a VNeID-authenticated account (from mid-2022)."""
    return 0.0 if day < dt.date(2022, 7, 1) else _logistic(day, dt.date(2024, 1, 1), 120.0, 0.85)


def population_db_uptake(day: dt.date) -> float:
    """Share of citizens' dossiers of a connected procedure checked against the population database."""
    return _logistic(day, dt.date(2023, 6, 1), 200.0, 0.85)


def data_reuse_uptake(day: dt.date) -> float:
    return 0.03 + _logistic(day, dt.date(2024, 3, 1), 180.0, 0.35)


def data_store_uptake(day: dt.date) -> float:
    return _logistic(day, dt.date(2024, 9, 1), 150.0, 0.25)


@dataclass(frozen=True)
class _DayRates:
    payment: float
    digitised_in_person: float
    digitised_online: float
    reuse: float
    data_store: float
    vneid: float
    population: float
    national_portal: float
    old_cards: float

    @classmethod
    def of(cls, day: dt.date) -> _DayRates:
        digitised = digitisation_uptake(day)
        return cls(payment_uptake(day), digitised, 0.85 + 0.1 * (digitised - 0.35) / 0.55, data_reuse_uptake(day),
                   data_store_uptake(day), vneid_uptake(day), population_db_uptake(day),
                   0.3 + _logistic(day, dt.date(2023, 1, 1), 200.0, 0.4),
                   0.6 - _logistic(day, dt.date(2022, 1, 1), 200.0, 0.55))


def _fmt(ts: dt.datetime | None) -> str:
    """`yyyyMMddHHmmss` (strftime is three times slower, and this runs for every date of every record)."""
    if ts is None:
        return ""
    s = ts.isoformat()
    return s[0:4] + s[5:7] + s[8:10] + s[11:13] + s[14:16] + s[17:19]


# Working-day arithmetic repeats the same few thousand (day, count) pairs millions of times.
_add_working_days = lru_cache(maxsize=1 << 16)(add_working_days)


_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_quote: Callable[[str], str] = json.encoder.encode_basestring  # a JSON string literal, non-ASCII kept


def _at(day: dt.date, secs: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=secs)


def _pick(rng: random.Random, items: Sequence[T]) -> T:
    """`_pick(rng, items)` from one `random()` draw: the hot paths make hundreds of thousands."""
    return items[int(rng.random() * len(items))]


def _between(rng: random.Random, low: int, high: int) -> int:
    """`_between(rng, low, high)` from one `random()` draw."""
    return low + int(rng.random() * (high - low + 1))


def _nfd_or_spaces(text: str, rng: random.Random) -> str:
    return unicodedata.normalize("NFD", text) if rng.random() < 0.5 else f" {text}  "


def _add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return dt.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def due_at(received: dt.datetime, service: Service) -> dt.datetime:
    """The due date promised on the receipt: the procedure's deadline counted in its unit."""
    n, unit = service.deadline, service.deadline_unit
    if unit == "Gio":
        return received + dt.timedelta(hours=n)
    if unit == "Ngay":
        day = received.date() + dt.timedelta(days=n)
    elif unit == "Thang":
        day = _add_months(received.date(), n)
    else:
        day = _add_working_days(received.date(), n)
    return dt.datetime.combine(day, dt.time(17, 0))


def _deadline_in_office_hours(ts: dt.datetime, cap: dt.datetime) -> dt.datetime:
    """`ts`, moved on to the close (17:00) of a working day when it falls outside office hours; at most `cap`."""
    day = ts.date()
    if is_working_day(day) and dt.time(7, 30) <= ts.time() <= dt.time(17, 0):
        return min(ts, cap)
    if ts.time() > dt.time(17, 0):
        day += dt.timedelta(days=1)
    return min(dt.datetime.combine(_add_working_days(day, 0), dt.time(17, 0)), cap)


def _in_office_hours(ts: dt.datetime, floor: dt.datetime, ceiling: dt.datetime) -> dt.datetime:
    """`ts`, moved into office hours when it falls outside them: back to the close of the working day
    before it or on to the opening of the one after, whichever stays within [floor, ceiling]."""
    if is_working_day(ts.date()) and dt.time(7, 30) <= ts.time() <= dt.time(16, 55):
        return ts
    day = ts.date() if ts.time() > dt.time(16, 55) else ts.date() - dt.timedelta(days=1)
    while not is_working_day(day):
        day -= dt.timedelta(days=1)
    back = dt.datetime.combine(day, dt.time(16, ts.minute % 55, ts.second))
    if back >= floor:
        return back
    day = ts.date() if ts.time() < dt.time(7, 30) else ts.date() + dt.timedelta(days=1)
    on = dt.datetime.combine(_add_working_days(day, 0), dt.time(7, 30 + ts.minute % 30, ts.second))
    return on if on <= ceiling else ts


def _working_days(service: Service) -> int:
    n, unit = service.deadline, service.deadline_unit
    return {"Ngay": n * 5 // 7, "Thang": n * 21, "Gio": 0}.get(unit, n)


def _pick_level(levels: tuple[str, ...], rng: random.Random) -> str:
    """The level a dossier of a procedure performed at `levels` is filed at: mostly the lowest."""
    if len(levels) == 1:
        return levels[0]
    return levels[-1] if rng.random() < 0.7 else _pick(rng, levels[:-1])


def _level_split(levels: tuple[str, ...]) -> list[tuple[str, float]]:
    """Where a procedure performed at several levels is filed: mostly at the lowest."""
    if len(levels) == 1:
        return [(levels[0], 1.0)]
    rest = 0.3 / (len(levels) - 1)
    return [(level, 0.7 if level == levels[-1] else rest) for level in levels]


# Per field: its services, their cumulative weights, its online services, and theirs.
_FieldIndex = tuple[list[Service], list[float], list[Service], list[float]]


@dataclass
class _Payment:
    txn_id: str
    intermediary: Intermediary
    channel: int
    dossier_id: str
    service_code: str
    fee_kind: int
    amount: int
    status: str
    paid_at: dt.datetime
    settled_on: dt.date
    duplicate: bool = False


@dataclass(frozen=True)
class _Fee:
    name: str
    code: str
    kind: int  # LoaiPhiLePhi
    amount: int
    when: str  # HinhThucThu

    def line(self, amount: str | None = None) -> dict[str, str]:
        return {"TenPhiLePhi": self.name, "MaPhiLePhi": self.code, "HinhThucThu": self.when,
                "Gia": str(self.amount) if amount is None else amount, "LoaiPhiLePhi": str(self.kind)}


@dataclass
class _Step:
    at: dt.datetime
    role: str  # one-stop, expert, leader
    content: str
    status: str
    deadline: dt.datetime


class Simulator:
    def __init__(self, seed: int, start: dt.date, end: dt.date, scale: float, dirt_rate: float,
                 world: merged.World | None = None) -> None:
        if end <= start:
            raise ValueError(f"empty range: {start} to {end}")
        self.seed = seed
        self.start = start
        self.end = end
        self.end_ts = dt.datetime.combine(end, dt.time())
        self.last_run = seconds(self.end_ts) - 120  # a run after it would be made after the range
        self.scale = scale
        self.dirt = dirt_rate
        self.stats = GenerationStats()
        self.world = world
        self.directory = directory()
        self.portal = Portal(seed)
        self.txn_counter: Counter[str] = Counter()
        self.payments: list[_Payment] = []
        self.applicants: dict[str, list[Applicant]] = defaultdict(list)
        self.catalog_days = sorted({start, *change_days(start, end),
                                    *(world.catalog_change_days(start, end) if world else ())})
        self._index_cache: dict[dt.date, dict[str, _FieldIndex]] = {}
        self.field_cum = list(accumulate(f.volume for f in FIELDS))
        self.district_cum = list(accumulate(d.weight for d in DISTRICTS))
        self.commune_cum = {d.code: list(accumulate(1.5 if not c.name.startswith("Xã") else 1.0 for c in d.communes))
                            for d in DISTRICTS}
        self.schedules = self._schedules() if world is None else self._world_schedules(world)
        self.spool: Spool | None = None

    # --- agencies and catalog ------------------------------------------------------

    def write_agencies(self, out: Path) -> None:
        rng = random.Random(f"{self.seed}-agency-dirt")
        previous: dt.date | None = None
        world = self.world
        days = world.change_days(self.start, self.end) if world else agency_list.change_days(self.start, self.end)
        for day in sorted({self.start, *days}):
            path = out / "agencies" / f"coquan_{day:%Y%m%d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(AGENCY_COLUMNS)
                for agency in world.snapshot(day, previous) if world else agency_list.agencies_at(day, previous):
                    row = list(agency_row(agency))
                    if rng.random() < self.dirt * 25:
                        row[1] = _nfd_or_spaces(row[1], rng)
                        self.stats.dirt["agency_text"] += 1
                    writer.writerow(row)
            previous = day
            self.stats.agency_snapshots += 1

    def _service_index(self, day: dt.date) -> dict[str, _FieldIndex]:
        key = max(d for d in self.catalog_days if d <= day)
        if key not in self._index_cache:
            by_field: dict[str, list[Service]] = defaultdict(list)
            for service in catalog_at(self.seed, key):
                by_field[service.field_code].append(service)
            index = {}
            for code, services in by_field.items():
                online = [s for s in services if s.online_level >= 3]
                index[code] = (
                    services,
                    list(accumulate(s.weight for s in services)),
                    online,
                    list(accumulate(s.weight for s in online)),
                )
            self._index_cache[key] = index
        return self._index_cache[key]

    def write_catalog(self, out: Path) -> None:
        rng = random.Random(f"{self.seed}-catalog-dirt")
        for day in self.catalog_days:
            path = out / "catalog" / f"services_{day:%Y%m%d}.csv"
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle, lineterminator="\n")
                writer.writerow(CATALOG_COLUMNS)
                for service in catalog_at(self.seed, day):
                    row = self.world.catalog_row(service, day) if self.world else catalog_row(service, day)
                    if rng.random() < self.dirt * 10:
                        row[1] = _nfd_or_spaces(row[1], rng)
                        self.stats.dirt["catalog_text"] += 1
                    if rng.random() < self.dirt * 5:
                        row[3] = _nfd_or_spaces(row[3], rng)
                        self.stats.dirt["catalog_text"] += 1
                    writer.writerow(row)
            self.stats.catalog_snapshots += 1

    def _schedules(self) -> dict[str, Schedule]:
        """Each agency's outbox runs, sized on its expected share of the province's dossiers in the base
        catalog (not the range's: a day's calls do not depend on where the range starts)."""
        shares: defaultdict[str, float] = defaultdict(float)
        by_field: defaultdict[str, list[Service]] = defaultdict(list)
        for service in base_catalog(self.seed):
            by_field[service.field_code].append(service)
        district_total = self.district_cum[-1]
        for field_def in FIELDS:
            services = by_field[field_def.code]
            total = sum(s.weight for s in services)
            for service in services:
                p = field_def.volume * service.weight / total
                for level, lp in _level_split(service.levels):
                    for district in DISTRICTS:
                        share = p * lp * district.weight / district_total
                        if level == "TINH":
                            code = (self.directory.land_branches[district.code].code if service.by_branch
                                    else service.department)
                            shares[code] += share
                        elif level == "HUYEN":
                            shares[self.directory.districts[district.code].code] += share
                        else:
                            cum_c = self.commune_cum[district.code]
                            for commune, weight in zip(district.communes, _diffs(cum_c), strict=True):
                                shares[self.directory.communes[commune.code].code] += share * weight / cum_c[-1]
        daily = MONTHLY_DOSSIERS / WORKING_DAYS_PER_MONTH * self.scale * SENDS_PER_DOSSIER
        return {a.code: schedule_for(self.seed, a.code, daily * shares[a.code]) for a in self.directory.agencies}

    def _world_schedules(self, world: merged.World) -> dict[str, Schedule]:
        """`_schedules` for the merged scenario: each agency's expected share of Vĩnh Phúc's volume in
        the period it serves (the locations' weights add up to the scenario's volume factor)."""
        branch = local = commune = 0.0
        department: defaultdict[int, float] = defaultdict(float)
        by_field: defaultdict[str, list[Service]] = defaultdict(list)
        for service in base_catalog(self.seed):
            by_field[service.field_code].append(service)
        for field_def in FIELDS:
            services = by_field[field_def.code]
            total = sum(s.weight for s in services)
            for service in services:
                p = field_def.volume * service.weight / total
                for level, lp in _level_split(service.levels):
                    if level == "TINH" and service.by_branch:
                        branch += p * lp
                    elif level == "TINH":
                        department[merged.sector(service.department)] += p * lp
                    elif level == "HUYEN":
                        local += p * lp
                    else:
                        commune += p * lp
        shares: defaultdict[str, float] = defaultdict(float)
        since = agency_list.AGENCY_LIST_SINCE
        for first_day in (since, *world.change_days(since, dt.date.max)):
            period = world.period(first_day)
            in_period: defaultdict[str, float] = defaultdict(float)
            for location, weight in zip(period.locations, _diffs(list(period.cumulative)), strict=True):
                in_period[location.branch.code] += branch * weight
                in_period[location.local_agency.code] += local * weight
                in_period[location.commune_agency.code] += commune * weight
                for number, share in department.items():
                    in_period[location.departments[number].code] += share * weight
            for code, share in in_period.items():
                shares[code] = max(shares[code], share)
        daily = MONTHLY_DOSSIERS / WORKING_DAYS_PER_MONTH * self.scale * SENDS_PER_DOSSIER
        return {a.code: schedule_for(self.seed, a.code, daily * shares[a.code]) for a in world.agencies}

    # --- applicants ----------------------------------------------------------------

    def applicant(self, rng: random.Random, kind: str, rates: _DayRates) -> Applicant:
        pool = self.applicants[kind]
        if pool and rng.random() < 0.15:
            return _pick(rng, pool)
        applicant = new_applicant(rng, kind, rates.old_cards)
        if len(pool) < 20_000:
            pool.append(applicant)
        return applicant

    # --- dossiers ----------------------------------------------------------------

    def _agency_for(self, service: Service, district: District, commune: Commune, rng: random.Random) -> Agency:
        level = _pick_level(service.levels, rng)
        if level == "TINH":
            if service.by_branch:
                return self.directory.land_branches[district.code]
            return self.directory.departments[service.department]
        if level == "HUYEN":
            return self.directory.districts[district.code]
        return self.directory.communes[commune.code]

    @staticmethod
    def _world_agency_for(service: Service, location: merged.Location, rng: random.Random) -> Agency:
        level = _pick_level(service.levels, rng)
        if level == "TINH":
            if service.by_branch:
                return location.branch
            return location.departments[merged.sector(service.department)]
        if level == "HUYEN":
            return location.local_agency
        return location.commune_agency

    def simulate_day(self, day: dt.date) -> None:
        if self.world is not None:
            self._simulate_world_day(day, self.world)
            return
        rng = random.Random(f"{self.seed}-dossiers-{day.isoformat()}")
        working = is_working_day(day)
        mean = expected_dossiers(day, self.scale)
        count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
        index = self._service_index(day)
        rates = _DayRates.of(day)
        sequence: Counter[str] = Counter()
        for _ in range(count):
            drawn = self._draw_service(rng, index, working)
            if drawn is None:
                continue
            field_def, service = drawn
            district = DISTRICTS[bisect.bisect_left(self.district_cum, rng.random() * self.district_cum[-1])]
            commune_cum = self.commune_cum[district.code]
            commune = district.communes[bisect.bisect_left(commune_cum, rng.random() * commune_cum[-1])]
            agency = self._agency_for(service, district, commune, rng)
            sequence[agency.code] += 1
            dossier_id = f"{agency.code}-{day:%y%m%d}-{sequence[agency.code]:04d}"
            _Dossier(self, rng, day, working, rates, field_def, service, district, commune, agency,
                     dossier_id).simulate()
            self.stats.dossiers += 1

    def _draw_service(self, rng: random.Random, index: dict[str, _FieldIndex],
                      working: bool) -> tuple[FieldDef, Service] | None:
        """A dossier's field and procedure, drawn by volume from the day's service index; on a day
        off only an online procedure (None: the field has none)."""
        field_def = FIELDS[bisect.bisect_left(self.field_cum, rng.random() * self.field_cum[-1])]
        services, cum, online, online_cum = index[field_def.code]
        if not working:
            if not online:
                return None
            services, cum = online, online_cum
        return field_def, services[bisect.bisect_left(cum, rng.random() * cum[-1])]

    def _simulate_world_day(self, day: dt.date, world: merged.World) -> None:
        """`simulate_day` for the merged scenario: the provinces' volume, applicants drawn from the
        locations of the day, in-flight dossiers handed over when their agency closes."""
        rng = random.Random(f"{self.seed}-dossiers-{day.isoformat()}")
        working = is_working_day(day)
        mean = expected_dossiers(day, self.scale) * world.volume_factor
        count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
        index = self._service_index(day)
        rates = _DayRates.of(day)
        period = world.period(day)
        cumulative = period.cumulative
        sequence: Counter[str] = Counter()
        for _ in range(count):
            drawn = self._draw_service(rng, index, working)
            if drawn is None:
                continue
            field_def, service = drawn
            location = period.locations[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]
            agency = self._world_agency_for(service, location, rng)
            sequence[agency.code] += 1
            dossier_id = f"{agency.code}-{day:%y%m%d}-{sequence[agency.code]:04d}"
            handover = tuple((dt.datetime.combine(on, dt.time()), successor)
                             for on, successor in world.handover(agency) if on < self.end)
            _Dossier(self, rng, day, working, rates, field_def, service, location.area, location.commune, agency,
                     dossier_id, handover).simulate()
            self.stats.dossiers += 1

    @staticmethod
    def office_time(rng: random.Random, day: dt.date, not_before: dt.datetime) -> dt.datetime:
        """A time in office hours (07:30-16:55) on `day` or, if that is too early, after `not_before`."""
        while True:
            ts = _at(day, _between(rng, 7 * 3600 + 1800, 16 * 3600 + 3000))
            if ts <= not_before:
                ts = not_before + dt.timedelta(minutes=_between(rng, 5, 90))
            if ts.time() <= dt.time(16, 55) and is_working_day(ts.date()):
                return ts
            day = _add_working_days(ts.date() + dt.timedelta(days=1), 0)
            not_before = dt.datetime.combine(day, dt.time(7, 0))

    # --- the outbox ----------------------------------------------------------------

    @staticmethod
    def _lag(rng: random.Random) -> int:
        """Seconds from a change to the outbox: a few minutes, now and then days (a stuck outbox)."""
        lag = 60 + int(rng.random() * 2640)
        if rng.random() < 0.03:
            lag += (1 + int(rng.random() * 6)) * 86_400
        return lag

    def _run(self, agency: str, handover: _Handover, ready: int) -> tuple[int, str]:
        """The outbox run that sends what is ready at `ready`, and the agency whose outbox it is: the
        agency's, or once it has closed its successor's (an outbox makes no run after its agency closed)."""
        run = self.schedules[agency].run_at(ready)
        for cutover, successor in handover:
            if run < cutover:
                break
            agency = successor
            run = self.schedules[agency].run_at(max(ready, cutover))
        return run, agency

    def send_dossier(self, agency: str, events: list[tuple[int, dict[str, Any]]],
                     serialise: Callable[[dict[str, Any]], str], rng: random.Random,
                     handover: _Handover = ()) -> tuple[int, str] | None:
        """Send a dossier's states: at each run after a change, its state then; `insert` until the
        portal accepts one, `update` after; a rejected record is usually sent again later. A dossier
        handed over (`handover`) goes on under its MaHoSo, and under the code of the agency that
        received it, at the successor's outbox runs. Returns the first
        run that sent it and the agency that made it (None: not sent in the range)."""
        assert self.spool is not None
        times = [t for t, _ in events]
        runs = [self._run(agency, handover, t + self._lag(rng)) for t in times]
        heapq.heapify(runs)
        inserted, accepted, previous = False, -1, -1
        first: tuple[int, str] | None = None
        while runs:
            run, sender = heapq.heappop(runs)
            if run == previous:
                continue
            previous = run
            if run >= self.last_run:
                break
            state = bisect.bisect_right(times, run) - 1
            if inserted and state == accepted:
                continue
            kind = UPDATE if inserted else INSERT
            # Handed over, the dossier still goes out under the code of the agency that received it
            # (sources.md v2 §1: a call under a closed code is kept and flagged), from the successor's run.
            self.spool.add(run, spool_line(run, agency, kind, times[state], serialise(events[state][1])))
            if first is None:
                first = run, sender
            if self.portal.rejected(sender, run, kind):
                if rng.random() < RESEND_AFTER_REJECTION:
                    retry = run + _between(rng, 10 * 60, 36 * 3600)
                    heapq.heappush(runs, self._run(agency, handover, retry))
            else:
                inserted, accepted = True, state
        if first is not None and not inserted:
            self.stats.unsynced_dossiers += 1
        return first

    def send_steps(self, agency: str, steps: list[tuple[int, str]], first: tuple[int, str], rng: random.Random,
                   handover: _Handover = ()) -> None:
        """Send processing steps (time, JSON): each at the run after it (never before the dossier's first
        send, `first`), again after a rejection; from the successor's outbox once handed over."""
        assert self.spool is not None
        for at, record in steps:
            run, sender = max(first, self._run(agency, handover, at + self._lag(rng)))
            sent = False
            while run < self.last_run:
                self.spool.add(run, spool_line(run, sender, STEPS, at, record))
                sent = True
                if not self.portal.rejected(sender, run, STEPS):
                    break
                run, sender = self._run(agency, handover, run + _between(rng, 10 * 60, 12 * 3600))
            if not sent:
                continue
            self.stats.processing_steps += 1
            if rng.random() < self.dirt * 3:
                again, sender = self._run(agency, handover, run + _between(rng, 600, 48 * 3600))
                if again < self.last_run:
                    self.spool.add(again, spool_line(again, sender, STEPS, at, record))
                    self.stats.dirt["step_sent_twice"] += 1

    def write_calls(self, out: Path, day: dt.date) -> None:
        """Write the calls made on `day`: every dossier that could add to them has been simulated."""
        assert self.spool is not None
        rng = random.Random(f"{self.seed}-calls-{day.isoformat()}")
        first_hour = seconds(dt.datetime.combine(day, dt.time())) // 3600
        for hour in range(first_hour, first_hour + 24):
            for call in assemble(self.spool.take(hour), self.portal):
                if call.at >= self.last_run + 120:
                    continue
                self._write_call(out, call, rng)

    def _write_call(self, out: Path, call: Call, rng: random.Random) -> None:
        """Write one call file; now and then twice (an identical file repeated), in UTF-16 with its
        byte-order mark, or cut short (not JSON: the whole file is quarantined). File dirt counts
        files: `<kind>_call_file` for dossier calls, `<kind>_processing_file` for processing calls."""
        text = call.envelope()
        folder = out / call.folder / f"{timestamp(call.at):%Y-%m-%d}"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = "processing_file" if call.kind == STEPS else "call_file"
        copies = 2 if rng.random() < self.dirt else 1
        encoding = "utf-8"
        if rng.random() < self.dirt / 2:
            encoding = "utf-16"
            self.stats.dirt[f"utf16_{suffix}"] += copies
        readable = True
        if rng.random() < self.dirt:
            text = text[: _between(rng, 10, len(text) - 10)]
            readable = False
            self.stats.dirt["broken_json" if call.kind != STEPS else "broken_processing_json"] += copies
        self.stats.dirt[f"repeated_{suffix}"] += copies - 1
        data = text.encode(encoding)
        records = len(call.records) if readable else 1
        rejected = call.error_code != "0"
        for number in range(1, copies + 1):
            (folder / call.name(number)).write_bytes(data)
            if call.kind == STEPS:
                self.stats.processing_files += 1
                self.stats.rejected_processing_calls += rejected
                self.stats.processing_records += records
            else:
                self.stats.dossier_files += 1
                self.stats.rejected_calls += rejected
                self.stats.sync_records += records

    # --- payments ----------------------------------------------------------------

    def _txn_id(self, intermediary: Intermediary, when: dt.datetime) -> str:
        self.txn_counter[intermediary.code] += 1
        return f"{intermediary.code[:4]}{when:%Y%m%d}{self.txn_counter[intermediary.code]:08d}"

    def _pick_intermediary(self, rng: random.Random, channel: int) -> Intermediary:
        serving = [i for i in INTERMEDIARIES if channel in i.channels]
        return rng.choices(serving, weights=[i.weight for i in serving])[0]

    def payments_for(self, rng: random.Random, dossier_id: str, service_code: str, fees: list[_Fee], channel: int,
                     paid_at: dt.datetime) -> None:
        intermediary = self._pick_intermediary(rng, channel)
        expected = sum(f.amount for f in fees)
        fee_kind = fees[-1].kind

        def add(amount: int, status: str, when: dt.datetime, settle: dt.date, paid_for: str = dossier_id) -> _Payment:
            return self._add_payment(rng, _Payment(self._txn_id(intermediary, when), intermediary, channel, paid_for,
                                                   service_code, fee_kind, amount, status, when, settle))

        if rng.random() < 0.06:
            failed_at = paid_at - dt.timedelta(minutes=_between(rng, 1, 30))
            add(expected, "01", failed_at, failed_at.date())
        amount = expected
        draw = rng.random()
        if draw < 0.015:
            amount = fees[0].amount if len(fees) > 1 else int(round(expected * 0.9))
        elif draw < 0.02:
            amount = expected + 10_000
        settle = paid_at.date()
        if rng.random() < 0.04:
            # Pending in the day's file, succeeded in a later day's file: the later row wins.
            pending = add(amount, "02", paid_at, settle)
            later = settle + dt.timedelta(days=_between(rng, 1, 2))
            self.payments.append(replace(pending, status="00", settled_on=later, duplicate=False))
        else:
            add(amount, "00", paid_at, settle)
        if rng.random() < self.dirt * 5:
            orphan_id = f"{dossier_id.rsplit('-', 2)[0]}-{paid_at:%y%m%d}-9{_between(rng, 0, 999):03d}"
            add(expected, "00", paid_at + dt.timedelta(minutes=7), settle, paid_for=orphan_id)
            self.stats.dirt["orphan_payment"] += 1

    def refund(self, rng: random.Random, dossier_id: str, service_code: str, fees: list[_Fee], channel: int,
               stopped_at: dt.datetime) -> None:
        intermediary = self._pick_intermediary(rng, channel)
        when = stopped_at + dt.timedelta(days=_between(rng, 1, 5), minutes=_between(rng, 0, 600))
        self._add_payment(rng, _Payment(self._txn_id(intermediary, when), intermediary, channel, dossier_id,
                                        service_code, fees[-1].kind, -sum(f.amount for f in fees), "00", when,
                                        when.date()))

    def _add_payment(self, rng: random.Random, payment: _Payment) -> _Payment:
        payment.duplicate = rng.random() < self.dirt * 5
        self.stats.dirt["duplicate_payment"] += payment.duplicate
        self.payments.append(payment)
        return payment

    def write_payments(self, out: Path) -> None:
        rng = random.Random(f"{self.seed}-payment-files")
        by_file: dict[tuple[dt.date, str], list[_Payment]] = defaultdict(list)
        for payment in self.payments:
            if self.start <= payment.settled_on < self.end:
                by_file[(payment.settled_on, payment.intermediary.code)].append(payment)
        day = self.start
        while day < self.end:
            for intermediary in INTERMEDIARIES:
                rows = sorted(by_file.get((day, intermediary.code), []), key=lambda p: (p.paid_at, p.txn_id))
                self._write_payment_file(out, day, intermediary, rows, rng)
            day += dt.timedelta(days=1)

    def _write_payment_file(self, out: Path, day: dt.date, intermediary: Intermediary, rows: list[_Payment],
                            rng: random.Random) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n" if intermediary.crlf else "\n")
        writer.writerow(PAYMENT_COLUMNS)
        total = 0
        for p in rows:
            amount: object = p.amount
            if rng.random() < self.dirt:
                amount = f"{p.amount}đ"
                self.stats.dirt["bad_amount"] += 1
            row = (p.txn_id, intermediary.code, p.channel, p.dossier_id, p.service_code, p.fee_kind, amount,
                   p.status, f"{p.paid_at:%Y-%m-%d %H:%M:%S}", f"{p.settled_on:%Y-%m-%d}")
            writer.writerow(row)
            self.stats.payment_rows += 1
            if p.duplicate:
                writer.writerow(row)
                self.stats.payment_rows += 1
            total += p.amount if p.status == "00" else 0
        if intermediary.total_line:
            writer.writerow(("Tổng cộng", "", "", "", "", "", total, "", "", f"{day:%Y-%m-%d}"))
        path = out / "payments" / f"{day:%Y-%m-%d}" / f"doisoat_{day:%Y%m%d}_{intermediary.code}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8-sig" if intermediary.bom else "utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
        self.stats.payment_files += 1


def _diffs(cumulative: list[float]) -> list[float]:
    return [b - a for a, b in zip([0.0, *cumulative[:-1]], cumulative, strict=True)]


class _Dossier:
    """One dossier's life: its states (the records its agency sends) and its processing steps."""

    def __init__(self, sim: Simulator, rng: random.Random, day: dt.date, working: bool, rates: _DayRates,
                 field_def: FieldDef, service: Service, district: District, commune: Commune, agency: Agency,
                 dossier_id: str, handover: tuple[tuple[dt.datetime, Agency], ...] = ()) -> None:
        self.sim, self.rng, self.day, self.working, self.rates = sim, rng, day, working, rates
        self.field_def, self.service, self.district, self.commune, self.agency = (field_def, service, district,
                                                                                   commune, agency)
        self.dossier_id = dossier_id
        self.handover = handover  # (from when, the successor that handles it), when its agency closes
        self.dirt = sim.dirt
        self.counts = sim.stats.dirt
        self.state: dict[str, Any] = {}
        self.events: list[tuple[int, dict[str, Any]]] = []
        self.steps: list[_Step] = []
        self.overrides: dict[str, Any] = {}
        self.empty_lists = "list"  # how this dossier's records write an empty list: [], null or not at all
        self.head = ""  # the JSON of its HEAD_FIELDS, which never change
        self.list_texts: dict[int, str] = {}  # the JSON of its lists (never changed in place), by id

    # --- building the states -------------------------------------------------------

    def emit(self, ts: dt.datetime, **changes: Any) -> None:
        self.state.update(changes)
        if self.handover:
            handler = self.agency_at(ts)
            if handler is not self.agency:
                self.state["DonViXuLy"] = handler.name
                if self.overrides.pop("DonViXuLy", None) is not None:
                    self.counts["text_nfd_or_spaces"] -= 1  # records are serialised when sent: none keeps it
        self.events.append((seconds(ts), dict(self.state)))

    def agency_at(self, ts: dt.datetime) -> Agency:
        """The agency that handles the dossier at `ts`: the one that received it, or its successor."""
        agency = self.agency
        for cutover, successor in self.handover:
            if ts < cutover:
                break
            agency = successor
        return agency

    def step(self, at: dt.datetime, role: str, content: str, status: str, deadline: dt.datetime) -> None:
        self.steps.append(_Step(at, role, content, status, deadline))

    def _kind(self) -> str:
        rng = self.rng
        if rng.random() < (0.9 if self.service.field_code == "DKKD" else 0.1):
            return ENTERPRISE
        draw = rng.random()
        if not self.service.citizens:  # only organisations can apply
            return ENTERPRISE if draw < 0.6 else ORGANISATION if draw < 0.9 else STATE_AGENCY
        return STATE_AGENCY if draw < 0.03 else ORGANISATION if draw < 0.05 else CITIZEN

    def _attachments(self, online: bool, digitised: bool, reuse: str, store: bool) -> list[dict[str, str]]:
        rng, service = self.rng, self.service
        if not online and not digitised and not reuse:
            return []
        count = _between(rng, 1, 4) if online or digitised else 1
        docs = []
        for i in range(count):
            file_id = f"{rng.getrandbits(64):016x}"
            docs.append({"TepDinhKemId": file_id, "TenTepDinhKem": f"{_pick(rng, ATTACHMENT_NAMES)}.pdf",
                         "IsDeleted": "0", "MaThanhPhanHoSo": f"{service.code}.TP{i + 1}",
                         "DuongDanTaiTepTin": f"/upload/{self.day:%Y/%m/%d}/{file_id}.pdf",
                         "DuocSoHoa": "1" if digitised else "0", "DuocTaiSuDung": "0", "DuocLayTuKhoDMQG": "0",
                         "MaKetQuaThayThe": ""})
        if reuse:
            docs[0]["DuocTaiSuDung"] = reuse
        if store:
            docs[-1]["DuocLayTuKhoDMQG"] = "1"
            docs[-1]["MaKetQuaThayThe"] = f"KQ.{rng.getrandbits(40):010X}"
        if rng.random() < 0.05:
            # A file the applicant replaced: deleted, so not counted, whatever its flags say.
            docs.append(dict(docs[0], TepDinhKemId=f"{rng.getrandbits(64):016x}", IsDeleted="1", DuocSoHoa="1"))
        return docs

    def _fees(self) -> list[_Fee]:
        rng, service = self.rng, self.service
        fee = service.fee_vnd
        if fee <= 0:
            return []
        if fee >= 100_000 and rng.random() < 0.4:
            first = int(round(fee * 0.6 / 1000.0)) * 1000
            return [_Fee("Phí thẩm định hồ sơ", f"PHI-{service.field_code}", 1, first, "1"),
                    _Fee("Lệ phí cấp giấy", f"LEPHI-{service.field_code}", 2, fee - first,
                         "4" if rng.random() < 0.2 else "1")]
        kind = 2 if rng.random() < 0.6 else 1
        label = "Lệ phí" if kind == 2 else "Phí"
        return [_Fee(f"{label} giải quyết thủ tục", f"{'LEPHI' if kind == 2 else 'PHI'}-{service.field_code}", kind,
                     fee, "1")]

    def _kept_dirt(self, channel: int, fees: list[_Fee]) -> None:
        """Values a loader must keep (normalised or flagged), fixed for the dossier's every record."""
        rng, dirt, counts = self.rng, self.dirt, self.counts
        if rng.random() < dirt:
            key = "KenhThucHien" if channel == 1 else _pick(rng, 
                ("HoSoCoThanhPhanSoHoa", "TaiKhoanDuocXacThucVoiVNeID", "HinhThuc"))
            self.overrides[key] = ""
            counts["empty_optional_flag"] += 1
        if rng.random() < dirt * 2:
            key = _pick(rng, ("ChuHoSo", "DonViXuLy", "TenTTHC"))
            self.overrides[key] = _nfd_or_spaces(self.state[key], rng)
            counts["text_nfd_or_spaces"] += 1
        if rng.random() < dirt:
            self.overrides["MaTTHC"] = f" {self.service.code} "
            counts["code_spaces"] += 1
        if fees and rng.random() < dirt * 2:
            self.overrides["DanhSachLePhi"] = [f.line(f"{f.amount}.0") for f in fees]
            counts["amount_with_decimals"] += 1
        if fees and rng.random() < dirt / 2:
            self.overrides["DanhSachLePhi"] = [*(f.line() for f in fees[:-1]), fees[-1].line(f"-{fees[-1].amount}")]
            counts["negative_fee"] += 1
        style = rng.random()
        self.empty_lists = "list" if style < 0.85 else "null" if style < 0.95 else "absent"

    def _list_text(self, key: str, value: list[Any]) -> str:
        text = self.list_texts.get(id(value))
        if text is None:
            if value or self.empty_lists == "list":
                text = f'"{key}":{_dumps(value)}'
            else:
                text = f'"{key}":null' if self.empty_lists == "null" else ""
            self.list_texts[id(value)] = text
        return text

    def serialise(self, state: dict[str, Any]) -> str:
        """The JSON text of a state as sent. Only the dates and codes change from one state to the next, so
        the rest is encoded once per dossier."""
        if self.rng.random() < self.dirt:
            return self._serialise_quarantined(state)
        overrides = self.overrides
        if not self.head:  # DinhDanhCHS, its one list, is never empty
            self.head = _dumps({k: overrides.get(k, state[k]) for k in HEAD_FIELDS})[1:-1]
        middle = _dumps({k: overrides.get(k, state[k]) for k in STATE_FIELDS})
        parts = [self.head, middle[1:-1]]
        for key in TAIL_FIELDS:
            text = self._list_text(key, overrides.get(key, state[key]))
            if text:
                parts.append(text)
        return "{" + ",".join(parts) + "}"

    def _serialise_quarantined(self, state: dict[str, Any]) -> str:
        """A state sent with a value that sends the record to quarantine."""
        record = {**state, **self.overrides} if self.overrides else dict(state)
        if self.empty_lists != "list":
            for key in LIST_FIELDS:
                if not record[key]:
                    if self.empty_lists == "null":
                        record[key] = None
                    else:
                        del record[key]
        rng, counts = self.rng, self.counts
        # Records that must be quarantined, one reason each.
        draw = rng.random()
        if draw < 0.2:
            if rng.random() < 0.5:
                record["MaHoSo"] = ""
            else:
                del record["MaHoSo"]
            counts["no_dossier_id"] += 1
        elif draw < 0.4:
            record["TrangThaiHoSo"] = _pick(rng, ("0", "11", "12", "99"))
            counts["bad_status"] += 1
        elif 0.6 <= draw < 0.8 and record.get("DanhSachLePhi"):
            lines = [dict(line) for line in record["DanhSachLePhi"]]
            lines[0]["Gia"] = _pick(rng, NOT_AMOUNTS)
            record["DanhSachLePhi"] = lines
            counts["bad_fee_amount"] += 1
        elif draw < 0.8:
            present = [k for k in DATE_FIELDS if record.get(k)]
            record[_pick(rng, present)] = _pick(rng, NOT_DATES)
            counts["bad_date"] += 1
        else:
            # Sent as a JSON string holding the record (encoded twice): not a record object.
            counts["record_not_object"] += 1
            return _dumps(_dumps(record))
        return _dumps(record)

    # --- the life ----------------------------------------------------------------

    def simulate(self) -> None:
        sim, rng, service, rates, agency = self.sim, self.rng, self.service, self.rates, self.agency
        day, dirt, counts = self.day, self.dirt, self.counts
        online_odds = min(0.97, self.field_def.online_share * (1.2 if service.online_level == 4 else 0.7))
        if not self.working or service.online_level >= 3 and rng.random() < online_odds:
            channel = 2
        else:
            channel = 3 if rng.random() < 0.02 else 1
        kind = self._kind()
        applicant = sim.applicant(rng, kind, rates)
        if channel == 1:
            submitted = _at(day, _between(rng, 7 * 3600 + 1800, 16 * 3600 + 900))
        else:
            secs = _between(rng, 6 * 3600, 23 * 3600 + 3599) if rng.random() < 0.8 else _between(rng, 0, 86399)
            submitted = _at(day, secs)
        draw = rng.random()
        if channel == 3:
            delivery = "1"
        elif channel == 2:
            delivery = "2" if draw < 0.45 else "1" if draw < 0.55 else "0"
        else:
            delivery = "1" if draw < 0.07 else "0"
        place = "1" if channel != 2 else ("2" if rng.random() < rates.national_portal else "3")
        citizen = kind == CITIZEN
        vneid = channel == 2 and citizen and rng.random() < rates.vneid
        population = citizen and rng.random() < rates.population * (1.0 if service.population_db else 0.15)
        fees = self._fees()
        place_name = f"{self.commune.name}, {self.district.name}"
        self.state = {
            "MaHoSo": self.dossier_id,
            "MaTTHC": service.code,
            "TenTTHC": service.name,
            "MaLinhVuc": service.field_code,
            "TenLinhVuc": service.field_name,
            "KenhThucHien": str(channel),
            "LoaiDoiTuong": kind,
            "ChuHoSo": applicant.name,
            "SoGiayToChuHoSo": applicant.ident,
            "SoDienThoai": applicant.phone,
            "Email": applicant.email,
            "Fax": "",
            "MaDoiTuong": f"{rng.getrandbits(48):012x}" if channel == 2 else "",
            "DinhDanhCHS": [{"LoaiDinhDanh": applicant.id_kind, "SoDinhDanh": applicant.ident}],
            "TrichYeuHoSo": f"{service.name} - {applicant.name}" if rng.random() < 0.9 else "",
            "ThongTinTra": f"Gửi kết quả về: {place_name}" if delivery == "1" else "",
            "GhiChu": _pick(rng, NOTES) if rng.random() < 0.15 else "",
            "NgayNopHoSo": _fmt(submitted),
            "NgayTiepNhan": "",
            "NgayHenTra": "",
            "NgayKetThucXuLy": "",
            "NgayTra": "",
            "NgayTuChoi": "",
            "TrangThaiHoSo": "1",
            "HinhThuc": delivery,
            "DonViXuLy": agency.name,
            "NoiNopHoSo": place,
            "HoSoCoThanhPhanSoHoa": "0",
            "TaiKhoanDuocXacThucVoiVNeID": "1" if vneid else "0",
            "DuocThanhToanTrucTuyen": "0",
            "TaiLieuNop": [],
            "DanhSachLePhi": [f.line() for f in fees],
            "DanhSachHoSoBoSung": [],
            "DanhSachGiayToKetQua": [],
            "DSKetNoiCSDL": POPULATION_DB if population else [],
        }
        self._kept_dirt(channel, fees)
        online = channel == 2
        reuse = ""
        if rng.random() < rates.reuse:
            reuse = "1" if rng.random() < 0.7 else "2"
        store = online and rng.random() < rates.data_store
        digitised = rng.random() < (rates.digitised_online if online else rates.digitised_in_person)
        reuse_flag = "1" if reuse and rng.random() < 0.9 else "0"
        if reuse and reuse_flag == "1" and rng.random() < 0.1:
            reuse = ""  # some systems set only the dossier's flag
        attachments = self._attachments(online, digitised, reuse, store)

        # Acceptance.
        started = submitted
        if channel == 1:
            received = submitted + dt.timedelta(minutes=_between(rng, 5, 40))
            reception_deadline = received + dt.timedelta(minutes=30)
        else:
            self.emit(submitted, TaiLieuNop=attachments if online else [])
            lag_days = _between(rng, 0, 1) if online else _between(rng, 2, 4)
            reception_deadline = dt.datetime.combine(_add_working_days(submitted.date(), 1 if online else 4),
                                                     dt.time(17, 0))
            if rng.random() < 0.015:
                next_day = _add_working_days(submitted.date() + dt.timedelta(days=1), 0)
                refused = sim.office_time(rng, next_day, submitted)
                self.emit(refused, TrangThaiHoSo="3", NgayTuChoi=_fmt(refused))
                self.step(refused, "one-stop", f"Từ chối tiếp nhận hồ sơ: {_pick(rng, REFUSAL_REASONS)}", "3",
                          reception_deadline)
                self._send(started)
                return
            received = sim.office_time(rng, _add_working_days(submitted.date(), lag_days), submitted)
        due = due_at(received, service)
        shown_due = _fmt(due)
        missing_due = rng.random() < dirt
        counts["missing_due"] += missing_due
        if missing_due:
            shown_due = ""
        elif rng.random() < dirt / 2:
            shown_due = _fmt(received - dt.timedelta(days=_between(rng, 1, 3)))
            counts["due_before_received"] += 1
        shown_received = _fmt(received)
        if rng.random() < dirt / 2:
            shown_received = ""  # received (status 2 and on) without a reception date
            counts["received_without_date"] += 1
        self.emit(received, TrangThaiHoSo="2", NgayTiepNhan=shown_received, NgayHenTra=shown_due,
                  TaiLieuNop=attachments, HoSoCoThanhPhanSoHoa=reuse_flag)
        self.step(received, "one-stop", "Tiếp nhận hồ sơ" if channel == 1 else "Tiếp nhận hồ sơ trực tuyến", "2",
                  reception_deadline)

        # Online payment of the fee, soon after acceptance.
        expected = sum(f.amount for f in fees)
        pay_via = 0
        if expected > 0 and rng.random() < rates.payment * (1.0 if online else 0.03):
            pay_via = 1 if rng.random() < 0.75 else 2
        paid_at = received + dt.timedelta(minutes=_between(rng, 3, 600)) if pay_via else None
        if pay_via and rng.random() < dirt / 2:
            self.overrides["DuocThanhToanTrucTuyen"] = "9"
            counts["unknown_payment_code"] += 1

        # Processing: planned end in "working time", then stretched by applicant waits.
        late = rng.random() < agency.late_rate
        allowed = due - received
        if service.deadline_unit == "Gio":
            if late:
                base_end = due + dt.timedelta(minutes=_between(rng, 60, 20 * 60))
            else:
                base_end = received + allowed * rng.uniform(0.2, 0.95)
        else:
            deadline = _working_days(service)
            if late:
                steps = deadline + _between(rng, 1, max(2, deadline // 2 + 3))
            else:
                steps = round(deadline * rng.betavariate(1.8, 2.0))
            base_end = sim.office_time(rng, _add_working_days(received.date(), steps), received)
            if not late and base_end > due:
                base_end = max(received + dt.timedelta(minutes=1), due - dt.timedelta(minutes=_between(rng, 1, 300)))
            elif late and base_end <= due:
                base_end = sim.office_time(rng, _add_working_days(due.date() + dt.timedelta(days=1), 0), due)
        span = base_end - received

        # The processing plan, in "working time" (before applicant waits): transfer, examination, signature.
        transfer = received + min(dt.timedelta(minutes=_between(rng, 5, 60)), span * 0.04)
        examined = received + span * rng.uniform(0.55, 0.75)
        transfer_deadline = _deadline_in_office_hours(received + max(allowed * 0.05, dt.timedelta(hours=1)), due)
        exam_deadline = _deadline_in_office_hours(received + allowed * 0.75, due)
        if late:
            overrun = base_end - due
            slow = rng.random()
            if slow < 0.75:  # the specialised office
                examined = exam_deadline + overrun
            elif slow < 0.95:  # the leadership
                examined = min(examined, exam_deadline)
            else:  # the one-stop office held it
                transfer = transfer_deadline + overrun
                examined = transfer + (base_end - transfer) * 0.6
        rounds = 0
        draw = rng.random()
        if draw < 0.004:
            rounds = 2 + (rng.random() < 0.2)
        elif draw < 0.064:
            rounds = 1
        asks = sorted(transfer + (examined - transfer) * rng.uniform(0.15, 0.85) for _ in range(rounds))
        waits = [dt.timedelta(hours=_between(rng, 20, 240)) for _ in range(rounds)]
        first_wait = waits[0] if waits else dt.timedelta()

        def actual(planned: dt.datetime) -> dt.datetime:
            return planned + sum((w for a, w in zip(asks, waits, strict=True) if a < planned), dt.timedelta())

        def deadline_of(planned_deadline: dt.datetime, planned_end: dt.datetime) -> dt.datetime:
            # The clock stops for the first supplement round only: a second one is the office's fault.
            return planned_deadline + (first_wait if asks and asks[0] < planned_end else dt.timedelta())

        ended = actual(base_end)
        timeline: list[tuple[dt.datetime, str, Any]] = [(actual(transfer), "transfer", None)]
        if paid_at and paid_at < ended:
            timeline.append((paid_at, "pay", pay_via))
        for i, (asked, wait) in enumerate(zip(asks, waits, strict=True)):
            asked_at = actual(asked)
            timeline.append((asked_at, "ask", i))
            timeline.append((asked_at + wait, "answer", i))
        if not rounds and service.field_code == "DD" and rng.random() < 0.25:
            obliged_at = transfer + (examined - transfer) * rng.uniform(0.2, 0.6)
            timeline.append((obliged_at, "oblige", None))
            timeline.append((obliged_at + (examined - obliged_at) * 0.5, "obliged", None))
        timeline.append((actual(examined), "examined", None))
        outcome = rng.random()
        withdrawn_or_stopped = 7 if outcome < 0.008 else 8 if outcome < 0.012 else 0
        if withdrawn_or_stopped:
            stop_at = received + (ended - received) * rng.uniform(0.1, 0.9)
            timeline = [t for t in timeline if t[0] < stop_at]
            timeline.append((stop_at, "stop", withdrawn_or_stopped))
        else:
            timeline.append((ended, "finish", None))
            if rng.random() < 0.85:
                returned = sim.office_time(rng, _add_working_days(ended.date(), _between(rng, 0, 4)), ended)
                timeline.append((returned, "return", None))
        timeline.sort(key=lambda t: t[0])
        transfer_dl = deadline_of(transfer_deadline, transfer)
        exam_dl = deadline_of(exam_deadline, examined)
        # Office steps happen in office hours (as long as that does not change whether they overran).
        floor = received
        for i, (ts, what, value) in enumerate(timeline):
            if what in ("transfer", "oblige", "obliged", "examined"):
                limit = transfer_dl if what == "transfer" else exam_dl
                ceiling = timeline[i + 1][0] if i + 1 < len(timeline) else ts
                if ts > limit:
                    floor = max(floor, limit + dt.timedelta(seconds=1))
                else:
                    ceiling = min(ceiling, limit)
                ts = _in_office_hours(ts, floor, ceiling)
                timeline[i] = (ts, what, value)
            floor = ts

        bad_order = rng.random() < dirt
        counts["bad_date_order"] += bad_order
        rounds_list: list[dict[str, str]] = []
        current_due = shown_due
        for ts, what, value in timeline:
            if what == "transfer":
                self.emit(ts, TrangThaiHoSo="4")
                self.step(ts, "one-stop", "Chuyển hồ sơ đến phòng chuyên môn xử lý", "4", transfer_dl)
            elif what == "pay":
                self.emit(ts, DuocThanhToanTrucTuyen=str(value))
                sim.payments_for(rng, self.dossier_id, service.code, fees, int(value), ts)
            elif what == "ask":
                reason = _pick(rng, SUPPLEMENT_REASONS)
                handler = self.agency_at(ts)
                asker = _pick(rng, staff(sim.seed, handler.code, self._office("expert", handler)))
                rounds_list = [*rounds_list, {
                    "NguoiYeuCauBoSung": asker, "NoiDungBoSung": reason, "NgayBoSung": _fmt(ts),
                    "NguoiTiepNhanBoSung": "", "NgayTiepNhanBoSung": "", "TrangThaiBoSung": "0",
                    "NgayHenTraTruoc": current_due, "NgayHenTraMoi": ""}]
                self.emit(ts, TrangThaiHoSo="5", DanhSachHoSoBoSung=rounds_list)
                self.step(ts, "expert", f"Yêu cầu bổ sung hồ sơ: {reason}", "5",
                          exam_deadline + (first_wait if value else dt.timedelta()))
            elif what == "answer":
                new_due = due_at(ts, service)
                current_due = "" if missing_due else _fmt(new_due)
                answered = ts
                if rng.random() < dirt / 2:
                    answered = ts - dt.timedelta(hours=_between(rng, 30, 300))  # before the request
                    counts["supplement_answered_before_asked"] += 1
                receiver = _pick(rng, staff(sim.seed, self.agency_at(ts).code, ONE_STOP_OFFICE))
                rounds_list = [*rounds_list[:value], dict(
                    rounds_list[value], NguoiTiepNhanBoSung=receiver, NgayTiepNhanBoSung=_fmt(answered),
                    TrangThaiBoSung="1", NgayHenTraMoi=current_due), *rounds_list[value + 1:]]
                self.emit(ts, TrangThaiHoSo="4", DanhSachHoSoBoSung=rounds_list, NgayHenTra=current_due)
                self.step(ts, "one-stop", "Tiếp nhận hồ sơ bổ sung", "4", max(new_due, ts))
            elif what == "oblige":
                self.emit(ts, TrangThaiHoSo="6")
                self.step(ts, "expert", "Chuyển thông tin địa chính để xác định nghĩa vụ tài chính", "6", exam_dl)
            elif what == "obliged":
                self.emit(ts, TrangThaiHoSo="4")
                self.step(ts, "one-stop", "Người nộp đã hoàn thành nghĩa vụ tài chính", "4", exam_dl)
            elif what == "examined":
                self.step(ts, "expert", "Thẩm định hồ sơ, trình lãnh đạo phê duyệt", "4", exam_dl)
            elif what == "stop":
                self.emit(ts, TrangThaiHoSo=str(value), NgayTuChoi=_fmt(ts))
                if value == 7:
                    self.step(ts, "one-stop", "Người nộp rút hồ sơ", "7", deadline_of(due, ts))
                else:
                    self.step(ts, "leader", f"Dừng xử lý hồ sơ: {_pick(rng, STOP_REASONS)}", "8", deadline_of(due, ts))
                if paid_at and paid_at < ts:
                    sim.refund(rng, self.dossier_id, service.code, fees, pay_via, ts)
            elif what == "finish":
                finished = received - dt.timedelta(days=_between(rng, 1, 3)) if bad_order else ts
                self.emit(ts, TrangThaiHoSo="9", NgayKetThucXuLy=_fmt(finished), DanhSachGiayToKetQua=self._results(ts))
                self.step(ts, "leader", "Phê duyệt, ký kết quả giải quyết", "9", deadline_of(due, base_end))
            elif what == "return":
                self.emit(ts, TrangThaiHoSo="10", NgayTra=_fmt(ts))
                self.step(ts, "one-stop", f"Trả kết quả cho người nộp hồ sơ {self.state['ChuHoSo']}", "10",
                          dt.datetime.combine(_add_working_days(ended.date(), 5), dt.time(17, 0)))
        self._send(started)

    def _results(self, ts: dt.datetime) -> list[dict[str, str]]:
        rng, service = self.rng, self.service
        electronic = rng.random() < {4: 0.75, 3: 0.4}.get(service.online_level, 0.15)
        if not electronic and rng.random() < 0.5:
            return []
        doc_id = f"{rng.getrandbits(64):016x}"
        return [{"TenGiayTo": f"Kết quả giải quyết: {service.name}", "MaThanhPhanHoSo": f"{service.code}.KQ",
                 "GiayToId": doc_id,
                 "DuongDanTepTinKetQua": f"/ketqua/{ts:%Y/%m/%d}/{doc_id}.pdf" if electronic else "",
                 "MaGiayToKetQua": f"KQ.{rng.getrandbits(40):010X}"}]

    def _office(self, role: str, agency: Agency | None = None) -> str:
        if role == "one-stop":
            return ONE_STOP_OFFICE
        if role == "leader":
            return LEADERSHIP_OFFICE
        kind, code = (agency or self.agency).kind, self.service.field_code
        if kind == "branch":
            return BRANCH_OFFICE
        if kind == "district":
            return DISTRICT_OFFICES.get(code, "Văn phòng HĐND và UBND")
        if kind == "commune":
            return COMMUNE_OFFICES.get(code, COMMUNE_DEFAULT_OFFICE)
        return DEPARTMENT_OFFICES.get(code, "Văn phòng")

    def _title(self, role: str, office: str, agency: Agency | None = None) -> str:
        rng, kind = self.rng, (agency or self.agency).kind
        if role == "one-stop":
            return _pick(rng, RECEPTION_TITLES)
        if role == "leader":
            return _pick(rng, LEADER_TITLES.get(kind, LEADER_TITLES["department"]))
        if kind == "commune":
            return office
        return EXPERT_TITLES[0] if rng.random() < 0.6 else _pick(rng, EXPERT_TITLES)

    def _send(self, started: dt.datetime) -> None:
        sim, rng = self.sim, self.rng
        handover = tuple((seconds(cutover), successor.code) for cutover, successor in self.handover)
        first_sent = sim.send_dossier(self.agency.code, self.events, self.serialise, rng, handover)
        if first_sent is None:
            return
        records = []
        previous = started
        for step in self.steps:
            handler = self.agency_at(step.at)
            office = self._office(step.role, handler)
            shown_office, at = office, _fmt(step.at)
            if rng.random() < self.dirt / 2:
                shown_office = _nfd_or_spaces(office, rng)
                self.counts["step_text_nfd_or_spaces"] += 1
            if rng.random() < self.dirt / 4:
                at = _pick(rng, NOT_DATES)
                self.counts["step_bad_date"] += 1
            # QuaTrinhXuLyDongBoDVC, every value a string: written directly, as json.dumps would.
            record = (f'{{"MaHoSo":{_quote(self.dossier_id)},'
                      f'"NguoiXuLy":{_quote(_pick(rng, staff(sim.seed, handler.code, office)))},'
                      f'"ChucDanh":{_quote(self._title(step.role, office, handler))},'
                      f'"PhongBanXuLy":{_quote(shown_office)},'
                      f'"NoiDungXuLy":{_quote(step.content)},"TrangThai":"{step.status}","ThoiDiemXuLy":"{at}",'
                      f'"NgayBatDau":"{_fmt(previous)}","NgayKetThucTheoQuyDinh":"{_fmt(step.deadline)}"}}')
            previous = step.at
            records.append((seconds(step.at), record))
        sim.send_steps(self.agency.code, records, first_sent, rng, handover)


def _clear_range(out: Path, start: dt.date, end: dt.date) -> None:
    day = start
    while day < end:
        for folder in ("dossiers", "processing", "payments", "portal"):
            shutil.rmtree(out / folder / f"{day:%Y-%m-%d}", ignore_errors=True)
        (out / "catalog" / f"services_{day:%Y%m%d}.csv").unlink(missing_ok=True)
        (out / "agencies" / f"coquan_{day:%Y%m%d}.csv").unlink(missing_ok=True)
        day += dt.timedelta(days=1)


def generate(out: Path, start: dt.date, end: dt.date, *, seed: int = 2022, scale: float = 1.0,
             dirt_rate: float = 0.002, scenario: str = DEFAULT_SCENARIO) -> GenerationStats:
    """Write the agency list, catalog snapshots, dossier and processing sync calls and
    reconciliation files for the days in [start, end) under `out`, replacing what that range held,
    and a save of the portal's evaluation page for each month that ends in the range (`portal.py`).

    `scenario` (one of SCENARIOS): `vinh-phuc`, Vĩnh Phúc alone with its units of June 2025 and no
    change to its agency list, `scale` 1 ≈ 36,700 dossiers a month; `phu-tho-2025` (`merged.py`),
    Vĩnh Phúc, Hòa Bình and Phú Thọ until 30 June 2025 and the merged Phú Thọ after, from the
    administrative units seeds, `scale` 1 ≈ three times that volume. Raises ValueError on an unknown
    scenario or an empty range, FileNotFoundError when the merged scenario's seeds are missing."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario {scenario!r}: one of {', '.join(SCENARIOS)}")
    out = Path(out)
    sim = Simulator(seed, start, end, scale, dirt_rate, merged.world() if scenario == merged.SCENARIO else None)
    _clear_range(out, start, end)
    for folder in ("agencies", "catalog", "dossiers", "processing", "payments"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    sim.write_agencies(out)
    sim.write_catalog(out)
    with tempfile.TemporaryDirectory(prefix=".simulator-spool-", dir=out) as spool:
        sim.spool = Spool(Path(spool))
        day = start
        while day < end:
            sim.simulate_day(day)
            sim.write_calls(out, day)
            day += dt.timedelta(days=1)
        sim.spool = None
    sim.write_payments(out)
    world = sim.world
    sim.stats.portal_pages = write_portal_pages(out, start, end, seed,
                                                world.snapshot if world else agency_list.agencies_at)
    log.info("generated %s", sim.stats)
    return sim.stats
