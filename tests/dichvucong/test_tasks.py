"""The task functions the DAGs call, on the edges of a daily schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
import pytest

from dichvucong import tasks
from dichvucong.landing import lake


def test_interval_is_the_local_day_of_the_data_interval() -> None:
    start = pendulum.datetime(2024, 2, 4, 17, tz="UTC")  # 5 Feb 00:00 in Asia/Ho_Chi_Minh
    assert tasks.resolve_interval(None, start, start.add(days=1)) == (dt.date(2024, 2, 5), dt.date(2024, 2, 6))


def test_conf_widens_a_run_to_a_range() -> None:
    assert tasks.resolve_interval({"start": "2024-01-01", "end": "2024-02-01"}, None, None) == (
        dt.date(2024, 1, 1), dt.date(2024, 2, 1))
    with pytest.raises(ValueError, match="no data interval"):
        tasks.resolve_interval({}, None, None)
    with pytest.raises(ValueError, match="empty interval"):
        tasks.resolve_interval({"start": "2024-01-02", "end": "2024-01-01"}, None, None)


def test_a_day_without_a_catalog_snapshot_passes_its_gate(dvc_home: Path, small_landing: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_LANDING_DIR", str(small_landing))
    day = dt.date(2024, 2, 6)  # snapshots are on 5 and 15 February
    assert tasks.ingest("catalog", day, day + dt.timedelta(days=1))["files"] == 0
    assert tasks.validate_landed("catalog", day, day + dt.timedelta(days=1))["rows"] == 0
    report = tasks.ingest("dossiers", day, day + dt.timedelta(days=1))
    assert report["rows_loaded"] > 0
    assert tasks.validate_landed("dossiers", day, day + dt.timedelta(days=1))["rows"] == report["rows_loaded"]


def test_landing_accounts_catch_a_partition_that_disagrees_with_its_audit(
        dvc_home: Path, small_landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_LANDING_DIR", str(small_landing))
    day = dt.date(2024, 2, 6)
    tasks.ingest("payments", day, day + dt.timedelta(days=1))
    assert tasks.check_landing_accounts()["sources"][0]["source"] == "payments"
    # A partition replaced behind the audit's back (a lost write) must be caught.
    lake.write_partition(lake.partition_path(dvc_home / "lake", "raw_payments", day), "raw_payments", [])
    with pytest.raises(tasks.LandingAccountingError, match="payments"):
        tasks.check_landing_accounts()


def test_landing_accounts_after_a_build_check_the_days_written_since(
        dvc_home: Path, small_landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from dichvucong.config import Settings
    from dichvucong.transform import BuildReport, plan_refresh, record_refresh

    monkeypatch.setenv("DVC_LANDING_DIR", str(small_landing))
    day = dt.date(2024, 2, 6)
    tasks.ingest("payments", day, day + dt.timedelta(days=3))
    assert tasks.check_landing_accounts()["sources"][0]["days"] == 3  # no build yet: every day
    settings = Settings.from_env()
    as_of = dt.datetime(2024, 2, 9)
    # The state a successful build leaves: the partitions it read.
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    record_refresh(settings, plan_refresh(settings, as_of, full=True), as_of, BuildReport("", 0, 0, 0, 0.0))
    checked = tasks.check_landing_accounts()
    assert checked["scope"] == "days written since the last build" and checked["sources"][0]["days"] == 0
    tasks.ingest("payments", day + dt.timedelta(days=1), day + dt.timedelta(days=2))  # landed again
    assert tasks.check_landing_accounts()["sources"][0]["days"] == 1
    assert tasks.check_landing_accounts(every_day=True)["sources"][0]["days"] == 3
    # A partition written behind its audit's back since the build is among the days checked.
    lake.write_partition(lake.partition_path(dvc_home / "lake", "raw_payments", day + dt.timedelta(days=2)),
                         "raw_payments", [])
    with pytest.raises(tasks.LandingAccountingError, match="payments"):
        tasks.check_landing_accounts()
    # So is one withdrawn since (its audit left behind).
    lake.partition_path(dvc_home / "lake", "raw_payments", day + dt.timedelta(days=2)).unlink()
    with pytest.raises(tasks.LandingAccountingError, match="1 day"):
        tasks.check_landing_accounts()
