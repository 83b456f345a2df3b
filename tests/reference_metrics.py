"""An independent implementation of metrics.md in plain Python, straight from
the landing files: no SQL, no project code. Tests compare the marts with it.

It reads the files as sources.md lays them out, skips what cannot be parsed
(as quarantine would), keeps the latest state of each dossier and payment, and
computes the lifecycle and period indicators by the formulas of metrics.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import holidays

_VN = holidays.country_holidays("VN")
REFERENCE = Path(__file__).resolve().parent.parent / "data" / "reference"


def _overrides() -> dict[dt.date, bool]:
    """The province's calendar overrides, read straight from the seed file (metrics.md v2, Calendar)."""
    with (REFERENCE / "calendar_overrides.csv").open(encoding="utf-8", newline="") as handle:
        return {dt.date.fromisoformat(r["calendar_date"]): r["is_working_day"].strip().lower() == "true"
                for r in csv.DictReader(handle)}


_OVERRIDES = _overrides()


def working(day: dt.date) -> bool:
    """Monday-Friday less holidays, plus swapped Saturdays (the holidays library), overrides first."""
    if day in _OVERRIDES:
        return _OVERRIDES[day]
    return bool(_VN.is_working_day(day))


def working_days_after_until(start: dt.date, end: dt.date) -> int:
    return sum(1 for i in range(1, (end - start).days + 1) if working(start + dt.timedelta(days=i)))


def nth_working_day_after(day: dt.date, n: int) -> dt.date:
    current = day
    for _ in range(n):
        current += dt.timedelta(days=1)
        while not working(current):
            current += dt.timedelta(days=1)
    return current


def add_months(day: dt.date, months: int) -> dt.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


END_OF_DAY = dt.time(23, 59, 59)


def legal_deadline(received: dt.datetime, value: int | None, unit: str | None) -> dt.datetime | None:
    """metrics.md v2, legal_deadline_at."""
    if value is None or value < 0:
        return None
    if unit == "Gio":
        return received + dt.timedelta(hours=value)
    if unit == "Ngay":
        return dt.datetime.combine(received.date() + dt.timedelta(days=value), END_OF_DAY)
    if unit == "Thang":
        return dt.datetime.combine(add_months(received.date(), value), END_OF_DAY)
    if unit == "NgayLamViec":
        return dt.datetime.combine(nth_working_day_after(received.date(), value), END_OF_DAY)
    return None


def ts(value: Any) -> dt.datetime | None:
    """A v2 timestamp string yyyyMMddHHmmss; "" and None are absent; anything else raises."""
    if value is None or not str(value).strip():
        return None
    return dt.datetime.strptime(str(value).strip(), "%Y%m%d%H%M%S")


def code(value: Any) -> str | None:
    if value is None:
        return None
    text = " ".join(unicodedata.normalize("NFC", str(value)).split())
    return text or None


def flag(value: Any) -> str | None:
    """A v2 code as text: trimmed, an integral number as its integer ("2.0" -> "2"), "" -> None."""
    text = code(value)
    if text is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return str(int(number)) if number.is_finite() and number == number.to_integral_value() else text


def amount(value: Any) -> int | None:
    """A v2 amount: an integral number, "" -> None; anything else raises ValueError."""
    text = code(value)
    if text is None:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not number.is_finite() or number != number.to_integral_value() or abs(number) >= 2**63:
        raise ValueError(text)
    return int(number)


