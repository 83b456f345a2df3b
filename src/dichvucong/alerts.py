"""Alerts to operators: e-mail over SMTP and a JSON webhook, Vietnamese first with English after.

Sent when a quality gate closes (a critical expectation failed), when a check warns, and when a
task has exhausted its retries (`on_task_failure`). An alert names the province, the table (or
the DAG and task), the batch days or the as-of day, the DAG run when known (the `AIRFLOW_CTX_*`
variables Airflow sets inside a task), and for every check that failed: the check in words and
the `rule` its suite gives it (`expectations/<table>.yml`), the counts when GX knows them, and
where it was seen — the file(s) and batch day(s) of a landed table, the file and its error for
the file-level suite `raw_files`, the day for `raw_volume`, the source for `landing_freshness`.
It says what to do for that kind of check (docs/runbook.md has them all), and links the
validation's Data Docs page: an http link served by the dashboard (`DVC_DASHBOARD_URL` +
`DATA_DOCS_ROUTE`) when that variable is set, else the page's path on the pipeline's machine.

No personal data: an alert is built from the suites (rules, column names, bounds), counts, run
ids, and from the lake's audit and quarantine only file names, batch days, file errors and
quarantine reasons (a closed vocabulary of field and rule) — never a value of a row.

Grouping: an alert that went out on at least one channel opens a window of
`DVC_ALERT_GROUP_MINUTES` for its check (kind, table, checks); a new failure of the same check in
that window is counted, not sent, and the next alert that goes out says how many were held back.
An alert sent on no channel (none configured, or every configured one failed) opens no window:
the next failure is sent as soon as a channel works. With no channel configured, a warning saying
so is logged (once per process) and each unsent alert is logged.

Configuration (environment, or the Airflow connections `dvc_alert_smtp` and
`dvc_alert_webhook` when the variables are unset):
  DVC_ALERT_SMTP_HOST, DVC_ALERT_SMTP_PORT (25), DVC_ALERT_SMTP_USER,
  DVC_ALERT_SMTP_PASSWORD, DVC_ALERT_SMTP_STARTTLS (false), DVC_ALERT_FROM, DVC_ALERT_TO
  (comma-separated), DVC_ALERT_WEBHOOK_URL, DVC_ALERT_WEBHOOK_FORMAT (json: every field plus
  `text`; text: only `{"text": ...}`, for Google Chat), DVC_ALERT_GROUP_MINUTES (360),
  DVC_DASHBOARD_URL (the dashboard as operators reach it, e.g. http://dashboard.local:8050).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import re
import smtplib
import unicodedata
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests

from dichvucong.config import Settings, airflow_connection

log = logging.getLogger(__name__)

# Where the dashboard serves the Data Docs site (`dichvucong.dashboard.app`), and where GX builds it:
# `quality.suites.build_docs` uses a GX file context whose root is `<reports_dir>/gx`, and GX puts
# its local site under `gx/uncommitted/data_docs/local_site` of that root.
DATA_DOCS_ROUTE = "/data-docs"
RUNBOOK = "docs/runbook.md"

KIND_WORDS = {
    "critical": ("CỔNG CHẤT LƯỢNG ĐÓNG", "gate closed"),
    "warning": ("Cảnh báo chất lượng dữ liệu", "data quality warning"),
    "task_failed": ("TÁC VỤ THẤT BẠI", "task failed"),
}
SOURCE_WORDS = {"dossiers": ("hồ sơ", "dossiers"), "payments": ("đối soát thanh toán", "payment reconciliation"),
                "catalog": ("danh mục thủ tục", "procedure catalog"), "agencies": ("danh sách cơ quan", "agency list"),
                "processing": ("quá trình xử lý hồ sơ", "processing log"),
                "portal": ("điểm 766 do Cổng công bố", "the portal's 766 figures")}
LANDING_TABLES = {"raw_dossier_syncs": "dossiers", "raw_payments": "payments", "raw_catalog": "catalog",
                  "raw_agencies": "agencies", "raw_processing_steps": "processing", "raw_portal_scores": "portal"}
TABLE_WORDS = {
    "raw_dossier_syncs": ("bản ghi đồng bộ hồ sơ đã nạp", "landed dossier sync records", "dòng", "rows"),
    "raw_agencies": ("danh sách cơ quan đã nạp", "landed agency list", "dòng", "rows"),
    "raw_processing_steps": ("bước xử lý hồ sơ đã nạp", "landed processing steps", "dòng", "rows"),
    "raw_portal_scores": ("điểm 766 của Cổng đã nạp", "landed portal 766 figures", "dòng", "rows"),
    "raw_payments": ("dòng đối soát thanh toán đã nạp", "landed reconciliation lines", "dòng", "rows"),
    "raw_catalog": ("danh mục thủ tục đã nạp", "landed service catalog", "dòng", "rows"),
    "raw_files": ("các tệp nhận được", "the delivered files", "tệp", "files"),
    "raw_volume": ("khối lượng nạp theo ngày", "rows landed per day", "ngày lô", "batch days"),
    "landing_freshness": ("độ mới của nguồn", "source freshness", "nguồn", "sources"),
    "fct_dossiers": ("mart hồ sơ", "dossiers mart", "dòng", "rows"),
    "fct_payments": ("mart thanh toán", "payments mart", "dòng", "rows"),
    "kpi_766": ("bộ chỉ số 766", "766 index", "dòng", "rows"),
    "dbt_tests": ("kiểm tra dbt của các mô hình và mart", "dbt tests of the models and marts", "dòng", "rows"),
}
# Checks whose column says more than the generic words of their type: (table, column) -> words;
# {min}/{max} are the suite's bounds.
CHECK_WORDS = {
    ("raw_files", "file_error"): ("Tệp không đọc được trọn vẹn: cả tệp bị cách ly",
                                  "A file could not be read whole: all of it is quarantined"),
    ("raw_files", "quarantined_share"): ("Tệp có hơn {max:.0%} số bản ghi bị cách ly",
                                         "More than {max:.0%} of a file's records quarantined"),
    ("raw_files", "day_quarantined_share"): ("Ngày lô có hơn {max:.0%} số bản ghi bị cách ly",
                                             "More than {max:.0%} of a batch day's records quarantined"),
    ("raw_files", "unknown_columns"): ("Tệp có cột không có trong hợp đồng dữ liệu (giá trị của cột đó không được đọc)",
                                       "A file has columns the contract does not name (their values are not read)"),
    ("raw_files", "missing_columns"): ("Tệp thiếu trường có trong hợp đồng dữ liệu (có thể bị đổi tên)",
                                       "A file lacks keys the contract names (renamed, perhaps)"),
    ("raw_files", "total_line_matches"): ("Dòng tổng cộng của tệp đối soát khác tổng các giao dịch trong tệp",
                                          "A reconciliation file's total line is not the sum of its transactions"),
    ("raw_files", "files_in_day"): ("Ngày lô không nhận được tệp nào", "A batch day with no file delivered"),
    ("raw_payments", "dossier_is_known"): (
        "Giao dịch gắn với hồ sơ mà nguồn hồ sơ không có (giao dịch mồ côi)",
        "Payments for a dossier the dossier source does not know (orphans)"),
    ("raw_volume", "volume_ratio"): (
        "Số dòng nạp của ngày lệch quá mức ({min}–{max} lần) so với cùng thứ trong 7 tuần trước",
        "A day's rows landed moved outside {min}–{max} times the same weekday of the last 7 weeks"),
    ("raw_volume", "rows_loaded"): ("Ngày đã nạp không có dòng kiểm toán (audit)", "A landed day has no audit row"),
    ("landing_freshness", "lag_days"): (
        "Lô có dữ liệu mới nhất của nguồn cũ hơn {max} ngày so với mốc số liệu",
        "A source's latest batch with rows is more than {max} days behind the as-of day"),
    ("landing_freshness", "latest_batch_date"): ("Mọi lô đã nạp của nguồn đều rỗng: nguồn chưa gửi dòng nào",
                                                 "Every landed batch of the source is empty: it has sent no row yet"),
    ("landing_freshness", "latest_landed_day"): ("Nguồn chưa có lô nào được nạp", "A source has no landed batch"),
}
# dbt tests (dbt_project/tests) in words: test name -> (Vietnamese, English). A test of severity error
# stops the build (the task fails and says so); one of severity warn is alerted by from_dbt_warnings.
DBT_TEST_WORDS = {
    "assert_kpi_766_ranks_are_dense": (
        "Thứ hạng trong cấp không liên tục (1, 2, 3… có đồng hạng) theo cùng cơ sở đơn vị và kỳ",
        "Ranks within a level, basis and period are not dense (1, 2, 3 … with ties)"),
    "assert_kpi_766_points_within_measurable": (
        "Tổng điểm âm hoặc vượt điểm tối đa đo được của đơn vị",
        "A points total below 0 or above the unit's measurable maximum"),
    "assert_kpi_766_points_within_maxima": (
        "Điểm của một chỉ tiêu hoặc nhóm vượt điểm tối đa trong bảng điểm (dim_766_indicators)",
        "An indicator's or group's points above its maximum in the points table (dim_766_indicators)"),
    "assert_kpi_766_agencies_cover_province": (
        "Số hồ sơ của các cơ quan ít hơn của tỉnh (mỗi hồ sơ của tỉnh thuộc đúng một cơ quan)",
        "The agencies hold fewer dossiers than the province (each dossier of the province has exactly one "
        "agency)"),
    "assert_fees_reconciliation_adds_up": (
        "Dòng đối soát phí của tháng không cộng khớp (thu − hoàn ≠ khớp + mồ côi + lệch thời điểm + chênh lệch)",
        "A month's fee reconciliation does not add up (collected − refunded ≠ matched + orphan + timing + gap)"),
}
MAX_PLACES = 20


def data_docs_site(reports_dir: Path) -> Path:
    """The folder of the Data Docs site GX builds for every validation (its index.html and pages)."""
    return reports_dir / "gx" / "gx" / "uncommitted" / "data_docs" / "local_site"


@dataclass
class Place:
    """Where a failed check was seen: a batch day, a file of it (its name as delivered), the rows of
    that file that failed, and what is wrong with it in words (a file error, a share quarantined,
    a day's count) — never a value of a row."""

    batch_day: str | None = None
    file: str | None = None
    rows: int | None = None
    detail: str | None = None
    detail_en: str | None = None


@dataclass
class Finding:
    check: str  # the GX expectation type: kept for machines (webhook), never shown in the texts
    column: str | None
    unexpected_count: int | None
    element_count: int | None
    rule: str
    description: str = ""  # the check in Vietnamese words (from its type, column and bounds)
    description_en: str = ""
    places: list[Place] = field(default_factory=list)
    more_places: int = 0  # places found beyond the MAX_PLACES listed


@dataclass
class Alert:
    kind: str  # critical | warning | task_failed
    table: str
    interval: str
    findings: list[Finding] = field(default_factory=list)
    rows: int | None = None
    docs_url: str | None = None  # the Data Docs page: http via the dashboard when configured, else file://
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    error: str | None = None
    held_back: int = 0
    province_code: str | None = None
    province_name: str | None = None
    docs_path: str | None = None  # the same page as a path on the pipeline's machine
    dashboard_url: str | None = None
    lake_dir: str | None = None  # where the audit and quarantine are, on the pipeline's machine

    # ---- words

    @property
    def where(self) -> tuple[str, str]:
        """The table's batch days or as-of day, in words (Vietnamese, English)."""
        return _interval_words(self.table, self.interval)

    @property
    def what_to_do(self) -> str:
        return _what_to_do(self)[0]

    @property
    def what_to_do_en(self) -> str:
        return _what_to_do(self)[1]

    @property
    def subject(self) -> str:
        vi, en = KIND_WORDS[self.kind]
        province = f"{self.province_name} ({self.province_code}) — " if self.province_name else ""
        if self.kind == "task_failed":
            return f"[dichvucong] {province}{vi} / {en}: {self.dag_id}.{self.task_id} [{self.run_id or '?'}]"
        return f"[dichvucong] {province}{vi} / {en}: {self.table} — {self.where[0]}"

    def payload(self) -> dict[str, Any]:
        """The webhook's JSON: every field of the alert (those of earlier versions kept), its subject,
        what to do in both languages, and `text`, the Vietnamese summary chat tools show."""
        return asdict(self) | {"subject": self.subject, "what_to_do": self.what_to_do,
                               "what_to_do_en": self.what_to_do_en, "text": self.summary()}

    def summary(self) -> str:
        """Plain Vietnamese text: the message of a chat tool's incoming webhook."""
        return "\n".join(self._lines("vi"))

    def text(self) -> str:
        """The e-mail body: Vietnamese, then the same in English."""
        return "\n".join([*self._lines("vi"), "", "— English —", *self._lines("en")])

    def _lines(self, lang: str) -> list[str]:
        vi = lang == "vi"
        kind_words = KIND_WORDS[self.kind][0 if vi else 1]
        province = f"{self.province_name} ({self.province_code})" if self.province_name else ""
        lines = [f"{province} — {kind_words}" if province else kind_words]
        run = _run_words(self, vi)
        if self.kind == "task_failed":
            lines.append(f"Tác vụ {self.task_id} của DAG {self.dag_id} thất bại và không còn lần thử lại nào." if vi
                         else f"Task {self.task_id} of DAG {self.dag_id} failed with no retry left.")
            if run:
                lines.append(run)
            if self.error:
                lines.append(f"{'Lỗi' if vi else 'Error'}: {self.error}")
        else:
            words = TABLE_WORDS.get(self.table, (self.table, self.table, "dòng", "rows"))
            lines.append(f"{'Bảng' if vi else 'Table'}: {self.table} ({words[0 if vi else 1]}), "
                         f"{self.where[0 if vi else 1]}")
            if run:
                lines.append(run)
            if self.rows is not None:
                lines.append(f"Đã kiểm tra {self.rows} {words[2]}. Kiểm tra không đạt:" if vi
                             else f"{self.rows} {words[3]} checked. Checks that failed:")
            for finding in self.findings:
                lines += _finding_lines(finding, words, vi)
        if self.held_back:
            lines.append(f"(Kiểm tra này còn không đạt thêm {self.held_back} lần kể từ cảnh báo trước; "
                         "các lần đó không gửi để tránh lặp.)" if vi
                         else f"(The same check also failed {self.held_back} more time(s) since the last alert.)")
        lines += ["", f"{'Việc cần làm' if vi else 'What to do'}: {_what_to_do(self)[0 if vi else 1]}", ""]
        lines.append("Xem ở đâu:" if vi else "Where to look:")
        if self.docs_url and self.docs_url.startswith(("http://", "https://")):
            lines.append(f"- Data Docs: {self.docs_url}")
        elif self.docs_path or self.docs_url:
            lines.append(f"- Data Docs ({'tệp trên máy chạy pipeline' if vi else 'a file on the pipeline machine'}):"
                         f" {self.docs_path or self.docs_url}")
        if self.dashboard_url:
            lines.append(f"- {'Trang Chất lượng dữ liệu' if vi else 'Dashboard, data quality page'}: "
                         f"{self.dashboard_url}/quality")
        if self.dag_id:
            lines.append(f"- {'Log tác vụ trong Airflow' if vi else 'Task log in Airflow'}: DAG {self.dag_id}"
                         + (f", run {self.run_id}" if self.run_id else "")
                         + (f", {'tác vụ' if vi else 'task'} {self.task_id}" if self.task_id else ""))
        source = _source_of(self.table, self.interval)
        if source and self.kind != "task_failed":
            lake = self.lake_dir or "lake"
            lines.append(f"- {'Audit và quarantine của lake' if vi else 'The lake audit and quarantine'}: "
                         f"{lake}/load_audit/{source}/, {lake}/quarantine/{source}/")
        lines.append(f"- {'Sổ tay vận hành' if vi else 'Runbook'}: {RUNBOOK}")
        return lines

    def group_key(self) -> str:
        """What makes two alerts "the same check": kind, table, DAG and task, and the checks that
        failed. raw_files and raw_volume serve every source: their source is part of the table here,
        so that a file error of the payments does not hold back one of the dossiers."""
        checks = ",".join(sorted(f"{f.check}:{f.column}" for f in self.findings))
        table = self.table
        if table in ("raw_files", "raw_volume") and (source := _source_of(table, self.interval)):
            table = f"{table}:{source}"
        return f"{self.kind}|{table}|{self.dag_id}|{self.task_id}|{checks}"


def _run_words(alert: Alert, vi: bool) -> str:
    if not (alert.dag_id or alert.run_id):
        return ""
    parts = [f"DAG {alert.dag_id}" if alert.dag_id else "", f"run {alert.run_id}" if alert.run_id else ""]
    if alert.kind != "task_failed" and alert.task_id:
        parts.append(f"{'tác vụ' if vi else 'task'} {alert.task_id}")
    return f"{'Lần chạy' if vi else 'DAG run'}: " + ", ".join(p for p in parts if p)


def _finding_lines(finding: Finding, words: tuple[str, str, str, str], vi: bool) -> list[str]:
    described = ((finding.description if vi else finding.description_en) or finding.rule).rstrip(".")
    unit = words[2] if vi else words[3]
    counts = ""
    # Counts only when GX knows them: table-level checks (columns, row count) have none.
    if finding.unexpected_count is not None and finding.element_count is not None:
        counts = (f": {finding.unexpected_count}/{finding.element_count} {unit} không đạt" if vi
                  else f": {finding.unexpected_count} of {finding.element_count} {unit} fail")
    elif finding.unexpected_count is not None:
        counts = f": {finding.unexpected_count} {unit} {'không đạt' if vi else 'fail'}"
    lines = [f"- {described}{counts}."]
    if finding.rule and finding.rule.rstrip(".") != described:
        lines.append(f"  {'Quy tắc' if vi else 'Rule'}: {finding.rule}")
    for place in finding.places:
        lines.append(f"  • {_place_words(place, vi)}")
    if finding.more_places:
        lines.append(f"  • … {'và' if vi else 'and'} {finding.more_places} "
                     f"{'chỗ khác (xem Data Docs, audit của lake)' if vi else 'more (see Data Docs, the lake audit)'}")
    return lines


def _place_words(place: Place, vi: bool) -> str:
    parts = []
    if place.file:
        parts.append(f"{'Tệp' if vi else 'File'} {place.file}")
    if place.batch_day:
        day = dt.date.fromisoformat(place.batch_day)
        parts.append(f"ngày lô {day:%d/%m/%Y}" if vi else f"batch day {day}")
    text = ", ".join(parts)
    if place.rows is not None:
        text += f": {place.rows} {'dòng không đạt' if vi else 'row(s) failing'}"
    detail = place.detail if vi else place.detail_en
    if detail:
        text += f"{' — ' if text else ''}{detail}"
    return text


def _what_to_do(alert: Alert) -> tuple[str, str]:
    """What to do, by kind of alert and kind of check (docs/runbook.md lists the same):
    a closed gate publishes nothing (officials keep the last good copy); a warning on a landed
    table: check the named file and batch day with the sender; on volume or freshness: check the
    source delivered; on the file-level suite: the file named and its error; on a mart: the marts
    will be published if the remaining steps pass. Never says the marts were published: an alert
    is sent before publication, which may still fail."""
    table, source = alert.table, _source_of(alert.table, alert.interval)
    ingest = alert.dag_id or (f"ingest_{source}" if source else "ingest_<nguồn>")
    if alert.kind == "task_failed":
        return ("Đọc log của tác vụ trong Airflow (lần chạy nêu trên), sửa nguyên nhân, rồi Clear tác vụ để "
                "chạy lại: mỗi tác vụ thay thế đầu ra của chính nó nên chạy lại là an toàn.",
                "Read the task's log in Airflow (the run named above), fix the cause, then clear the task "
                "to rerun it: every task replaces its own output, so a rerun is safe.")
    if alert.kind == "critical":
        kept = ("Không có gì được công bố: cán bộ vẫn xem bản số liệu đạt gần nhất "
                "(meta.publication ghi thời điểm của bản đó).",
                "Nothing is published: officials keep the last good copy (meta.publication says as of when).")
        if table in LANDING_TABLES or table in ("raw_files", "raw_volume"):
            return (f"Lần nạp này bị chặn: tác vụ validate thất bại, dữ liệu không được chuyển sang bước dựng "
                    f"mart. {kept[0]} Xem tệp và ngày lô nêu trên (Data Docs, audit và quarantine của lake), đề "
                    f"nghị đơn vị gửi sửa và gửi lại tệp, rồi Clear lần chạy của DAG {ingest} (land và validate) "
                    "để nạp lại.",
                    f"This landing is stopped: its validate task failed and its data does not go on to the "
                    f"build. {kept[1]} Look at the files and batch days named (Data Docs, the lake's audit and "
                    f"quarantine), have the sender fix and resend them, then clear the run of DAG {ingest} "
                    "(land and validate) to land them again.")
        if table == "landing_freshness":
            return (f"build_marts dừng trước khi dựng. {kept[0]} Nguồn nêu trên chưa có lô nào được nạp: kiểm "
                    "tra nguồn đã gửi dữ liệu và các DAG ingest đã chạy, rồi chạy lại build_marts.",
                    f"build_marts stops before building. {kept[1]} The source named has no landed batch: check "
                    "that it delivered and that its ingest DAG ran, then rerun build_marts.")
        return (f"Các bảng mart không được công bố. {kept[0]} Mở Data Docs để xem kiểm tra không đạt; nguyên "
                "nhân thường ở dữ liệu nguồn (audit và quarantine của lake) hoặc ở mô hình dbt. Sửa, rồi Clear "
                "và chạy lại lần chạy build_marts.",
                f"The marts are not published. {kept[1]} Open Data Docs for the checks that failed; the cause "
                "is usually in the sources (the lake's audit and quarantine) or in a dbt model. Fix it, then "
                "clear and rerun the build_marts run.")
    later = ("Các bảng mart sẽ được công bố nếu các bước còn lại đạt.",
             "The marts will be published if the remaining steps pass.")
    if table == "raw_files":
        return ("Xem tệp nêu trên và lỗi của nó. Tệp không đọc được, có nhiều dòng bị cách ly, có cột lạ hoặc "
                "dòng tổng cộng sai: báo đơn vị gửi (hệ thống một cửa, trung gian thanh toán) gửi lại tệp đúng "
                "hợp đồng; ngày lô không có tệp: hỏi nguồn đã gửi chưa. Khi tệp mới đã nằm trong thư mục ngày "
                f"lô, Clear lần chạy của DAG {ingest} cho ngày đó. Các dòng đọc được đã được nạp. {later[0]}",
                "Look at the file named and its error. A file that cannot be read, with many lines "
                "quarantined, unknown columns or a wrong total line: ask its sender (the one-stop-shop "
                "system, the payment intermediary) to resend it as the contract says; a day with no file: ask "
                "the source whether it delivered. Once the new file is in the batch day's folder, clear the "
                f"run of DAG {ingest} for that day. The lines that could be read are landed. {later[1]}")
    if table in LANDING_TABLES:
        return ("Kiểm tra tệp và ngày lô nêu trên với đơn vị gửi: nguồn có thay đổi không (trung gian thanh toán "
                "mới, mã địa bàn, ngày tháng sai thứ tự, giao dịch trùng)? Nếu là lỗi của họ, đề nghị gửi lại "
                f"tệp rồi Clear lần chạy của DAG {ingest} cho ngày đó. Dữ liệu đã được nạp. {later[0]}",
                "Check the files and batch days named with their sender: did the source change (a new "
                "intermediary, a district code, dates out of order, a duplicate transaction)? If it is their "
                f"error, ask for the files again, then clear the run of DAG {ingest} for that day. The data "
                f"is landed. {later[1]}")
    if table == "raw_volume":
        return ("Kiểm tra nguồn đã gửi đủ dữ liệu của ngày nêu trên chưa (thiếu lô, hay một lô bị gửi hai lần): "
                f"đối chiếu với hệ thống nguồn; nếu nguồn gửi bổ sung, Clear lần chạy của DAG {ingest} cho ngày "
                f"đó. {later[0]}",
                "Check that the source delivered the whole day named (a missing batch, or one sent twice): "
                f"compare with the source system; if it sends more, clear the run of DAG {ingest} for that "
                f"day. {later[1]}")
    if table == "landing_freshness":
        return ("Nguồn nêu trên không gửi dữ liệu mới: kiểm tra nguồn còn gửi không (thư mục landing hoặc API "
                "nguồn) và các DAG ingest có chạy không. Số liệu chỉ đến lô mới nhất đã nạp. " + later[0],
                "The source named has delivered nothing new: check that it still delivers (the landing "
                "folder or the source API) and that the ingest DAGs run. The numbers go only up to its "
                "latest landed batch. " + later[1])
    if table == "dbt_tests":
        return ("Các mart đã được dựng; kiểm tra dbt nêu trên có dòng không đạt ở mức cảnh báo. Chạy lại kiểm tra "
                "đó (dbt test --select <tên> --store-failures) để xem các dòng, tìm nguyên nhân ở dữ liệu nguồn "
                f"hoặc ở mô hình dbt. {later[0]}",
                "The marts are built; the dbt test named has failing rows at warning level. Rerun it (dbt test "
                "--select <name> --store-failures) to see the rows, and look for the cause in the sources or "
                f"in a dbt model. {later[1]}")
    return (f"{later[0]} Xem Data Docs và trang Chất lượng dữ liệu; nếu nguyên nhân ở nguồn, báo đơn vị gửi.",
            f"{later[1]} Look at Data Docs and the data quality page; if the cause is in a source, tell "
            "its sender.")


# ---------------------------------------------------------------- intervals

_INTERVAL = re.compile(r"(?:(?P<source>dossiers|payments|catalog|agencies|processing)_)?(?P<start>\d{4}-\d{2}-\d{2})"
                       r"(?:_(?P<end>\d{4}-\d{2}-\d{2}))?")


def _source_of(table: str, interval: str) -> str | None:
    if table in LANDING_TABLES:
        return LANDING_TABLES[table]
    match = _INTERVAL.fullmatch(interval or "")
    return match.group("source") if match else None


def _batch_days(table: str, interval: str) -> list[dt.date] | None:
    """The batch days a validation covered, from its interval label (`tasks.validate_landed`):
    `<start>_<end>` is [start, end), prefixed by the source for raw_files and raw_volume; a catalog's
    label is its snapshot days, first and last included. None for an as-of day (marts, freshness)
    or a label of another shape."""
    match = _INTERVAL.fullmatch(interval or "")
    if match is None or table not in (*LANDING_TABLES, "raw_files", "raw_volume"):
        return None
    start = dt.date.fromisoformat(match.group("start"))
    if not match.group("end"):
        return [start]
    end = dt.date.fromisoformat(match.group("end"))
    last = end if table in ("raw_catalog", "raw_agencies") else end - dt.timedelta(days=1)
    return [start + dt.timedelta(days=n) for n in range((last - start).days + 1)]


def _interval_words(table: str, interval: str) -> tuple[str, str]:
    days = _batch_days(table, interval)
    if days:
        if len(days) == 1:
            return f"ngày lô {days[0]:%d/%m/%Y}", f"batch day {days[0]}"
        return (f"ngày lô {days[0]:%d/%m/%Y} – {days[-1]:%d/%m/%Y}", f"batch days {days[0]} to {days[-1]}")
    match = _INTERVAL.fullmatch(interval or "")
    if match and not match.group("end"):
        # Marts and freshness are validated as of local midnight of that day.
        day = dt.date.fromisoformat(match.group("start"))
        return f"số liệu tính đến 00:00 ngày {day:%d/%m/%Y}", f"as of {day} 00:00"
    return f"khoảng {interval}", f"interval {interval}"


# ---------------------------------------------------------------- descriptions of checks

def _columns_of(kwargs: dict[str, Any]) -> str | None:
    """A suite item's column(s) as `quality.suites` names them in a result (a, or a,b for pairs and lists)."""
    if kwargs.get("column"):
        return str(kwargs["column"])
    names = kwargs.get("column_list") or [kwargs[k] for k in ("column_A", "column_B") if kwargs.get(k)]
    return ",".join(names) or None


def _bounds(kwargs: dict[str, Any]) -> str:
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and high is not None:
        return f"{low}–{high}"
    return f"≥ {low}" if low is not None else f"≤ {high}"


def describe(check: str, column: str | None, kwargs: dict[str, Any], table: str) -> tuple[str, str]:
    """A check in words (Vietnamese, English), from its table and column, or its expectation type and
    the suite's arguments (bounds, short value sets) — never the expectation type's name."""
    col = column or ""
    if (table, col) in CHECK_WORDS:
        vi, en = CHECK_WORDS[(table, col)]
        bounds = {"min": kwargs.get("min_value"), "max": kwargs.get("max_value")}
        return vi.format(**bounds), en.format(**bounds)
    values = kwargs.get("value_set") or []
    listed = f" ({', '.join(map(str, values))})" if 0 < len(values) <= 8 else ""
    mostly = kwargs.get("mostly")
    share = (f" ở hơn {1 - mostly:.0%} số dòng", f" in more than {1 - mostly:.0%} of rows") if mostly else ("", "")
    a, b = kwargs.get("column_A"), kwargs.get("column_B")
    words = {
        "expect_column_values_to_not_be_null": (f"Cột {col} bị trống{share[0]}", f"{col} is empty{share[1]}"),
        "expect_column_values_to_be_null": (f"Cột {col} phải để trống nhưng có giá trị",
                                            f"{col} should be empty and is not"),
        "expect_column_values_to_be_in_set": (f"Cột {col} có giá trị ngoài danh mục cho phép{listed}{share[0]}",
                                              f"{col} has values outside the allowed set{listed}{share[1]}"),
        "expect_column_values_to_not_be_in_set": (f"Cột {col} có giá trị không được phép{listed}",
                                                  f"{col} has a forbidden value{listed}"),
        "expect_column_values_to_be_between": (f"Cột {col} có giá trị ngoài khoảng cho phép ({_bounds(kwargs)})",
                                               f"{col} has values outside {_bounds(kwargs)}"),
        "expect_column_values_to_be_unique": (f"Cột {col} có giá trị trùng lặp", f"{col} has duplicate values"),
        "expect_compound_columns_to_be_unique": (f"Trùng lặp trên tổ hợp cột ({col.replace(',', ', ')})",
                                                 f"Duplicates of ({col.replace(',', ', ')})"),
        "expect_column_pair_values_a_to_be_greater_than_b": (
            f"{a} nhỏ hơn (sớm hơn) {b}: thứ tự sai", f"{a} is less than (earlier than) {b}: out of order"),
        "expect_table_row_count_to_be_between": (f"Số dòng của bảng ngoài khoảng cho phép ({_bounds(kwargs)})",
                                                 f"The table's row count is outside {_bounds(kwargs)}"),
        "expect_table_columns_to_match_set": ("Các cột của bảng không đúng hợp đồng dữ liệu",
                                              "The table's columns are not the contract's"),
    }
    if check in words:
        return words[check]
    return (f"Một kiểm tra trên cột {col}" if col else "Một kiểm tra trên bảng",
            f"A check on {col}" if col else "A check on the table")


def _suite_items(table: str, settings: Settings) -> dict[tuple[str, str | None], dict[str, Any]]:
    from dichvucong.quality.suites import load_suite_spec

    try:
        spec = load_suite_spec(settings.expectations_dir, table)
    except Exception as exc:  # an alert goes out without the words rather than not at all
        log.warning("alert: cannot read the suite of %s: %s", table, exc)
        return {}
    return {(item["type"], _columns_of(item["kwargs"])): item for item in spec["expectations"]}


# ---------------------------------------------------------------- where a check failed

def _clean(text: Any, limit: int) -> str:
    """A file name or error as delivered, made safe for a mail or chat line: control characters
    replaced, length capped."""
    value = "".join("?" if unicodedata.category(c).startswith("C") else c for c in str(text))
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _failing(check: str, kwargs: dict[str, Any]) -> tuple[str, str, dict[str, Any]] | None:
    """SQL (where clause, qualify clause, parameters) that selects the rows a column-map expectation
    rejects, as GX reads it (nulls are ignored except by the null checks; `mostly` is not applied:
    the check failed, every row it counts is listed); None for a table-level expectation."""
    def q(name: str) -> str:
        return '"' + str(name).replace('"', '""') + '"'

    col = kwargs.get("column")
    if check == "expect_column_values_to_not_be_null" and col:
        return f"{q(col)} is null", "", {}
    if check == "expect_column_values_to_be_null" and col:
        return f"{q(col)} is not null", "", {}
    if check == "expect_column_values_to_be_in_set" and col:
        return f"{q(col)} is not null and not list_contains($values, {q(col)})", "", {
            "values": list(kwargs["value_set"])}
    if check == "expect_column_values_to_not_be_in_set" and col:
        return f"list_contains($values, {q(col)})", "", {"values": list(kwargs["value_set"])}
    if check == "expect_column_values_to_be_between" and col:
        tests, params = [], {}
        if kwargs.get("min_value") is not None:
            tests.append(f"{q(col)} < $low")
            params["low"] = kwargs["min_value"]
        if kwargs.get("max_value") is not None:
            tests.append(f"{q(col)} > $high")
            params["high"] = kwargs["max_value"]
        return f"{q(col)} is not null and ({' or '.join(tests) or 'false'})", "", params
    if check == "expect_column_pair_values_a_to_be_greater_than_b":
        a, b = q(kwargs["column_A"]), q(kwargs["column_B"])
        return f"{a} is not null and {b} is not null and {a} {'<' if kwargs.get('or_equal') else '<='} {b}", "", {}
    if check in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        columns = [col] if col else list(kwargs.get("column_list") or [])
        if not columns:
            return None
        keys = ", ".join(q(c) for c in columns)
        return "true", f"count(*) over (partition by {keys}) > 1", {}
    return None


def _locate(alert: Alert, items: dict[tuple[str, str | None], dict[str, Any]], settings: Settings) -> None:
    """Fill each finding's places from the lake: the rows the check rejects, re-selected by the same
    rule on the same batch days (landed tables: file and batch day of the rows; raw_files: the file
    and its error; raw_volume: the day and its counts; landing_freshness: the source). Marts have
    no file to name. Best effort: a failure here is logged and the alert goes without places."""
    import duckdb

    from dichvucong.landing import lake
    from dichvucong.quality import frames

    table, days = alert.table, _batch_days(alert.table, alert.interval)
    source = _source_of(table, alert.interval)
    wanted = [(f, item) for f in alert.findings if (item := items.get((f.check, f.column))) is not None]
    if not wanted:
        return
    if table in LANDING_TABLES and days:
        with frames.raw_table(settings.lake_dir, table, days) as landed, \
                duckdb.connect(str(landed.database), read_only=True) as con:
            for finding, item in wanted:
                _rows_by_file(con, f'"main"."{table}"', finding, item)
        for finding, item in wanted:
            if source and _failing(item["type"], item["kwargs"]) is None:
                _files_of_days(settings, source, days, finding)
        return
    if table == "raw_files" and days and source:
        if source in ("catalog", "agencies"):
            # validate_landed checks the catalog's snapshot days only: a day without one is no finding.
            days = [d for d in days if lake.partition_path(settings.lake_dir, lake.SOURCE_TABLES[source], d).exists()]
        checked = frames.files_frame(settings.lake_dir, source, days)
    elif table == "raw_volume" and days and source:
        checked = frames.volume_frame(settings.lake_dir, source, days)
    elif table == "landing_freshness" and (match := _INTERVAL.fullmatch(alert.interval)):
        checked = frames.freshness_frame(settings.lake_dir, dt.datetime.fromisoformat(match.group("start")))
    else:
        return
    with duckdb.connect() as con:
        con.register("checked", checked)
        for finding, item in wanted:
            _rows_of_frame(con, table, source, finding, item, settings)


def _select(con: Any, relation: str, columns: str, finding: Finding, item: dict[str, Any],
            group: bool) -> list[tuple[Any, ...]]:
    rule = _failing(item["type"], item["kwargs"])
    if rule is None:
        return []
    where, qualify, params = rule
    inner = f"select * from {relation} where {where}" + (f" qualify {qualify}" if qualify else "")
    grouped = " group by all" if group else ""
    rows: list[tuple[Any, ...]] = con.execute(
        f"select {columns}, count(*) over () as _total from ({inner}){grouped} order by 1, 2 limit {MAX_PLACES}",
        params).fetchall()
    if rows:
        finding.more_places = max(0, int(rows[0][-1]) - len(rows))
    return [row[:-1] for row in rows]


def _day(value: Any) -> str | None:
    """A batch day as ISO text, whether DuckDB gives it as a date, a timestamp (from pandas) or nothing."""
    if value is None or value != value:  # None, or pandas' NaT/NaN
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, dt.date) else str(value)[:10]


