-- metrics.md, fees and reconciliation: each month's line adds up exactly,
-- collected - refunded = matched + orphan + timing + gap. Returns the months where it does not.
select
    month_start,
    sum(amount_vnd) filter (where component = 'collected') as collected_vnd,
    sum(amount_vnd) filter (where component = 'refunded') as refunded_vnd,
    sum(amount_vnd) filter (where component in ('matched', 'orphan', 'timing', 'gap')) as explained_vnd
from {{ ref('agg_fees_reconciliation_monthly') }}
group by month_start
having coalesce(sum(amount_vnd) filter (where component = 'collected'), 0)
    - coalesce(sum(amount_vnd) filter (where component = 'refunded'), 0)
    <> coalesce(sum(amount_vnd) filter (where component in ('matched', 'orphan', 'timing', 'gap')), 0)
