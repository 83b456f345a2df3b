"""Alerts to operators with real receivers on loopback — an SMTP server (aiosmtpd) and an HTTP
webhook that can be told to fail — and the dashboard serving the Data Docs they link to (a real
uvicorn server). Issue 20, "Operators": an alert sent by no channel must not hold back the next
one; the texts name the province, table, files, batch days and DAG run, in Vietnamese first, with
an http link to Data Docs and no GX expectation type name; the dashboard serves Data Docs behind
its login and nothing outside them."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import logging
import threading
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests
import uvicorn

from dichvucong.alerts import data_docs_site, from_summary, notify
from dichvucong.config import REPO_ROOT, Settings
from dichvucong.dashboard.app import Auth, create_app
from dichvucong.local_airflow import free_port
from dichvucong.quality import QualityGateFailed, validate
from dichvucong.tasks import ingest, validate_landed
from tests.conftest import Inbox

DAY = dt.date(2024, 3, 6)
HEADER = ("MaGiaoDich,MaTrungGian,KenhThanhToan,MaHoSo,MaTTHC,LoaiPhiLePhi,SoTien,TrangThai,"
          "ThoiGianGiaoDich,NgayDoiSoat\n")
# Values that must never reach an alert: a dossier code shaped like an ID number, a name, a phone.
PERSONAL = ("026090001234", "Nguyễn Văn Bình", "0912345678")


def body(mail: EmailMessage) -> str:
    part = mail.get_body(("plain",))
    assert part is not None
    return str(part.get_content())




@pytest.fixture
def clean_env(dvc_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private DVC_HOME with no alert channel, no dashboard URL and no Airflow run context."""
    for name in ("DVC_ALERT_SMTP_HOST", "DVC_ALERT_SMTP_PORT", "DVC_ALERT_SMTP_USER", "DVC_ALERT_SMTP_PASSWORD",
                 "DVC_ALERT_TO", "DVC_ALERT_FROM", "DVC_ALERT_WEBHOOK_URL", "DVC_ALERT_WEBHOOK_FORMAT",
                 "DVC_DASHBOARD_URL", "DVC_PROVINCE_CODE", "DVC_PROVINCE_NAME", "AIRFLOW_CTX_DAG_ID",
                 "AIRFLOW_CTX_TASK_ID", "AIRFLOW_CTX_DAG_RUN_ID", "DVC_PROVINCES_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DVC_ALERT_GROUP_MINUTES", "360")
    return dvc_home


def _configure(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)


def _unknown_intermediary() -> Any:
    """A warning and nothing else: one valid payment from an intermediary the platform does not know."""
    summary = validate(pd.DataFrame({
        "MaGiaoDich": ["T1"], "MaTrungGian": ["NEWPAY"], "KenhThanhToan": [1], "MaHoSo": [PERSONAL[0]],
        "MaTTHC": ["S"], "LoaiPhiLePhi": [1], "SoTien": [50000], "TrangThai": ["00"],
        "ThoiGianGiaoDich": pd.to_datetime(["2024-03-06"]), "NgayDoiSoat": pd.to_datetime(["2024-03-06"]),
        "_source_file": ["doisoat_20240306_NEWPAY.csv"], "_line_number": [1],
        "_batch_date": pd.to_datetime(["2024-03-06"]), "dossier_is_known": [True],
    }), "raw_payments", "2024-03-06_2024-03-07", REPO_ROOT / "expectations",
        docs_root=Settings.from_env().reports_dir / "gx")
    assert summary.warnings == 1 and summary.critical_failures == 0
    return summary


def _journal(settings: Settings) -> list[dict[str, Any]]:
    path = settings.reports_dir / "alerts" / "alerts.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------ (a) no channel, then channels

