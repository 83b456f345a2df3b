"""The officials' monthly report over the shared run's published marts: the numbers it prints are the
marts' (read here from the marts, never written down), the PDF is a real PDF whose text keeps its
Vietnamese letters, `--mail` reaches a real SMTP server on loopback with the PDF attached, and the
`monthly_report` DAG follows the house rules, runs on the 3rd for the month before and mails it."""

from __future__ import annotations

import datetime as dt
import html as htmllib
import json
import re
import shutil
import subprocess
import sys
import zlib
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import duckdb
import pytest

from dichvucong import cli
from dichvucong.config import REPO_ROOT, Settings
from dichvucong.report import format as vn
from dichvucong.report import write_report
from tests.conftest import Inbox, MainJobRuns, main_job_env

MONTH = dt.date(2024, 2, 1)  # the small sources' full month (5 February to 3 March 2024)
PROVINCE = "26"
# Letters of the report's fixed Vietnamese text that only a font with Vietnamese glyphs, and a PDF
# that maps them back to Unicode, keep: ệ (U+1EC7), ố, ộ, ữ, ả, ạ, ơ, ư, đ, Đ.
VIETNAMESE = "ệốộữảạơưđĐ"
DAGS = REPO_ROOT / "dags"


@pytest.fixture
def home(main_job_runs: MainJobRuns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shared run's published marts, as DVC_HOME."""
    shutil.copytree(main_job_runs.as_run / "published", tmp_path / "published")
    monkeypatch.setenv("DVC_HOME", str(tmp_path))
    for name in ("DVC_PUBLISHED_PATH", "DVC_LAKE_DIR", "DVC_REPORTS_DIR", "DVC_WAREHOUSE_PATH", "DVC_PROVINCE_CODE",
                 "DVC_PROVINCE_NAME", "DVC_REPORT_TO", "DVC_ALERT_SMTP_HOST", "DVC_ALERT_TO"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _marts(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "published" / "dichvucong.duckdb"), read_only=True)


def _kpi(home: Path, unit_type: str, code: str, month: dt.date = MONTH, basis: str = "as_was") -> dict[str, Any]:
    with _marts(home) as con:
        cursor = con.execute("select * from marts.kpi_766 where geography_basis = ? and unit_type = ? "
                             "and unit_code = ? and period_type = 'month' and period_start = ?",
                             [basis, unit_type, code, month])
        names = [c[0] for c in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def _cell(html: str, row_id: str, css_class: str) -> str:
    """The text of the cell of class `css_class` in the table row with id `row_id`."""
    row = re.search(rf'<tr[^>]*id="{re.escape(row_id)}"[^>]*>(.*?)</tr>', html, re.S)
    assert row, f"no row {row_id}"
    cell = re.search(rf'<td class="[^"]*\b{css_class}\b[^"]*">(.*?)</td>', row.group(1), re.S)
    assert cell, f"no {css_class} cell in row {row_id}"
    return htmllib.unescape(cell.group(1)).strip()


def test_vietnamese_number_formats() -> None:
    assert vn.points(52.6827783) == "52,68"
    assert vn.integer(21121) == "21.121"
    assert vn.vnd(1152272600) == "1.152.272.600 ₫" and vn.vnd(-1264000) == "−1.264.000 ₫"
    assert vn.rate(0.9752) == "97,5 %" and vn.rate(None) == "–"
    assert vn.signed_points(-7.0889) == "−7,09" and vn.signed_points(1.0362) == "+1,04"
    assert vn.signed_rate(0.1176) == "+11,8 điểm %"
    assert vn.maximum(20.0) == "20" and vn.maximum(2.5) == "2,5"
    assert vn.date(dt.date(2024, 2, 29)) == "29/02/2024" and vn.month(MONTH) == "02/2024"


def test_the_report_prints_kpi_766_group_points_and_totals(home: Path) -> None:
    written = write_report(Settings.from_env(), MONTH)
    assert written.html.name == f"report-2024-02-{PROVINCE}.html"
    assert written.pdf.name == f"report-2024-02-{PROVINCE}.pdf"
    assert written.html.parent == home / "reports" / "monthly"
    html = written.html.read_text(encoding="utf-8")
    kpi = _kpi(home, "province", PROVINCE)
    with _marts(home) as con:
        indicators = con.execute("select indicator_code, indicator_name, group_column, max_points, is_scored, "
                                 "scored_units from marts.dim_766_indicators").fetchall()
    groups = {column for _, _, column, _, scored, _ in indicators if scored}
    assert len({column for _, _, column, *_ in indicators}) == 6
    for column in groups:
        assert _cell(html, f"group-{column}", "points") == vn.points(kpi[column]), column
    for code, name, _, top, scored, units in indicators:
        if scored and units in ("all", "province"):
            points = kpi[f"points_{name}"]
            assert _cell(html, f"indicator-{code}", "points") == vn.points(points), code
            assert _cell(html, f"indicator-{code}", "lost") == vn.points(top - points), code
    assert _cell(html, "group-total", "points") == vn.points(kpi["points_total"])
    assert _cell(html, "group-total", "lost") == vn.points(kpi["points_measurable"] - kpi["points_total"])
    assert f"{vn.points(kpi['points_total'])} / {vn.maximum(kpi['points_measurable'])}" in html
    assert "Mức độ hài lòng" in html and "không đo được" in html  # group 5: no source here
    assert 'lang="vi"' in html and "Báo cáo tháng <span class=\"month\">02/2024</span>" in html


def test_the_report_prints_the_movers_the_overdue_backlog_and_the_fees_of_the_marts(home: Path) -> None:
    # March is the month after February in the marts (partial: the sources end on 3 March).
    written = write_report(Settings.from_env(), dt.date(2024, 3, 1))
    html = htmllib.unescape(written.html.read_text(encoding="utf-8"))
    march = dt.date(2024, 3, 1)
    kpi = _kpi(home, "province", PROVINCE, march)
    with _marts(home) as con:
        moved = con.execute(
            "select indicator_code, points_change, points_total_change, previous_period_start "
            "from marts.agg_766_change where geography_basis = 'as_was' and unit_type = 'province' "
            "and unit_code = ? and period_type = 'month' and period_start = ? and change_rank = 1",
            [PROVINCE, march]).fetchall()
        overdue, longest = con.execute(
            "select count(*), max(days_overdue_at_as_of) "
            "from marts.fct_dossiers as f where f.is_overdue_at_as_of and f.province_code = ?",
            [PROVINCE]).fetchall()[0]
        collected, refunded = con.execute(
            "select coalesce(sum(collected_vnd), 0), coalesce(sum(refunded_vnd), 0) from marts.agg_fees_daily "
            "where settlement_date >= ? and settlement_date < ?", [march, dt.date(2024, 4, 1)]).fetchall()[0]
        line = dict(con.execute(
            "select component, sum(amount_vnd) from marts.agg_fees_reconciliation_monthly where month_start = ? "
            "group by 1", [march]).fetchall())
    if not kpi["is_complete"]:
        assert "Tháng chưa trọn" in html
    if moved:
        code, change, total_change, before = moved[0]
        assert f"Tổng điểm tháng {vn.month(before)}" in html
        assert f"(<strong>{vn.signed_points(total_change)}</strong> điểm)" in html
        assert re.search(rf'<span class="code">{re.escape(code)}</span>.*?{re.escape(vn.signed_points(change))}</td>',
                         html, re.S)
    else:
        assert "chưa so sánh được" in html
    assert f'<strong id="overdue-count">{vn.integer(overdue)}</strong> hồ sơ' in html
    if overdue:
        assert f"quá hạn lâu nhất <strong>{vn.days(longest)}</strong>" in html
    assert re.search(rf'id="fees-collected">{re.escape(vn.vnd(collected))}<', html)
    assert re.search(rf'id="fees-net">{re.escape(vn.vnd(collected - refunded))}<', html)
    # The province's line is the mart's (the dashboard's too), and it adds up.
    assert line.get("collected", 0) == collected and line.get("refunded", 0) == refunded
    for part in ("matched", "timing", "orphan", "gap"):
        assert re.search(rf'id="fees-{part}">{re.escape(vn.vnd(line.get(part, 0)))}<', html), part
    assert collected - refunded == sum(line.get(part, 0) for part in ("matched", "timing", "orphan", "gap"))


def test_a_unit_below_the_province_and_the_current_basis(home: Path) -> None:
    with _marts(home) as con:
        (agency,) = con.execute(
            "select unit_code from marts.kpi_766 where geography_basis = 'as_was' and unit_type = 'agency' "
            "and period_type = 'month' and period_start = ? order by dossiers_received desc, unit_code limit 1",
            [MONTH]).fetchone()
        current = con.execute(
            "select unit_code from marts.kpi_766 where geography_basis = 'current' and unit_type = 'province' "
            "and period_type = 'month' and period_start = ?", [MONTH]).fetchall()
        # The agency's fees, counted here from the payments of its dossiers (agg_fees_unit_monthly is dbt's).
        collected, refunded = con.execute(
            "select coalesce(sum(p.amount_vnd) filter (where p.amount_vnd >= 0), 0), "
            "coalesce(-sum(p.amount_vnd) filter (where p.amount_vnd < 0), 0) "
            "from marts.fct_payments as p join marts.fct_dossiers as d using (dossier_id) "
            "where p.status = 'succeeded' and d.agency_code = ? and p.settlement_date >= ? "
            "and p.settlement_date < ?", [agency, MONTH, dt.date(2024, 3, 1)]).fetchall()[0]
    written = write_report(Settings.from_env(), MONTH, unit=agency, unit_type="agency", out=home / "out")
    html = written.html.read_text(encoding="utf-8")
    kpi = _kpi(home, "agency", agency)
    assert collected > 0
    assert re.search(rf'id="fees-collected">{re.escape(vn.vnd(collected))}<', html)
    assert re.search(rf'id="fees-net">{re.escape(vn.vnd(collected - refunded))}<', html)
    assert 'id="fees-matched"' not in html, "the reconciliation line is the whole province's"
    assert written.pdf.name == f"report-2024-02-{agency}.pdf"
    assert _cell(html, "group-total", "points") == vn.points(kpi["points_total"])
    assert _cell(html, "group-points_progress", "points") == vn.points(kpi["points_progress"])
    assert "indicator-1.1" not in html, "1.1 is scored for the province only"
    if current:
        written = write_report(Settings.from_env(), MONTH, basis="current", out=home / "out")
        kpi = _kpi(home, "province", written.report.unit_code, basis="current")
        html = written.html.read_text(encoding="utf-8")
        assert _cell(html, "group-total", "points") == vn.points(kpi["points_total"])
        assert "quy đổi theo đơn vị hành chính hiện nay" in html


def _pdf_streams(pdf: bytes) -> list[bytes]:
    """Every stream of a PDF, inflated when it is compressed."""
    out = []
    for raw in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(raw))
        except zlib.error:
            out.append(raw)
    return out


def _to_unicode(streams: list[bytes]) -> set[str]:
    """The characters the PDF's ToUnicode CMaps map its glyphs to: what a text extractor reads back."""
    chars: set[str] = set()
    for stream in streams:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
            for target in re.findall(rb"<[0-9a-fA-F]+>\s*<([0-9a-fA-F]+)>", block):
                chars.update(bytes.fromhex(target.decode()).decode("utf-16-be"))
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", stream, re.S):
            for low, high, start in re.findall(rb"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>", block):
                first = int(start, 16)
                chars.update(chr(first + i) for i in range(int(high, 16) - int(low, 16) + 1))
    return chars


def test_the_pdf_is_a_pdf_whose_text_keeps_its_vietnamese_letters(home: Path) -> None:
    """No PDF text extractor is a dependency (and poppler's pdftotext is not installed): the text is
    read from WeasyPrint's own laid-out pages, and the PDF itself is checked to embed DejaVu Sans and
    to map every glyph of that text back to its Vietnamese letter (the ToUnicode CMaps a reader
    extracts text with)."""
    from weasyprint import HTML

    written = write_report(Settings.from_env(), MONTH)
    pdf = written.pdf.read_bytes()
    assert pdf.startswith(b"%PDF-1.") and pdf.rstrip().endswith(b"%%EOF")
    document = HTML(string=written.html.read_text(encoding="utf-8")).render()

    def texts(box: Any) -> list[str]:
        own = [box.text] if hasattr(box, "text") else []
        return own + [t for child in getattr(box, "children", []) for t in texts(child)]

    pages = [" ".join(texts(page._page_box)) for page in document.pages]
    text = "\n".join(pages)
    assert "Báo cáo tháng" in pages[0] and "02/2024" in pages[0]
    for phrase in ("Điểm theo nhóm chỉ số", "Biến động so với tháng trước", "Hồ sơ đang quá hạn",
                   "Phí, lệ phí thu trực tuyến trong tháng", "Giải quyết hồ sơ đúng hạn",
                   "Chênh lệch: hồ sơ tiếp nhận trong tháng chưa khớp"):
        assert phrase in text, phrase
    for letter in VIETNAMESE:
        assert letter in text, letter
    streams = _pdf_streams(pdf)
    assert sum(len(re.findall(rb"/Type\s*/Page\b", s)) for s in [pdf, *streams]) >= len(document.pages)
    assert any(re.search(rb"/FontName\s*/[A-Z]{6}\+DVC-Sans\b", s) for s in [pdf, *streams]), "the report's family"
    assert any(b"/FontFile2" in s for s in [pdf, *streams]), "a TrueType font program is embedded"
    # The embedded programs (subsets, TrueType) are DejaVu Sans's: their name tables say so.
    fonts = [s for s in streams if s.startswith(b"\x00\x01\x00\x00")]
    assert fonts and all(b"DejaVu" in f or "DejaVu".encode("utf-16-be") in f for f in fonts)
    mapped = _to_unicode(streams)
    missing = {c for c in text if not c.isspace() and c not in mapped}
    assert not missing, f"glyphs of the PDF that map to no letter: {sorted(missing)}"
    assert set(VIETNAMESE) <= mapped


def test_report_mail_delivers_the_pdf_to_the_report_recipients(
        home: Path, receivers: tuple[Inbox, dict[str, str]], monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    inbox, env = receivers
    inbox.clear()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("DVC_ALERT_WEBHOOK_URL")
    monkeypatch.setenv("DVC_REPORT_TO", "lanhdao@vinhphuc.example, vanphong@vinhphuc.example")
    out = home / "sent"
    assert cli.main(["report", "--month", "2024-02", "--out", str(out), "--mail"]) == 0
    assert str(out / f"report-2024-02-{PROVINCE}.pdf") in capsys.readouterr().out
    (mail,) = inbox.mails
    assert isinstance(mail, EmailMessage)
    assert mail["To"] == "lanhdao@vinhphuc.example, vanphong@vinhphuc.example"  # not the operators' DVC_ALERT_TO
    assert mail["From"] == env["DVC_ALERT_FROM"]
    assert mail["Subject"].startswith("Báo cáo tháng 02/2024 – ")
    body = mail.get_body(("plain",))
    assert body is not None
    kpi = _kpi(home, "province", PROVINCE)
    assert f"Tổng điểm phần đo được: {vn.points(kpi['points_total'])} / 80" in body.get_content()
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"report-2024-02-{PROVINCE}.pdf"
    assert attachment.get_content() == (out / f"report-2024-02-{PROVINCE}.pdf").read_bytes()


def test_report_mail_without_recipients_or_a_month_the_marts_lack_fails_at_once(
        home: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("DVC_ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DVC_ALERT_TO", "vanhanh@vinhphuc.example")
    out = home / "unsent"
    assert cli.main(["report", "--month", "2024-02", "--out", str(out), "--mail"]) == cli.EXIT_BAD_INPUT
    assert "DVC_REPORT_TO (the recipients) is empty" in caplog.text
    assert not out.exists(), "nothing is built when it cannot be mailed"
    assert cli.main(["report", "--month", "2023-01", "--out", str(out)]) == cli.EXIT_BAD_INPUT
    assert "hold no month 2023-01 on the as_was basis (they hold 2024-02" in caplog.text
    with pytest.raises(SystemExit):
        cli.main(["report", "--month", "2024-2-01"])


# ---------------------------------------------------------------- the monthly_report DAG

@pytest.fixture(scope="module")
def report_dag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS))
    assert not bag.import_errors
    return bag.get_dag("monthly_report")


def test_the_monthly_report_dag_follows_the_house_rules(report_dag: Any) -> None:
    from airflow.sdk.exceptions import ParamValidationError
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.timetables.trigger import CronTriggerTimetable

    dag = report_dag
    assert dag.tags and dag.doc_md and dag.doc_md.strip().startswith("#")
    assert dag.description and len(dag.description) > 20
    assert dag.owner == "dichvucong-data" and {task.owner for task in dag.tasks} == {"dichvucong-data"}
    assert dag.catchup is False and dag.max_active_runs == 1
    assert dag.is_paused_upon_creation is True, "it mails officials: switched on by hand"
    assert dag.start_date.tzinfo is not None and dag.start_date.utcoffset().total_seconds() == 0
    assert all(task.retries is not None for task in dag.tasks)
    assert isinstance(dag.timetable, CronTriggerTimetable)
    assert dag.timetable.summary == "0 7 3 * *"
    assert [t.task_id for t in dag.topological_sort()] == ["build_report", "mail_report"]
    params = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(dag)).params
    assert set(params) == {"month", "unit", "basis", "mail"}
    defaults = {"month": None, "unit": None, "basis": "as_was", "mail": True}
    for conf in ({}, {"month": "2024-02"}, {"month": "2024-12", "unit": "000.00.20.H56", "basis": "current",
                                            "mail": False}):
        assert params.deep_merge(conf).validate() == defaults | conf
    for conf in ({"month": "2024-13"}, {"month": "2024-02-01"}, {"basis": "today"}, {"mail": "yes"}):
        with pytest.raises(ParamValidationError):
            params.deep_merge(conf).validate()