def _rows_by_file(con: Any, relation: str, finding: Finding, item: dict[str, Any]) -> None:
    for day, name, count in _select(con, relation, "_batch_date, _source_file, count(*)", finding, item, True):
        finding.places.append(Place(_day(day), _clean(name, 160) if name else None, int(count)))


def _files_of_days(settings: Settings, source: str, days: list[dt.date], finding: Finding) -> None:
    """The delivered files of the batch days, from the load audit: the places of a table-level check
    (columns, row count), which no row of the table can point at."""
    import duckdb

    from dichvucong.landing import lake

    audit = [str(p) for d in days if (p := lake.partition_path(settings.lake_dir, "load_audit", d, source)).exists()]
    if not audit:
        finding.places += [Place(d.isoformat()) for d in days[:MAX_PLACES]]
        finding.more_places = max(0, len(days) - MAX_PLACES)
        return
    with duckdb.connect() as con:
        rows = con.execute("select batch_date, file_name, rows_loaded, count(*) over () from read_parquet($audit) "
                           f"order by 1, 2 limit {MAX_PLACES}", {"audit": audit}).fetchall()
    for day, name, loaded, _total in rows:
        finding.places.append(Place(_day(day), _clean(name, 160) if name else None,
                                    detail=f"{loaded} dòng nạp", detail_en=f"{loaded} rows landed"))
    if rows:
        finding.more_places = max(0, int(rows[0][-1]) - len(rows))


