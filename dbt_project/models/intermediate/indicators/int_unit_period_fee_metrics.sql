-- One row per (unit, period): succeeded payments (refunds negative) by
-- ThoiGianGiaoDich, in both geography bases. The province counts orphans too; every other unit is
-- credited through the paid dossier. Incremental: the periods in scope hold the
-- days of every changed payment (each version's) and of the payments of every
-- changed dossier (int_refresh_periods).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['period']},
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
    select dossier_id, {{ unit_membership_columns() }} from {{ ref('int_dossiers_lifecycle') }}
),

attributed as (
    select
        u.amount_vnd,
        u.paid_at,
        {{ unit_membership_keys('u') }}
    from (
        select p.amount_vnd, p.paid_at, unnest({{ unit_memberships('d', 'p.paid_at') }}) as unit
        from payments as p
        inner join dossiers as d using (dossier_id)
    ) as u
    where u.unit.unit_code is not null
    union all
    -- An orphan (no dossier) is credited to the province this pipeline serves (var province_code): on
    -- the `as_was` basis to the unit that code named on the payment's day (the merged province once
    -- the official crosswalk's reorganisation took effect), on the `current` basis to today's.
    select p.amount_vnd, p.paid_at, basis.geography_basis, 'province',
        case
            when basis.geography_basis = 'current' or p.paid_at::date >= x.effective_date
                then coalesce(x.current_unit_code, '{{ var("province_code") }}')
            else '{{ var("province_code") }}'
        end
    from payments as p
    cross join (values ('as_was'), ('current')) as basis(geography_basis)
    left join (
        select * from {{ ref('int_admin_unit_successors') }}
        where unit_level = 'province' and unit_code = '{{ var("province_code") }}'
        qualify row_number() over (order by effective_date desc) = 1
    ) as x on true
    where not exists (select 1 from dossiers as d where d.dossier_id = p.dossier_id)
),

final as (
    select
        a.geography_basis,
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
