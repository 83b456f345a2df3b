"""Writes synthetic source files exactly as `shared/spec/sources.md` lays them out.

The world is simulated dossier by dossier: each one is submitted, accepted,
maybe asked for supplements, paid for, processed (on time or late), and its
result returned. Every state change becomes a sync record in the folder of the
day it was synced; every payment attempt becomes a row in its intermediary's
reconciliation file. Only what has happened before the end of the range is
written, so dossiers still in progress at the end look exactly like that.

The output is a pure function of (seed, start, end, scale, dirt_rate).
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
import json
import logging
import math
import random
import shutil
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from itertools import accumulate
from pathlib import Path
from typing import Any

from dichvucong.simulator.catalog import Service, catalog_at, change_days
from dichvucong.simulator.reference import (
    DEPARTMENTS,
    DISTRICTS,
    ENTERPRISE_PREFIXES,
    ENTERPRISE_STEMS,
    FAMILY_NAMES,
    FIELDS,
    GIVEN_NAMES,
    INTERMEDIARIES,
    MIDDLE_NAMES,
    District,
    Intermediary,
)
from dichvucong.workdays import add_working_days, is_working_day

log = logging.getLogger(__name__)

MONTHLY_DOSSIERS = 36_700
WORKING_DAYS_PER_MONTH = 21.75
TS = "%Y%m%d%H%M%S"
CATALOG_COLUMNS = ("MaTTHC", "TenTTHC", "MaLinhVuc", "TenLinhVuc", "MaCoQuan", "TenCoQuan",
                   "CapThucHien", "MucDo", "ThoiHanGiaiQuyet", "PhiLePhi")
PAYMENT_COLUMNS = ("MaGiaoDich", "MaTrungGian", "KenhThanhToan", "MaHoSo", "MaTTHC",
                   "LoaiPhiLePhi", "SoTien", "TrangThai", "ThoiGianGiaoDich", "NgayDoiSoat")
# Land registration branches are the slowest offices; their lateness varies by district.
LAND_BRANCH_LATE_RATE = {"243": 0.03, "244": 0.03, "246": 0.20, "247": 0.05, "248": 0.04,
                         "249": 0.03, "251": 0.06, "252": 0.10, "253": 0.04}


@dataclass
class GenerationStats:
    catalog_snapshots: int = 0
    dossiers: int = 0
    sync_records: int = 0
    dossier_files: int = 0
    payment_rows: int = 0
    payment_files: int = 0
    dirt: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    late_rate: float


def _agencies() -> tuple[dict[str, Agency], dict[str, Agency], dict[str, list[Agency]]]:
    ubnd, land, communes = {}, {}, {}
    for i, district in enumerate(DISTRICTS, start=21):
        ubnd[district.code] = Agency(f"000.00.{i}.H62", f"UBND {district.name}", 0.008 + 0.003 * (i % 5))
        land[district.code] = Agency(
            f"000.01.{i}.H62",
            f"Chi nhánh Văn phòng đăng ký đất đai {district.name}",
            LAND_BRANCH_LATE_RATE[district.code],
        )
        communes[district.code] = [
            Agency(f"000.{j:02d}.{i}.H62", f"UBND {name}", 0.005) for j, name in enumerate(district.communes, start=10)
        ]
    return ubnd, land, communes


def payment_uptake(day: dt.date) -> float:
    """Share of online, fee-bearing dossiers paid online: rare in 2021, common by 2024."""
    midpoint = dt.date(2023, 3, 1)
    return 0.7 / (1.0 + math.exp(-(day - midpoint).days / 180.0))


def digitisation_uptake(day: dt.date) -> float:
    return min(0.9, 0.35 + 0.2 * max(0.0, (day - dt.date(2022, 1, 1)).days / 365.0))


def _fmt(ts: dt.datetime | None) -> str:
    return ts.strftime(TS) if ts else ""


def _at(day: dt.date, seconds: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()) + dt.timedelta(seconds=seconds)


def _nfd_or_spaces(text: str, rng: random.Random) -> str:
    return unicodedata.normalize("NFD", text) if rng.random() < 0.5 else f" {text}  "


class _Buffers:
    """Appends lines to many files, keeping memory bounded."""

    def __init__(self, limit: int = 200_000) -> None:
        self.lines: dict[Path, list[str]] = defaultdict(list)
        self.count = 0
        self.limit = limit
        self.touched: set[Path] = set()

    def add(self, path: Path, line: str) -> None:
        self.lines[path].append(line)
        self.count += 1
        if self.count >= self.limit:
            self.flush()

    def flush(self) -> None:
        for path, lines in self.lines.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8", newline="") as handle:
                handle.write("".join(lines))
            self.touched.add(path)
        self.lines.clear()
        self.count = 0


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


class Simulator:
    def __init__(self, seed: int, start: dt.date, end: dt.date, scale: float, dirt_rate: float) -> None:
        if end <= start:
            raise ValueError(f"empty range: {start} to {end}")
        self.seed = seed
        self.start = start
        self.end = end
        self.end_ts = dt.datetime.combine(end, dt.time())
        self.scale = scale
        self.dirt = dirt_rate
        self.stats = GenerationStats()
        self.ubnd, self.land, self.communes = _agencies()
        self.departments = {d.code: Agency(d.code, d.name, d.late_rate) for d in DEPARTMENTS}
        self.txn_counter: Counter[str] = Counter()
        self.payments: list[_Payment] = []
        self.applicants: list[tuple[int, str, str, str | None]] = []
        self.catalog_days = sorted({start, *change_days(start, end)})
        self._index_cache: dict[dt.date, dict[str, _FieldIndex]] = {}

    # --- catalog -----------------------------------------------------------------

    def catalog_for(self, day: dt.date) -> tuple[Service, ...]:
        return catalog_at(self.seed, max(d for d in self.catalog_days if d <= day) if day >= self.start else day)

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
                for s in catalog_at(self.seed, day):
                    name, agency_name = s.name, s.agency_name
                    if rng.random() < self.dirt * 25:
                        agency_name = _nfd_or_spaces(agency_name, rng)
                        self.stats.dirt["catalog_text"] += 1
                    if rng.random() < self.dirt * 10:
                        name = _nfd_or_spaces(name, rng)
                        self.stats.dirt["catalog_text"] += 1
                    writer.writerow((s.code, name, s.field_code, s.field_name, s.agency_code, agency_name,
                                     s.level, s.online_level, s.deadline_days, s.fee_vnd))
            self.stats.catalog_snapshots += 1

    # --- applicants ----------------------------------------------------------------

    def _applicant(self, rng: random.Random, kind: int) -> tuple[str, str, str | None]:
        if self.applicants and rng.random() < 0.15:
            for _ in range(3):
                cand = rng.choice(self.applicants)
                if cand[0] == kind:
                    return cand[1], cand[2], cand[3]
        if kind == 1:
            name = f"{rng.choice(FAMILY_NAMES)} {rng.choice(MIDDLE_NAMES)} {rng.choice(GIVEN_NAMES)}"
            ident = f"026{rng.randint(0, 3)}{rng.randint(40, 99):02d}{rng.randint(0, 999999):06d}"
        else:
            name = f"{rng.choice(ENTERPRISE_PREFIXES)} {rng.choice(ENTERPRISE_STEMS)}"
            ident = f"25{rng.randint(0, 99_999_999):08d}"
        phone = f"0{rng.choice('39')}{rng.randint(0, 99_999_999):08d}" if rng.random() < 0.9 else None
        if len(self.applicants) < 50_000:
            self.applicants.append((kind, name, ident, phone))
        return name, ident, phone

    # --- dossiers ----------------------------------------------------------------

    def _agency_for(self, service: Service, district: District, rng: random.Random) -> Agency:
        if service.level == "TINH":
            return self.departments[service.agency_code]
        if service.level == "HUYEN":
            return self.land[district.code] if service.field_code == "DD" else self.ubnd[district.code]
        return rng.choice(self.communes[district.code])

    def simulate_day(self, day: dt.date, dossiers: _Buffers, out: Path) -> None:
        rng = random.Random(f"{self.seed}-dossiers-{day.isoformat()}")
        working = is_working_day(day)
        mean = MONTHLY_DOSSIERS / WORKING_DAYS_PER_MONTH * self.scale * (1.0 if working else 0.1)
        count = max(0, round(rng.gauss(mean, math.sqrt(mean))))
        index = self._service_index(day)
        field_weights = [f.volume for f in FIELDS]
        district_weights = [d.weight for d in DISTRICTS]
        sequence: Counter[str] = Counter()
        for _ in range(count):
            field_def = rng.choices(FIELDS, weights=field_weights)[0]
            services, cum, online, online_cum = index[field_def.code]
            if not working:
                if not online:
                    continue
                services, cum = online, online_cum
            service = services[bisect.bisect_left(cum, rng.random() * cum[-1])]
            district = rng.choices(DISTRICTS, weights=district_weights)[0]
            agency = self._agency_for(service, district, rng)
            sequence[agency.code] += 1
            dossier_id = f"{agency.code}-{day:%y%m%d}-{sequence[agency.code]:04d}"
            self._simulate_dossier(rng, day, working, field_def.online_share, service, district, agency,
                                   dossier_id, dossiers, out)
            self.stats.dossiers += 1

    def _simulate_dossier(self, rng: random.Random, day: dt.date, working: bool, online_share: float,
                          service: Service, district: District, agency: Agency, dossier_id: str,
                          dossiers: _Buffers, out: Path) -> None:
        # Channel and submission.
        online_odds = min(0.97, online_share * (1.2 if service.online_level == 4 else 0.7))
        if not working or service.online_level >= 3 and rng.random() < online_odds:
            channel = 2
        else:
            channel = 3 if rng.random() < 0.02 else 1
        kind = 2 if rng.random() < (0.9 if service.field_code == "DKKD" else 0.1) else (3 if rng.random() < 0.03 else 1)
        name, ident, phone = self._applicant(rng, kind)
        if channel == 1:
            submitted = _at(day, rng.randint(7 * 3600 + 1800, 16 * 3600 + 900))
        else:
            seconds = rng.randint(6 * 3600, 23 * 3600 + 3599) if rng.random() < 0.8 else rng.randint(0, 86399)
            submitted = _at(day, seconds)

        state: dict[str, object] = {
            "MaHoSo": dossier_id,
            "MaTTHC": service.code,
            "MaCoQuan": agency.code,
            "MaDiaBan": district.code,
            "KenhThucHien": channel,
            "LoaiDoiTuong": kind,
            "ChuHoSo": name,
            "SoGiayTo": ident,
            "SoDienThoai": phone,
            "NgayNopHoSo": _fmt(submitted),
            "NgayTiepNhan": "",
            "NgayHenTra": "",
            "NgayKetThucXuLy": "",
            "NgayTra": "",
            "NgayTuChoi": "",
            "TrangThaiHoSo": 1,
            "DuocThanhToanTrucTuyen": 0,
            "CoKetQuaDienTu": 0,
            "DaSoHoa": 0,
            "DanhSachLePhi": self._fee_lines(rng, service),
            "DanhSachBoSung": [],
            "NgayCapNhat": "",
        }
        if rng.random() < self.dirt:
            state["MaCoQuan"] = f" {agency.code} "
            self.stats.dirt["code_spaces"] += 1
        events: list[tuple[dt.datetime, dict[str, object]]] = []

        def emit(ts: dt.datetime, **changes: object) -> None:
            state.update(changes)
            state["NgayCapNhat"] = _fmt(ts)
            events.append((ts, dict(state, DanhSachBoSung=[dict(r) for r in state["DanhSachBoSung"]])))  # type: ignore[attr-defined]

        # Acceptance.
        if channel == 1:
            received = submitted + dt.timedelta(minutes=rng.randint(5, 40))
        else:
            emit(submitted)
            if rng.random() < 0.015:
                next_day = add_working_days(submitted.date() + dt.timedelta(days=1), 0)
                refused = self._office_time(rng, next_day, submitted)
                emit(refused, TrangThaiHoSo=3, NgayTuChoi=_fmt(refused))
                self._flush_events(rng, events, dossiers, out)
                return
            lag_days = rng.randint(0, 1) if channel == 2 else rng.randint(2, 4)
            received = self._office_time(rng, add_working_days(submitted.date(), lag_days), submitted)
        deadline = service.deadline_days
        due = dt.datetime.combine(add_working_days(received.date(), deadline), dt.time(17, 0))
        missing_due = rng.random() < self.dirt
        self.stats.dirt["missing_due"] += missing_due
        digitised = 1 if rng.random() < (0.95 if channel == 2 else digitisation_uptake(day)) else 0
        emit(received, TrangThaiHoSo=2, NgayTiepNhan=_fmt(received),
             NgayHenTra="" if missing_due else _fmt(due), DaSoHoa=digitised)

        # Online payment of the fee, soon after acceptance.
        fee_lines: list[dict[str, Any]] = state["DanhSachLePhi"]  # type: ignore[assignment]
        expected = sum(int(line["Gia"]) for line in fee_lines)
        pay_via = 0
        if expected > 0:
            uptake = payment_uptake(day) * (1.0 if channel == 2 else 0.03)
            if rng.random() < uptake:
                pay_via = 1 if rng.random() < 0.75 else 2
        paid_at: dt.datetime | None = None
        if pay_via:
            paid_at = received + dt.timedelta(minutes=rng.randint(3, 600))

        # Processing: planned end in "working time", then stretched by applicant waits.
        late = rng.random() < agency.late_rate
        if late:
            steps = deadline + rng.randint(1, max(2, deadline // 2 + 3))
        else:
            steps = round(deadline * rng.betavariate(1.8, 2.0))
        base_end = self._office_time(rng, add_working_days(received.date(), steps), received)
        if not late and steps == deadline and base_end > due:
            base_end = max(received, due - dt.timedelta(minutes=rng.randint(1, 300)))
        rounds = 0
        draw = rng.random()
        if draw < 0.004:
            rounds = 2 + (rng.random() < 0.2)
        elif draw < 0.064:
            rounds = 1
        offsets = sorted(rng.random() for _ in range(rounds))
        waits = [dt.timedelta(hours=rng.randint(20, 240)) for _ in range(rounds)]
        span = base_end - received
        supplement_events: list[tuple[dt.datetime, dt.datetime]] = []
        shift = dt.timedelta()
        for offset, wait in zip(offsets, waits, strict=True):
            asked = received + span * offset + shift
            supplement_events.append((asked, asked + wait))
            shift += wait
        ended = base_end + shift

        outcome = rng.random()
        withdrawn_or_stopped = 7 if outcome < 0.008 else 8 if outcome < 0.012 else 0
        timeline: list[tuple[dt.datetime, str, object]] = []
        if paid_at and paid_at < ended:
            timeline.append((paid_at, "pay", pay_via))
        processing_at = received + dt.timedelta(minutes=rng.randint(30, 480))
        if rng.random() < 0.5 and processing_at < ended:
            timeline.append((processing_at, "processing", None))
        for i, (asked, answered) in enumerate(supplement_events):
            timeline.append((asked, "ask", i))
            timeline.append((answered, "answer", i))
        if withdrawn_or_stopped:
            stop_at = received + (ended - received) * rng.uniform(0.1, 0.9)
            timeline = [t for t in timeline if t[0] < stop_at]
            timeline.append((stop_at, "stop", withdrawn_or_stopped))
        else:
            timeline.append((ended, "finish", None))
            if rng.random() < 0.85:
                returned = self._office_time(rng, add_working_days(ended.date(), rng.randint(0, 4)), ended)
                timeline.append((returned, "return", None))
        timeline.sort(key=lambda t: t[0])

        bad_order = rng.random() < self.dirt
        self.stats.dirt["bad_date_order"] += bad_order
        status = 2
        for ts, what, value in timeline:
            if what == "pay":
                emit(ts, DuocThanhToanTrucTuyen=value)
                self._payments_for(rng, state, int(value), ts, expected)  # type: ignore[call-overload]
            elif what == "processing":
                status = 4 if status == 2 else status
                emit(ts, TrangThaiHoSo=status)
            elif what == "ask":
                rounds_list = state["DanhSachBoSung"]
                rounds_list.append({"NgayYeuCau": _fmt(ts), "NgayBoSung": ""})  # type: ignore[attr-defined]
                status = 5
                emit(ts, TrangThaiHoSo=5)
            elif what == "answer":
                state["DanhSachBoSung"][int(value)]["NgayBoSung"] = _fmt(ts)  # type: ignore[index,call-overload]
                status = 4
                emit(ts, TrangThaiHoSo=4)
            elif what == "stop":
                emit(ts, TrangThaiHoSo=value, NgayTuChoi=_fmt(ts))
                if paid_at and paid_at < ts:
                    self._refund(rng, state, ts, expected)
            elif what == "finish":
                e_result = 1 if rng.random() < {4: 0.75, 3: 0.4}.get(service.online_level, 0.15) else 0
                finished = received - dt.timedelta(days=rng.randint(1, 3)) if bad_order else ts
                emit(ts, TrangThaiHoSo=9, NgayKetThucXuLy=_fmt(finished), CoKetQuaDienTu=e_result)
            elif what == "return":
                emit(ts, TrangThaiHoSo=10, NgayTra=_fmt(ts))
        self._flush_events(rng, events, dossiers, out)

    @staticmethod
    def _office_time(rng: random.Random, day: dt.date, not_before: dt.datetime) -> dt.datetime:
        """A time in office hours (07:30-16:55) on `day` or, if that is too early, after `not_before`."""
        while True:
            ts = _at(day, rng.randint(7 * 3600 + 1800, 16 * 3600 + 3000))
            if ts <= not_before:
                ts = not_before + dt.timedelta(minutes=rng.randint(5, 90))
            if ts.time() <= dt.time(16, 55) and is_working_day(ts.date()):
                return ts
            day = add_working_days(ts.date() + dt.timedelta(days=1), 0)
            not_before = dt.datetime.combine(day, dt.time(7, 0))

    def _fee_lines(self, rng: random.Random, service: Service) -> list[dict[str, object]]:
        fee = service.fee_vnd
        if fee <= 0:
            return []
        if fee >= 100_000 and rng.random() < 0.4:
            first = int(round(fee * 0.6 / 1000.0)) * 1000
            return [
                {"MaPhiLePhi": f"PHI-{service.field_code}", "TenPhiLePhi": "Phí thẩm định hồ sơ",
                 "LoaiPhiLePhi": 1, "Gia": first},
                {"MaPhiLePhi": f"LEPHI-{service.field_code}", "TenPhiLePhi": "Lệ phí cấp giấy",
                 "LoaiPhiLePhi": 2, "Gia": fee - first},
            ]
        kind = 2 if rng.random() < 0.6 else 1
        label = "Lệ phí" if kind == 2 else "Phí"
        return [{"MaPhiLePhi": f"{label.upper()}-{service.field_code}", "TenPhiLePhi": f"{label} giải quyết thủ tục",
                 "LoaiPhiLePhi": kind, "Gia": fee}]

    def _flush_events(self, rng: random.Random, events: list[tuple[dt.datetime, dict[str, object]]],
                      dossiers: _Buffers, out: Path) -> None:
        for ts, record in events:
            lag = dt.timedelta(minutes=rng.randint(1, 45))
            if rng.random() < 0.03:
                lag += dt.timedelta(days=rng.randint(1, 6))
            synced = ts + lag
            if synced >= self.end_ts:
                continue
            if rng.random() < self.dirt / 4:
                record = dict(record, MaHoSo="")
                self.stats.dirt["no_dossier_id"] += 1
            line = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            if rng.random() < self.dirt:
                line = line[: rng.randint(10, len(line) - 10)]
                self.stats.dirt["broken_json"] += 1
            path = out / "dossiers" / f"{synced:%Y-%m-%d}" / f"hoso_{synced:%Y%m%d}_{synced.hour // 6 + 1:02d}.jsonl"
            dossiers.add(path, line + "\n")
            self.stats.sync_records += 1

    # --- payments ----------------------------------------------------------------

    def _txn_id(self, intermediary: Intermediary, when: dt.datetime) -> str:
        self.txn_counter[intermediary.code] += 1
        return f"{intermediary.code[:4]}{when:%Y%m%d}{self.txn_counter[intermediary.code]:08d}"

    def _pick_intermediary(self, rng: random.Random, channel: int) -> Intermediary:
        serving = [i for i in INTERMEDIARIES if channel in i.channels]
        return rng.choices(serving, weights=[i.weight for i in serving])[0]

    def _payments_for(self, rng: random.Random, state: dict[str, object], channel: int, paid_at: dt.datetime,
                      expected: int) -> None:
        intermediary = self._pick_intermediary(rng, channel)
        lines = state["DanhSachLePhi"]
        fee_kind = int(lines[-1]["LoaiPhiLePhi"])  # type: ignore[index]
        dossier_id = str(state["MaHoSo"])

        def add(amount: int, status: str, when: dt.datetime, settle: dt.date, paid_for: str = dossier_id) -> _Payment:
            return self._add_payment(rng, _Payment(self._txn_id(intermediary, when), intermediary, channel, paid_for,
                                                   str(state["MaTTHC"]), fee_kind, amount, status, when, settle))

        if rng.random() < 0.06:
            failed_at = paid_at - dt.timedelta(minutes=rng.randint(1, 30))
            add(expected, "01", failed_at, failed_at.date())
        amount = expected
        draw = rng.random()
        if draw < 0.015:
            amount = int(lines[0]["Gia"]) if len(lines) > 1 else int(round(expected * 0.9))  # type: ignore[arg-type,index]
        elif draw < 0.02:
            amount = expected + 10_000
        settle = paid_at.date()
        if rng.random() < 0.04:
            # Pending in the day's file, succeeded in a later day's file: the later row wins.
            pending = add(amount, "02", paid_at, settle)
            later = settle + dt.timedelta(days=rng.randint(1, 2))
            self.payments.append(replace(pending, status="00", settled_on=later, duplicate=False))
        else:
            add(amount, "00", paid_at, settle)
        if rng.random() < self.dirt * 5:
            orphan_id = f"{dossier_id.split('-')[0]}-{paid_at:%y%m%d}-9{rng.randint(0, 999):03d}"
            add(expected, "00", paid_at + dt.timedelta(minutes=7), settle, paid_for=orphan_id)
            self.stats.dirt["orphan_payment"] += 1

    def _refund(self, rng: random.Random, state: dict[str, object], stopped_at: dt.datetime, expected: int) -> None:
        channel = int(state["DuocThanhToanTrucTuyen"])  # type: ignore[call-overload]
        intermediary = self._pick_intermediary(rng, channel)
        when = stopped_at + dt.timedelta(days=rng.randint(1, 5), minutes=rng.randint(0, 600))
        fee_kind = int(state["DanhSachLePhi"][-1]["LoaiPhiLePhi"])  # type: ignore[index]
        self._add_payment(rng, _Payment(self._txn_id(intermediary, when), intermediary, channel, str(state["MaHoSo"]),
                                        str(state["MaTTHC"]), fee_kind, -expected, "00", when, when.date()))

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


def _clear_range(out: Path, start: dt.date, end: dt.date) -> None:
    day = start
    while day < end:
        for folder in ("dossiers", "payments"):
            shutil.rmtree(out / folder / f"{day:%Y-%m-%d}", ignore_errors=True)
        (out / "catalog" / f"services_{day:%Y%m%d}.csv").unlink(missing_ok=True)
        day += dt.timedelta(days=1)


def generate(out: Path, start: dt.date, end: dt.date, *, seed: int = 2022, scale: float = 1.0,
             dirt_rate: float = 0.002) -> GenerationStats:
    """Write catalog snapshots, dossier sync batches and reconciliation files
    for the days in [start, end) under `out`, replacing what that range held."""
    out = Path(out)
    _clear_range(out, start, end)
    sim = Simulator(seed, start, end, scale, dirt_rate)
    sim.write_catalog(out)
    buffers = _Buffers()
    day = start
    while day < end:
        sim.simulate_day(day, buffers, out)
        day += dt.timedelta(days=1)
    buffers.flush()
    sim.stats.dossier_files = len(buffers.touched)
    sim.write_payments(out)
    log.info("generated %s", sim.stats)
    return sim.stats
