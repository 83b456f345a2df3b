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

-- Each distinct combination of the unit columns once, numbered: the join with the periods below
-- (a dossier once for every period it is open at the end of: a year's days, weeks, months...)
-- carries that number instead of seventeen codes, and the codes come back after counting.
unit_sets as (
    select row_number() over () as unit_set_id, *
    from (select distinct {{ unit_membership_columns() }} from dossiers)
),

keyed as (
    select
        d.dossier_id,
        d.received_at,
        -- Open until its end, or for good: one inequality each side, so both bounds are conditions
        -- of the join below (a merge join on them), not an `or` filtered after joining every later period.
        coalesce(d.ended_at, 'infinity'::timestamp) as open_until,
        d.deadline_at,
        s.unit_set_id
    from dossiers as d
    inner join unit_sets as s on
        {%- for column in unit_membership_column_names() %}
        d.{{ column }} is not distinct from s.{{ column }}{% if not loop.last %} and{% endif %}
        {%- endfor %}
),

supplements as (
    select * from {{ ref('int_dossier_supplements_unnested') }}
),

open_at_end as (
    select k.*, p.period_type, p.period_start, p.judged_at
    from keyed as k
    inner join periods as p
        on k.received_at < p.judged_at
        and k.open_until >= p.judged_at
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
        f.period_type,
        f.period_start,
        f.judged_at,
        f.unit_set_id,
        count(*) as in_progress,
        count(*) filter (where f.deadline_at is not null) as in_progress_with_deadline,
        count(*) filter (where f.is_overdue) as overdue
    from flagged as f
    group by all
),

grouped_units as (
    select g.*, s.* exclude (unit_set_id)
    from grouped as g
    inner join unit_sets as s using (unit_set_id)
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
    from {{ spread_to_units('grouped_units', 'g', "g.judged_at - interval 1 microsecond") }}
    where u.unit.unit_code is not null
    group by all
)

select * from final
