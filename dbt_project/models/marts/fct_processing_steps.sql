-- One row per processing step (metrics.md v2, "Processing steps"): a step is identified by
-- (MaHoSo, ThoiDiemXuLy, TrangThai, PhongBanXuLy) and counts once however often it was sent (the
-- copy from the latest accepted call is kept). Steps of rejected calls count too: the step
-- happened in the province's system (the portal's copy is what the sync rate measures). An office
-- is (agency, PhongBanXuLy), the agency being the one that sent the step. Working days count as
-- for a dossier: days d with date(NgayBatDau) < d <= date(ThoiDiemXuLy). Incremental: a refresh
-- recomputes the steps of the dossiers it recomputes (int_refresh_dossiers: those with new
-- processing-log records, and those whose state, and so whether they are late, may have changed),
-- each from all its records.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['dossier']},
) }}
-- depends_on: {{ ref('int_refresh_dossiers') }}
with steps as (
    select * from {{ ref('stg_onestop__processing_steps') }}
    where dossier_id is not null
    {{ refresh_scope('dossier', keyword='and') }}
),

deduplicated as (
    select
        *,
        count(*) over (partition by dossier_id, recorded_at, status_code, office_name) - 1 as duplicate_records
    from steps
    qualify row_number() over (
        partition by dossier_id, recorded_at, status_code, office_name
        order by is_accepted_call desc, synced_at desc, batch_date desc, source_file desc, source_line_number desc
    ) = 1
),

dossiers as (
    select dossier_id, is_on_time, is_ended from {{ ref('int_dossiers_lifecycle') }}
    {{ refresh_scope('dossier') }}
),

calendar as (
    select * from {{ ref('int_calendar_days') }}
),

timed as (
    select
        s.*,
        case when s.started_at is not null and s.recorded_at is not null
                and started.working_day_index is not null and recorded.working_day_index is not null
            then greatest(0, recorded.working_day_index - started.working_day_index) end as working_days,
        s.recorded_at > s.step_due_at as is_overrun,
        case when s.recorded_at > s.step_due_at and due.working_day_index is not null
                and recorded.working_day_index is not null
            then greatest(0, recorded.working_day_index - due.working_day_index) end as overrun_working_days
    from deduplicated as s
    left join calendar as started on started.calendar_date = s.started_at::date
    left join calendar as recorded on recorded.calendar_date = s.recorded_at::date
    left join calendar as due on due.calendar_date = s.step_due_at::date
),

-- Only a late dossier has a first overrunning step: the earliest by ThoiDiemXuLy (then office).
first_overrun as (
    select t.dossier_id, t.recorded_at, t.status_code, t.office_name
    from timed as t
    inner join dossiers as d using (dossier_id)
    where t.is_overrun and d.is_on_time = false
    qualify row_number() over (
        partition by t.dossier_id order by t.recorded_at, t.office_name, t.status_code
    ) = 1
),

final as (
    select
        md5(concat_ws('|', t.dossier_id, strftime(t.recorded_at, '%Y-%m-%d %H:%M:%S'), t.status_code,
            coalesce(t.office_name, ''))) as step_id,
        t.dossier_id,
        t.agency_code,
        t.office_name,
        t.official_title,
        t.status_code,
        t.started_at,
        t.recorded_at,
        t.step_due_at,
        t.working_days,
        coalesce(t.is_overrun, false) as is_overrun,
        t.overrun_working_days,
        f.dossier_id is not null as is_first_overrun_of_late_dossier,
        t.duplicate_records,
        t.is_accepted_call,
        t.batch_date as last_batch_date
    from timed as t
    left join first_overrun as f
        on f.dossier_id = t.dossier_id and f.recorded_at = t.recorded_at and f.status_code = t.status_code
        and f.office_name is not distinct from t.office_name
)

select * from final