def _rows_of_frame(con: Any, table: str, source: str | None, finding: Finding, item: dict[str, Any],
                   settings: Settings) -> None:
    if table == "raw_files":
        rows = _select(con, "checked", "batch_date, file_name, file_error, quarantined_share, day_quarantined_share, "
                       "unknown_columns, missing_columns, total_line_matches", finding, item, False)
        reasons: dict[tuple[str, str], str] = {}
        if finding.column == "quarantined_share":
            named = [(iso, row[1]) for row in rows if row[1] and (iso := _day(row[0]))]
            reasons = _top_reasons(settings, source, named)
        for day, name, error, share, day_share, unknown, missing, _total in rows:
            vi, en = _file_detail(finding.column, error, share, day_share, unknown, missing)
            if (top := reasons.get((_day(day) or "", name))):
                vi, en = f"{vi}; lý do chính: {top}", f"{en}; main reasons: {top}"
            finding.places.append(Place(_day(day), _clean(name, 160) if name else None, detail=vi, detail_en=en))
    elif table == "raw_volume":
        for day, loaded, mean in _select(con, "checked", "batch_date, rows_loaded, trailing_mean", finding, item,
                                         False):
            usual = f"{mean:.0f}" if mean is not None else "?"
            finding.places.append(Place(_day(day), detail=f"{loaded} dòng nạp, trung bình cùng thứ các tuần trước "
                                        f"{usual}", detail_en=f"{loaded} rows landed, the same weekday's mean {usual}"))
    elif table == "landing_freshness":
        for name, latest, lag in _select(con, "checked", "source, latest_batch_date, lag_days", finding, item,
                                         False):
            vi, en = SOURCE_WORDS.get(name, (name, name))
            day = _day(latest)
            finding.places.append(Place(
                batch_day=day,
                detail=f"nguồn {vi}: " + (f"lô có dữ liệu mới nhất, trễ {lag:.0f} ngày" if day
                                          else "chưa có lô nào có dữ liệu"),
                detail_en=f"source {en}: " + (f"its latest batch with rows, {lag:.0f} days behind" if day
                                              else "no batch with rows yet")))


