"""
# Monthly report to officials

On the 3rd of every month at 07:00 (Asia/Ho_Chi_Minh), the report of the month before, from the
published marts (`dichvucong.report`, the same as `dichvucong report --month YYYY-MM --mail`):

1. **build_report** — the Vietnamese monthly report of the province (or conf `unit`) on the
   geography basis `basis`: the 766 score by group with the points each indicator lost, the biggest
   moves against the previous month, the dossiers overdue now, the month's fees reconciled. Written
   as `report-YYYY-MM-<unit>.html` and `.pdf` under `<DVC_REPORTS_DIR>/monthly/` (a rerun rewrites
   them). A month or unit the marts do not hold fails the run at once, without retries.
2. **mail_report** — mails the PDF as an attachment to `DVC_REPORT_TO` through the alerts' SMTP
   server (`DVC_ALERT_SMTP_*` or the connection `dvc_alert_smtp`); skipped when conf `mail` is false.
   A server or recipients not configured fails at once, naming the setting.

Params (the run's conf): `month` (`YYYY-MM`; null: the month before the run's date), `unit`
(a kpi_766 unit code; null: the province), `basis` (`as_was`, the default, or `current`), `mail`
(default true).

The DAG is created paused: unpause it once `DVC_REPORT_TO` and the SMTP server are configured.

With a provinces file (`DVC_PROVINCES_FILE`), one `monthly_report__<slug>` per province, each
reading its own published marts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from airflow.sdk import Param, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from dichvucong.alerts import on_task_failure
from dichvucong.config import Settings
from dichvucong.provinces import Province, load_provinces, settings_for, suffix

# Seconds between a failed task's tries (DVC_RETRY_DELAY_SECONDS, default 120).
RETRY_DELAY = Settings.from_env().retry_delay
OWNER = "dichvucong-data"
LOCAL_TZ = "Asia/Ho_Chi_Minh"


def report_params() -> dict[str, Param]:
    return {
        "month": Param(None, type=["null", "string"], pattern=r"^\d{4}-(0[1-9]|1[0-2])$", title="Month",
                       description="YYYY-MM; null: the month before the run's date (the schedule's case)."),
        "unit": Param(None, type=["null", "string"], minLength=1, maxLength=40, title="Unit code",
                      description="A unit code of kpi_766 (department, district, commune, agency); "
                                  "null: the province."),
        "basis": Param("as_was", type="string", enum=["as_was", "current"], title="Geography basis",
                       description="as_was: the units as they were that month; current: recast onto today's."),
        "mail": Param(True, type="boolean", title="Mail the PDF",
                      description="Send the PDF to DVC_REPORT_TO through the alerts' SMTP server."),
    }


def report_month(context: dict[str, Any]) -> dt.date:
    """The conf's month, or the month before the run's local date (its logical date when scheduled,
    the time it was triggered otherwise)."""
    month = (context["dag_run"].conf or {}).get("month")
    if month:
        return dt.date.fromisoformat(f"{month}-01")
    when = context.get("logical_date") or context["dag_run"].run_after
    local = pendulum.instance(when).in_timezone(LOCAL_TZ).date()
    return (local.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def make_report_dag(province: Province | None = None) -> Any:
    @dag(
        dag_id=f"monthly_report{suffix(province)}",
        schedule=CronTriggerTimetable("0 7 3 * *", timezone=LOCAL_TZ),
        start_date=pendulum.datetime(2025, 1, 1, tz="UTC"),
        catchup=False,
        # It mails people outside the team: switched on by hand once DVC_REPORT_TO and the SMTP server are
        # set (`airflow dags unpause monthly_report`), whatever dags_are_paused_at_creation says. Unpaused
        # between the 3rd and the end of a month, it reports the month before at once (catchup=False
        # still runs the latest trigger).
        is_paused_upon_creation=True,
        max_active_runs=1,
        tags=["report", "officials", *([province.slug] if province else [])],
        description="Write the officials' monthly report (Vietnamese, PDF and HTML) of the previous month "
                    "from the published marts and mail it" + (f" ({province.name})" if province else ""),
        params=report_params(),
        default_args={"owner": OWNER, "retries": 1, "retry_delay": RETRY_DELAY,
                      "on_failure_callback": on_task_failure},
        doc_md=__doc__,
    )
    def monthly_report() -> None:
        @task
        def build_report(**context: Any) -> dict[str, Any]:
            """Paths of the written HTML and PDF, and the mail's subject and text (XCom)."""
            from airflow.sdk.exceptions import AirflowFailException

            from dichvucong.report import ReportError, mail_subject, mail_text, write_report

            conf = context["dag_run"].conf or {}
            month = report_month(context)
            try:
                written = write_report(settings_for(province), month, unit=conf.get("unit"),
                                       basis=conf.get("basis") or "as_was")
            except ReportError as exc:  # the marts do not hold it: the same on every try
                raise AirflowFailException(str(exc)) from exc
            return {"month": f"{month:%Y-%m}", "html": str(written.html), "pdf": str(written.pdf),
                    "subject": mail_subject(written.report), "text": mail_text(written.report)}

        @task(retries=2)
        def mail_report(written: dict[str, Any], **context: Any) -> dict[str, Any]:
            from pathlib import Path

            from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

            from dichvucong.report import ReportError, mail_pdf

            if (context["dag_run"].conf or {}).get("mail") is False:
                raise AirflowSkipException("conf mail is false: the report is written, not mailed")
            try:
                recipients = mail_pdf(Path(written["pdf"]), written["subject"], written["text"],
                                      settings_for(province))
            except ReportError as exc:  # no server or no recipients configured
                raise AirflowFailException(str(exc)) from exc
            return {"pdf": written["pdf"], "recipients": len(recipients)}

        mail_report(build_report())

    return monthly_report()


PROVINCES = load_provinces()
if not PROVINCES:
    monthly_report = make_report_dag()
for _province in PROVINCES:
    globals()[f"monthly_report{suffix(_province)}"] = make_report_dag(_province)
