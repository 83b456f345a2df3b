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
        {{ payment_measures() }},
        sum(duplicate_rows)::bigint as duplicate_rows,
        coalesce(sum(amount_vnd) filter (where duplicate_rows > 0), 0)::bigint as duplicated_vnd
    from payments
    group by all
)

select * from final
