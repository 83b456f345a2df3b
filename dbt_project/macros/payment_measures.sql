{#- The measures of a set of payments (fct_payments rows) that the fee marts share: succeeded payments
    and what they collected, refunds (as positive amounts), pending and failed payments, orphans (a
    succeeded payment whose dossier the dossier source does not know). Counts, and amounts in VND. -#}
{% macro payment_measures() -%}
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
        coalesce(sum(amount_vnd) filter (where is_orphan), 0)::bigint as orphan_vnd
{%- endmacro %}
