-- One row per (geography_basis, unit, received_month, service_code): the days' rows of
-- int_unit_day_procedure_use in the month, merged (a procedure used on any day of the month is used
-- in it). int_unit_period_procedure_metrics reads months, quarters and years from these rows, so a
-- refresh that reaches a year reads its twelve months instead of its days.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['event_month', 'received_month']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
-- depends_on: {{ ref('int_periods') }}
{{ procedure_use_by_month('int_unit_day_procedure_use', ['geography_basis', 'unit_type', 'unit_code']) }}
