-- One row per month of settlement: the province's reconciliation line of agg_fees_reconciliation_monthly
-- as officials read it, collected - refunded = matched + orphan + timing + gap (VND), with the payments
-- in the gap. The fees page and the monthly report read it.
with components as (
    select * from {{ ref('agg_fees_reconciliation_monthly') }}
),

final as (
    select
        month_start,
        coalesce(sum(amount_vnd) filter (where component = 'collected'), 0)::bigint as collected_vnd,
        coalesce(sum(amount_vnd) filter (where component = 'refunded'), 0)::bigint as refunded_vnd,
        coalesce(sum(amount_vnd) filter (where component = 'matched'), 0)::bigint as matched_vnd,
        coalesce(sum(amount_vnd) filter (where component = 'orphan'), 0)::bigint as orphan_vnd,
        coalesce(sum(amount_vnd) filter (where component = 'timing'), 0)::bigint as timing_vnd,
        coalesce(sum(amount_vnd) filter (where component = 'gap'), 0)::bigint as gap_vnd,
        coalesce(sum(payments) filter (where component = 'gap'), 0)::bigint as gap_payments
    from components
    group by month_start
)

select * from final