def test_the_scheduled_run_reports_the_month_before() -> None:
    import runpy
    from types import SimpleNamespace

    import pendulum

    report_month = runpy.run_path(str(DAGS / "monthly_report.py"))["report_month"]
    # Triggered by hand at 00:30 on 2 March, local time (no logical date): February.
    by_hand = SimpleNamespace(conf={}, run_after=pendulum.datetime(2024, 3, 1, 17, 30, tz="UTC"))
    # The schedule's run: 07:00 on the 3rd, local time (00:00 UTC).
    scheduled = pendulum.datetime(2024, 3, 3, 7, tz="Asia/Ho_Chi_Minh").in_timezone("UTC")
    assert report_month({"dag_run": by_hand, "logical_date": scheduled}) == dt.date(2024, 2, 1)
    assert report_month({"dag_run": by_hand, "logical_date": None}) == dt.date(2024, 2, 1)
    january = pendulum.datetime(2024, 1, 3, 7, tz="Asia/Ho_Chi_Minh").in_timezone("UTC")
    assert report_month({"dag_run": by_hand, "logical_date": january}) == dt.date(2023, 12, 1)
    given = SimpleNamespace(conf={"month": "2023-11"}, run_after=by_hand.run_after)
    assert report_month({"dag_run": given, "logical_date": scheduled}) == dt.date(2023, 11, 1)


