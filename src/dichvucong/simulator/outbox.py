"""The one-stop system's outbox to the national portal: when each record is sent, in which call,
and the call files (sources.md §3 and §4).

Each agency's outbox job runs on a fixed schedule — every `period` minutes at a
per-agency offset, busier agencies more often, so that a call holds a few to a
few dozen records. A change becomes ready a few minutes after it happens (now
and then days later: a stuck outbox) and goes out in the agency's first run
after that. A run sends the agency's ready dossiers — each dossier once, in its
state at the run — as `insert` calls for dossiers the portal has not accepted
yet and `update` calls for the others, and its ready processing steps as
processing calls; a call holds at most `MAX_CALL_RECORDS` records.

Whether the portal rejects a run's call is a hash of (seed, agency, run,
kind), so it is known when the dossier is simulated and a rejected record can
be re-sent, in its then current state, at a later run. Sent records are
spooled to disk by the hour of their run, and a day's calls are assembled and
written once no later dossier can add to them: memory stays bounded whatever
the scale.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

EPOCH = dt.datetime(2000, 1, 1)
DAY = 86_400
MAX_CALL_RECORDS = 50
TARGET_CALL_RECORDS = 100
REJECT_RATE = 0.01
_PERIODS = (5, 10, 15, 20, 30, 40, 45, 60, 72, 80, 90, 96, 120, 144, 160, 180, 240, 288, 360, 480, 720, 1440)
REJECTIONS = (
    ("-1", "Dữ liệu không hợp lệ"),
    ("-1", "Lỗi hệ thống, vui lòng thử lại sau"),
    ("-2", "Token không hợp lệ hoặc đã hết hạn"),
    ("-1", "Vượt quá số lượng yêu cầu cho phép trong một phút"),
)
INSERT, UPDATE, STEPS = "I", "U", "P"


_SECOND = dt.timedelta(seconds=1)


def seconds(ts: dt.datetime) -> int:
    return (ts - EPOCH) // _SECOND


def timestamp(secs: int) -> dt.datetime:
    return EPOCH + dt.timedelta(seconds=secs)


def _hash(text: str) -> float:
    return zlib.crc32(text.encode()) / 4_294_967_296.0


@dataclass(frozen=True)
class Schedule:
    period: int  # seconds between runs; divides a day
    offset: int  # seconds after midnight of the day's first run

    def run_at(self, ready: int) -> int:
        """The first run at or after `ready` (seconds since EPOCH)."""
        k = -((self.offset - ready) // self.period)  # ceil((ready - offset) / period)
        return self.offset + k * self.period


def schedule_for(seed: int, agency: str, records_per_day: float) -> Schedule:
    """Runs often enough that a run holds about TARGET_CALL_RECORDS of the records of a working day,
    most of which change in about ten office hours. An agency that runs once or twice a day does so
    in the evening, after office hours (and, twice a day, in the morning), so that a day's changes
    are sent that day."""
    wanted = 600.0 * TARGET_CALL_RECORDS / max(records_per_day, 0.01)
    period = next((p for p in _PERIODS if p >= wanted), 1440)
    draw = _hash(f"{seed}|offset|{agency}")
    if period >= 720:
        offset = (17 * 60 + 5) % period + int(draw * 355)  # 17:05-23:00 (and 05:05-11:00)
    else:
        offset = 1 + int(draw * max(period - 3, 1))
    return Schedule(period * 60, offset * 60)


class Portal:
    """The portal's answer to each run's call, and the second the call is made."""

    def __init__(self, seed: int) -> None:
        self.seed = seed

    def rejected(self, agency: str, run: int, kind: str) -> bool:
        return _hash(f"{self.seed}|{agency}|{run}|{kind}") < REJECT_RATE

    def answer(self, agency: str, run: int, kind: str) -> tuple[str, str]:
        if not self.rejected(agency, run, kind):
            return "0", ""
        return REJECTIONS[int(_hash(f"{self.seed}|why|{agency}|{run}|{kind}") * len(REJECTIONS))]

    def jitter(self, agency: str, run: int) -> int:
        return int(_hash(f"{self.seed}|at|{agency}|{run}") * 40)


class Spool:
    """Sent records by the hour of their run: in memory up to a limit, then appended to files."""

    def __init__(self, folder: Path, limit_bytes: int = 48_000_000) -> None:
        self.folder = folder
        self.limit = limit_bytes
        self.pending: dict[int, list[str]] = defaultdict(list)
        self.size = 0
        self.on_disk: set[int] = set()

    def add(self, run: int, line: str) -> None:
        self.pending[run // 3600].append(line)
        self.size += len(line)
        if self.size >= self.limit:
            self.flush()

    def flush(self) -> None:
        for hour, lines in self.pending.items():
            with (self.folder / f"{hour}.tsv").open("a", encoding="utf-8", newline="") as handle:
                handle.write("".join(lines))
            self.on_disk.add(hour)
        self.pending.clear()
        self.size = 0

    def take(self, hour: int) -> list[str]:
        lines: list[str] = []
        if hour in self.on_disk:
            path = self.folder / f"{hour}.tsv"
            lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
            path.unlink()
            self.on_disk.discard(hour)
        pending = self.pending.pop(hour, [])
        self.size -= sum(len(line) for line in pending)
        return lines + pending


@dataclass
class Call:
    """One sync call: the records one agency sent at one moment."""

    agency: str
    kind: str  # INSERT, UPDATE or STEPS
    run: int
    at: int  # ThoiGianDongBo, seconds since EPOCH
    error_code: str
    message: str
    records: list[str]  # JSON texts

    @property
    def folder(self) -> str:
        return "processing" if self.kind == STEPS else "dossiers"

    def name(self, number: int) -> str:
        stem = "tiendo" if self.kind == STEPS else "hoso"
        return f"{stem}_{timestamp(self.at):%Y%m%d%H%M%S}_{self.agency}_{number:03d}.json"

    def envelope(self) -> str:
        kind = "update" if self.kind == UPDATE else "insert"
        return (f'{{"MaDinhDanhDV":"{self.agency}","ThoiGianDongBo":"{timestamp(self.at):%Y%m%d%H%M%S}",'
                f'"LoaiDongBo":"{kind}","KetQua":{{"error_code":"{self.error_code}","message":"{self.message}"}},'
                f'"data":[{",".join(self.records)}]}}')


def spool_line(run: int, agency: str, kind: str, order: int, record: str) -> str:
    return f"{run}\t{agency}\t{kind}\t{order}\t{record}\n"


def assemble(lines: list[str], portal: Portal) -> list[Call]:
    """The calls of one hour's spooled records, in the order they were made."""
    groups: dict[tuple[int, str, str], list[tuple[int, str]]] = defaultdict(list)
    for line in lines:
        run_text, agency, kind, order, record = line.rstrip("\n").split("\t", 4)
        groups[(int(run_text), agency, kind)].append((int(order), record))
    calls = []
    second: dict[tuple[int, str], int] = defaultdict(int)
    for run, agency, kind in sorted(groups, key=lambda k: (k[0], k[1], k[2] == UPDATE, k[2])):
        records = [record for _, record in sorted(groups[(run, agency, kind)], key=lambda r: r[0])]
        error_code, message = portal.answer(agency, run, kind)
        base = run + portal.jitter(agency, run)
        for first in range(0, len(records), MAX_CALL_RECORDS):
            offset = second[(run, agency)]
            second[(run, agency)] += 1
            calls.append(Call(agency, kind, run, base + offset, error_code, message,
                              records[first:first + MAX_CALL_RECORDS]))
    return calls
