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


def working(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _VN


def working_days_after_until(start: dt.date, end: dt.date) -> int:
    return sum(1 for i in range(1, (end - start).days + 1) if working(start + dt.timedelta(days=i)))


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
class Dossier:
    id: str
    service: str | None
    agency: str | None
    district: str | None
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
    fee_expected: int
    deadline: int | None
    field: str | None
    rounds: list[tuple[dt.datetime, dt.datetime | None]]
    synced: bool = True
    # derived
    is_received: bool = False
    is_ended: bool = False
    ended: dt.datetime | None = None
    wait: dt.timedelta = field(default_factory=dt.timedelta)
    on_time: bool | None = None
    early: bool | None = None
    pwd: int | None = None
    fee_paid: int = 0
    state: str = ""


def load_snapshots(landing: Path) -> list[tuple[dt.date, dict[str, tuple[int | None, str | None]]]]:
    """Per catalog snapshot day, each procedure's (deadline in working days, field); a deadline in
    another unit (calendar days, hours, months) is None here."""
    out = []
    for path in sorted((landing / "catalog").glob("services_*.csv")):
        rows = csv.DictReader(io.StringIO(read_text(path), newline=""))
        table: dict[str, tuple[int | None, str | None]] = {}
        for r in rows:
            unit = code(r["DonViThoiHan"]) or "NgayLamViec"
            table[code(r["MaTTHC"])] = (int(r["ThoiHanGiaiQuyet"]) if unit == "NgayLamViec" else None,
                                        code(r["MaLinhVuc"]))
        out.append((dt.datetime.strptime(path.stem[-8:], "%Y%m%d").date(), table))
    return out


def in_force(snapshots: list[tuple[dt.date, dict[str, tuple[int | None, str | None]]]], service: str | None,
             day: dt.date) -> tuple[int | None, str | None]:
    """(deadline, field) in the snapshot in force on `day` (the first snapshot before any)."""
    valid = [s for d, s in snapshots if d <= day] or [snapshots[0][1]]
    return valid[-1].get(service, (None, None))


@dataclass
class Agency:
    code: str
    level: str | None
    parent: str | None
    unit: str | None
    valid_from: dt.date
    valid_to: dt.date | None


def load_agencies(landing: Path) -> dict[str, list[Agency]]:
    """Each agency's versions: the union of the snapshots, one per (code, NgayHieuLuc), as the
    latest snapshot states it."""
    stated: dict[tuple[str, dt.date], Agency] = {}
    for path in sorted((landing / "agencies").glob("coquan_*.csv")):
        for r in csv.DictReader(io.StringIO(read_text(path), newline="")):
            start = dt.date.fromisoformat(r["NgayHieuLuc"].strip())
            stop = dt.date.fromisoformat(r["NgayHetHieuLuc"].strip()) if r["NgayHetHieuLuc"].strip() else None
            agency = Agency(code(r["MaDinhDanh"]), code(r["CapCoQuan"]), code(r["MaCoQuanCha"]), code(r["MaDVHC"]),
                            start, stop)
            stated[(agency.code, start)] = agency
    out: dict[str, list[Agency]] = defaultdict(list)
    for agency in sorted(stated.values(), key=lambda a: (a.code, a.valid_from)):
        out[agency.code].append(agency)
    return out


def agency_on(agencies: dict[str, list[Agency]], agency_code: str | None, day: dt.date) -> Agency | None:
    versions = agencies.get(agency_code or "", [])
    for i, a in enumerate(versions):
        end = min([d for d in (a.valid_to, versions[i + 1].valid_from if i + 1 < len(versions) else None) if d],
                  default=None)
        if a.valid_from <= day and (end is None or day < end):
            return a
    return None


def district_of(agencies: dict[str, list[Agency]], agency_code: str | None, day: dt.date) -> str | None:
    """The 3-digit unit of the nearest agency at or above the dossier's agency (four levels)."""
    current = agency_on(agencies, agency_code, day)
    for _ in range(4):
        if current is None:
            return None
        if current.unit and len(current.unit) == 3:
            return current.unit
        current = agency_on(agencies, current.parent, day)
    return None


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
        day = (dates["NgayTiepNhan"] or dates["NgayNopHoSo"]).date()
        d = Dossier(
            id=dossier_id, service=code(r.get("MaTTHC")), agency=agency, district=district_of(agencies, agency, day),
            channel={"1": 1, "2": 2, "3": 3}.get(flag(r.get("KenhThucHien")) or "1"), status=facts["status"],
            submitted=dates["NgayNopHoSo"], received=dates["NgayTiepNhan"],
            due=(rounds[0][2] if rounds and rounds[0][2] else dates["NgayHenTra"]),
            finished=dates["NgayKetThucXuLy"], returned=dates["NgayTra"], refused=dates["NgayTuChoi"],
            paid_online={"0": 0, "1": 1, "2": 2}.get(paid_code),
            e_result=any(code(g.get("DuongDanTepTinKetQua")) for g in (r.get("DanhSachGiayToKetQua") or [])),
            digitised=any(flag(a.get("DuocSoHoa")) == "1" for a in live),
            fee_expected=sum(f for f in facts["fees"] if f is not None),
            deadline=in_force(snapshots, code(r.get("MaTTHC")), dates["NgayNopHoSo"].date())[0],
            field=in_force(snapshots, code(r.get("MaTTHC")), dates["NgayNopHoSo"].date())[1],
            rounds=[(a, b) for a, b, _ in rounds],
            synced=accepted_any[dossier_id],
        )
        d.is_received = d.status not in (1, 3)
        d.is_ended = d.status in (7, 8, 9, 10)
        if d.is_ended:
            d.ended = d.finished or d.returned or d.refused
        upto = d.ended if d.is_ended and d.ended else as_of
        d.wait = sum(((b or upto) - a for a, b in d.rounds), dt.timedelta())
        if d.is_ended and d.ended and d.due:
            net = d.ended - d.wait
            d.on_time = net <= d.due and len(d.rounds) <= 1
            d.early = d.on_time and working(net.date()) and net.date() < d.due.date()
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


def load_online_services(landing: Path, start: dt.date, end: dt.date) -> dict[str, set[tuple[str, str]]]:
    """Online services (MucDo 3, 4) of the snapshots in force during [start, end), with the
    (agency, field) pairs their catalog rows name."""
    snapshots = sorted((landing / "catalog").glob("services_*.csv"))
    days = [dt.datetime.strptime(p.stem[-8:], "%Y%m%d").date() for p in snapshots]
    online: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for i, path in enumerate(snapshots):
        valid_to = days[i + 1] if i + 1 < len(days) else dt.date.max
        if days[i] >= end or valid_to <= start:
            continue
        for row in csv.DictReader(io.StringIO(read_text(path), newline="")):
            if row["MucDo"].strip() in ("3", "4"):
                online[code(row["MaTTHC"])].add((code(row["MaCoQuanChuTri"]), code(row["MaLinhVuc"])))
    return online


def quantile_cont(values: list[int], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def rate(numerator: float, denominator: float) -> float | None:
    return None if denominator == 0 else numerator / denominator


def period_indicators(dossiers: list[Dossier], payments: list[Payment],
                      online_services: dict[str, set[tuple[str, str]]],
                      start: dt.datetime, end: dt.datetime, as_of: dt.datetime, unit: tuple[str, str],
                      all_dossiers: list[Dossier]) -> dict[str, Any]:
    """Every indicator of metrics.md's period table for one unit and period [start, end).

    An agency's (a field's) services are those its catalog rows name, a service is its own,
    and a service counts as used when anyone's online dossier for it was received (README choice).
    """
    def inside(t: dt.datetime | None) -> bool:
        return t is not None and start <= t < end

    judged = min(end, as_of)
    received = [d for d in dossiers if d.is_received and inside(d.received)]
    ended = [d for d in dossiers if d.is_ended and inside(d.ended)]
    open_ = [d for d in dossiers if d.is_received and d.received and d.received < judged
             and not (d.ended and d.ended < judged) and not (d.is_ended and d.ended is None)]

    def wait_at(d: Dossier, t: dt.datetime) -> dt.timedelta:
        return sum((min(b or t, t) - a for a, b in d.rounds if a < t), dt.timedelta())

    open_due = [d for d in open_ if d.due]
    overdue = [d for d in open_due if judged - wait_at(d, judged) > d.due]
    on_time = sum(1 for d in ended if d.on_time)
    late = sum(1 for d in ended if d.on_time is False)
    fee_bearing = [d for d in received if d.fee_expected > 0]
    pwd = [d.pwd for d in ended if d.pwd is not None]
    with_deadline = [d for d in ended if d.pwd is not None and d.deadline]
    online_received_services = {d.service for d in received if d.channel == 2}
    kind, unit_code = unit
    if kind in ("agency", "field", "service"):
        position = {"agency": 0, "field": 1}.get(kind)
        services = {s for s, pairs in online_services.items()
                    if (s == unit_code if position is None else any(p[position] == unit_code for p in pairs))}
        online_received_services = {d.service for d in all_dossiers
                                    if d.is_received and inside(d.received) and d.channel == 2}
    else:
        services = set(online_services)
    out = {
        "dossiers_submitted": sum(1 for d in dossiers if inside(d.submitted)),
        "dossiers_received": len(received),
        "dossiers_received_online": sum(1 for d in received if d.channel == 2),
        "dossiers_ended": len(ended),
        "ended_on_time": on_time,
        "ended_early": sum(1 for d in ended if d.early),
        "ended_late": late,
        "dossiers_without_due_at": sum(1 for d in received if d.due is None),
        "in_progress_at_end": len(open_),
        "in_progress_overdue_at_end": len(overdue),
        "fee_bearing_dossiers": len(fee_bearing),
        "services_online": len(services),
        "fees_expected_vnd": sum(d.fee_expected for d in received),
        "fees_collected_online_vnd": sum(p.amount for p in payments if p.status == "succeeded" and inside(p.paid_at)),
        "online_rate": rate(sum(1 for d in received if d.channel == 2), len(received)),
        "on_time_rate": rate(on_time + len(open_due) - len(overdue), on_time + late + len(open_due)),
        "avg_processing_working_days": rate(sum(pwd), len(pwd)),
        "deadline_use": rate(sum(d.pwd / d.deadline for d in with_deadline), len(with_deadline)),
        "p50_processing_working_days": quantile_cont(pwd, 0.5),
        "p90_processing_working_days": quantile_cont(pwd, 0.9),
        "online_payment_rate": rate(sum(1 for d in fee_bearing if d.paid_online in (1, 2)), len(fee_bearing)),
        "online_payment_rate_platform": rate(sum(1 for d in fee_bearing if d.paid_online == 1), len(fee_bearing)),
        "services_with_online_dossiers": rate(len(services & online_received_services), len(services)),
        "e_result_rate": rate(sum(1 for d in ended if d.e_result), len(ended)),
        "digitised_rate": rate(sum(1 for d in received if d.digitised), len(received)),
        "completion_rate": rate(sum(1 for d in ended if d.status in (9, 10)), len(ended)),
        "digital_take_up": rate(sum(1 for d in received if d.channel == 2), len(received)),
    }
    maxima = {"on_time_rate": (20, None), "online_rate": (12, 0.5), "online_payment_rate": (10, None),
              "e_result_rate": (6, None), "digitised_rate": (4, 0.8)}
    total = 0.0
    for name, (max_points, target) in maxima.items():
        value = out[name]
        points = None if value is None else (min(value / target, 1) if target else value) * max_points
        out[f"points_{name}"] = points
        total += points or 0.0
    out["points_total"] = total
    return out
