"""The officials' monthly report: one unit (by default the province), one month, one geography basis.

From the published marts only (`data.py` selects, `format.py` writes numbers the Vietnamese way,
`render.py` fills the template and prints it to PDF): the 766 score by group with the points each
indicator lost, the biggest moves against the previous month, the dossiers overdue now, and the
month's fees reconciled. Written as `report-YYYY-MM-<unit>.html` and `.pdf`; mailed as a PDF
attachment through the alerts' SMTP server to DVC_REPORT_TO.

    dichvucong report --month 2025-08 [--unit CODE] [--basis as_was|current] [--out DIR] [--mail]

The `monthly_report` DAG runs it on the 3rd of every month for the month before, and mails it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from dichvucong.config import Settings
from dichvucong.report import format as vn
from dichvucong.report.data import BASES, UNIT_TYPES, Report, ReportError, build_report, connect
from dichvucong.report.render import BASES as BASE_WORDS
from dichvucong.report.render import render_html, render_pdf

__all__ = ["BASES", "UNIT_TYPES", "Report", "ReportError", "Written", "build_report", "mail_channel", "mail_pdf",
           "mail_report", "mail_subject", "mail_text", "previous_month", "render_html", "render_pdf", "write_report"]

REPORT_RECIPIENTS = "DVC_REPORT_TO"  # Settings.report_to

log = logging.getLogger("dichvucong.report")


@dataclass(frozen=True)
class Written:
    report: Report
    html: Path
    pdf: Path


def previous_month(today: dt.date) -> dt.date:
    """The first day of the month before `today`'s."""
    return (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def default_out(settings: Settings) -> Path:
    return settings.reports_dir / "monthly"


def write_report(settings: Settings, month: dt.date, unit: str | None = None, basis: str = "as_was",
                 out: Path | None = None, unit_type: str | None = None) -> Written:
    """Build the report from the published marts and write report-YYYY-MM-<unit>.html and .pdf into
    `out` (default <reports>/monthly), each through a temporary file renamed into place."""
    with connect(settings.published_path) as con:
        report = build_report(con, month, basis, unit, unit_type, settings.province_code, settings.province_name)
    html = render_html(report)
    pdf = render_pdf(html)
    folder = out or default_out(settings)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for suffix, content in ((".html", html.encode("utf-8")), (".pdf", pdf)):
        path = folder / f"report-{report.slug}{suffix}"
        partial = path.with_name(path.name + ".partial")
        partial.write_bytes(content)
        partial.replace(path)
        paths.append(path)
    log.info("monthly report of %s %s for %s (%s): %s, %s (%d bytes)", report.unit_type, report.unit_code,
             f"{report.month:%Y-%m}", basis, paths[0], paths[1], len(pdf))
    return Written(report, paths[0], paths[1])


def mail_channel(settings: Settings | None = None) -> Any:
    """The alerts' SMTP server with the report's recipients (DVC_REPORT_TO). Raises ReportError, saying
    what to set, when either is missing: checked before the report is built, so a run that cannot mail
    fails at once."""
    from dichvucong.alerts import smtp_config

    smtp, problem = smtp_config(settings or Settings.from_env(), for_report=True)
    if smtp is None:
        raise ReportError(f"cannot mail the report: {problem or 'no SMTP server is configured'} "
                          f"(set DVC_ALERT_SMTP_HOST and {REPORT_RECIPIENTS}, see .env.example)")
    return smtp


def mail_report(written: Written) -> list[str]:
    """Mail the PDF to DVC_REPORT_TO through the alerts' SMTP server (DVC_ALERT_SMTP_* or the Airflow
    connection dvc_alert_smtp), with a short summary in the body; returns the recipients. Raises
    ReportError when the server or the recipients are not configured."""
    return mail_pdf(written.pdf, mail_subject(written.report), mail_text(written.report))


def mail_pdf(pdf: Path, subject: str, text: str, settings: Settings | None = None) -> list[str]:
    """Mail a written report (its PDF attached) to the report's recipients; returns them."""
    from dichvucong.alerts import send_smtp

    settings = settings or Settings.from_env()
    smtp = mail_channel(settings)
    message = EmailMessage()
    message["Subject"] = subject
    message["Content-Language"] = "vi"
    message.set_content(text)
    message.add_attachment(pdf.read_bytes(), maintype="application", subtype="pdf", filename=pdf.name)
    send_smtp(message, smtp, settings)
    log.info("monthly report %s mailed to %d recipient(s)", pdf.name, len(smtp.recipients))
    return list(smtp.recipients)


def mail_subject(report: Report) -> str:
    return f"Báo cáo tháng {vn.month(report.month)} – {report.unit_name}: dịch vụ công trực tuyến"


def mail_text(report: Report) -> str:
    kpi = report.kpi
    return "\n".join([
        "Kính gửi Quý Lãnh đạo,",
        "",
        f"Đính kèm là báo cáo tháng {vn.month(report.month)} về dịch vụ công trực tuyến của {report.unit_name} "
        f"(Bộ chỉ số 766, {BASE_WORDS[report.basis]}).",
        "",
        f"- Tổng điểm phần đo được: {vn.points(kpi['points_total'])} / {vn.maximum(kpi['points_measurable'])}",
        f"- Hồ sơ tiếp nhận trong tháng: {vn.integer(kpi['dossiers_received'])}; giải quyết đúng hạn: "
        f"{vn.rate(kpi['on_time_rate'])}",
        f"- Hồ sơ đang quá hạn (tại {vn.datetime(report.as_of)}): {vn.integer(report.overdue.get('dossiers'))}",
        f"- Phí, lệ phí thực thu trực tuyến: {vn.vnd(report.fees['net_vnd'])}",
        "",
        f"Số liệu tính đến {vn.datetime(report.as_of)}. Thư này được gửi tự động; vui lòng không trả lời.",
    ])
