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
{{ procedure_use_by_month('int_day_procedure_use') }}
