"""Quality gates and alerts with real receivers on loopback: an SMTP server
(aiosmtpd) and an HTTP webhook. Bad loads are injected into real runs of the
main job (real DAGs): a warning alerts and publishes, a closed gate alerts
and withholds publication, a task that exhausts its retries alerts."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from dichvucong.alerts import from_summary, notify
from dichvucong.config import REPO_ROOT, Settings
from dichvucong.quality import validate
from dichvucong.simulator import generate
from tests.conftest import Inbox, MainJobRuns

START, END = dt.date(2024, 3, 4), dt.date(2024, 3, 11)


def _bad_payments() -> pd.DataFrame:
    return pd.DataFrame({
        "MaGiaoDich": ["T1", "T2"], "MaTrungGian": ["VCB", "VCB"], "KenhThanhToan": [1, 1],
        "MaHoSo": ["026090001234", "0912345678"], "MaTTHC": ["S", "S"], "LoaiPhiLePhi": [1, 1], "SoTien": [1, 2],
        "TrangThai": ["00", "09"], "ThoiGianGiaoDich": pd.to_datetime(["2024-01-01"] * 2),
        "NgayDoiSoat": pd.to_datetime(["2024-01-01"] * 2), "_source_file": ["f", "f"], "_line_number": [1, 2],
        "_batch_date": pd.to_datetime(["2024-01-01"] * 2), "dossier_is_known": [False, False],
    })


def test_an_alert_reaches_both_channels_says_what_to_do_and_carries_no_data(
        receivers: tuple[Inbox, dict[str, str]], dvc_home: Path, monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path) -> None:
    inbox, env = receivers
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    inbox.mails.clear()
    inbox.hooks.clear()
    summary = validate(_bad_payments(), "raw_payments", "2024-01-01_2024-01-02", REPO_ROOT / "expectations",
                       docs_root=tmp_path)
    alert = from_summary(summary, summary.docs_url)
    assert alert is not None and alert.kind == "critical"
    assert notify(alert, Settings.from_env())["sent"] == ["email", "webhook"]
    (mail,), (hook,) = inbox.mails, inbox.hooks
    body = mail.get_body(("plain",)).get_content()
    assert mail["Subject"] == ("[dichvucong] Tỉnh Vĩnh Phúc (26) — CỔNG CHẤT LƯỢNG ĐÓNG / gate closed: raw_payments"
                               " — ngày lô 01/01/2024")
    # The check in words (Vietnamese, then English), never the GX expectation type's name.
    assert "Cột TrangThai có giá trị ngoài danh mục cho phép (00, 01, 02): 1/2 dòng không đạt" in body
    assert "TrangThai has values outside the allowed set (00, 01, 02): 1 of 2 rows fail" in body
    assert "expect_" not in body
    assert "Không có gì được công bố" in body and "Nothing is published" in body
    # No dashboard URL configured: the Data Docs page is named by its path.
    assert summary.docs_url.removeprefix("file://") in body
    assert hook["kind"] == "critical" and hook["table"] == "raw_payments" and hook["docs_url"] == summary.docs_url
    assert hook["findings"][0]["column"] == "TrangThai" and hook["findings"][0]["unexpected_count"] == 1
    for leaked in ("026090001234", "0912345678"):
        assert leaked not in body and leaked not in json.dumps(hook)

    # The same check failing again is grouped, not sent again ...
    for _ in range(3):
        assert notify(from_summary(summary, summary.docs_url), Settings.from_env())["held_back"]
    assert len(inbox.mails) == 1 and len(inbox.hooks) == 1
    # ... until the grouping window has passed: then one alert says how many were held back.
    monkeypatch.setenv("DVC_ALERT_GROUP_MINUTES", "0")
    notify(from_summary(summary, summary.docs_url), Settings.from_env())
    assert inbox.hooks[-1]["held_back"] == 3
    assert "3 more time(s)" in inbox.mails[-1].get_body(("plain",)).get_content()


@pytest.fixture(scope="module")
def week(tmp_path_factory: pytest.TempPathFactory) -> Path:
    landing = tmp_path_factory.mktemp("week") / "landing"
    generate(landing, START, END, seed=21, scale=0.02, dirt_rate=0)
    return landing


def _run(home: Path, landing: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("DVC_")}
    full |= {"DVC_HOME": str(home), "AIRFLOW_HOME": str(home / "airflow"), "DVC_PSEUDONYM_KEY": "alerts-key",
             "DVC_RETRY_DELAY_SECONDS": "1"} | env
    return subprocess.run(["dichvucong", "run", "--landing", str(landing), "--start", START.isoformat(),
                           "--end", END.isoformat(), "--no-docs"], env=full, capture_output=True, text=True,
                          timeout=900)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _of(hooks: list[dict[str, Any]], home: Path) -> list[dict[str, Any]]:
    """The webhook calls of the main job run in `home`: each names its lake, which is under its home."""
    return [h for h in hooks if Path(h["lake_dir"]).is_relative_to(home)]


def test_warning_publishes_critical_withholds_and_a_failed_task_alerts(
        receivers: tuple[Inbox, dict[str, str]], week: Path, main_job_runs: MainJobRuns, migrated_airflow_db: Path,
        tmp_path: Path) -> None:
    inbox, env = receivers
    home, fresh = tmp_path / "home", tmp_path / "fresh"
    for each in (home, fresh):  # two homes, as `airflow db migrate` leaves them
        (each / "airflow").mkdir(parents=True)
        shutil.copyfile(migrated_airflow_db, each / "airflow" / "airflow.db")
    landing = tmp_path / "landing"
    shutil.copytree(week, landing)
    first_hook = len(inbox.hooks)

    # 3. (Started first: it depends on nothing in 1 and 2, and runs meanwhile, in a home and on a
    #    landing of its own, its mail to another address; webhook calls are told apart by their lake.)
    #    A model that cannot build (a broken dbt project): the build fails after its retries, and
    #    operators hear of it. (A landing without catalog/ no longer gets this far: the main job
    #    refuses it at once, tests/dichvucong/test_cli.py.)
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(REPO_ROOT / "data" / "reference", tmp_path / "data" / "reference")  # the seeds' path
    # A reference to no model: dbt stops while compiling, before building anything (a cheap failure).
    (project / "models" / "marts" / "zz_broken.sql").write_text("select * from {{ ref('no_such_model') }}\n",
                                                                encoding="utf-8")
    broken_landing = tmp_path / "broken-landing"
    shutil.copytree(week, broken_landing)
    broken_env = env | {"DVC_DBT_PROJECT_DIR": str(project), "DVC_ALERT_TO": "xaydung@vinhphuc.example"}
    with ThreadPoolExecutor(max_workers=1) as background:
        broken = background.submit(_run, fresh, broken_landing, broken_env)

        # 1. Officials read the last good marts: published by an earlier run in this home (those
        #    of the session's shared main job, copied).
        published = home / "published" / "dichvucong.duckdb"
        published.parent.mkdir(parents=True)
        shutil.copyfile(main_job_runs.as_run / "published" / "dichvucong.duckdb", published)
        good = _digest(published)

        # A new intermediary appears in a reconciliation file (a warning, step 2) and an empty catalog
        # snapshot arrives: the catalog gate closes and nothing is published.
        day = START + dt.timedelta(days=2)
        path = landing / "payments" / f"{day}" / f"doisoat_{day:%Y%m%d}_NEWPAY.csv"
        path.write_text("MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,"
                        f"ThoiGianGiaoDich,NgayDoiSoat\nNP1,NEWPAY,1,HS-X,1.004227,2,50000,00,{day} 10:00:00,{day}\n",
                        encoding="utf-8")
        empty_day = START + dt.timedelta(days=3)
        (landing / "catalog" / f"services_{empty_day:%Y%m%d}.csv").write_text(
            "MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,MaCoQuan,TenCoQuan,CapThucHien,MucDo,ThoiHanGiaiQuyet,PhiLePhi\n",
            encoding="utf-8")
        mark = len(inbox.hooks)
        result = _run(home, landing, env)
        assert result.returncode != 0
        hooks = _of(inbox.hooks[mark:], home)
        critical = [h for h in hooks if h["kind"] == "critical"]
        assert [h["table"] for h in critical] == ["raw_catalog"]
        assert critical[0]["findings"][0]["check"] == "expect_table_row_count_to_be_between"
        assert critical[0]["docs_url"] and Path(critical[0]["docs_url"].removeprefix("file://")).exists()
        assert not [h for h in hooks if h["kind"] == "task_failed"], "the gate's own alert is enough"
        assert _digest(published) == good, "officials keep the last good marts"

        # 2. Fixing the batch (the empty snapshot is withdrawn) and rerunning publishes again; the new
        #    intermediary is a warning, and the marts are published.
        (landing / "catalog" / f"services_{empty_day:%Y%m%d}.csv").unlink()
        mark, mails = len(inbox.hooks), len(inbox.mails)
        began = dt.datetime.now(dt.UTC)
        result = _run(home, landing, env)
        assert result.returncode == 0, result.stderr[-3000:]
        assert _digest(published) != good
        warnings = [h for h in _of(inbox.hooks[mark:], home) if h["kind"] == "warning" and h["table"] == "raw_payments"]
        assert warnings and {f["column"] for f in warnings[0]["findings"]} >= {"MaTrungGian", "dossier_is_known"}
        assert any("data quality warning: raw_payments" in m["Subject"] for m in inbox.mails[mails:]
                   if m["To"] == env["DVC_ALERT_TO"])
        # Inside a task, the alert names its DAG run (Airflow's AIRFLOW_CTX_* variables), and a warning
        # raised before publication does not claim the marts were published.
        assert warnings[0]["dag_id"] == "ingest_payments" and warnings[0]["run_id"]
        assert warnings[0]["run_id"] in warnings[0]["text"]
        assert "sẽ được công bố nếu các bước còn lại đạt" in warnings[0]["text"]
        assert f"doisoat_{day:%Y%m%d}_NEWPAY.csv" in warnings[0]["text"]
        with duckdb.connect(str(published), read_only=True) as con:
            assert con.execute("select count(*) from marts.fct_payments where intermediary_code = 'NEWPAY'"
                               ).fetchall()[0][0] == 1
            assert con.execute("select count(*) from marts.kpi_766").fetchall()[0][0] > 0
            # This run's validations (the history also keeps the closed gate's, above).
            history = con.execute("select count(*), count(*) filter (where not success) "
                                  "from quality.validation_results where validated_at >= ?", [began]).fetchall()[0]
        assert history[0] > 50 and history[1] >= 2

        result = broken.result()
    assert result.returncode != 0
    failed = [h for h in _of(inbox.hooks[first_hook:], fresh) if h["kind"] == "task_failed"]
    assert [(h["dag_id"], h["task_id"]) for h in failed] == [("build_marts", "dbt_build")]
    assert "dbt build could not run" in failed[0]["error"]
    # Every webhook call was of one of the two homes: none was missed by the filters above.
    assert all(_of([h], home) or _of([h], fresh) for h in inbox.hooks[first_hook:])
