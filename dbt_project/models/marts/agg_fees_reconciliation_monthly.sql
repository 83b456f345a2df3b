-- The province's monthly reconciliation line (metrics.md, fees and reconciliation), per month of
-- settlement (the day of the intermediaries' reconciliation files): every succeeded payment, after
-- duplicates are removed (fct_payments), falls in exactly one component, so that
--     collected - refunded = matched + orphan + timing + gap
-- holds per month (a dbt test). One row per (month_start, component, reconciliation_state):
--   collected  payments of 0 VND or more (reconciliation_state null);
--   refunded   refunds, as a positive amount (reconciliation_state null);
--   orphan     payments and refunds whose dossier the dossier source does not know;
--   matched    payments and refunds of dossiers received in the month of settlement whose
--              reconciliation state is matched;
--   timing     payments and refunds of known dossiers received in another month, or not received
--              (yet): they reconcile in the month their dossier is received;
--   gap        payments and refunds of dossiers received in the month whose state is not matched
--              (underpaid, overpaid, ...): what the month leaves to explain, by state.
with payments as (
    select
        date_trunc('month', p.settlement_date)::date as month_start,
        p.amount_vnd,
        p.is_orphan,
        d.reconciliation_state,
        coalesce(d.received_at >= date_trunc('month', p.settlement_date)
                 and d.received_at < date_trunc('month', p.settlement_date) + interval 1 month, false)
            as received_that_month
    from {{ ref('fct_payments') }} as p
    left join {{ ref('fct_dossiers') }} as d
        on d.dossier_id = p.dossier_id and not p.is_orphan
    where p.status = 'succeeded'
),

components as (
    select
        month_start,
        case
            when is_orphan then 'orphan'
            when not received_that_month then 'timing'
            when reconciliation_state = 'matched' then 'matched'
            else 'gap'
        end as component,
        case when not is_orphan then reconciliation_state end as reconciliation_state,
        amount_vnd
    from payments
    union all
    select month_start, case when amount_vnd >= 0 then 'collected' else 'refunded' end, null, abs(amount_vnd)
    from payments
),

final as (
    select
        month_start,
        component,
        reconciliation_state,
        count(*) as payments,
        sum(amount_vnd)::bigint as amount_vnd
    from components
    group by all
)

select * from final
