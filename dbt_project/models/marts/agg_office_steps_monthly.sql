-- One row per office (agency, PhongBanXuLy) and month of ThoiDiemXuLy (metrics.md v2, "Processing
-- steps"): steps, overrunning steps, working days over their own deadlines, and the late dossiers
-- whose first overrunning step was this office's: where a late dossier lost its time.
with steps as (
    select * from {{ ref('fct_processing_steps') }}
    where recorded_at is not null
),

final as (
    select
        agency_code,
        office_name,
        date_trunc('month', recorded_at)::date as month_start,
        count(*) as steps,
        count(*) filter (where is_overrun) as overrunning_steps,
        coalesce(sum(overrun_working_days), 0) as overrun_working_days,
        count(*) filter (where is_first_overrun_of_late_dossier) as late_dossiers_first_overrun,
        {{ safe_divide('count(*) filter (where is_overrun)', 'count(*)') }} as overrun_share
    from steps
    group by all
)

select * from final