_RUN_DAG = """
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.models.taskinstance import TaskInstance
from airflow.utils.session import create_session

bag = DagBag(sys.argv[1])
run = bag.get_dag("monthly_report").test(run_conf=json.loads(sys.argv[2]))
with create_session() as session:
    tis = session.query(TaskInstance).filter_by(dag_id="monthly_report", run_id=run.run_id).all()
    states = {ti.task_id: str(ti.state) for ti in tis}
print("RESULT " + json.dumps({"state": str(run.state), "tasks": states}), flush=True)
"""


def test_a_monthly_report_run_writes_and_mails_the_report(
        main_job_runs: MainJobRuns, migrated_airflow_db: Path, receivers: tuple[Inbox, dict[str, str]],
        tmp_path: Path) -> None:
    """A real run of the DAG (dag.test) over a copy of the published marts, mailing to loopback."""
    inbox, env = receivers
    inbox.clear()
    home = tmp_path / "home"
    shutil.copytree(main_job_runs.as_run / "published", home / "published")
    (home / "airflow").mkdir(parents=True)
    shutil.copyfile(migrated_airflow_db, home / "airflow" / "airflow.db")
    run_env = main_job_env(home, **{k: v for k, v in env.items() if k != "DVC_ALERT_WEBHOOK_URL"},
                           DVC_REPORT_TO="lanhdao@vinhphuc.example", DVC_RETRY_DELAY_SECONDS="1")
    out = subprocess.run([sys.executable, "-c", _RUN_DAG, str(DAGS), json.dumps({"month": "2024-02"})],
                         env=run_env, capture_output=True, text=True, timeout=600, check=False)
    results = [json.loads(line.removeprefix("RESULT ")) for line in out.stdout.splitlines()
               if line.startswith("RESULT ")]
    assert results and results[0]["state"] == "success", out.stdout[-3000:] + out.stderr[-3000:]
    assert results[0]["tasks"] == {"build_report": "success", "mail_report": "success"}
    pdf = home / "reports" / "monthly" / f"report-2024-02-{PROVINCE}.pdf"
    assert pdf.exists() and pdf.with_suffix(".html").exists()
    (mail,) = [m for m in inbox.mails if m["To"] == "lanhdao@vinhphuc.example"]
    (attachment,) = list(mail.iter_attachments())
    assert attachment.get_content() == pdf.read_bytes()
