-- One row per dossier, its latest state (metrics.md, marts.fct_dossiers).
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'refresh_scope': ['dossier']},
    pre_hook="{{ refresh_delete_scope() }}",
) }}
-- depends_on: {{ ref('int_refresh_dossiers') }}
with dossiers as (
    select * from {{ ref('int_dossiers_joined_to_payments') }}
    {{ refresh_scope('dossier') }}
),

final as (
    select
        dossier_id,
        service_code,
        agency_code,
        district_code,
        channel,
        status_code,
        submitted_at,
        received_at,
        due_at,
        ended_at,
        is_received,
        is_ended,
        is_on_time,
        is_early,
        supplement_rounds,
        processing_working_days,
        fee_expected_vnd,
        fee_paid_vnd,
        reconciliation_state,
        paid_online_via,
        -- Columns beyond the published interface.
        field_code,
        service_version_id,
        service_online_level,
        deadline_working_days,
        applicant_kind_code,
        round(applicant_wait_seconds / 3600.0, 3) as applicant_wait_hours,
        ended_net_at,
        has_e_result,
        is_digitised,
        is_overdue_at_as_of,
        has_date_order_issue,
        has_due_before_received,
        is_missing_received_at,
        is_missing_finished_at,
        is_missing_due_at,
        has_negative_fee,
        implausible_date_fields,
        updated_at,
        sync_records
    from dossiers as d
)

select * from final
