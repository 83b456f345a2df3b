-- One row per (unit_type, unit_code, period_type, period_start) for every unit
-- (province, agency, district, service, field) and every period (day, ISO week,
-- month, quarter, year): the indicators of metrics.md with points and ranks.
-- Days and weeks have rows only for units with activity or backlog in them.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['period']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
select * from {{ ref('int_unit_period_indicators') }}
{{ refresh_scope('period') }}