def read_text(path: Path) -> str:
    data = path.read_bytes()
    for bom, codec in ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
                       (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(codec)
    return data.decode("utf-8-sig")


def read_call(path: Path) -> dict[str, Any] | None:
    """A sync-call file's envelope (sources.md v2 §3, decoded by its byte-order mark), or None where
    the file is not JSON or its envelope holds no `data` list."""
    try:
        call = json.loads(read_text(path))
    except (ValueError, UnicodeDecodeError):
        return None
    return call if isinstance(call, dict) and isinstance(call.get("data"), list) else None


@dataclass
class Service:
    """One procedure as a catalog snapshot states it (sources.md v2 §2)."""
    code: str
    field: str | None
    lead_agency: str | None
    levels: set[str]
    online_level: int | None
    eligible_fully_online: bool
    deadline_value: int | None
    deadline_unit: str | None
    has_fee: bool
    paper_result: bool
    for_citizens: bool
    population_db: bool
    decided: dt.date | None
    effective: dt.date | None
    made_public: dt.date | None
    parts: int | None


def _date(value: Any) -> dt.date | None:
    text = code(value)
    return dt.date.fromisoformat(text) if text else None


def _int(value: Any) -> int | None:
    text = flag(value)
    return int(text) if text is not None else None


Snapshots = list[tuple[dt.date, dict[str, Service]]]


def load_snapshots(landing: Path) -> Snapshots:
    """Per catalog snapshot day, each procedure as stated (the last line of a code wins)."""
    out = []
    for path in sorted((landing / "catalog").glob("services_*.csv")):
        table: dict[str, Service] = {}
        for r in csv.DictReader(io.StringIO(read_text(path), newline="")):
            service_code = code(r["MaTTHC"])
            if service_code is None:
                continue
            table[service_code] = Service(
                code=service_code, field=code(r["MaLinhVuc"]), lead_agency=code(r.get("MaCoQuanChuTri")),
                levels=set((code(r.get("CapThucHien")) or "").upper().replace(" ", "").split(";")) - {""},
                online_level=_int(r.get("MucDo")), eligible_fully_online=flag(r.get("DuDieuKienToanTrinh")) == "1",
                deadline_value=_int(r.get("ThoiHanGiaiQuyet")),
                deadline_unit=code(r.get("DonViThoiHan")) or "NgayLamViec",
                has_fee=flag(r.get("CoPhiLePhi")) == "1", paper_result=flag(r.get("CoKetQuaGiay")) == "1",
                for_citizens=flag(r.get("DoiTuongCongDan")) == "1",
                population_db=flag(r.get("KetNoiCSDLDanCu")) == "1",
                decided=_date(r.get("NgayQuyetDinhCongBo")), effective=_date(r.get("NgayHieuLucVanBan")),
                made_public=_date(r.get("NgayCongKhai")), parts=_int(r.get("SoBoPhanCongKhai")))
        out.append((dt.datetime.strptime(path.stem[-8:], "%Y%m%d").date(), table))
    return out


def in_force(snapshots: Snapshots, service: str | None, day: dt.date) -> Service | None:
    """The procedure in the snapshot in force on `day` (the first snapshot before any)."""
    valid = [s for d, s in snapshots if d <= day] or [snapshots[0][1]]
    return valid[-1].get(service or "")


def procedures_in_period(snapshots: Snapshots, start: dt.date, end: dt.date) -> dict[str, Service]:
    """Each procedure valid in [start, end), as the last snapshot in force in the period states it."""
    out: dict[str, Service] = {}
    for i, (day, table) in enumerate(snapshots):
        valid_to = snapshots[i + 1][0] if i + 1 < len(snapshots) else dt.date.max
        if day < end and valid_to > start:
            out.update(table)
    # A procedure missing from a later snapshot in the period is closed: only those the last
    # overlapping snapshot holds, or that an earlier one holds and closed inside the period, count.
    return out


@dataclass
class Agency:
    code: str
    name: str | None
    level: str | None
    parent: str | None
    unit: str | None
    valid_from: dt.date
    valid_to: dt.date | None
    successor: str | None


Agencies = dict[str, list[Agency]]


def load_agencies(landing: Path) -> Agencies:
    """Each agency's versions: the union of the snapshots, one per (code, NgayHieuLuc), as the
    latest snapshot states it; a version ends at its NgayHetHieuLuc or the next version's start."""
    stated: dict[tuple[str, dt.date], Agency] = {}
    for path in sorted((landing / "agencies").glob("coquan_*.csv")):
        for r in csv.DictReader(io.StringIO(read_text(path), newline="")):
            start = dt.date.fromisoformat(r["NgayHieuLuc"].strip())
            stop = dt.date.fromisoformat(r["NgayHetHieuLuc"].strip()) if r["NgayHetHieuLuc"].strip() else None
            agency = Agency(code(r["MaDinhDanh"]), code(r["TenCoQuan"]), code(r["CapCoQuan"]), code(r["MaCoQuanCha"]),
                            code(r["MaDVHC"]), start, stop, code(r.get("MaCoQuanKeThua")))
            stated[(agency.code, start)] = agency
    out: dict[str, list[Agency]] = defaultdict(list)
    for agency in sorted(stated.values(), key=lambda a: (a.code, a.valid_from)):
        out[agency.code].append(agency)
    for versions in out.values():
        for i, a in enumerate(versions[:-1]):
            nxt = versions[i + 1].valid_from
            a.valid_to = min(a.valid_to, nxt) if a.valid_to else nxt
    return out


def agency_on(agencies: Agencies, agency_code: str | None, day: dt.date) -> Agency | None:
    for a in agencies.get(agency_code or "", []):
        if a.valid_from <= day and (a.valid_to is None or day < a.valid_to):
            return a
    return None


def is_committee(a: Agency | None) -> bool:
    return a is not None and a.level == "TINH" and a.unit is not None and len(a.unit) == 2


@dataclass
class Units:
    province: str | None = None
    department: str | None = None
    district: str | None = None
    commune: str | None = None


def units_of(agencies: Agencies, agency_code: str | None, day: dt.date) -> Units:
    """The units of an agency and up to three agencies above it, as the list stands on `day`."""
    chain: list[Agency | None] = [agency_on(agencies, agency_code, day)]
    for _ in range(3):
        chain.append(agency_on(agencies, chain[-1].parent, day) if chain[-1] else None)
    units = Units()
    for i, a in enumerate(chain):
        if a is None:
            continue
        if units.province is None and is_committee(a):
            units.province = a.unit
        if units.district is None and a.unit and len(a.unit) == 3:
            units.district = a.unit
        if units.commune is None and a.unit and len(a.unit) == 5:
            units.commune = a.unit
        if units.department is None and i < 3 and a.level == "TINH" and not is_committee(a) and (
                a.parent is None or is_committee(chain[i + 1])):
            units.department = a.code
    return units


def current_agency(agencies: Agencies, agency_code: str) -> str:
    """Today's agency: itself while open, else its successor's, up to four hops (metrics.md v2)."""
    first = agencies.get(agency_code)
    if not first:
        return agency_code
    current = first[-1]
    for _ in range(5):
        if current.valid_to is None or current.successor is None:
            return current.code
        versions = agencies.get(current.successor)
        if not versions:
            return agency_code
        current = versions[-1]
    return agency_code


def load_crosswalk() -> dict[tuple[str, str], list[tuple[dt.date, str]]]:
    """The official crosswalk's primary links, by (old code, level), sorted by effective date."""
    links: dict[tuple[str, str], list[tuple[dt.date, str]]] = defaultdict(list)
    with (REFERENCE / "admin_unit_crosswalk.csv").open(encoding="utf-8", newline="") as handle:
        for r in csv.DictReader(handle):
            if r["is_primary"] == "true":
                links[(r["old_unit_code"], r["old_unit_level"])].append(
                    (dt.date.fromisoformat(r["effective_date"]), r["new_unit_code"]))
    return {k: sorted(v) for k, v in links.items()}


CROSSWALK = load_crosswalk()


def recast(unit_code: str | None, level: str, day: dt.date) -> str | None:
    """Today's unit of a code read on `day`: through every later link of the crosswalk, or None."""
    if unit_code is None:
        return None
    current, since, moved = unit_code, day, False
    for _ in range(3):
        later = [(d, new) for d, new in CROSSWALK.get((current, level), []) if d > since]
        if not later:
            break
        since, current = later[0]
        moved = True
    return current if moved else None


DISTRICTS_END = dt.date(2025, 7, 1)
UNIT_TYPES = ("province", "department", "district", "commune", "agency")


@dataclass
class Dossier:
    id: str
    service: str | None
    agency: str | None
    channel: int | None
    status: int
    submitted: dt.datetime
    received: dt.datetime | None
    due: dt.datetime | None
    finished: dt.datetime | None
    returned: dt.datetime | None
    refused: dt.datetime | None
    paid_online: int | None
    e_result: bool
    digitised: bool
    reuses: bool
    data_store: bool
    population: bool
    fee_expected: int
    deadline: int | None
    field: str | None
    procedure: Service | None
    rounds: list[tuple[dt.datetime, dt.datetime | None]]
    synced: bool = True
    units: Units = field(default_factory=Units)
    closed_on: dt.date | None = None
    successor: str | None = None
    successor_units: Units = field(default_factory=Units)
    current: dict[str, str | None] = field(default_factory=dict)
    # derived
    is_received: bool = False
    is_ended: bool = False
    ended: dt.datetime | None = None
    legal: dt.datetime | None = None
    wait: dt.timedelta = field(default_factory=dt.timedelta)
    on_time: bool | None = None
    early: bool | None = None
    pwd: int | None = None
    fee_paid: int = 0
    state: str = ""

    @property
    def district(self) -> str | None:
        return self.units.district

    @property
    def deadline_at(self) -> dt.datetime | None:
        return self.due or self.legal

    @property
    def completed(self) -> bool:
        return self.status in (9, 10)

    @property
    def paper_result(self) -> bool:
        return bool(self.procedure and self.procedure.paper_result)

    @property
    def fee_bearing(self) -> bool:
        return bool(self.procedure and self.procedure.has_fee) and self.fee_expected != 0

    @property
    def meets_result_condition(self) -> bool:
        return not (self.completed and not self.e_result and self.paper_result)

    @property
    def digitised_766(self) -> bool:
        return self.digitised and (not (self.completed and self.paper_result) or self.e_result)

    def unit(self, basis: str, unit_type: str, at: dt.datetime | None) -> str | None:
        """The dossier's unit of `unit_type` on `basis` for an event at `at` (metrics.md v2)."""
        if unit_type == "service":
            return self.service
        if unit_type == "field":
            return self.field
        if basis == "current":
            return self.current.get(unit_type)
        moved = self.closed_on is not None and at is not None and at >= dt.datetime.combine(self.closed_on, dt.time())
        if unit_type == "agency":
            return self.successor if moved else self.agency
        return getattr(self.successor_units if moved else self.units, unit_type)


def _record_or_none(record: Any) -> dict[str, Any] | None:
    """The record's facts, or None where landing would quarantine it (sources.md v2 §3)."""
    if not isinstance(record, dict) or code(record.get("MaHoSo")) is None:
        return None
    try:
        status = int(flag(record.get("TrangThaiHoSo")) or "")
        if not 1 <= status <= 10:
            return None
        dates = {k: ts(record.get(k)) for k in ("NgayNopHoSo", "NgayTiepNhan", "NgayHenTra", "NgayKetThucXuLy",
                                               "NgayTra", "NgayTuChoi")}
        fees = [amount(f.get("Gia")) for f in (record.get("DanhSachLePhi") or [])]
        rounds = sorted((ts(b.get("NgayBoSung")), ts(b.get("NgayTiepNhanBoSung")), ts(b.get("NgayHenTraTruoc")))
                        for b in (record.get("DanhSachHoSoBoSung") or []))
    except (ValueError, TypeError, AttributeError):
        return None
    return {"status": status, "dates": dates, "fees": fees, "rounds": rounds}


def _place(d: Dossier, agencies: Agencies) -> None:
    """The dossier's units on both bases (metrics.md v2, "Units and their history")."""
    day = (d.received or d.submitted).date()
    d.units = units_of(agencies, d.agency, day)
    if d.units.province is None:  # an unknown agency: the province whose committee's code ends alike
        suffix = (d.agency or "").split(".")[-1]
        for versions in agencies.values():
            for a in versions:
                if is_committee(a) and a.code.split(".")[-1] == suffix and a.valid_from <= day and (
                        a.valid_to is None or day < a.valid_to):
                    d.units.province = a.unit
    if day >= DISTRICTS_END:
        d.units.district = None
    last = agencies[d.agency][-1] if d.agency in agencies else None  # the agency's last version
    if last and last.valid_to and last.successor and agency_on(agencies, last.successor, last.valid_to):
        d.closed_on, d.successor = last.valid_to, last.successor
        d.successor_units = units_of(agencies, last.successor, last.valid_to)
        if last.valid_to >= DISTRICTS_END:
            d.successor_units.district = None
    today = current_agency(agencies, d.agency) if d.agency else None
    tree = units_of(agencies, today, agencies[today][-1].valid_from) if today in agencies else Units()
    d.current = {"agency": today, "department": tree.department, "district": None,
                 "commune": recast(d.units.commune, "commune", day) or tree.commune,
                 "province": recast(d.units.province, "province", day) or tree.province or d.units.province}


def load_dossiers(landing: Path, as_of: dt.datetime) -> dict[str, Dossier]:
    """Each dossier's state in its latest accepted call (sources.md v2 §3): by ThoiGianDongBo, then
    folder, file and position; a dossier with no accepted call takes its latest call's state."""
    snapshots = load_snapshots(landing)
    agencies = load_agencies(landing)
    latest: dict[str, tuple[tuple, dict, dict, str | None]] = {}
    accepted_any: dict[str, bool] = defaultdict(bool)
    for path in sorted((landing / "dossiers").glob("*/*")):
        if path.suffix.lower() != ".json":
            continue
        try:
            call = json.loads(read_text(path))
            sent_at = ts(call["ThoiGianDongBo"])
            records = call["data"] or []
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            continue
        if sent_at is None or code(call.get("MaDinhDanhDV")) is None or not isinstance(records, list):
            continue
        answer = call.get("KetQua")
        accepted = isinstance(answer, dict) and flag(answer.get("error_code")) == "0"
        for number, record in enumerate(records, start=1):
            facts = _record_or_none(record)
            if facts is None:
                continue
            dossier_id = code(record["MaHoSo"])
            accepted_any[dossier_id] |= accepted
            key = (accepted, sent_at, path.parent.name, path.name, number)
            if dossier_id not in latest or key > latest[dossier_id][0]:
                latest[dossier_id] = (key, record, facts, code(call["MaDinhDanhDV"]))
    dossiers = {}
    for dossier_id, (_, r, facts, agency) in latest.items():
        dates = facts["dates"]
        rounds = facts["rounds"]
        live = [a for a in (r.get("TaiLieuNop") or []) if flag(a.get("IsDeleted")) != "1"]
        paid_code = flag(r.get("DuocThanhToanTrucTuyen")) or "0"
        procedure = in_force(snapshots, code(r.get("MaTTHC")), dates["NgayNopHoSo"].date())
        databases = {code(x.get("MaCSDL")) for x in (r.get("DSKetNoiCSDL") or []) if isinstance(x, dict)}
        d = Dossier(
            id=dossier_id, service=code(r.get("MaTTHC")), agency=agency,
            channel={"1": 1, "2": 2, "3": 3}.get(flag(r.get("KenhThucHien")) or "1"), status=facts["status"],
            submitted=dates["NgayNopHoSo"], received=dates["NgayTiepNhan"],
            due=(rounds[0][2] if rounds and rounds[0][2] else dates["NgayHenTra"]),
            finished=dates["NgayKetThucXuLy"], returned=dates["NgayTra"], refused=dates["NgayTuChoi"],
            paid_online={"0": 0, "1": 1, "2": 2}.get(paid_code),
            e_result=any(code(g.get("DuongDanTepTinKetQua")) for g in (r.get("DanhSachGiayToKetQua") or [])),
            digitised=any(flag(a.get("DuocSoHoa")) == "1" for a in live),
            reuses=flag(r.get("HoSoCoThanhPhanSoHoa")) == "1" or any(
                flag(a.get("DuocTaiSuDung")) in ("1", "2") for a in live),
            data_store=any(flag(a.get("DuocLayTuKhoDMQG")) == "1" for a in live),
            population=flag(r.get("TaiKhoanDuocXacThucVoiVNeID")) == "1" or "CSDLDC" in databases,
            fee_expected=sum(f for f in facts["fees"] if f is not None),
            deadline=procedure.deadline_value if procedure and procedure.deadline_unit == "NgayLamViec" else None,
            field=procedure.field if procedure else None, procedure=procedure,
            rounds=[(a, b) for a, b, _ in rounds],
            synced=accepted_any[dossier_id],
        )
        _place(d, agencies)
        d.is_received = d.status not in (1, 3)
        d.is_ended = d.status in (7, 8, 9, 10)
        if d.is_ended:
            d.ended = d.finished or d.returned or d.refused
        if d.is_received and d.received and procedure:
            d.legal = legal_deadline(d.received, procedure.deadline_value, procedure.deadline_unit)
        upto = d.ended if d.is_ended and d.ended else as_of
        d.wait = sum(((b or upto) - a for a, b in d.rounds), dt.timedelta())
        if d.is_ended and d.ended and d.deadline_at:
            net = d.ended - d.wait
            d.on_time = net <= d.deadline_at and len(d.rounds) <= 1
            d.early = d.on_time and working(net.date()) and net.date() < d.deadline_at.date()
        if d.is_ended and d.ended and d.received:
            d.pwd = working_days_after_until(d.received.date(), (d.ended - d.wait).date())
        dossiers[dossier_id] = d
    return dossiers


@dataclass
class Payment:
    intermediary: str
    txn: str
    dossier: str | None
    amount: int
    status: str
    paid_at: dt.datetime
    duplicate_rows: int = 0


def load_payments(landing: Path) -> dict[tuple[str, str], Payment]:
    latest: dict[tuple[str, str], tuple[tuple, Payment]] = {}
    duplicates: dict[tuple[str, str], int] = defaultdict(int)
    for path in sorted((landing / "payments").glob("*/*.csv")):
        text = path.read_bytes().decode("utf-8-sig")
        rows = list(csv.DictReader(io.StringIO(text)))
        seen: set[tuple[tuple[str, str], tuple[str, ...]]] = set()
        for number, row in enumerate(rows, start=2):
            if unicodedata.normalize("NFC", row["MaGiaoDich"] or "").startswith("Tổng cộng"):
                continue
            try:
                amount = int(row["SoTien"])
                paid_at = dt.datetime.strptime(row["ThoiGianGiaoDich"], "%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
            key = (row["MaTrungGian"].strip(), row["MaGiaoDich"].strip())
            content = tuple(v for k, v in sorted(row.items()) if k not in ("MaTrungGian", "MaGiaoDich"))
            if (key, content) in seen:  # an identical copy: a duplicate (another content is a conflict)
                duplicates[key] += 1
            seen.add((key, content))
            status = {"00": "succeeded", "01": "failed", "02": "pending"}[row["TrangThai"]]
            payment = Payment(key[0], key[1], code(row["MaHoSo"]), amount, status, paid_at)
            order = (row["NgayDoiSoat"], path.parent.name, path.name, number)
            if key not in latest or order > latest[key][0]:
                latest[key] = (order, payment)
    out = {}
    for key, (_, payment) in latest.items():
        payment.duplicate_rows = duplicates[key]
        out[key] = payment
    return out


def reconcile(dossiers: dict[str, Dossier], payments: dict[tuple[str, str], Payment]) -> None:
    for p in payments.values():
        if p.status == "succeeded" and p.dossier in dossiers:
            dossiers[p.dossier].fee_paid += p.amount
    for d in dossiers.values():
        e, paid = d.fee_expected, d.fee_paid
        if e > 0 and paid == e:
            d.state = "matched"
        elif 0 < paid < e:
            d.state = "underpaid"
        elif paid > e:
            d.state = "overpaid"
        elif paid == 0 and e > 0:
            d.state = "unpaid_online" if d.paid_online in (1, 2) else "no_online_payment"
        elif paid == 0 and e == 0:
            d.state = "not_applicable"
        else:
            d.state = "refunded_beyond_paid"


def quantile_cont(values: list[int], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rate(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def load_points_table() -> list[dict[str, Any]]:
    """The scored rows of the 766 points table (the seed data/reference/indicators_766.csv)."""
    with (REFERENCE / "indicators_766.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    return [{"code": r["indicator_code"], "name": r["indicator_name"], "group": r["group_column"],
             "max": float(r["max_points"]), "target": float(r["target"]) if r["target"] else None,
             "scores": r["scored_units"], "measurable": r["is_measurable"] == "true"} for r in rows]


POINTS_TABLE = load_points_table()
PROVINCE_OF_ORPHANS = "26"


def agency_levels(agencies: Agencies) -> dict[str, str | None]:
    return {c: versions[-1].level for c, versions in agencies.items()}


def unit_procedures(basis: str, unit_type: str, unit_code: str, procedures: dict[str, Service],
                    performed: set[str], level: str | None) -> set[str]:
    """Procedures of the unit (metrics.md v2, Period indicators)."""
    def in_class(p: Service, cls: str | None) -> bool:
        return cls == "all" or (cls is not None and cls in p.levels)

    cls = {"province": "all", "district": "HUYEN", "commune": "XA"}.get(unit_type)
    if unit_type == "agency" and level in ("HUYEN", "XA"):
        cls = level
    out = {c for c, p in procedures.items() if in_class(p, cls)}
    if unit_type in ("department", "agency"):
        out |= {c for c, p in procedures.items() if p.lead_agency == unit_code} | (performed & set(procedures))
    if unit_type == "service":
        out |= {unit_code} & set(procedures)
    if unit_type == "field":
        out |= {c for c, p in procedures.items() if p.field == unit_code}
    return out


def period_indicators(dossiers: list[Dossier], payments: list[Payment], snapshots: Snapshots,
                      start: dt.datetime, end: dt.datetime, as_of: dt.datetime, basis: str, unit_type: str,
                      unit_code: str, levels: dict[str, str | None], known: set[str]) -> dict[str, Any]:
    """Every indicator of metrics.md v2's period table, and the 766 points, for one unit and period
    [start, end) on one geography basis. `dossiers` holds at least every dossier that may belong to
    the unit (membership is decided here, at each event's time), `payments` all payments, `known`
    every dossier id (a payment for none of them is an orphan)."""
    def inside(t: dt.datetime | None) -> bool:
        return t is not None and start <= t < end

    def member(d: Dossier, at: dt.datetime | None) -> bool:
        return d.unit(basis, unit_type, at) == unit_code

    judged = min(end, as_of)
    last_instant = judged - dt.timedelta(microseconds=1)
    received = [d for d in dossiers if d.is_received and inside(d.received) and member(d, d.received)]
    ended = [d for d in dossiers if d.is_ended and inside(d.ended) and member(d, d.ended)]
    submitted = [d for d in dossiers if inside(d.submitted) and member(d, d.submitted)]
    open_ = [d for d in dossiers if d.is_received and d.received and d.received < judged
             and not (d.ended and d.ended < judged) and not (d.is_ended and d.ended is None)
             and member(d, last_instant)]

    def wait_at(d: Dossier, t: dt.datetime) -> dt.timedelta:
        return sum((min(b or t, t) - a for a, b in d.rounds if a < t), dt.timedelta())

    open_due = [d for d in open_ if d.deadline_at]
    overdue = [d for d in open_due if judged - wait_at(d, judged) > d.deadline_at]
    on_time = sum(1 for d in ended if d.on_time)
    late = sum(1 for d in ended if d.on_time is False)
    fee_bearing = [d for d in received if d.fee_bearing]
    pwd = [d.pwd for d in ended if d.pwd is not None]
    with_deadline = [d for d in ended if d.pwd is not None and d.deadline]
    completed = [d for d in ended if d.completed]
    needing = [d for d in completed if d.paper_result]
    synced = sum(1 for d in received if d.synced)

    # Procedures of the unit, and what dossiers did with them in the period.
    procedures = procedures_in_period(snapshots, start.date(), end.date())
    with_service = [d for d in dossiers if d.is_received and inside(d.received) and d.service]
    users = with_service if unit_type in ("service", "field") else [d for d in with_service if member(d, d.received)]
    performed = {d.service for d in users} if unit_type in ("department", "agency") else set()
    mine = unit_procedures(basis, unit_type, unit_code, procedures, performed, levels.get(unit_code))
    used_online = {d.service for d in users if d.channel == 2}
    used_fee = {d.service for d in users if d.fee_expected > 0}
    used_pay = {d.service for d in users if d.paid_online in (1, 2)}
    ps = [procedures[c] for c in mine]
    online = [p for p in ps if p.online_level in (3, 4)]
    fee = [p for p in ps if p.has_fee]
    citizens = [p for p in ps if p.for_citizens]

    out: dict[str, Any] = {
        "dossiers_submitted": len(submitted),
        "dossiers_received": len(received),
        "dossiers_received_online": sum(1 for d in received if d.channel == 2),
        "dossiers_received_synced": synced,
        "dossiers_ended": len(ended),
        "ended_on_time": on_time,
        "ended_early": sum(1 for d in ended if d.early),
        "ended_late": late,
        "dossiers_without_due_at": sum(1 for d in received if d.deadline_at is None),
        "in_progress_at_end": len(open_),
        "in_progress_overdue_at_end": len(overdue),
        "fee_bearing_dossiers": len(fee_bearing),
        "services_online": len(online),
        "procedures": len(ps),
        "fees_expected_vnd": sum(d.fee_expected for d in received),
        "sync_rate": rate(synced, len(received)),
        "online_rate": rate(sum(1 for d in received if d.channel == 2), len(received)),
        "online_rate_766": None if not received else (
            sum(1 for d in received if d.channel == 2 and d.meets_result_condition) / len(received)
            * synced / len(received)),
        "on_time_rate": rate(on_time + len(open_due) - len(overdue), on_time + late + len(open_due)),
        "avg_processing_working_days": rate(sum(pwd), len(pwd)),
        "deadline_use": rate(sum(d.pwd / d.deadline for d in with_deadline), len(with_deadline)),
        "p50_processing_working_days": quantile_cont(pwd, 0.5),
        "p90_processing_working_days": quantile_cont(pwd, 0.9),
        "procedures_online_rate": rate(len(online), len(ps)),
        "procedures_fully_online_rate": rate(sum(1 for p in ps if p.online_level == 4),
                                             sum(1 for p in ps if p.eligible_fully_online)),
        "services_with_online_dossiers": rate(sum(1 for p in online if p.code in used_online), len(online)),
        "procedures_with_fee_data_rate": rate(sum(1 for p in fee if p.code in used_fee), len(fee)),
        "procedures_with_online_payment_rate": rate(sum(1 for p in fee if p.code in used_pay), len(fee)),
        "online_payment_rate": rate(sum(1 for d in fee_bearing if d.paid_online in (1, 2)), len(fee_bearing)),
        "online_payment_rate_platform": rate(sum(1 for d in fee_bearing if d.paid_online == 1), len(fee_bearing)),
        "e_result_rate": rate(sum(1 for d in needing if d.e_result), len(needing)),
        "digitised_rate": rate(sum(1 for d in received if d.digitised_766), len(received)),
        "data_reuse_rate": rate(sum(1 for d in received if d.reuses), len(received)),
        "data_store_rate": rate(sum(1 for d in received if d.data_store), len(received)),
        "population_db_procedures_rate": rate(sum(1 for p in citizens if p.population_db), len(citizens)),
        "population_db_dossiers_rate": rate(sum(1 for d in received if d.population), len(received)),
        "completion_rate": rate(len(completed), len(ended)),
        "digital_take_up": rate(sum(1 for d in received if d.channel == 2), len(received)),
    }
    # Fees collected: succeeded payments in the period, through the paid dossier; orphans to the province.
    by_id = {d.id: d for d in dossiers}
    collected = 0
    for p in payments:
        if p.status != "succeeded" or not inside(p.paid_at):
            continue
        d = by_id.get(p.dossier or "")
        if d is not None:
            collected += p.amount if member(d, p.paid_at) else 0
        elif unit_type == "province" and (p.dossier or "") not in known:
            links = CROSSWALK.get((PROVINCE_OF_ORPHANS, "province"), [])
            today = recast(PROVINCE_OF_ORPHANS, "province", dt.date.min) or PROVINCE_OF_ORPHANS
            then = today if links and p.paid_at.date() >= links[-1][0] else PROVINCE_OF_ORPHANS
            collected += p.amount if (today if basis == "current" else then) == unit_code else 0
    out["fees_collected_online_vnd"] = collected
    # 1.1-1.3: the province's publication of procedures.
    if unit_type == "province":
        decided: dict[str, Service] = {}
        for _, table in snapshots:
            for c, p in table.items():
                if p.decided and start.date() <= p.decided < end.date():
                    decided[c] = p

        def on_time_published(p: Service) -> bool:
            if p.effective is None:
                return False
            days = [p.decided + dt.timedelta(days=i) for i in range((p.effective - p.decided).days)]
            return sum(1 for day in days if working(day)) >= 5

        def public_on_time(p: Service) -> bool:
            return p.made_public is not None and p.made_public <= nth_working_day_after(p.decided, 5)

        public = [p for p in procedures.values() if p.made_public and p.made_public < end.date()]
        out["procedures_published_on_time_rate"] = rate(sum(1 for p in decided.values() if on_time_published(p)),
                                                        len(decided))
        out["procedures_public_on_time_rate"] = rate(sum(1 for p in decided.values() if public_on_time(p)),
                                                     len(decided))
        out["procedures_complete_rate"] = rate(sum(1 for p in public if p.parts == 7), len(public))
    else:
        for name in ("procedures_published_on_time_rate", "procedures_public_on_time_rate",
                     "procedures_complete_rate"):
            out[name] = None
    # Points (metrics.md, "766 points"): the seed's scored indicators.
    total = measurable = 0.0
    groups: dict[str, float | None] = {}
    for row in POINTS_TABLE:
        groups.setdefault(row["group"], None)
        if not (row["measurable"] and row["name"] and row["max"] > 0):
            continue
        scored = row["scores"] == "all" or row["scores"] == unit_type
        value = out[row["name"]]
        if not scored:
            points = None
        elif value is None:
            points = 0.0
        else:
            points = (min(value / row["target"], 1) if row["target"] else value) * row["max"]
        out[f"points_{row['name']}"] = points
        groups[row["group"]] = (groups[row["group"]] or 0.0) + (points or 0.0)
        total += points or 0.0
        measurable += row["max"] if scored else 0.0
    out.update(groups)
    out["points_total"] = total
    out["points_measurable"] = measurable
    return out
