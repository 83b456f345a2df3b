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
{{ require_month_periods() }}
select
    geography_basis,
    unit_type,
    unit_code,
    date_trunc('month', received_day)::date as received_month,
    service_code,
    bool_or(has_online_dossier) as has_online_dossier,
    bool_or(has_fee_data) as has_fee_data,
    bool_or(has_online_payment) as has_online_payment
from {{ ref('int_unit_day_procedure_use') }}
{{ refresh_scope('event_month', "date_trunc('month', received_day)::date") }}
group by all
