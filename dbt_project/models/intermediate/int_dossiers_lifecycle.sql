-- One row per dossier: its lifecycle by the rules of metrics.md ("Dossier
-- lifecycle"), judged from its latest state at the build's as-of time.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'refresh_scope': ['dossier']},
    pre_hook="{{ refresh_delete_scope() }}",
) }}
-- depends_on: {{ ref('int_refresh_dossiers') }}
with dossiers as (
    select * from {{ ref('int_dossiers_latest') }}
    {{ refresh_scope('dossier') }}
),

supplements as (
    select * from {{ ref('int_dossier_supplements_unnested') }}
),

services as (
    select * from {{ ref('int_services_versioned') }}
),

calendar as (
    select * from {{ ref('int_calendar_days') }}
),

as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

states as (
    select
        d.*,
        a.as_of_at,
        d.status_code not in (1, 3) as is_received,
        d.status_code in (7, 8, 9, 10) as is_ended,
        case
            when d.status_code in (7, 8, 9, 10)
                then coalesce(d.processing_finished_at, d.returned_at, d.refused_at)
        end as ended_at,
        list_sum(list_transform(d.fee_lines, lambda x: x.amount_vnd)) as fee_lines_total_vnd,
        len(d.supplement_rounds) as supplement_rounds_count
    from dossiers as d
    cross join as_of as a
),

-- applicant_wait: an unanswered round counts up to ended_at, or up to the as-of time.
waits as (
    select
        st.dossier_id,
        sum(
            epoch(coalesce(s.supplied_at, st.ended_at, st.as_of_at)) - epoch(s.requested_at)
        ) as applicant_wait_seconds,
        -- The wait as seen at the as-of time, for "overdue in progress" now.
        sum(
            case when s.requested_at < st.as_of_at then
                epoch(least(coalesce(s.supplied_at, st.as_of_at), st.as_of_at)) - epoch(s.requested_at)
            else 0 end
        ) as applicant_wait_at_as_of_seconds
    from states as st
    inner join supplements as s using (dossier_id)
    group by st.dossier_id
),

-- The catalog version valid on the submission day; before the first snapshot, the first version.
service_versions as (
    select
        st.dossier_id,
        sv.service_version_id,
        sv.field_code,
        sv.online_level,
        sv.deadline_working_days
    from states as st
    inner join services as sv
        on sv.service_code = st.service_code
        and (
            (st.submitted_at::date >= sv.valid_from and (sv.valid_to is null or st.submitted_at::date < sv.valid_to))
            or (sv.version_number = 1 and st.submitted_at::date < sv.valid_from)
        )
),

-- The dossier's agency and the agencies above it, as the agency list stands on its reception day
-- (its submission day if never received): metrics.md v2, "Units and their history".
agency_units as (
    select
        st.dossier_id,
        a0.agency_name,
        a0.agency_level,
        {{ agency_chain_first("length(a.admin_unit_code) = 3", "a.admin_unit_code") }} as district_code,
        {{ agency_chain_first("length(a.admin_unit_code) = 5", "a.admin_unit_code") }} as commune_code,
        -- A department: a province-level agency whose parent is the province's people's committee
        -- (or that has no parent), not that committee itself.
        case
        {%- for level in range(0, 3) %}
            when a{{ level }}.agency_level = 'TINH' and not a{{ level }}.is_province_committee
                and (a{{ level }}.parent_agency_code is null or a{{ level + 1 }}.is_province_committee)
                then a{{ level }}.agency_code
        {%- endfor %}
        end as department_code,
        a0.agency_code is null as is_unknown_agency
    from states as st
    {{ agency_chain_joins('st', 'coalesce(st.received_at, st.submitted_at)::date') }}
),

