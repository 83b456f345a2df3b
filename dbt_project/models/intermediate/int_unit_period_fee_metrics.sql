-- One row per (unit, period): succeeded payments (refunds negative) by
-- ThoiGianGiaoDich. The province counts orphans too; every other unit is
-- credited through the paid dossier.
with payments as (
    select * from {{ ref('int_payments_deduplicated') }} where status = 'succeeded'
),

dossiers as (
    select dossier_id, agency_code, district_code, service_code, field_code from {{ ref('int_dossiers_lifecycle') }}
),

periods as (
    select * from {{ ref('int_periods') }}
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