class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_an_alert_sent_by_no_channel_does_not_hold_back_the_next(
        receivers: tuple[Inbox, dict[str, str]], clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, env = receivers
    inbox.clear()
    summary = _unknown_intermediary()
    settings = Settings.from_env()

    # No channel configured: nothing is sent, the log says so, and no grouping window opens. (A
    # handler on the module's logger: Airflow's logging setup stops propagation to pytest's.)
    records = Records()
    logging.getLogger("dichvucong.alerts").addHandler(records)
    try:
        outcome = notify(from_summary(summary, summary.docs_url), Settings.from_env())
    finally:
        logging.getLogger("dichvucong.alerts").removeHandler(records)
    assert outcome == {"sent": [], "held_back": False}
    assert any("channel" in m and "configured" in m for m in records.messages), records.messages
    assert _journal(settings)[-1]["channels"] == []
    state = settings.reports_dir / "alerts" / "state.json"
    assert json.loads(state.read_text()) == {}, "an alert sent nowhere must not enter the grouping state"

    # The operators configure e-mail and the webhook: the next warning of the same check reaches both (a
    # task builds its settings when it runs: the next one has the channels).
    _configure(monkeypatch, env)
    assert notify(from_summary(summary, summary.docs_url), Settings.from_env()) == {"sent": ["email", "webhook"],
                                                                        "held_back": False}
    assert len(inbox.mails) == 1 and len(inbox.hooks) == 1
    # Without DVC_DASHBOARD_URL the Data Docs page is named by its path on the pipeline's machine.
    path = summary.docs_url.removeprefix("file://")
    assert path in body(inbox.mails[0]) and inbox.hooks[0]["docs_path"] == path

    # Now that it went out, the same check is grouped within the window.
    assert notify(from_summary(summary, summary.docs_url), Settings.from_env())["held_back"]
    assert len(inbox.mails) == 1 and len(inbox.hooks) == 1


# ------------------------------------------------------------------ (c) a failing channel

def test_a_channel_that_fails_does_not_hold_back_the_next_alert(
        receivers: tuple[Inbox, dict[str, str]], clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, env = receivers
    inbox.clear()
    summary = _unknown_intermediary()
    _configure(monkeypatch, env)

    # The mail server is down (nothing listens on its port) and the chat server answers 500.
    monkeypatch.setenv("DVC_ALERT_SMTP_PORT", str(free_port()))
    inbox.status = 500
    assert notify(from_summary(summary, summary.docs_url), Settings.from_env()) == {"sent": [], "held_back": False}
    assert not inbox.mails and not inbox.hooks

    # Both come back: the next failure of the same check is sent at once, not held back.
    monkeypatch.setenv("DVC_ALERT_SMTP_PORT", env["DVC_ALERT_SMTP_PORT"])
    inbox.status = 204
    assert notify(from_summary(summary, summary.docs_url), Settings.from_env())["sent"] == ["email", "webhook"]
    assert len(inbox.mails) == 1 and len(inbox.hooks) == 1

    # The rule the other way round: sent on one channel (the webhook failing) counts as sent.
    monkeypatch.setenv("DVC_ALERT_GROUP_MINUTES", "0")
    inbox.status = 500
    assert notify(from_summary(summary, summary.docs_url), Settings.from_env())["sent"] == ["email"]
    monkeypatch.setenv("DVC_ALERT_GROUP_MINUTES", "360")
    inbox.status = 204
    assert notify(from_summary(summary, summary.docs_url), Settings.from_env())["held_back"]


# ------------------------------------------------------------------ the dashboard, for (b) and (d)

class Served:
    def __init__(self, url: str, user: str, password: str) -> None:
        self.url = url
        self.headers = {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}

    def raw_get(self, path: str) -> tuple[int, bytes]:
        """A GET of `path` exactly as written (requests and browsers remove `..` before sending)."""
        host, port = self.url.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            connection.putrequest("GET", path, skip_accept_encoding=True)
            for name, value in self.headers.items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@pytest.fixture
def dashboard(clean_env: Path) -> Iterator[Served]:
    """The dashboard app in a real uvicorn server, with a login, over this DVC_HOME (no marts
    published: the Data Docs route needs none). Its Data Docs folder is the default, from the settings."""
    port = free_port()
    app = create_app(clean_env / "published" / "dichvucong.duckdb", Auth(user="vanhanh", password="mat-khau-thu"))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the dashboard did not start"
        time.sleep(0.05)
    try:
        yield Served(f"http://127.0.0.1:{port}", "vanhanh", "mat-khau-thu")
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# ------------------------------------------------------------------ (b) the texts

def _land_payments(landing: Path) -> None:
    """Two reconciliation files of one day: one from an unknown intermediary (a warning on raw_payments),
    one in UTF-16 (a file error of raw_files); both carry personal-looking values."""
    folder = landing / "payments" / DAY.isoformat()
    folder.mkdir(parents=True)
    (folder / "doisoat_20240306_NEWPAY.csv").write_text(
        HEADER + f"NP1,NEWPAY,1,{PERSONAL[0]},1.004227,2,50000,00,{DAY} 10:00:00,{DAY}\n", encoding="utf-8")
    (folder / "doisoat_20240306_VCB.csv").write_bytes(
        (HEADER + f"V1,VCB,1,{PERSONAL[1]} {PERSONAL[2]},1.004227,2,50000,00,{DAY} 10:00:00,{DAY}\n")
        .encode("utf-16-le"))


def test_alert_texts_name_province_table_files_batch_day_run_and_link_the_dashboard(
        receivers: tuple[Inbox, dict[str, str]], clean_env: Path, dashboard: Served,
        monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, env = receivers
    inbox.clear()
    _configure(monkeypatch, env | {
        "DVC_PROVINCE_CODE": "27", "DVC_PROVINCE_NAME": "Tỉnh Bắc Ninh", "DVC_DASHBOARD_URL": dashboard.url + "/",
        # What Airflow sets inside a task.
        "AIRFLOW_CTX_DAG_ID": "ingest_payments", "AIRFLOW_CTX_TASK_ID": "validate",
        "AIRFLOW_CTX_DAG_RUN_ID": "scheduled__2024-03-06T17:00:00+00:00"})
    _land_payments(clean_env / "landing")
    ingest("payments", DAY, DAY + dt.timedelta(days=1))
    validate_landed("payments", DAY, DAY + dt.timedelta(days=1))  # the real task: validations, then alerts

    assert len(inbox.mails) == 2 and len(inbox.hooks) == 2
    mails = {m["Subject"].split(": ")[-1].split(" — ")[0]: m for m in inbox.mails}
    hooks = {h["table"]: h for h in inbox.hooks}
    assert set(mails) == set(hooks) == {"raw_payments", "raw_files"}
    for mail in inbox.mails:
        subject, text = str(mail["Subject"]), body(mail)
        hook = hooks[subject.split(": ")[-1].split(" — ")[0]]
        # The province, the batch day (Vietnamese date), the DAG run, Vietnamese first, English after.
        assert "Tỉnh Bắc Ninh (27)" in subject and "ngày lô 06/03/2024" in subject
        assert text.index("Việc cần làm") < text.index("— English —") < text.index("What to do")
        for said in (text, hook["text"]):
            assert "Tỉnh Bắc Ninh (27)" in said and "ngày lô 06/03/2024" in said
            assert "scheduled__2024-03-06T17:00:00+00:00" in said and "ingest_payments" in said
            assert "Kiểm tra không đạt" in said and "Xem ở đâu" in said
            # An http link served by the dashboard, not a file:// one a mail client cannot open.
            assert f"{dashboard.url}/data-docs/validations/{hook['table']}/" in said and "file://" not in said
            # No GX expectation type name, no unknown count, no claim that anything was published.
            assert "expect_" not in said and "None" not in said
            assert "sẽ được công bố nếu các bước còn lại đạt" in said
            assert "đã được công bố" not in said and "were published" not in text
            for value in PERSONAL:
                assert value not in said and value not in json.dumps(hook, ensure_ascii=False)
        assert "expect_" not in subject
        # The webhook keeps its fields and adds the text a chat tool shows.
        assert {"kind", "table", "interval", "findings", "rows", "docs_url", "dag_id", "task_id", "run_id", "error",
                "held_back", "subject", "what_to_do", "text"} <= set(hook)
        assert hook["kind"] == "warning" and hook["docs_url"].startswith(f"{dashboard.url}/data-docs/")
        assert hook["run_id"] == "scheduled__2024-03-06T17:00:00+00:00" and hook["province_code"] == "27"

    # raw_payments: the check in words, its rule, the file and batch day the failing row came from.
    payments = body(mails["raw_payments"])
    assert "Cột MaTrungGian có giá trị ngoài danh mục cho phép" in payments
    assert "sources.md §3: intermediaries known to the platform" in payments
    assert "Tệp doisoat_20240306_NEWPAY.csv, ngày lô 06/03/2024: 1 dòng không đạt" in payments
    assert "Kiểm tra tệp và ngày lô nêu trên với đơn vị gửi" in payments
    # raw_files: the file named with its error, and what to do about a file.
    files = body(mails["raw_files"])
    assert "Tệp doisoat_20240306_VCB.csv, ngày lô 06/03/2024 — lỗi: not UTF-8" in files
    assert "Tệp không đọc được trọn vẹn" in files and "Xem tệp nêu trên và lỗi của nó" in files
    assert [f["places"][0]["file"] for f in hooks["raw_files"]["findings"]][0] == "doisoat_20240306_VCB.csv"

    # The link opens the validation's Data Docs page through the dashboard (with its login).
    page = requests.get(hooks["raw_payments"]["docs_url"], headers=dashboard.headers, timeout=10)
    assert page.status_code == 200 and "raw_payments" in page.text


def test_a_closed_gate_says_nothing_is_published_and_gives_counts_only_when_known(
        receivers: tuple[Inbox, dict[str, str]], clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, env = receivers
    inbox.clear()
    _configure(monkeypatch, env)
    # An empty catalog snapshot: a table-level check (at least one row) that has no row counts.
    (clean_env / "landing" / "catalog").mkdir(parents=True)
    (clean_env / "landing" / "catalog" / "services_20240306.csv").write_text(
        "MaTTHC,TenTTHC,MaLinhVuc,TenLinhVuc,MaCoQuan,TenCoQuan,CapThucHien,MucDo,ThoiHanGiaiQuyet,PhiLePhi\n",
        encoding="utf-8")
    ingest("catalog", DAY, DAY + dt.timedelta(days=1))
    with pytest.raises(QualityGateFailed):
        validate_landed("catalog", DAY, DAY + dt.timedelta(days=1))

    (hook,) = [h for h in inbox.hooks if h["kind"] == "critical"]
    (mail,) = [m for m in inbox.mails if "CỔNG CHẤT LƯỢNG ĐÓNG" in str(m["Subject"])]
    text = body(mail)
    assert "Tỉnh Vĩnh Phúc (26)" in str(mail["Subject"]) and "raw_catalog" in str(mail["Subject"])
    assert "Số dòng của bảng ngoài khoảng cho phép (≥ 1)" in text and "Đã kiểm tra 0 dòng" in text
    assert "None" not in text and "expect_" not in text
    assert "Không có gì được công bố: cán bộ vẫn xem bản số liệu đạt gần nhất" in text
    assert "Nothing is published: officials keep the last good copy" in text
    # The snapshot's file, from the load audit: no row of an empty table can name it.
    assert "Tệp services_20240306.csv, ngày lô 06/03/2024" in text
    assert hook["findings"][0]["unexpected_count"] is None


# ------------------------------------------------------------------ (d) the dashboard serves Data Docs

def test_the_dashboard_serves_data_docs_behind_its_login_and_nothing_outside_them(
        clean_env: Path, dashboard: Served, tmp_path: Path) -> None:
    summary = _unknown_intermediary()  # builds the Data Docs site under DVC_HOME/reports/gx
    site = data_docs_site(Settings.from_env().reports_dir)
    page = Path(summary.docs_url.removeprefix("file://")).relative_to(site).as_posix()
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the dashboard", encoding="utf-8")
    (site / "leak.html").symlink_to(secret)  # a link inside the site to a file outside it

    assert requests.get(f"{dashboard.url}/data-docs/{page}", timeout=10).status_code == 401  # login first
    served = requests.get(f"{dashboard.url}/data-docs/{page}", headers=dashboard.headers, timeout=10)
    assert served.status_code == 200 and "raw_payments" in served.text
    index = requests.get(f"{dashboard.url}/data-docs/", headers=dashboard.headers, timeout=10)
    assert index.status_code == 200 and "raw_payments" in index.text
    # Read-only.
    assert requests.post(f"{dashboard.url}/data-docs/{page}", headers=dashboard.headers,
                         timeout=10).status_code == 405

    # Outside the site: GX's project file three folders up, the link, an absolute path; `..` raw,
    # percent-encoded, and with encoded slashes.
    outside = (site / ".." / ".." / ".." / "great_expectations.yml").resolve()
    assert outside.is_file()
    for path in ("/data-docs/../../../great_expectations.yml",
                 "/data-docs/%2e%2e/%2e%2e/%2e%2e/great_expectations.yml",
                 "/data-docs/..%2f..%2f..%2fgreat_expectations.yml",
                 "/data-docs/static/../../../../great_expectations.yml",
                 "/data-docs/leak.html",
                 f"/data-docs/{secret}", f"/data-docs//{secret}", "/data-docs/%00"):
        status, content = dashboard.raw_get(path)
        assert status in (400, 404), (path, status)
        assert b"not for the dashboard" not in content and b"config_version" not in content, path


def test_a_warned_dbt_test_is_alerted_in_words(
        receivers: tuple[Inbox, dict[str, str]], clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A dbt test of severity warn that failed in a build (the kpi_766 invariant that dirty dates can
    break) reaches the operators in words, with its failing rows counted; the test's name stays for
    machines (the webhook) and is not the description."""
    from dichvucong.alerts import DBT_TEST_WORDS, from_dbt_warnings

    inbox, env = receivers
    inbox.clear()
    _configure(monkeypatch, env)
    assert from_dbt_warnings((), "2025-07-15T00:00:00") is None
    alert = from_dbt_warnings((("assert_kpi_766_agencies_cover_province", 2),), "2025-07-15T00:00:00")
    assert alert is not None and alert.kind == "warning"
    assert notify(alert, Settings.from_env())["sent"] == ["email", "webhook"]
    text = body(inbox.mails[-1])
    vi, en = DBT_TEST_WORDS["assert_kpi_766_agencies_cover_province"]
    assert f"- {vi}: 2 dòng không đạt." in text and f"- {en}: 2 rows fail." in text
    assert "dbt test --select" in text and "15/07/2025" in text
    hook = inbox.hooks[-1]
    assert hook["kind"] == "warning" and hook["findings"][0]["column"] == "assert_kpi_766_agencies_cover_province"


def test_a_file_mostly_quarantined_is_alerted_with_its_commonest_reasons_per_file_and_day(
        receivers: tuple[Inbox, dict[str, str]], clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two days, a reconciliation file each, most of their rows quarantined for different reasons: the
    raw_files finding names each file with its own day's top reasons (at most three, commonest first)."""
    inbox, env = receivers
    inbox.clear()
    _configure(monkeypatch, env)
    good = "{tx},VCB,1,HS{tx},S1,1,50000,00,{day} 10:00:00,{day}\n"
    bad_amount = "{tx},VCB,1,HS{tx},S1,1,nam-muoi,00,{day} 10:00:00,{day}\n"
    bad_time = "{tx},VCB,1,HS{tx},S1,1,50000,00,ngay-{tx},{day}\n"
    bad_channel = "{tx},VCB,chin,HS{tx},S1,1,50000,00,{day} 10:00:00,{day}\n"
    bad_status = "{tx},VCB,1,HS{tx},S1,1,50000,?,{day} 10:00:00,{day}\n"
    mixes = {DAY: [good, bad_amount, bad_amount, bad_amount, bad_time, bad_time, bad_channel, bad_status],
             DAY + dt.timedelta(days=1): [good, bad_time, bad_time, bad_time, bad_channel]}
    for day, lines in mixes.items():
        folder = clean_env / "landing" / "payments" / day.isoformat()
        folder.mkdir(parents=True)
        (folder / f"doisoat_{day:%Y%m%d}_VCB.csv").write_text(
            HEADER + "".join(line.format(tx=f"T{day:%d}{n}", day=day) for n, line in enumerate(lines)),
            encoding="utf-8")
    end = DAY + dt.timedelta(days=2)
    ingest("payments", DAY, end)
    validate_landed("payments", DAY, end)

    (hook,) = [h for h in inbox.hooks if h["table"] == "raw_files"]
    (finding,) = [f for f in hook["findings"] if f["column"] == "quarantined_share"]
    places = {p["batch_day"]: p for p in finding["places"]}
    assert set(places) == {DAY.isoformat(), (DAY + dt.timedelta(days=1)).isoformat()}
    first, second = places[DAY.isoformat()]["detail_en"], places[(DAY + dt.timedelta(days=1)).isoformat()]["detail_en"]
    assert places[DAY.isoformat()]["file"] == "doisoat_20240306_VCB.csv"
    # Each file's own reasons and counts, commonest first, three at most; values are never quoted.
    reasons = first.split("main reasons: ")[1].split(", ")
    assert len(reasons) == 3 and [r.rsplit(" (", 1)[1] for r in reasons] == ["3)", "2)", "1)"]
    assert "SoTien" in reasons[0] and "ThoiGianGiaoDich" in reasons[1]
    (only,) = [r for r in second.split("main reasons: ")[1].split(", ") if "ThoiGianGiaoDich" in r]
    assert only.endswith("(3)") and "nam-muoi" not in first + second and "ngay-" not in first + second
