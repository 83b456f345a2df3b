"""The task functions the DAGs call, on the edges of a daily schedule."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pendulum
import pyarrow.parquet as pq
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


def test_landing_accounts_judge_every_landed_day_again_and_keep_no_verdict(
        dvc_home: Path, small_landing: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_LANDING_DIR", str(small_landing))
    day = dt.date(2024, 2, 6)
    report = tasks.ingest("payments", day, day + dt.timedelta(days=3))
    first = tasks.check_landing_accounts()["sources"][0]
    assert first["days"] == 3 and first["rows_loaded"] == report["rows_loaded"] > 0
    assert first["rows_read"] == report["rows_read"] and first["rows_quarantined"] == report["rows_quarantined"]
    assert not (dvc_home / "lake" / "_checks").exists()
    tasks.ingest("payments", day + dt.timedelta(days=1), day + dt.timedelta(days=2))  # landed again
    assert tasks.check_landing_accounts()["sources"][0] == first
    # A partition written behind its audit's back is caught, on every check until it is mended (a
    # lost write: a day with transactions emptied; 8 February, the first day of Tết, has none).
    raw = lake.partition_path(dvc_home / "lake", "raw_payments", day)
    assert pq.read_metadata(raw).num_rows > 0
    lake.write_partition(raw, "raw_payments", [])
    for _ in range(2):
        with pytest.raises(tasks.LandingAccountingError, match="payments: .* 1 day.*2024-02-06"):
            tasks.check_landing_accounts()
    # So is one withdrawn (its audit left behind), and an audit rewritten alone.
    raw.unlink()
    with pytest.raises(tasks.LandingAccountingError, match="1 day"):
        tasks.check_landing_accounts()
    tasks.ingest("payments", day, day + dt.timedelta(days=1))
    assert tasks.check_landing_accounts()["sources"][0] == first
    audit = lake.partition_path(dvc_home / "lake", "load_audit", day, "payments")
    rows = pq.read_table(audit).to_pylist()
    rows[0]["rows_read"] += 1
    lake.write_partition(audit, "load_audit", rows)
    with pytest.raises(tasks.LandingAccountingError, match="payments"):
        tasks.check_landing_accounts()


def test_landing_accounts_catch_data_with_no_audit(dvc_home: Path, small_landing: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DVC_LANDING_DIR", str(small_landing))
    day = dt.date(2024, 2, 6)
    tasks.ingest("payments", day, day + dt.timedelta(days=2))
    tasks.check_landing_accounts()
    audits = [lake.partition_path(dvc_home / "lake", "load_audit", d, "payments")
              for d in (day, day + dt.timedelta(days=1))]
    # A day whose audit is gone (a landing killed between its data and its audit)...
    audits[0].unlink()
    with pytest.raises(tasks.LandingAccountingError, match="payments: audit and lake disagree on 1 day"):
        tasks.check_landing_accounts()
    # ...and a day whose audit holds no row for it.
    tasks.ingest("payments", day, day + dt.timedelta(days=1))
    lake.write_partition(audits[1], "load_audit", [])
    with pytest.raises(tasks.LandingAccountingError, match="payments: audit and lake disagree on 1 day"):
        tasks.check_landing_accounts()


def test_data_docs_pages_are_built_for_validations_with_a_finding_only(dvc_home: Path) -> None:
    import pandas as pd

    from dichvucong.alerts import data_docs_site
    from dichvucong.config import Settings

    settings = Settings.from_env()
    fresh = pd.DataFrame({"source": ["dossiers", "payments"], "latest_landed_day": pd.to_datetime(["2024-01-05"] * 2),
                          "latest_batch_date": pd.to_datetime(["2024-01-04"] * 2), "lag_days": [1, 1]})
    clean = tasks.gate(fresh, "landing_freshness", "2024-01-05", settings)
    site = data_docs_site(settings.reports_dir)
    assert clean["warnings"] == 0 and clean["docs"] is None
    assert not site.exists() or not list(site.rglob("*.html"))
    assert (settings.reports_dir / "quality" / "landing_freshness" / "2024-01-05.json").exists()  # kept all the same
    stale = tasks.gate(fresh.assign(lag_days=[5, 1]), "landing_freshness", "2024-01-06", settings)
    assert stale["warnings"] == 1 and stale["docs"].startswith("file://")
    page = Path(stale["docs"].removeprefix("file://"))
    assert page.exists() and page.is_relative_to(site)
