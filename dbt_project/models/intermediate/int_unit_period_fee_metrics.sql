-- One row per (unit, period): succeeded payments (refunds negative) by
-- ThoiGianGiaoDich. The province counts orphans too; every other unit is
-- credited through the paid dossier. Incremental: the periods in scope hold the
-- days of every changed payment (each version's) and of the payments of every
-- changed dossier (int_refresh_periods).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'refresh_scope': ['period']},
    pre_hook="{{ refresh_delete_scope() }}",
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with periods as (
    select * from {{ ref('int_periods') }}
    {{ refresh_scope('period') }}
),

payments as (
    select * from {{ ref('int_payments_deduplicated') }}
    where status = 'succeeded'
    {% if refresh_is_scoped() %}
        and paid_at >= (select min(period_start) from periods)::timestamp
        and paid_at < (select max(period_end) from periods)::timestamp
    {% endif %}
),

dossiers as (
    select dossier_id, agency_code, district_code, service_code, field_code from {{ ref('int_dossiers_lifecycle') }}
),

attributed as (
    select
        p.amount_vnd,
        p.paid_at,
        u.unit.unit_type as unit_type,
        u.unit.unit_code as unit_code
    from payments as p
    left join dossiers as d using (dossier_id),
        {{ unit_memberships('d') }} as u(unit)
    where u.unit.unit_code is not null
),

final as (
    select
        a.unit_type,
        a.unit_code,
        p.period_type,
        p.period_start,
        sum(a.amount_vnd)::bigint as fees_collected_online_vnd
    from attributed as a
    inner join periods as p
        on a.paid_at >= p.period_start::timestamp and a.paid_at < p.period_end::timestamp
    group by all
)

select * from final
