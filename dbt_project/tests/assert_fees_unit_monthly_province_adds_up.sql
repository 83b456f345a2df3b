-- agg_fees_unit_monthly: the province of a (basis, month) scored with one province has every payment
-- settled in the month, so its collected, refunded and pending amounts equal agg_fees_daily's for the
-- month. Returns the (basis, month)s where they do not.
with unit_months as (
    select geography_basis, month_start, sum(collected_vnd) as collected_vnd, sum(refunded_vnd) as refunded_vnd,
        sum(pending_vnd) as pending_vnd, sum(orphan_vnd) as orphan_vnd
    from {{ ref('agg_fees_unit_monthly') }}
    where unit_type = 'province'
    group by all
),

single_provinces as (
    select geography_basis, period_start as month_start
    from {{ ref('kpi_766') }}
    where unit_type = 'province' and period_type = 'month'
    group by all
    having count(*) = 1
),

daily as (
    select date_trunc('month', settlement_date)::date as month_start, sum(collected_vnd) as collected_vnd,
        sum(refunded_vnd) as refunded_vnd, sum(pending_vnd) as pending_vnd, sum(orphan_vnd) as orphan_vnd
    from {{ ref('agg_fees_daily') }}
    group by all
)

select s.geography_basis, s.month_start, u.collected_vnd, d.collected_vnd as daily_collected_vnd
from single_provinces as s
inner join daily as d using (month_start)
left join unit_months as u using (geography_basis, month_start)
where u.collected_vnd is distinct from d.collected_vnd
    or u.refunded_vnd is distinct from d.refunded_vnd
    or u.pending_vnd is distinct from d.pending_vnd
    or u.orphan_vnd is distinct from d.orphan_vnd
