"""The national layer: every province's 766 scores side by side, ranked.

Reads each province's *published* marts (read-only; never a warehouse), so it
holds no province's lock and sees only marts that passed their gates. The
result, `national.kpi_766_provinces`, has the province rows of every
province's `marts.kpi_766` on both geography bases (metrics.md, "Units and
their history"): `as_was` ranks the provinces that existed in each period (63
until 30 June 2025, 34 after: a merged province's pipeline publishes the three
old provinces before July), `current` the history recast onto today's
provinces, so that a merged province's months before and after 1 July 2025
carry one code and one line. Until their pipelines are joined, two provinces
that merged both publish rows under the merged province's code, each for its
own dossiers; `province_slug` tells them apart. `national_rank` is the dense
rank on `points_total` among the provinces scored in the same period and basis
(1 = best), as the national scoring page shows.

Columns follow each province's points table (`marts.dim_766_indicators`): the
rate and `points_<indicator>` of every indicator it scores, its group columns,
`points_total` and `points_measurable`; nothing here lists the indicators. A
province whose points table differs simply brings other columns (null for the
others). Until a province publishes, the table has only the identifying,
count and total columns. Built beside the old file and renamed over it.

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

BASES = "('as_was', 'current')"
# Identifying and count columns every province row has, whatever its points table.
FIXED = (("geography_basis", "varchar"), ("unit_code", "varchar"), ("unit_name", "varchar"),
         ("period_type", "varchar"), ("period_start", "date"),
         ("period_end", "date"), ("is_complete", "boolean"), ("measured_until", "timestamp"),
         ("spans_reorganisation", "boolean"), ("dossiers_received", "bigint"), ("dossiers_ended", "bigint"),
         ("points_total", "double"), ("points_measurable", "double"))


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _indicator_columns(con: duckdb.DuckDBPyConnection, alias: str) -> list[str]:
    """The columns of a province's kpi_766 that its points table names, in the table's order: each
    measurable indicator's rate and, when scored, its points; then the group columns."""
    rows = con.execute(
        f"""
        with d as (
            select *, row_number() over (order by group_code, indicator_code) as ord
            from {alias}.marts.dim_766_indicators
        )
        select name from (
            select indicator_name as name, ord, 0 as kind from d where is_measurable and indicator_name is not null
            union all
            select 'points_' || indicator_name, ord, 1 from d where is_scored
            union all
            select group_column, min(ord), 2 from d group by group_column
        )
        order by kind, ord
        """).fetchall()
    present = {name for (name,) in con.execute(
        "select column_name from duckdb_columns() where database_name = ? and schema_name = 'marts' "
        "and table_name = 'kpi_766'", [alias]).fetchall()}
    fixed = {name for name, _ in FIXED}
    return list(dict.fromkeys(name for (name,) in rows if name in present and name not in fixed))


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
        extra: list[str] = []
        for province in published:
            alias = f"p_{province.slug}"  # slugs are [a-z0-9_]: safe as an identifier
            con.execute(f"attach ? as {alias} (read_only)", [str(province.published_path)])
            con.execute(f"insert into national.publications select ?, ?, ?, as_of, published_at, run_id "
                        f"from {alias}.meta.publication", [province.slug, province.code, province.name])
            indicators = _indicator_columns(con, alias)
            extra += [name for name in indicators if name not in extra]
            # Column names come from the province's own catalogue of its kpi_766 (checked above).
            listed = ", ".join([name for name, _ in FIXED] + [_quoted(name) for name in indicators])
            scores.append(f"select '{province.slug}' as province_slug, {listed} from {alias}.marts.kpi_766 "
                          f"where unit_type = 'province' and geography_basis in {BASES} "
                          # A province row with no dossier (one holding only orphan payments) is not
                          # a province the pipeline scored.
                          "and (dossiers_received > 0 or dossiers_ended > 0)")
        if not scores:  # no province has published yet: an empty table, typed by a query that returns none
            scores.append("select null::varchar as province_slug, "
                          + ", ".join(f"null::{kind} as {name}" for name, kind in FIXED) + " where false")
        con.execute("create temp table province_scores as " + " union all by name ".join(scores))
        rest = "".join(f", {_quoted(name)}" for name in extra)
        con.execute(
            f"""
            create table national.kpi_766_provinces as
            select
                province_slug, unit_code as province_code, unit_name as province_name, period_type,
                period_start, period_end, is_complete, measured_until, spans_reorganisation,
                geography_basis, dossiers_received, dossiers_ended{rest},
                points_total, points_measurable,
                case when points_total is not null then dense_rank() over (
                    partition by geography_basis, period_type, period_start, points_total is null
                    order by points_total desc) end as national_rank,
                count(points_total) over (partition by geography_basis, period_type, period_start)
                    as provinces_ranked
            from province_scores
            order by geography_basis, period_type, period_start, national_rank nulls last, province_slug
            """
        )
        for province in published:
            con.execute(f"detach p_{province.slug}")
        con.execute("create table national.built as select ?::timestamptz as built_at, ? as provinces_published, "
                    "? as provinces_configured", [dt.datetime.now(dt.UTC), len(published), len(provinces)])
    os.replace(staging, target)
    log.info("national ranking of %d of %d provinces written to %s", len(published), len(provinces), target)
    return {"national": str(target), "provinces_published": len(published), "provinces": len(provinces)}
