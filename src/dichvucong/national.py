"""The national layer: every province's 766 scores side by side, ranked.

Reads each province's *published* marts (read-only; never a warehouse), so it
holds no province's lock and sees only marts that passed their gates. The
result, `national.kpi_766_provinces`, has the province rows of every
province's `marts.kpi_766` and `national_rank`: the dense rank on
`points_total` among the provinces scored in the same period (1 = best), as the
national scoring page shows. Built beside the old file and renamed over it.

Plain DuckDB SQL rather than a second dbt project: it is one union and one
window over files other pipelines published, with nothing to test that the
provinces' own dbt builds have not tested already.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import duckdb

from dichvucong.provinces import Province, national_path

log = logging.getLogger(__name__)

RATES = ("on_time_rate", "online_rate", "online_payment_rate", "e_result_rate", "digitised_rate")


def build_national(provinces: list[Province], target: Path | None = None) -> dict[str, Any]:
    target = target or national_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.with_name(f"building-{os.getpid()}-{target.name}")
    staging.unlink(missing_ok=True)
    published = [p for p in provinces if p.published_path.exists()]
    with duckdb.connect(str(staging)) as con:
        con.execute("create schema national")
        con.execute("create table national.publications (province_slug varchar, province_code varchar, "
                    "province_name varchar, as_of timestamp, published_at timestamptz, run_id varchar)")
        scores = []
        for province in published:
            alias = f"p_{province.slug}"  # slugs are [a-z0-9_]: safe as an identifier
            con.execute(f"attach ? as {alias} (read_only)", [str(province.published_path)])
            con.execute(f"insert into national.publications select ?, ?, ?, as_of, published_at, run_id "
                        f"from {alias}.meta.publication", [province.slug, province.code, province.name])
            scores.append(f"select '{province.slug}' as province_slug, k.* from {alias}.marts.kpi_766 as k "
                          f"where k.unit_type = 'province'")
        if not scores:  # no province has published yet: an empty table, typed by a query that returns none
            scores.append("select null::varchar as province_slug, * from (select null::varchar as unit_code, "
                          "null::varchar as unit_name, null::varchar as period_type, null::date as period_start, "
                          "null::date as period_end, null::boolean as is_complete, null::timestamp as measured_until, "
                          + ", ".join(f"null::{t} as {c}" for c, t in (
                              ("dossiers_received", "bigint"), ("dossiers_ended", "bigint"),
                              *((name, "double") for name in RATES), *((f"points_{n}", "double") for n in RATES),
                              ("points_total", "double"))) + ") where false")
        con.execute("create temp table province_scores as " + " union all by name ".join(scores))
        con.execute(
            """
            create table national.kpi_766_provinces as
            select
                province_slug, unit_code as province_code, unit_name as province_name, period_type,
                period_start, period_end, is_complete, measured_until, dossiers_received, dossiers_ended,
                on_time_rate, online_rate, online_payment_rate, e_result_rate, digitised_rate,
                points_on_time_rate, points_online_rate, points_online_payment_rate, points_e_result_rate,
                points_digitised_rate, points_total,
                case when points_total is not null then dense_rank() over (
                    partition by period_type, period_start, points_total is null
                    order by points_total desc) end as national_rank,
                count(points_total) over (partition by period_type, period_start) as provinces_ranked
            from province_scores
            order by period_type, period_start, national_rank nulls last, province_slug
            """
        )
        for province in published:
            con.execute(f"detach p_{province.slug}")
        con.execute("create table national.built as select ?::timestamptz as built_at, ? as provinces_published, "
                    "? as provinces_configured", [dt.datetime.now(dt.UTC), len(published), len(provinces)])
    os.replace(staging, target)
    log.info("national ranking of %d of %d provinces written to %s", len(published), len(provinces), target)
    return {"national": str(target), "provinces_published": len(published), "provinces": len(provinces)}