timed as (
    select
        st.*,
        au.district_code,
        au.commune_code,
        au.department_code,
        au.agency_name,
        coalesce(au.is_unknown_agency, true) as is_unknown_agency,
        coalesce(w.applicant_wait_seconds, 0) as applicant_wait_seconds,
        coalesce(w.applicant_wait_at_as_of_seconds, 0) as applicant_wait_at_as_of_seconds,
        st.ended_at - to_microseconds(round(coalesce(w.applicant_wait_seconds, 0) * 1e6)::bigint)
            as ended_net_at,
        sv.service_version_id,
        sv.field_code,
        sv.online_level as service_online_level,
        sv.deadline_working_days
    from states as st
    left join waits as w using (dossier_id)
    left join service_versions as sv using (dossier_id)
    left join agency_units as au using (dossier_id)
),

scored as (
    select
        t.*,
        case
            when not t.is_ended or t.ended_at is null or t.due_at is null then null
            else t.ended_net_at <= t.due_at and t.supplement_rounds_count <= 1
        end as is_on_time,
        -- greatest() skips nulls in DuckDB: both days must be in the calendar.
        case
            when t.is_ended and end_day.working_day_index is not null and received_day.working_day_index is not null
                then greatest(0, end_day.working_day_index - received_day.working_day_index)
        end as processing_working_days,
        end_day.is_working_day as ended_net_on_working_day
    from timed as t
    left join calendar as end_day on end_day.calendar_date = t.ended_net_at::date
    left join calendar as received_day on received_day.calendar_date = t.received_at::date
),

final as (
    select
        dossier_id,
        service_code,
        service_version_id,
        field_code,
        service_online_level,
        deadline_working_days,
        agency_code,
        agency_name,
        is_unknown_agency,
        department_code,
        district_code,
        commune_code,
        channel_code,
        case channel_code when 1 then 'in_person' when 2 then 'online' when 3 then 'postal' end as channel,
        applicant_kind_code,
        status_code,
        submitted_at,
        received_at,
        due_at,
        processing_finished_at,
        returned_at,
        refused_at,
        ended_at,
        ended_net_at,
        is_received,
        is_ended,
        is_on_time,
        -- early: on time, and the net end falls on a working day before the due day.
        case
            when is_on_time is null then null
            else is_on_time and coalesce(ended_net_on_working_day, false) and ended_net_at::date < due_at::date
        end as is_early,
        -- Overdue in progress at the as-of time T: T - applicant_wait > due_at.
        case
            when is_received and not is_ended and due_at is not null
                then as_of_at - to_microseconds(round(applicant_wait_at_as_of_seconds * 1e6)::bigint) > due_at
        end as is_overdue_at_as_of,
        supplement_rounds_count as supplement_rounds,
        supplement_rounds as supplement_round_list,
        applicant_wait_seconds,
        processing_working_days,
        paid_online_code,
        case paid_online_code when 0 then 'none' when 1 then 'platform' when 2 then 'provincial_gateway'
            else 'unknown' end as paid_online_via,
        paid_online_code_raw,
        has_unknown_paid_online_code,
        has_e_result,
        is_digitised,
        reuses_data,
        from_data_store,
        uses_population_data,
        is_synced,
        sync_records,
        rejected_sync_records,
        conflicting_records,
        coalesce(fee_lines_total_vnd, 0)::bigint as fee_expected_vnd,
        coalesce(list_bool_or(list_transform(fee_lines, lambda x: x.amount_vnd < 0)), false) as has_negative_fee,
        implausible_date_fields,
        -- Contract rules a valid record meets (sources.md); a breach is kept and flagged.
        not (
            coalesce(received_at >= submitted_at, true)
            and coalesce(processing_finished_at >= received_at, true)
            and coalesce(returned_at >= processing_finished_at, true)
        ) as has_date_order_issue,
        coalesce(due_at < received_at, false) as has_due_before_received,
        (status_code >= 2 and status_code <> 3 and received_at is null) as is_missing_received_at,
        (status_code in (9, 10) and processing_finished_at is null) as is_missing_finished_at,
        (is_received and due_at is null) as is_missing_due_at,
        updated_at,
        first_batch_date,
        batch_date as last_batch_date
    from scored
)

select * from final
