-- One row per dossier: its lifecycle by the rules of metrics.md ("Dossier
-- lifecycle"), judged from its latest state at the build's as-of time.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['dossier']},
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
        sv.deadline_working_days,
        sv.deadline_value,
        sv.deadline_unit,
        sv.has_fee,
        sv.has_paper_result
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
-- `as_was` units; where the agency closed with a successor (MaCoQuanKeThua), the successor's units
-- as the list stands on the closing day (they hold for periods ending after it); and the `current`
-- units: today's agency (int_agencies_versioned.current_agency_code) as the list states it last,
-- with communes and provinces recast by the official crosswalk
-- (int_admin_unit_successors).
agency_units as (
    select
        st.dossier_id,
        a0.agency_name,
        a0.agency_level,
        {{ agency_chain_units('a') }},
        a0.agency_code is null as is_unknown_agency,
        case when s0.agency_code is not null then last.valid_to end as agency_closed_on,
        s0.agency_code as successor_agency_code,
        {{ agency_chain_units('s', 'successor_') }},
        coalesce(c0.agency_code, st.agency_code) as current_agency_code,
        {{ agency_chain_units('c', 'current_tree_') }}
    from states as st
    {{ agency_chain_joins('st', 'coalesce(st.received_at, st.submitted_at)::date') }}
    -- The agency's last version: where it closed with a successor, and today's agency (a code read
    -- after it closed has no version on the day, but still its successor).
    left join (
        select agency_code, valid_to, successor_agency_code, current_agency_code, current_agency_since
        from {{ ref('int_agencies_versioned') }}
        qualify row_number() over (partition by agency_code order by valid_from desc) = 1
    ) as last on last.agency_code = st.agency_code
    {{ agency_chain_joins('st', 'last.valid_to', prefix='s', agency_expr='last.successor_agency_code') }}
    {{ agency_chain_joins('st', 'last.current_agency_since', prefix='c', agency_expr='last.current_agency_code') }}
),

-- A dossier without a known agency belongs to the province whose people's committee code ends as
-- its agency's code does (the province's level-1 suffix of Decision 20/2020/QĐ-TTg, e.g. H62).
province_committees as (
    select agency_code, admin_unit_code, valid_from, valid_to, split_part(agency_code, '.', 4) as code_suffix
    from {{ ref('int_agencies_versioned') }}
    where is_province_committee
),

with_province as (
    select
        au.*,
        coalesce(au.received_day, au.submitted_day) as unit_day,
        coalesce(au.province_code, pc.admin_unit_code) as known_province_code
    from (
        select a.*, st.received_at::date as received_day, st.submitted_at::date as submitted_day,
            st.agency_code as synced_agency_code
        from agency_units as a
        inner join states as st using (dossier_id)
    ) as au
    left join province_committees as pc
        on au.province_code is null
        and pc.code_suffix = split_part(au.synced_agency_code, '.', 4)
        and coalesce(au.received_day, au.submitted_day) >= pc.valid_from
        and (coalesce(au.received_day, au.submitted_day) < pc.valid_to or pc.valid_to is null)
),

successors as (
    select * from {{ ref('int_admin_unit_successors') }}
),

-- The official crosswalk (int_admin_unit_successors): the commune and province codes as read on the
-- dossier's unit day, mapped through the first reorganisation after that day.
with_commune_successor as (
    select w.*, x.current_unit_code as crosswalk_commune_code
    from with_province as w
    asof left join (select * from successors where unit_level = 'commune') as x
        on x.unit_code = w.commune_code and w.unit_day < x.effective_date
),

unit_codes as (
    select w.*, x.current_unit_code as crosswalk_province_code
    from with_commune_successor as w
    asof left join (select * from successors where unit_level = 'province') as x
        on x.unit_code = w.known_province_code and w.unit_day < x.effective_date
),

timed as (
    select
        st.*,
        au.known_province_code as province_code,
        au.district_code,
        au.commune_code,
        au.department_code,
        au.agency_closed_on,
        au.successor_agency_code,
        au.successor_province_code,
        au.successor_department_code,
        au.successor_district_code,
        au.successor_commune_code,
        au.current_agency_code,
        coalesce(au.crosswalk_province_code, au.current_tree_province_code, au.known_province_code)
            as province_code_current,
        au.current_tree_department_code as department_code_current,
        coalesce(au.crosswalk_commune_code, au.current_tree_commune_code) as commune_code_current,
        au.agency_name,
        coalesce(au.is_unknown_agency, true) as is_unknown_agency,
        coalesce(w.applicant_wait_seconds, 0) as applicant_wait_seconds,
        coalesce(w.applicant_wait_at_as_of_seconds, 0) as applicant_wait_at_as_of_seconds,
        st.ended_at - to_microseconds(round(coalesce(w.applicant_wait_seconds, 0) * 1e6)::bigint)
            as ended_net_at,
        sv.service_version_id,
        sv.field_code,
        sv.online_level as service_online_level,
        sv.deadline_working_days,
        sv.deadline_value,
        sv.deadline_unit,
        coalesce(sv.has_fee, false) as service_has_fee,
        coalesce(sv.has_paper_result, false) as service_has_paper_result
    from states as st
    left join waits as w using (dossier_id)
    left join service_versions as sv using (dossier_id)
    left join unit_codes as au using (dossier_id)
),

