-- One row per dossier, its latest state (metrics.md v2, marts.fct_dossiers).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['dossier']},
) }}
-- depends_on: {{ ref('int_refresh_dossiers') }}
with dossiers as (
    select * from {{ ref('int_dossiers_joined_to_payments') }}
    {{ refresh_scope('dossier') }}
),

-- The office of a late dossier's first overrunning step (metrics.md v2, "Processing steps").
first_overrun as (
    select dossier_id, office_name as first_overrun_office
    from {{ ref('fct_processing_steps') }}
    where is_first_overrun_of_late_dossier
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
        department_code,
        commune_code,
        commune_code_current,
        legal_deadline_at,
        has_e_result,
        is_digitised,
        reuses_data,
        from_data_store,
        uses_population_data,
        is_synced,
        o.first_overrun_office,
        -- Columns beyond the published interface.
        province_code,
        province_code_current,
        department_code_current,
        current_agency_code,
        deadline_at,
        deadline_basis,
        is_completed,
        is_fee_bearing,
        is_digitised_766,
        meets_result_condition,
        agency_name,
        is_unknown_agency,
        paid_online_code_raw,
        has_unknown_paid_online_code,
        rejected_sync_records,
        conflicting_records,
        field_code,
        service_version_id,
        service_online_level,
        deadline_working_days,
        applicant_kind_code,
        round(applicant_wait_seconds / 3600.0, 3) as applicant_wait_hours,
        ended_net_at,
        is_overdue_at_as_of,
        days_overdue_at_as_of,
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
    left join first_overrun as o using (dossier_id)
)

select * from final
