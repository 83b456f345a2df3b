"""Alerts to operators: e-mail over SMTP and a JSON webhook.

Sent when a quality gate closes (critical), when a check warns, and when a
task has exhausted its retries. An alert names the check, the table and the
interval, the number of rows concerned, what to do, and the Data Docs page of
the validation. It carries counts and rule texts only — never a value from the
data, so no personal data can reach it.

Repeated failures of the same check are grouped: within `DVC_ALERT_GROUP_MINUTES`
of the last alert for a check, a new failure is counted, not sent; the next
alert that goes out says how many were held back.

Configuration (environment, or the Airflow connections `dvc_alert_smtp` and
`dvc_alert_webhook` when the variables are unset):
  DVC_ALERT_SMTP_HOST, DVC_ALERT_SMTP_PORT (25), DVC_ALERT_SMTP_USER,
  DVC_ALERT_SMTP_PASSWORD, DVC_ALERT_SMTP_STARTTLS (false), DVC_ALERT_FROM, DVC_ALERT_TO
  (comma-separated), DVC_ALERT_WEBHOOK_URL, DVC_ALERT_GROUP_MINUTES (360).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import requests

from dichvucong.config import Settings, airflow_connection

log = logging.getLogger(__name__)

WHAT_TO_DO = {
    "critical": ("Publication is withheld: officials keep the last good marts. Look at the Data Docs page, "
                 "fix the source files or the load, then clear and rerun the failed run."),
    "warning": ("The marts were published. Check whether the source changed (a new intermediary, a district "
                "code, dates out of order) and tell the source owner if it is their error."),
    "task_failed": ("The task failed after its retries. Read its log in Airflow, fix the cause, then clear "
                    "the task to rerun it: every task replaces its own output, so a rerun is safe."),
}


@dataclass
class Finding:
    check: str
    column: str | None
    unexpected_count: int | None
    element_count: int | None
    rule: str


@dataclass
class Alert:
    kind: str  # critical | warning | task_failed
    table: str
    interval: str
    findings: list[Finding] = field(default_factory=list)
    rows: int | None = None
    docs_url: str | None = None
    dag_id: str | None = None
    task_id: str | None = None
    run_id: str | None = None
    error: str | None = None
    held_back: int = 0

    @property
    def what_to_do(self) -> str:
        return WHAT_TO_DO[self.kind]

    @property
    def subject(self) -> str:
        label = {"critical": "GATE CLOSED", "warning": "warning", "task_failed": "TASK FAILED"}[self.kind]
        what = f"{self.dag_id}.{self.task_id}" if self.kind == "task_failed" else self.table
        return f"[dichvucong] {label}: {what} [{self.interval}]"

    def payload(self) -> dict[str, Any]:
        return asdict(self) | {"subject": self.subject, "what_to_do": self.what_to_do}

    def text(self) -> str:
        lines = [self.subject, ""]
        if self.kind == "task_failed":
            lines.append(f"Task {self.task_id} of DAG {self.dag_id}, run {self.run_id}, failed after its retries.")
            if self.error:
                lines.append(f"Error: {self.error}")
        else:
            lines.append(f"Table {self.table}, interval {self.interval}, {self.rows} rows validated.")
            for finding in self.findings:
                where = f" on {finding.column}" if finding.column else ""
                lines.append(f"- {finding.check}{where}: {finding.unexpected_count} of {finding.element_count} rows"
                             f" — {finding.rule}")
        if self.held_back:
            lines.append(f"(The same check also failed {self.held_back} more time(s) since the last alert.)")
        lines += ["", f"What to do: {self.what_to_do}"]
        if self.docs_url:
            lines.append(f"Data Docs: {self.docs_url}")
        return "\n".join(lines)

    def group_key(self) -> str:
        checks = ",".join(sorted(f"{f.check}:{f.column}" for f in self.findings))
        return f"{self.kind}|{self.table}|{self.dag_id}|{self.task_id}|{checks}"


def from_summary(summary: Any, docs_url: str | None) -> Alert | None:
    """The alert for a validation summary: critical if any critical check failed, else warning, else none."""
    failed = [r for r in summary.results if not r.success]
    if not failed:
        return None
    kind = "critical" if any(r.severity == "critical" for r in failed) else "warning"
    findings = [Finding(r.expectation_type, r.column, r.unexpected_count, r.element_count, r.rule)
                for r in failed if r.severity == kind]
    return Alert(kind, summary.table, summary.interval, findings, rows=summary.rows, docs_url=docs_url)


@contextmanager
def _locked_state(path: Path) -> Iterator[dict[str, Any]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = json.loads(path.read_text()) if path.exists() else {}
        yield state
        path.write_text(json.dumps(state, indent=1))


def _send_email(alert: Alert) -> bool:
    host = os.environ.get("DVC_ALERT_SMTP_HOST")
    port = int(os.environ.get("DVC_ALERT_SMTP_PORT", "25"))
    user, password = os.environ.get("DVC_ALERT_SMTP_USER"), os.environ.get("DVC_ALERT_SMTP_PASSWORD")
    if not host and (conn := airflow_connection("dvc_alert_smtp")) is not None:
        host, port, user, password = conn.host, conn.port or 25, conn.login, conn.password
    recipients = [r.strip() for r in os.environ.get("DVC_ALERT_TO", "").split(",") if r.strip()]
    if not host or not recipients:
        return False
    message = EmailMessage()
    message["Subject"] = alert.subject
    message["From"] = os.environ.get("DVC_ALERT_FROM", "dichvucong@localhost")
    message["To"] = ", ".join(recipients)
    message.set_content(alert.text())
    with smtplib.SMTP(host, port, timeout=20) as smtp:
        if os.environ.get("DVC_ALERT_SMTP_STARTTLS", "false").lower() == "true":
            smtp.starttls()
        if user and password:
            smtp.login(user, password)
        smtp.send_message(message)
    return True


def _send_webhook(alert: Alert) -> bool:
    url = os.environ.get("DVC_ALERT_WEBHOOK_URL")
    if not url and (conn := airflow_connection("dvc_alert_webhook")) is not None:
        url = conn.host
    if not url:
        return False
    response = requests.post(url, json=alert.payload(), timeout=20)
    response.raise_for_status()
    return True


def notify(alert: Alert, settings: Settings | None = None) -> dict[str, Any]:
    """Send the alert on every configured channel, unless the same check alerted recently."""
    settings = settings or Settings.from_env()
    window = dt.timedelta(minutes=int(os.environ.get("DVC_ALERT_GROUP_MINUTES", "360")))
    now = dt.datetime.now(dt.UTC)
    key = alert.group_key()
    with _locked_state(settings.reports_dir / "alerts" / "state.json") as state:
        entry = state.get(key)
        if entry and now - dt.datetime.fromisoformat(entry["last_sent"]) < window:
            entry["held_back"] += 1
            log.info("alert held back (same check alerted at %s): %s", entry["last_sent"], alert.subject)
            return {"sent": [], "held_back": True}
        alert.held_back = entry["held_back"] if entry else 0
        state[key] = {"last_sent": now.isoformat(), "held_back": 0}
    sent = []
    for name, sender in (("email", _send_email), ("webhook", _send_webhook)):
        try:
            if sender(alert):
                sent.append(name)
        except Exception as exc:  # one broken channel must not hide the alert on the others
            log.error("could not send the %s alert %r: %s", name, alert.subject, exc)
    log.warning("alert %s sent by %s", alert.subject, sent or "no channel (none configured)")
    folder = settings.reports_dir / "alerts"
    with open(folder / "alerts.jsonl", "a", encoding="utf-8") as handle:
        handle.write(json.dumps(alert.payload() | {"sent_at": now.isoformat(), "channels": sent},
                                ensure_ascii=False, default=str) + "\n")
    return {"sent": sent, "held_back": False}


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
        error=f"{type(exception).__name__}: {str(exception).splitlines()[0][:300]}" if exception else None,
    )
    try:
        notify(alert)
    except Exception as exc:  # a callback must never raise
        log.error("failure alert not sent: %s", exc)
