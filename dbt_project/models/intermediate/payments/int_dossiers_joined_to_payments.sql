-- One row per dossier: fees expected against what was paid online, and the
-- reconciliation state of metrics.md ("Fee reconciliation").
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['dossier']},
) }}
-- depends_on: {{ ref('int_refresh_dossiers') }}
with dossiers as (
    select * from {{ ref('int_dossiers_lifecycle') }}
    {{ refresh_scope('dossier') }}
),

payments as (
    select * from {{ ref('int_payments_deduplicated') }}
),

paid as (
    select
        dossier_id,
        sum(amount_vnd) as fee_paid_vnd,
        count(*) as succeeded_transactions
    from payments
    where status = 'succeeded'
    group by dossier_id
),

joined as (
    select
        d.*,
        coalesce(p.fee_paid_vnd, 0)::bigint as fee_paid_vnd,
        coalesce(p.succeeded_transactions, 0) as succeeded_transactions
    from dossiers as d
    left join paid as p using (dossier_id)
),

final as (
    select
        *,
        case
            when fee_expected_vnd > 0 and fee_paid_vnd = fee_expected_vnd then 'matched'
            when fee_paid_vnd > 0 and fee_paid_vnd < fee_expected_vnd then 'underpaid'
            when fee_paid_vnd > fee_expected_vnd then 'overpaid'
            when fee_paid_vnd = 0 and fee_expected_vnd > 0 and paid_online_code in (1, 2) then 'unpaid_online'
            when fee_paid_vnd = 0 and fee_expected_vnd > 0 and coalesce(paid_online_code, 0) = 0 then 'no_online_payment'  -- 0 or an unknown code
            when fee_paid_vnd = 0 and fee_expected_vnd = 0 then 'not_applicable'
            -- Not in metrics.md's table: refunds exceed payments (paid < 0).
            else 'refunded_beyond_paid'
        end as reconciliation_state
    from joined
)

select * from final