-- legal_deadline_at (metrics.md v2): for a received dossier whose procedure has a deadline, the end
-- (23:59:59) of the Nth working day after the reception day (the reception day itself for N = 0),
-- of the Nth calendar day after it, or of the same day N months later; received_at + N hours.
deadlines as (
    select
        t.*,
        case
            when not t.is_received or t.received_at is null or t.deadline_value is null or t.deadline_value < 0
                then null
            when t.deadline_unit = 'Gio' then t.received_at + to_hours(t.deadline_value::bigint)
            when t.deadline_unit = 'Ngay'
                then (t.received_at::date + t.deadline_value::integer)::timestamp + interval '23:59:59'
            when t.deadline_unit = 'Thang'
                then (t.received_at::date + to_months(t.deadline_value::integer))::date::timestamp
                    + interval '23:59:59'
            when t.deadline_unit = 'NgayLamViec' and t.deadline_value = 0
                then t.received_at::date::timestamp + interval '23:59:59'
            when t.deadline_unit = 'NgayLamViec'
                then legal_day.calendar_date::timestamp + interval '23:59:59'
        end as legal_deadline_at
    from timed as t
    left join calendar as reception_day on reception_day.calendar_date = t.received_at::date
    left join calendar as legal_day
        on t.deadline_unit = 'NgayLamViec'
        and legal_day.is_working_day
        and legal_day.working_day_index = reception_day.working_day_index + t.deadline_value
        and legal_day.calendar_date > t.received_at::date
),

-- The deadline a dossier is judged by: due_at, else legal_deadline_at (metrics.md v2).
judged as (
    select *, coalesce(due_at, legal_deadline_at) as deadline_at
    from deadlines
),

scored as (
    select
        t.*,
        case
            when not t.is_ended or t.ended_at is null or t.deadline_at is null then null
            else t.ended_net_at <= t.deadline_at and t.supplement_rounds_count <= 1
        end as is_on_time,
        -- greatest() skips nulls in DuckDB: both days must be in the calendar.
        case
            when t.is_ended and end_day.working_day_index is not null and received_day.working_day_index is not null
                then greatest(0, end_day.working_day_index - received_day.working_day_index)
        end as processing_working_days,
        end_day.is_working_day as ended_net_on_working_day
    from judged as t
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
        province_code,
        department_code,
        -- Districts were abolished on var districts_end: no dossier received (submitted) from that day
        -- has one, whatever an agency row still says.
        case when coalesce(received_at, submitted_at) < timestamp '{{ var("districts_end") }}' then district_code end
            as district_code,
        commune_code,
        agency_closed_on,
        successor_agency_code,
        successor_province_code,
        successor_department_code,
        case when agency_closed_on < date '{{ var("districts_end") }}' then successor_district_code end
            as successor_district_code,
        successor_commune_code,
        current_agency_code,
        province_code_current,
        department_code_current,
        commune_code_current,
        channel_code,
        case channel_code when 1 then 'in_person' when 2 then 'online' when 3 then 'postal' end as channel,
        applicant_kind_code,
        status_code,
        submitted_at,
        received_at,
        due_at,
        legal_deadline_at,
        deadline_at,
        case when due_at is not null then 'due_at' when legal_deadline_at is not null then 'legal_deadline' end
            as deadline_basis,
        deadline_value,
        deadline_unit,
        service_has_fee,
        service_has_paper_result,
        processing_finished_at,
        returned_at,
        refused_at,
        ended_at,
        ended_net_at,
        is_received,
        is_ended,
        status_code in (9, 10) as is_completed,
        is_on_time,
        -- early: on time, and the net end falls on a working day before the due day.
        case
            when is_on_time is null then null
            else is_on_time and coalesce(ended_net_on_working_day, false) and ended_net_at::date < deadline_at::date
        end as is_early,
        -- Overdue in progress at the as-of time T: T - applicant_wait > due_at (or legal_deadline_at).
        case
            when is_received and not is_ended and deadline_at is not null
                then as_of_at - to_microseconds(round(applicant_wait_at_as_of_seconds * 1e6)::bigint) > deadline_at
        end as is_overdue_at_as_of,
        -- How long overdue: whole days from due_at (or legal_deadline_at) to T - applicant_wait(T), the
        -- same clock as is_overdue_at_as_of (null unless overdue). The dashboard and the report show it.
        case
            when is_received and not is_ended and deadline_at is not null
                and as_of_at - to_microseconds(round(applicant_wait_at_as_of_seconds * 1e6)::bigint) > deadline_at
                then floor((epoch(as_of_at) - applicant_wait_at_as_of_seconds - epoch(deadline_at)) / 86400)::bigint
        end as days_overdue_at_as_of,
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
        -- 766 · 3.3 result condition: fails only when completed, without an e-result, for a
        -- procedure with CoKetQuaGiay = 1.
        not (status_code in (9, 10) and not coalesce(has_e_result, false) and service_has_paper_result)
            as meets_result_condition,
        reuses_data,
        from_data_store,
        uses_population_data,
        is_synced,
        sync_records,
        rejected_sync_records,
        conflicting_records,
        coalesce(fee_lines_total_vnd, 0)::bigint as fee_expected_vnd,
        -- 766 · 3.5a/3.6: a procedure with CoPhiLePhi = 1 whose fee lines do not sum to 0 (an empty
        -- list sums to 0).
        service_has_fee and coalesce(fee_lines_total_vnd, 0) <> 0 as is_fee_bearing,
        -- 766 · 4.2: digitised, and where the procedure has CoKetQuaGiay = 1 and the dossier is
        -- completed, with an e-result.
        is_digitised and (not (status_code in (9, 10) and service_has_paper_result) or coalesce(has_e_result, false))
            as is_digitised_766,
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
