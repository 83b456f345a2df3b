"""
# Build, validate and publish the marts

Runs when the four required lake tables have new data (Assets `raw_agencies`, `raw_catalog`,
`raw_dossiers`, `raw_payments`; the optional processing log's `raw_processing` is read as
landed), one run at a time:

1. **check_landing** — the run's `as_of` is valid (else the run fails at once,
   without retries); the lake's audit rows agree with its partitions
   (rows read = loaded + quarantined, and each count matches the files); the
   batch days the triggering Asset events announced;
   **check_freshness** — how far each source lags (a warning past two days).
2. **dbt_build** — `dbt build` of `dbt_project/`: staging, intermediate and
   the marts `marts.fct_dossiers`, `marts.fct_payments`, `marts.kpi_766`, with
   dbt tests, as of the latest landed day (or conf `as_of`); incremental over the
   days landed since the last build, read from the ledger of what landed (the
   load audit), reported beside the days the events announced.
3. **validate_marts** — Great Expectations suites of the three marts and the
   kpi_766 invariants; a critical failure alerts operators and stops the run
   before publication (officials keep the last good marts).
4. **publish** — copies the marts to the published file officials read
   (atomic rename), with CSV exports. Produces the Asset `published_marts`.

Params (the run's conf): `as_of`, a local date `YYYY-MM-DD` or date-time
`YYYY-MM-DDTHH:MM[:SS]` (no offset: the province's time), or `null` (the
default): local midnight after the latest landed batch day.

dbt is the warehouse's only writer; every task touching the warehouse runs in
the `duckdb_warehouse` pool of one slot, and `max_active_runs=1`.

With a provinces file (`DVC_PROVINCES_FILE`), one `build_marts__<slug>` per
province (its own Assets and pool `duckdb_warehouse__<slug>`), and
`national_ranking`, run whenever any province publishes: it ranks the
provinces on the 766 points from every province's published marts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
from airflow.sdk import Param, dag, task

from dichvucong.alerts import on_task_failure
from dichvucong.assets import NATIONAL_RANKING, province_assets
from dichvucong.config import Settings
from dichvucong.provinces import Province, load_provinces, settings_for, suffix

# Seconds between a failed task's tries (DVC_RETRY_DELAY_SECONDS, default 120).
RETRY_DELAY = Settings.from_env().retry_delay
OWNER = "dichvucong-data"

# A local date, or a local date-time without offset (the warehouse's timestamps are naive local
# times; an offset would not compare with them). The schema checks the shape and the ranges of
# each field; `check_landing` parses it, which also refuses a day that does not exist (02-30).
AS_OF_PATTERN = (r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])"
                 r"([T ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,6})?)?)?$")


def as_of_param() -> Param:
    """The conf a build run accepts, validated by Airflow when the run is created."""
    return Param(None, type=["null", "string"], pattern=AS_OF_PATTERN, title="As-of time",
                 description="Local date YYYY-MM-DD or date-time YYYY-MM-DDTHH:MM[:SS], no offset; "
                             "null: local midnight after the latest landed batch day.")


def as_of_of(context: dict[str, Any]) -> str | None:
    """The run's as_of (None: derived from the lake). Raises AirflowFailException, so no retry, for
    one that does not parse: the same on every try."""
    from airflow.sdk.exceptions import AirflowFailException

    as_of = (context["dag_run"].conf or {}).get("as_of")
    if as_of is None:
        return None
    try:
        when = dt.datetime.fromisoformat(str(as_of))
    except ValueError as exc:
        raise AirflowFailException(f"conf as_of {as_of!r} is not a local date or date-time: {exc}") from exc
    if when.tzinfo is not None:
        raise AirflowFailException(f"conf as_of {as_of!r} has an offset: give the province's local time")
    return str(as_of)


def make_build_dag(province: Province | None = None) -> Any:
    assets = province_assets(province)
    pool = assets.pool

    @dag(
        dag_id=f"build_marts{suffix(province)}",
        # The required sources (landing.layout); the optional processing log is read as landed.
        schedule=(assets.raw["agencies"] & assets.raw["catalog"] & assets.raw["dossiers"] & assets.raw["payments"]),
        start_date=pendulum.datetime(2022, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["dbt", "marts", "quality", *([province.slug] if province else [])],
        description="Build the marts with dbt, gate them with Great Expectations and publish them"
                    + (f" ({province.name})" if province else ""),
        params={"as_of": as_of_param()},
        default_args={"owner": OWNER, "retries": 1, "retry_delay": RETRY_DELAY,
                      "on_failure_callback": on_task_failure},
        doc_md=__doc__,
    )
    def build_marts() -> None:
        @task
        def check_landing(**context: Any) -> dict[str, Any]:
            """The landing accounts (tasks.check_landing_accounts), and the batch days the Asset
            events that triggered this run announced ({"announced": {source: [days]}})."""
            from dichvucong.tasks import announced_days, check_landing_accounts

            as_of_of(context)  # first: a bad as_of fails the run before any work
            accounts = check_landing_accounts(settings=settings_for(province))
            events = context.get("triggering_asset_events") or {}
            return accounts | {"announced": announced_days(
                [event.extra for asset in events for event in events[asset]])}

        @task(retries=0)
        def check_freshness(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from dichvucong.tasks import check_freshness as freshness

            return freshness(as_of_of(context), settings=settings_for(province))

        @task(pool=pool)
        def dbt_build(landing: dict[str, Any], _: dict[str, Any], **context: Any) -> dict[str, Any]:
            from dichvucong.tasks import build_marts as build

            return build(as_of_of(context), settings=settings_for(province), announced=landing["announced"])

        # A failed quality gate is not transient: no retry.
        @task(pool=pool, retries=0)
        def validate_marts(built: dict[str, Any]) -> dict[str, Any]:
            from dichvucong.tasks import validate_marts as validate

            return validate(built["as_of"][:10], settings=settings_for(province))

        @task(pool=pool, outlets=[assets.published])
        def publish(built: dict[str, Any], _: dict[str, Any], **context: Any) -> dict[str, Any]:
            from dichvucong.tasks import publish_marts

            return publish_marts(built["as_of"], context["run_id"], settings=settings_for(province))

        landing = check_landing()
        built = dbt_build(landing, check_freshness(landing))
        publish(built, validate_marts(built))

    return build_marts()


def make_national_dag(provinces: list[Province]) -> Any:
    published = [province_assets(p).published for p in provinces]
    schedule = published[0]
    for asset in published[1:]:
        schedule = schedule | asset

    @dag(
        dag_id="national_ranking",
        schedule=schedule,
        start_date=pendulum.datetime(2022, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["national", "marts"],
        description="Rank the provinces on the 766 points from every province's published marts",
        default_args={"owner": OWNER, "retries": 1, "retry_delay": RETRY_DELAY,
                      "on_failure_callback": on_task_failure},
        doc_md=__doc__,
    )
    def national_ranking() -> None:
        @task(outlets=[NATIONAL_RANKING])
        def rank_provinces() -> dict[str, Any]:
            from dichvucong.national import build_national

            return build_national(provinces)

        rank_provinces()

    return national_ranking()


PROVINCES = load_provinces()
if not PROVINCES:
    build_marts = make_build_dag()
else:
    for _province in PROVINCES:
        globals()[f"build_marts{suffix(_province)}"] = make_build_dag(_province)
    national_ranking = make_national_dag(PROVINCES)
