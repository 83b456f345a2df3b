-- One row per (geography_basis, unit_type, unit_code, month_start, intermediary_code, payment_channel):
-- the online fee payments a unit's dossiers settled in a month (the month of the reconciliation files'
-- settlement day), after duplicates are removed (fct_payments): collected, refunded, pending and failed,
-- orphans and duplicate rows, in VND. The report's fee section for any unit reads it.
-- A payment belongs to the units of its dossier (fct_dossiers, on either basis). The province of a
-- (basis, month) with one province in kpi_766 is credited with every payment of the month, orphans and
-- payments of dossiers without a known agency included: so its rows add up to agg_fees_daily's month.
-- Where a basis has several provinces in a month (as_was before 1 July 2025), each has the payments of
-- its dossiers, and an orphan belongs to none.
{% set unit_columns = {
    ('as_was', 'province'): 'province_code', ('current', 'province'): 'province_code_current',
    ('as_was', 'department'): 'department_code', ('current', 'department'): 'department_code_current',
    ('as_was', 'district'): 'district_code', ('current', 'district'): 'district_code',
    ('as_was', 'commune'): 'commune_code', ('current', 'commune'): 'commune_code_current',
    ('as_was', 'agency'): 'agency_code', ('current', 'agency'): 'current_agency_code',
} %}
with payments as (
    select *, date_trunc('month', settlement_date)::date as month_start
    from {{ ref('fct_payments') }}
    where settlement_date is not null
),

-- The (basis, month)s scored with a single province, and its code.
single_provinces as (
    select geography_basis, period_start as month_start, any_value(unit_code) as unit_code
    from {{ ref('kpi_766') }}
    where unit_type = 'province' and period_type = 'month'
    group by all
    having count(*) = 1
),

-- The dossiers paid for, read once (a year of a province has hundreds of thousands of dossiers and
-- a few thousand payments: unpivoting every dossier's ten unit columns cost most of this model).
paid_dossiers as (
    select *
    from {{ ref('fct_dossiers') }}
    where dossier_id in (select dossier_id from payments)
),

dossier_units as (
    {% for (basis, unit_type), column in unit_columns.items() %}
    select dossier_id, '{{ basis }}' as geography_basis, '{{ unit_type }}' as unit_type, {{ column }} as unit_code
    from paid_dossiers
    where {{ column }} is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

credited as (
    select u.geography_basis, u.unit_type, u.unit_code, p.*
    from payments as p
    inner join dossier_units as u using (dossier_id)
    where not (u.unit_type = 'province' and exists (
        select 1 from single_provinces as s
        where s.geography_basis = u.geography_basis and s.month_start = p.month_start
    ))
    union all
    select s.geography_basis, 'province', s.unit_code, p.*
    from payments as p
    inner join single_provinces as s using (month_start)
),

final as (
    select
        geography_basis,
        unit_type,
        unit_code,
        month_start,
        intermediary_code,
        payment_channel,
        {{ payment_measures() }},
        coalesce(sum(amount_vnd) filter (where status = 'succeeded'), 0)::bigint as net_vnd,
        coalesce(sum(duplicate_rows), 0)::bigint as duplicate_rows
    from credited
    group by all
)

select * from final
