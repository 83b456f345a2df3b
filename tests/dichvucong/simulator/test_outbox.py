"""The outbox: run schedules, the portal's answers, and how spooled records become calls."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from dichvucong.simulator.outbox import (
    INSERT,
    MAX_CALL_RECORDS,
    STEPS,
    UPDATE,
    Portal,
    Spool,
    assemble,
    schedule_for,
    seconds,
    spool_line,
    timestamp,
)


def test_a_run_is_the_first_at_or_after_a_change() -> None:
    busy, quiet = schedule_for(1, "000.00.01.H62", 2000.0), schedule_for(1, "000.21.30.H62", 3.0)
    assert busy.period < quiet.period == 86_400
    assert 86_400 % busy.period == 0
    start = seconds(dt.datetime(2024, 3, 4))
    for ready in range(start, start + 2 * 86_400, 997):
        for schedule in (busy, quiet):
            run = schedule.run_at(ready)
            assert ready <= run < ready + schedule.period
            assert schedule.run_at(run) == run and (run - schedule.offset) % schedule.period == 0


def test_the_portal_rejects_about_one_call_in_a_hundred() -> None:
    portal = Portal(3)
    runs = range(0, 200_000 * 300, 300)
    rejected = [run for run in runs if portal.rejected("000.00.01.H62", run, UPDATE)]
    assert 0.008 <= len(rejected) / len(runs) <= 0.012
    assert portal.answer("000.00.01.H62", rejected[0], UPDATE)[0] != "0"
    assert portal.answer("000.00.01.H62", rejected[0] + 300, UPDATE) == ("0", "") or rejected[1] == rejected[0] + 300


def test_calls_hold_one_agency_one_kind_at_most_fifty_records_inserts_first() -> None:
    portal = Portal(5)
    run = seconds(dt.datetime(2024, 3, 4, 10, 0))
    lines = [spool_line(run, "000.00.02.H62", UPDATE, run - i, json.dumps({"MaHoSo": f"u{i}"})) for i in range(120)]
    lines += [spool_line(run, "000.00.02.H62", INSERT, run - 5, '{"MaHoSo":"i"}'),
              spool_line(run, "000.00.02.H62", STEPS, run - 5, '{"MaHoSo":"i"}'),
              spool_line(run, "000.00.03.H62", INSERT, run - 5, '{"MaHoSo":"j"}')]
    calls = assemble(lines, portal)
    assert [(c.agency, c.kind, len(c.records)) for c in calls] == [
        ("000.00.02.H62", INSERT, 1), ("000.00.02.H62", STEPS, 1), ("000.00.02.H62", UPDATE, MAX_CALL_RECORDS),
        ("000.00.02.H62", UPDATE, MAX_CALL_RECORDS), ("000.00.02.H62", UPDATE, 20), ("000.00.03.H62", INSERT, 1)]
    ours = [c for c in calls if c.agency == "000.00.02.H62"]
    assert [c.at for c in ours] == sorted({c.at for c in ours}) and all(c.at >= run for c in ours)
    # Within a call, records in the order their states arose.
    assert json.loads(calls[-2].envelope())["data"][-1] == {"MaHoSo": "u0"}
    envelope = json.loads(calls[0].envelope())
    assert envelope["MaDinhDanhDV"] == "000.00.02.H62" and envelope["LoaiDongBo"] == "insert"
    assert envelope["ThoiGianDongBo"] == f"{timestamp(calls[0].at):%Y%m%d%H%M%S}"
    assert calls[1].folder == "processing" and calls[0].folder == "dossiers"


def test_the_spool_keeps_records_on_disk_past_its_limit(tmp_path: Path) -> None:
    spool = Spool(tmp_path, limit_bytes=100)
    for hour in range(5):
        for i in range(10):
            spool.add(hour * 3600 + i, spool_line(hour * 3600 + i, "a", INSERT, i, f'{{"n":{i}}}'))
    assert list(tmp_path.iterdir())
    taken = spool.take(2)
    assert [line.split("\t")[0] for line in taken] == [str(2 * 3600 + i) for i in range(10)]
    assert spool.take(2) == [] and not (tmp_path / "2.tsv").exists()
