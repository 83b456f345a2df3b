-- One row per (received_day, service_code) with dossiers received that day by any agency, and what
-- they did: how a service or a field unit (no agency) uses its procedures (metrics.md v2, "Period
-- indicators": 3.2, 3.5a, 3.5b for a service or a field count dossiers received by anyone).
-- int_unit_period_procedure_metrics rolls the days up to days and ISO weeks, int_month_procedure_use to
-- months (and from them quarters and years); a refresh recomputes only the days in scope.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['event_day', 'received_day']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
-- depends_on: {{ ref('int_periods') }}
with received as (
    select service_code, received_at, channel, fee_expected_vnd, paid_online_code
    from {{ ref('int_dossiers_joined_to_payments') }}
    where is_received and received_at is not null and service_code is not null
        {{ refresh_scope('event_day', "received_at::date", keyword='and') }}
),

final as (
    select
        received_at::date as received_day,
        service_code,
        bool_or(channel = 'online') as has_online_dossier,
        bool_or(fee_expected_vnd > 0) as has_fee_data,
        bool_or(paid_online_code in (1, 2)) as has_online_payment
    from received
    group by all
)

select * from final
