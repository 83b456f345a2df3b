-- One row per (unit, period): every period indicator of metrics.md, the Decision
-- 766 points of the scored ones, and the unit's rank among units of the same
-- type in the same period. Months, quarters and years have a row for every unit
-- (ranks need all peers); days and ISO weeks only for units with activity or
-- backlog in them.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'refresh_scope': ['period']},
    pre_hook="{{ refresh_delete_scope() }}",
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with units as (
    select * from {{ ref('int_units') }}
),

periods as (
    select * from {{ ref('int_periods') }}
    {{ refresh_scope('period') }}
),

flow as (
    select * from {{ ref('int_unit_period_flow_metrics') }}
),

backlog as (
    select * from {{ ref('int_unit_period_backlog_metrics') }}
),

service_use as (
    select * from {{ ref('int_unit_period_service_metrics') }}
),

fees as (
    select * from {{ ref('int_unit_period_fee_metrics') }}
),

active as (
    select unit_type, unit_code, period_type, period_start from flow
    union select unit_type, unit_code, period_type, period_start from backlog
    union select unit_type, unit_code, period_type, period_start from fees
),

grid as (
    select u.unit_type, u.unit_code, u.unit_name, p.period_type, p.period_start, p.period_end, p.is_complete,
        p.judged_at as measured_until
    from units as u
    cross join periods as p
    where p.period_type in ('month', 'quarter', 'year')
    union all
    select u.unit_type, u.unit_code, u.unit_name, p.period_type, p.period_start, p.period_end, p.is_complete,
        p.judged_at as measured_until
    from active as a
    inner join units as u using (unit_type, unit_code)
    inner join periods as p using (period_type, period_start)
    where p.period_type not in ('month', 'quarter', 'year')
),

counts as (
    select
        g.*,
        coalesce(f.dossiers_submitted, 0) as dossiers_submitted,
        coalesce(f.dossiers_received, 0) as dossiers_received,
        coalesce(f.dossiers_received_online, 0) as dossiers_received_online,
        coalesce(f.dossiers_ended, 0) as dossiers_ended,
        coalesce(f.ended_on_time, 0) as ended_on_time,
        coalesce(f.ended_early, 0) as ended_early,
        coalesce(f.ended_late, 0) as ended_late,
        coalesce(f.dossiers_without_due_at, 0) as dossiers_without_due_at,
        coalesce(b.in_progress_at_end, 0) as in_progress_at_end,
        coalesce(b.in_progress_with_due_at_end, 0) as in_progress_with_due_at_end,
        coalesce(b.in_progress_overdue_at_end, 0) as in_progress_overdue_at_end,
        f.avg_processing_working_days,
        f.p50_processing_working_days,
        f.p90_processing_working_days,
        f.deadline_use,
        coalesce(f.fee_bearing_dossiers, 0) as fee_bearing_dossiers,
        coalesce(f.fee_bearing_dossiers_paid_online, 0) as fee_bearing_dossiers_paid_online,
        coalesce(f.fee_bearing_dossiers_paid_on_platform, 0) as fee_bearing_dossiers_paid_on_platform,
        coalesce(s.services_online, 0) as services_online,
        coalesce(s.services_with_online_dossiers_count, 0) as services_with_online_dossiers_count,
        coalesce(f.dossiers_ended_with_e_result, 0) as dossiers_ended_with_e_result,
        coalesce(f.dossiers_received_digitised, 0) as dossiers_received_digitised,
        coalesce(f.dossiers_completed, 0) as dossiers_completed,
        coalesce(f.fees_expected_vnd, 0) as fees_expected_vnd,
        coalesce(fe.fees_collected_online_vnd, 0) as fees_collected_online_vnd
    from grid as g
    left join flow as f using (unit_type, unit_code, period_type, period_start)
    left join backlog as b using (unit_type, unit_code, period_type, period_start)
    left join service_use as s using (unit_type, unit_code, period_type, period_start)
    left join fees as fe using (unit_type, unit_code, period_type, period_start)
),

rates as (
    select
        *,
        {{ safe_divide('dossiers_received_online', 'dossiers_received') }} as online_rate,
        {{ safe_divide(
            'ended_on_time + in_progress_with_due_at_end - in_progress_overdue_at_end',
            'ended_on_time + ended_late + in_progress_with_due_at_end') }} as on_time_rate,
        {{ safe_divide('fee_bearing_dossiers_paid_online', 'fee_bearing_dossiers') }} as online_payment_rate,
        {{ safe_divide('fee_bearing_dossiers_paid_on_platform', 'fee_bearing_dossiers') }}
            as online_payment_rate_platform,
        {{ safe_divide('services_with_online_dossiers_count', 'services_online') }} as services_with_online_dossiers,
        {{ safe_divide('dossiers_ended_with_e_result', 'dossiers_ended') }} as e_result_rate,
        {{ safe_divide('dossiers_received_digitised', 'dossiers_received') }} as digitised_rate,
        {{ safe_divide('dossiers_completed', 'dossiers_ended') }} as completion_rate,
        {{ safe_divide('dossiers_received_online', 'dossiers_received') }} as digital_take_up
    from counts
),

points as (
    select
        *,
        {% for indicator in var('indicators_766') %}
        {{ points_766(indicator) }} as points_{{ indicator.name }},
        {% endfor %}
        -- An indicator with no data (null rate) earns no points.
        {% for indicator in var('indicators_766') %}
        coalesce({{ points_766(indicator) }}, 0){% if not loop.last %} +{% endif %}
        {% endfor %} as points_total
    from rates
),

final as (
    select
        p.*,
        dense_rank() over (
            partition by unit_type, period_type, period_start order by points_total desc
        ) as rank_in_level
    from points as p
)

select * from final
