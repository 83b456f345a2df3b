-- One row per (unit_type, unit_code, period_type, period_start) for the province,
-- agencies and districts by month, quarter and year (metrics.md, marts.kpi_766):
-- every period indicator, the Decision 766 points, points_total and the unit's
-- dense rank among units of the same type in the same period.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['period']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with indicators as (
    select * from {{ ref('agg_unit_period_indicators') }}
),

final as (
    select *
    from indicators
    where unit_type in ('{{ var("kpi_766_unit_types") | join("', '") }}')
        and period_type in ('{{ var("kpi_766_period_types") | join("', '") }}')
        {{ refresh_scope('period', keyword='and') }}
)

select * from final
