-- One row per (received_month, service_code): the days' rows of int_day_procedure_use in the month,
-- merged (service and field units: dossiers received by anyone). int_unit_period_procedure_metrics
-- reads months, quarters and years from these rows.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['event_month', 'received_month']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
-- depends_on: {{ ref('int_periods') }}
{{ require_month_periods() }}
select
    date_trunc('month', received_day)::date as received_month,
    service_code,
    bool_or(has_online_dossier) as has_online_dossier,
    bool_or(has_fee_data) as has_fee_data,
    bool_or(has_online_payment) as has_online_payment
from {{ ref('int_day_procedure_use') }}
{{ refresh_scope('event_month', "date_trunc('month', received_day)::date") }}
group by all