def _file_detail(column: str | None, error: Any, share: Any, day_share: Any, unknown: Any, missing: Any = 0
                 ) -> tuple[str, str]:
    if column == "file_error":
        return f"lỗi: {_clean(error, 200)}", f"error: {_clean(error, 200)}"
    if column == "quarantined_share":
        return f"{share:.0%} số bản ghi bị cách ly", f"{share:.0%} of its records quarantined"
    if column == "day_quarantined_share":
        return f"{day_share:.0%} số bản ghi của ngày bị cách ly", f"{day_share:.0%} of the day's records quarantined"
    if column == "unknown_columns":
        return f"{unknown} cột ngoài hợp đồng", f"{unknown} column(s) outside the contract"
    if column == "missing_columns":
        return f"thiếu {missing} trường của hợp đồng", f"{missing} contract key(s) missing"
    if column == "total_line_matches":
        return "dòng tổng cộng khác tổng giao dịch", "total line differs from the sum of transactions"
    if column == "files_in_day":
        return "không có tệp nào", "no file"
    return "", ""


def _top_reasons(settings: Settings, source: str | None, files: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The three commonest quarantine reasons of each file (field and rule, never a value), with counts:
    {(ISO batch day, file name): "reason (count), ..."} for the `files` given as (ISO day, name), read in
    one query over their days' quarantine partitions (a file without quarantined rows is not a key)."""
    import duckdb

    from dichvucong.landing import lake

    if not source or not files:
        return {}
    paths = sorted({str(path) for iso, _ in files
                    if (path := lake.partition_path(settings.lake_dir, "quarantine", dt.date.fromisoformat(iso),
                                                    source)).exists()})
    if not paths:
        return {}
    with duckdb.connect() as con:
        rows = con.execute(
            "select strftime(batch_date, '%Y-%m-%d'), file_name, reason, count(*) as n "
            "from read_parquet($paths, hive_partitioning = false) "
            "where list_contains($names, file_name) group by batch_date, file_name, reason "
            "qualify row_number() over (partition by batch_date, file_name order by n desc, reason) <= 3 "
            "order by 1, 2, n desc, reason",
            {"paths": paths, "names": sorted({name for _, name in files})}).fetchall()
    wanted, top = set(files), dict[tuple[str, str], list[str]]()
    for iso, name, reason, count in rows:
        top.setdefault((iso, name), []).append(f"{_clean(reason, 80)} ({count})")
    return {key: ", ".join(reasons) for key, reasons in top.items() if key in wanted}


# ---------------------------------------------------------------- building and completing alerts

def from_summary(summary: Any, docs_url: str | None) -> Alert | None:
    """The alert for a validation summary: critical if any critical check failed, else warning, else none."""
    failed = [r for r in summary.results if not r.success]
    if not failed:
        return None
    kind = "critical" if any(r.severity == "critical" for r in failed) else "warning"
    findings = [Finding(r.expectation_type, r.column, r.unexpected_count, r.element_count, r.rule)
                for r in failed if r.severity == kind]
    return Alert(kind, summary.table, summary.interval, findings, rows=summary.rows, docs_url=docs_url)


def from_dbt_warnings(warned: Sequence[tuple[str, int]], as_of: str) -> Alert | None:
    """The warning alert for dbt tests of severity warn that failed in a build (`BuildReport.warned_tests`:
    (test name, failing rows)); none when there are none. A test of severity error is not here: it fails
    the build, and the failed task alerts (`on_task_failure`)."""
    if not warned:
        return None
    findings = []
    for name, failures in warned:
        vi, en = DBT_TEST_WORDS.get(name, (f"Kiểm tra dbt {name} có dòng không đạt",
                                           f"dbt test {name} has failing rows"))
        findings.append(Finding("dbt_test", name, failures, None, f"dbt_project: test {name}", vi, en))
    return Alert("warning", "dbt_tests", as_of[:10], findings)


def docs_link(docs_url: str | None, settings: Settings) -> tuple[str | None, str | None]:
    """(link, path) of a Data Docs page given as GX's file:// URL: the link is the dashboard's
    (`DVC_DASHBOARD_URL` + DATA_DOCS_ROUTE + the page's path in the site) when that variable is set
    and the page is in this pipeline's site, else the URL as given; the path is the file's."""
    if not docs_url:
        return None, None
    parsed = urllib.parse.urlparse(docs_url)
    if parsed.scheme != "file":
        return docs_url, None
    path = Path(urllib.parse.unquote(parsed.path))
    base = settings.dashboard_url
    if base:
        try:
            inside = path.resolve().relative_to(data_docs_site(settings.reports_dir).resolve())
        except ValueError:
            log.warning("alert: the Data Docs page %s is outside %s: linked as a file", path,
                        data_docs_site(settings.reports_dir))
        else:
            return f"{base}{DATA_DOCS_ROUTE}/{urllib.parse.quote(inside.as_posix())}", str(path)
    return docs_url, str(path)


def _complete(alert: Alert, settings: Settings) -> None:
    """Add what the validation does not know: the province, the DAG run (from the variables Airflow
    sets in a task), the Data Docs link, the checks in words, and where they failed."""
    alert.province_code = alert.province_code or settings.province_code
    alert.province_name = alert.province_name or settings.province_name
    alert.dag_id = alert.dag_id or os.environ.get("AIRFLOW_CTX_DAG_ID") or None
    alert.task_id = alert.task_id or os.environ.get("AIRFLOW_CTX_TASK_ID") or None
    alert.run_id = alert.run_id or os.environ.get("AIRFLOW_CTX_DAG_RUN_ID") or None
    alert.dashboard_url = settings.dashboard_url or None
    alert.lake_dir = alert.lake_dir or str(settings.lake_dir)
    if alert.docs_path is None:
        alert.docs_url, alert.docs_path = docs_link(alert.docs_url, settings)
    if alert.kind == "task_failed" or not alert.findings or alert.table == "dbt_tests":
        return  # dbt tests carry their words (DBT_TEST_WORDS) and have no suite nor landed file
    items = _suite_items(alert.table, settings)
    for finding in alert.findings:
        item = items.get((finding.check, finding.column))
        if not finding.description:
            finding.description, finding.description_en = describe(
                finding.check, finding.column, item["kwargs"] if item else {}, alert.table)
    if any(f.places for f in alert.findings):
        return
    try:
        _locate(alert, items, settings)
    except Exception as exc:  # naming the files helps; it must never stop the alert
        log.warning("alert: could not locate the failing files of %s: %s", alert.table, exc)


# ---------------------------------------------------------------- channels and sending

@contextmanager
def _locked_state(path: Path) -> Iterator[dict[str, Any]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(path.read_text()) if path.exists() else {}
        yield state
        path.write_text(json.dumps(state, indent=1))


@dataclass(frozen=True)
class _Smtp:
    host: str
    port: int
    user: str | None
    password: str | None
    recipients: list[str]


def smtp_config(settings: Settings, for_report: bool = False) -> tuple[_Smtp | None, str | None]:
    """The SMTP channel when configured (a host and recipients), else None and, for a half
    configuration, what is missing. The server is the alerts' (DVC_ALERT_SMTP_* or the connection
    dvc_alert_smtp); the recipients are the alerts' (DVC_ALERT_TO), or the monthly report's
    (DVC_REPORT_TO) `for_report`."""
    host: str | None = settings.alert_smtp_host
    port = settings.alert_smtp_port
    user: str | None = settings.alert_smtp_user
    password: str | None = settings.alert_smtp_password
    if not host and (conn := airflow_connection("dvc_alert_smtp")) is not None:
        host, port, user, password = conn.host, conn.port or 25, conn.login, conn.password
    recipients_variable = "DVC_REPORT_TO" if for_report else "DVC_ALERT_TO"
    listed = settings.report_to if for_report else settings.alert_to
    recipients = [r.strip() for r in listed.split(",") if r.strip()]
    if host and not recipients:
        return None, f"DVC_ALERT_SMTP_HOST is set but {recipients_variable} (the recipients) is empty"
    if recipients and not host:
        return None, f"{recipients_variable} is set but DVC_ALERT_SMTP_HOST (or the connection dvc_alert_smtp) is not"
    return (_Smtp(host, port, user, password, recipients) if host else None), None


def _webhook_config(settings: Settings) -> str | None:
    url: str | None = settings.alert_webhook_url
    if not url and (conn := airflow_connection("dvc_alert_webhook")) is not None:
        url = conn.host
    return url or None


def _send_email(alert: Alert, smtp: _Smtp, settings: Settings) -> None:
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["Content-Language"] = "vi, en"
    message.set_content(alert.text())
    send_smtp(message, smtp, settings)


def send_smtp(message: EmailMessage, smtp: _Smtp, settings: Settings) -> None:
    """Send a message to the channel's recipients, from DVC_ALERT_FROM (STARTTLS and login as configured)."""
    message["From"] = settings.alert_from
    message["To"] = ", ".join(smtp.recipients)
    with smtplib.SMTP(smtp.host, smtp.port, timeout=20) as client:
        if settings.alert_smtp_starttls:
            client.starttls()
        if smtp.user and smtp.password:
            client.login(smtp.user, smtp.password)
        client.send_message(message)


def _send_webhook(alert: Alert, url: str, settings: Settings) -> None:
    # Google Chat refuses a message with fields it does not know: `text` alone is its message.
    body = {"text": alert.summary()} if settings.alert_webhook_format == "text" else alert.payload()
    response = requests.post(url, json=body, timeout=20)
    response.raise_for_status()


_warned_no_channel = False


def _warn_no_channel(problem: str | None) -> None:
    global _warned_no_channel
    if _warned_no_channel:
        return
    _warned_no_channel = True
    log.warning("Không có kênh cảnh báo nào được cấu hình / no alert channel is configured%s: alerts are logged, "
                "not sent. Set DVC_ALERT_SMTP_HOST and DVC_ALERT_TO (e-mail) and/or DVC_ALERT_WEBHOOK_URL, or the "
                "Airflow connections dvc_alert_smtp / dvc_alert_webhook (see .env.example, %s).",
                f" ({problem})" if problem else "", RUNBOOK)


def notify(alert: Alert, settings: Settings | None = None) -> dict[str, Any]:
    """Send the alert on every configured channel, unless the same check alerted recently.

    Returns {"sent": [channels it went out on], "held_back": bool}. The alert is held back (counted,
    not sent) when an alert for the same check went out on some channel less than
    DVC_ALERT_GROUP_MINUTES ago. Only an alert that went out on at least one channel starts that
    window: with no channel configured, or every channel failing, the next failure is sent as soon
    as one works. A channel that fails is logged and does not stop the others. Every alert not held
    back is journalled in `<reports>/alerts/alerts.jsonl` with the channels it went out on.
    The state is locked for the whole decision, sending included, so that two tasks failing the
    same check at once send it once (each send has a 20 s timeout).
    """
    settings = settings or Settings.from_env()
    window = dt.timedelta(minutes=settings.alert_group_minutes)
    folder = settings.reports_dir / "alerts"
    key = alert.group_key()  # before the run context is added: the same check groups across runs
    with _locked_state(folder / "state.json") as state:
        now = dt.datetime.now(dt.UTC)
        entry = state.get(key)
        if entry and now - dt.datetime.fromisoformat(entry["last_sent"]) < window:
            entry["held_back"] += 1
            log.info("alert held back (same check alerted at %s): %s", entry["last_sent"], alert.subject)
            return {"sent": [], "held_back": True}
        _complete(alert, settings)
        alert.held_back = entry["held_back"] if entry else 0
        smtp, problem = smtp_config(settings)
        url = _webhook_config(settings)
        channels: list[tuple[str, Any]] = []
        if smtp is not None:
            channels.append(("email", lambda: _send_email(alert, smtp, settings)))
        if url:
            channels.append(("webhook", lambda: _send_webhook(alert, url, settings)))
        if problem:
            log.warning("alert e-mail channel not usable: %s", problem)
        if not channels:
            _warn_no_channel(problem)
        sent = []
        for name, send in channels:
            try:
                send()
                sent.append(name)
            except Exception as exc:  # one broken channel must not hide the alert on the others
                log.error("could not send the %s alert %r: %s", name, alert.subject, exc)
        if sent:
            state[key] = {"last_sent": now.isoformat(), "held_back": 0}
            log.warning("alert %s sent by %s", alert.subject, sent)
        else:
            # Not sent: no window opens, and the failures held back before stay counted for the next one.
            log.warning("alert NOT sent (%s): %s", "every channel failed" if channels else "no channel configured",
                        alert.subject)
        with open(folder / "alerts.jsonl", "a", encoding="utf-8") as handle:
            handle.write(json.dumps(alert.payload() | {"sent_at": now.isoformat(), "channels": sent},
                                    ensure_ascii=False, default=str) + "\n")
    return {"sent": sent, "held_back": False}


def _settings_for(dag_id: str | None) -> Settings:
    """The settings of the province a DAG serves (`<dag>__<slug>` with a provinces file): a failure
    callback is not given the task's settings, and would otherwise name the default province and keep
    its grouping state in the default reports folder."""
    from dichvucong.provinces import load_provinces, settings_for

    slug = dag_id.rpartition("__")[2] if dag_id and "__" in dag_id else None
    if slug:
        try:
            for province in load_provinces():
                if province.slug == slug:
                    return settings_for(province)
        except Exception as exc:  # a bad provinces file is its DAGs' error, not the alert's
            log.warning("alert: cannot read the provinces file: %s", exc)
    return Settings.from_env()


def on_task_failure(context: dict[str, Any]) -> None:
    """Airflow on_failure_callback: runs once a task has failed for good (retries exhausted)."""
    ti = context.get("task_instance") or context.get("ti")
    exception = context.get("exception")
    from dichvucong.quality import QualityGateFailed

    if isinstance(exception, QualityGateFailed):
        return  # the gate already sent its own alert, with the checks that failed
    dag_run = context.get("dag_run")
    alert = Alert(
        "task_failed", table="-", interval=str(getattr(dag_run, "run_id", "") or ""),
        dag_id=getattr(ti, "dag_id", None), task_id=getattr(ti, "task_id", None),
        run_id=getattr(ti, "run_id", None),
        # The exception's type and first line: our errors carry counts and names, never row values.
        error=f"{type(exception).__name__}: {(str(exception).splitlines() or [''])[0][:300]}" if exception else None,
    )
    try:
        notify(alert, _settings_for(alert.dag_id))
    except Exception as exc:  # a callback must never raise
        log.error("failure alert not sent: %s", exc)
