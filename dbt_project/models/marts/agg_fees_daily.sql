-- One row per (settlement_date, intermediary_code, payment_channel): what the reconciliation
-- files say that day, after duplicates are removed (latest state of each transaction).
with payments as (
    select * from {{ ref('fct_payments') }}
),

final as (
    select
        settlement_date,
        intermediary_code,
        payment_channel,
        count(*) filter (where status = 'succeeded' and amount_vnd >= 0) as payments_succeeded,
        coalesce(sum(amount_vnd) filter (where status = 'succeeded' and amount_vnd >= 0), 0)::bigint
            as collected_vnd,
        count(*) filter (where status = 'succeeded' and amount_vnd < 0) as refunds,
        coalesce(-sum(amount_vnd) filter (where status = 'succeeded' and amount_vnd < 0), 0)::bigint
            as refunded_vnd,
        count(*) filter (where status = 'pending') as payments_pending,
        coalesce(sum(amount_vnd) filter (where status = 'pending'), 0)::bigint as pending_vnd,
        count(*) filter (where status = 'failed') as payments_failed,
        count(*) filter (where is_orphan) as orphan_payments,
        coalesce(sum(amount_vnd) filter (where is_orphan), 0)::bigint as orphan_vnd,
        sum(duplicate_rows)::bigint as duplicate_rows,
        coalesce(sum(amount_vnd) filter (where duplicate_rows > 0), 0)::bigint as duplicated_vnd
    from payments
    group by all
)

select * from final
