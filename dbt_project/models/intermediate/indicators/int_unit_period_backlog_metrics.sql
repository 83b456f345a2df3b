-- One row per (unit, period) with dossiers in progress at the period's end,
-- judged from the timestamps (so a later run sees the same past): received
-- before the end, not ended before it. Overdue at T: T - applicant_wait(T) > due_at,
-- where applicant_wait(T) counts the supplement rounds asked before T, each up
-- to its answer or T.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['period']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with periods as (
    select * from {{ ref('int_periods') }}
    {{ refresh_scope('period') }}
),

dossiers as (
    select dossier_id, received_at, ended_at, is_ended, deadline_at, {{ unit_membership_columns() }}
    from {{ ref('int_dossiers_lifecycle') }}
    where is_received and received_at is not null
        -- An ended dossier with no end time cannot be placed in time.
        and not (is_ended and ended_at is null)
        {% if refresh_is_scoped() %}
        -- Only dossiers in progress at the end of some period in scope.
        and received_at < (select max(judged_at) from periods)
        and (ended_at is null or ended_at >= (select min(judged_at) from periods))
        {% endif %}
),

supplements as (
    select * from {{ ref('int_dossier_supplements_unnested') }}
),

open_at_end as (
    select d.*, p.period_type, p.period_start, p.judged_at
    from dossiers as d
    inner join periods as p
        on d.received_at < p.judged_at
        and (d.ended_at is null or d.ended_at >= p.judged_at)
),

waits as (
    select
        o.dossier_id,
        o.period_type,
        o.period_start,
        sum(epoch(least(coalesce(s.supplied_at, o.judged_at), o.judged_at)) - epoch(s.requested_at))
            as applicant_wait_seconds
    from open_at_end as o
    inner join supplements as s on s.dossier_id = o.dossier_id and s.requested_at < o.judged_at
    group by all
),

flagged as (
    select
        o.*,
        o.deadline_at is not null
            and o.judged_at - to_microseconds(round(coalesce(w.applicant_wait_seconds, 0) * 1e6)::bigint) > o.deadline_at
            as is_overdue
    from open_at_end as o
    left join waits as w using (dossier_id, period_type, period_start)
),

-- Dossiers with the same units counted together before their units are spread (many share them).
grouped as (
    select
        period_type,
        period_start,
        judged_at,
        {{ unit_membership_columns() }},
        count(*) as in_progress,
        count(*) filter (where deadline_at is not null) as in_progress_with_deadline,
        count(*) filter (where is_overdue) as overdue
    from flagged
    group by all
),

final as (
    select
        {{ unit_membership_keys('u') }},
        u.period_type,
        u.period_start,
        sum(u.in_progress)::bigint as in_progress_at_end,
        sum(u.in_progress_with_deadline)::bigint as in_progress_with_due_at_end,
        sum(u.overdue)::bigint as in_progress_overdue_at_end
    -- Each dossier's units at the period's last instant (macros/unit_memberships.sql).
    from {{ spread_to_units('grouped', 'g', "g.judged_at - interval 1 microsecond") }}
    where u.unit.unit_code is not null
    group by all
)

select * from final
