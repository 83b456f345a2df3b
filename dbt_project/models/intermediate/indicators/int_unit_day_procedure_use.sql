-- One row per (geography_basis, unit, received_day, service_code): the procedures the unit's agencies
-- received dossiers of that day, and what those dossiers did (metrics.md v2, "Period indicators": a
-- procedure counts as used in 3.2, 3.5a, 3.5b through dossiers received in the period by the unit's
-- agencies). int_unit_period_procedure_metrics rolls the days up to days and ISO weeks,
-- int_unit_month_procedure_use to months (and from them quarters and years); a refresh recomputes only
-- the days in scope, so a period is read from its days' or months' rows instead of from its dossiers.
-- Units of type province, department, district, commune and agency (a service's or a field's
-- procedures count through anyone's dossiers: int_day_procedure_use).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['event_day', 'received_day']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
-- depends_on: {{ ref('int_periods') }}
with received as (
    select {{ unit_membership_columns() }}, received_at, channel, fee_expected_vnd, paid_online_code
    from {{ ref('int_dossiers_joined_to_payments') }}
    where is_received and received_at is not null and service_code is not null
        {{ refresh_scope('event_day', "received_at::date", keyword='and') }}
),

-- Dossiers with the same day, units and facts together before their units are spread (many share them).
grouped as (
    select
        received_at::date as received_day, {{ unit_membership_columns() }},
        bool_or(channel = 'online') as has_online_dossier,
        bool_or(fee_expected_vnd > 0) as has_fee_data,
        bool_or(paid_online_code in (1, 2)) as has_online_payment
    from received
    group by all
),

-- Each day's units at its time (macros/unit_memberships.sql): an as_was unit moves to a successor on a
-- closing day, which a day decides exactly.
final as (
    select
        {{ unit_membership_keys('u') }},
        u.received_day,
        u.service_code,
        bool_or(u.has_online_dossier) as has_online_dossier,
        bool_or(u.has_fee_data) as has_fee_data,
        bool_or(u.has_online_payment) as has_online_payment
    from {{ spread_to_units('grouped', 'g', 'g.received_day::timestamp') }}
    where u.unit.unit_code is not null
        and u.unit.unit_type in ('province', 'department', 'district', 'commune', 'agency')
    group by all
)

select * from final
