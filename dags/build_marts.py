"""
# Build, validate and publish the marts

Runs when all three lake tables have new data (Assets `raw_catalog`,
`raw_dossiers`, `raw_payments`), one run at a time:

1. **check_landing** — the lake's audit rows agree with its partitions
   (rows read = loaded + quarantined, and each count matches the files);
   **check_freshness** — how far each source lags (a warning past two days).
2. **dbt_build** — `dbt build` of `dbt_project/`: staging, intermediate and
   the marts `marts.fct_dossiers`, `marts.fct_payments`, `marts.kpi_766`, with
   dbt tests and unit tests, as of the latest landed day (or conf `as_of`).
3. **validate_marts** — Great Expectations suites of the three marts and the
   kpi_766 invariants; a critical failure alerts operators and stops the run
   before publication (officials keep the last good marts).
4. **publish** — copies the marts to the published file officials read
   (atomic rename), with CSV exports. Produces the Asset `published_marts`.

dbt is the warehouse's only writer; every task touching the warehouse runs in
the `duckdb_warehouse` pool of one slot, and `max_active_runs=1`.

With a provinces file (`DVC_PROVINCES_FILE`), one `build_marts__<slug>` per
province (its own Assets and pool `duckdb_warehouse__<slug>`), and
`national_ranking`, run whenever any province publishes: it ranks the
provinces on the 766 points from every province's published marts.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pendulum
from airflow.sdk import dag, task

from dichvucong.alerts import on_task_failure
from dichvucong.assets import NATIONAL_RANKING, province_assets
from dichvucong.provinces import Province, activated, load_provinces, suffix

# Seconds between a failed task's tries (DVC_RETRY_DELAY_SECONDS, default 120).
RETRY_DELAY = dt.timedelta(seconds=int(os.environ.get("DVC_RETRY_DELAY_SECONDS", "120")))


def make_build_dag(province: Province | None = None) -> Any:
    assets = province_assets(province)
    pool = assets.pool

    @dag(
        dag_id=f"build_marts{suffix(province)}",
        schedule=(assets.raw["catalog"] & assets.raw["dossiers"] & assets.raw["payments"]),
        start_date=pendulum.datetime(2022, 1, 1, tz="UTC"),
        catchup=False,
        max_active_runs=1,
        tags=["dbt", "marts", "quality", *([province.slug] if province else [])],
        default_args={"retries": 1, "retry_delay": RETRY_DELAY, "on_failure_callback": on_task_failure},
        doc_md=__doc__,
    )
    def build_marts() -> None:
        @task
        def check_landing() -> dict[str, Any]:
            from dichvucong.tasks import check_landing_accounts

            with activated(province):
                return check_landing_accounts()

        @task(retries=0)
        def check_freshness(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from dichvucong.tasks import check_freshness as freshness

            with activated(province):
                return freshness((context["dag_run"].conf or {}).get("as_of"))

        @task(pool=pool)
        def dbt_build(_: dict[str, Any], **context: Any) -> dict[str, Any]:
            from dichvucong.tasks import build_marts as build

            with activated(province):
                return build((context["dag_run"].conf or {}).get("as_of"))

        # A failed quality gate is not transient: no retry.
        @task(pool=pool, retries=0)
        def validate_marts(built: dict[str, Any]) -> dict[str, Any]:
            from dichvucong.tasks import validate_marts as validate

            with activated(province):
                return validate(built["as_of"][:10])

        @task(pool=pool, outlets=[assets.published])
        def publish(built: dict[str, Any], _: dict[str, Any], **context: Any) -> dict[str, Any]:
            from dichvucong.tasks import publish_marts

            with activated(province):
                return publish_marts(built["as_of"], context["run_id"])

        built = dbt_build(check_freshness(check_landing()))
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
        default_args={"retries": 1, "retry_delay": RETRY_DELAY, "on_failure_callback": on_task_failure},
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
