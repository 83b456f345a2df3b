-- One row per (intermediary_code, transaction_id), its latest state (metrics.md, marts.fct_payments).
with payments as (
    select * from {{ ref('int_payments_deduplicated') }}
),

dossiers as (
    select dossier_id from {{ ref('int_dossiers_latest') }}
),

final as (
    select
        p.intermediary_code,
        p.transaction_id,
        p.dossier_id,
        p.amount_vnd,
        p.status,
        p.paid_at,
        p.settlement_date,
        case p.payment_channel_code when 1 then 'platform' when 2 then 'provincial_gateway' end as payment_channel,
        -- An orphan is a succeeded payment whose dossier the dossier source does not know.
        p.status = 'succeeded' and d.dossier_id is null as is_orphan,
        p.duplicate_rows::integer as duplicate_rows,
        p.conflicting_rows::integer as conflicting_rows,
        p.service_code,
        p.fee_kind_code,
        p.amount_vnd < 0 as is_refund,
        p.implausible_date_fields,
        p.source_file,
        p.batch_date
    from payments as p
    left join dossiers as d using (dossier_id)
)

select * from final
