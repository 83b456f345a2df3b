-- One row per (unit, day) with dossiers submitted, received or ended on that day:
-- the additive parts of the flow metrics (counts, sums, and the histogram of
-- processing days), which int_unit_period_flow_metrics rolls up to days and ISO weeks and
-- int_unit_month_flow_metrics to months.
-- A refresh recomputes only the days in scope, so a week or a month is summed from
-- its days' rows (a quarter or a year from its months') instead of from its dossiers again.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['event_day', 'activity_date']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
-- depends_on: {{ ref('int_periods') }}
with dossiers as (
    select
        dossier_id, {{ unit_membership_columns() }}, channel, deadline_at, is_digitised_766, fee_expected_vnd,
        paid_online_code, is_on_time, is_early, has_e_result, status_code, is_completed, is_synced,
        meets_result_condition, reuses_data, from_data_store, uses_population_data, is_fee_bearing,
        service_has_paper_result, processing_working_days, deadline_working_days, submitted_at, received_at,
        ended_at, is_received, is_ended
    from {{ ref('int_dossiers_joined_to_payments') }}
    {% if refresh_is_scoped() %}
    -- Only dossiers with an event on a day in scope: no other dossier reaches a recomputed row.
    where {{ refresh_scope_filter('event_day', "date_trunc('day', submitted_at)::date") }}
        or {{ refresh_scope_filter('event_day', "date_trunc('day', received_at)::date") }}
        or {{ refresh_scope_filter('event_day', "date_trunc('day', ended_at)::date") }}
    {% endif %}
),

events as (
    select *, 'submitted' as event_kind, submitted_at as event_at from dossiers
    union all
    select *, 'received', received_at from dossiers where is_received and received_at is not null
    union all
    select *, 'ended', ended_at from dossiers where is_ended and ended_at is not null
),

-- Events of a day with the same units and facts counted together.
grouped_events as not materialized (
    select
        event_kind,
        date_trunc('day', event_at)::date as activity_date,
        {{ unit_membership_columns() }},
        channel, deadline_at is null as has_no_deadline, is_synced, meets_result_condition, is_digitised_766,
        reuses_data, from_data_store, uses_population_data, is_fee_bearing, paid_online_code, is_on_time,
        is_early, is_completed, service_has_paper_result, has_e_result, processing_working_days,
        deadline_working_days,
        count(*) as n,
        sum(fee_expected_vnd) as fee_expected_vnd
    from events
    {{ refresh_scope('event_day', "date_trunc('day', event_at)::date") }}
    group by all
),

-- The counts of each day and set of units, before the units are spread: every count and sum adds up,
-- so a unit's day is the sum of the rows that name it. Spreading these rows (13 units each) rather
-- than the event groups spreads a third as many (1.3 M against 3.6 M at the merged province's year,
-- docs/benchmarks.md). An as_was unit moves to a successor on a closing day: a day decides it exactly.
counts_by_units as (
    -- As 64-bit integers (the sums over events are 128-bit): DuckDB adds those up twice as fast.
    select
        activity_date,
        {{ unit_membership_columns() }},
        {% for column in flow_additive_columns() %}
        {{ column }}::{{ 'decimal(38, 12)' if column == 'deadline_use_sum' else 'bigint' }} as {{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from (
    select
        activity_date,
        {{ unit_membership_columns() }},
        coalesce(sum(n) filter (where event_kind = 'submitted'), 0) as dossiers_submitted,
        coalesce(sum(n) filter (where event_kind = 'received'), 0) as dossiers_received,
        coalesce(sum(n) filter (where event_kind = 'received' and channel = 'online'), 0) as dossiers_received_online,
        coalesce(sum(n) filter (where event_kind = 'received' and has_no_deadline), 0) as dossiers_without_due_at,
        coalesce(sum(n) filter (where event_kind = 'received' and is_synced), 0) as dossiers_received_synced,
        coalesce(sum(n) filter (
            where event_kind = 'received' and channel = 'online' and meets_result_condition
        ), 0) as dossiers_received_online_meeting_result,
        coalesce(sum(n) filter (where event_kind = 'received' and is_digitised_766), 0) as dossiers_received_digitised,
        coalesce(sum(n) filter (where event_kind = 'received' and reuses_data), 0) as dossiers_received_reusing_data,
        coalesce(sum(n) filter (where event_kind = 'received' and from_data_store), 0) as dossiers_received_from_data_store,
        coalesce(sum(n) filter (where event_kind = 'received' and uses_population_data), 0)
            as dossiers_received_using_population_data,
        coalesce(sum(n) filter (where event_kind = 'received' and is_fee_bearing), 0) as fee_bearing_dossiers,
        coalesce(sum(n) filter (
            where event_kind = 'received' and is_fee_bearing and paid_online_code in (1, 2)
        ), 0) as fee_bearing_dossiers_paid_online,
        coalesce(sum(n) filter (
            where event_kind = 'received' and is_fee_bearing and paid_online_code = 1
        ), 0) as fee_bearing_dossiers_paid_on_platform,
        coalesce(sum(fee_expected_vnd) filter (where event_kind = 'received'), 0)::bigint as fees_expected_vnd,
        coalesce(sum(n) filter (where event_kind = 'ended'), 0) as dossiers_ended,
        coalesce(sum(n) filter (where event_kind = 'ended' and is_on_time), 0) as ended_on_time,
        coalesce(sum(n) filter (where event_kind = 'ended' and is_early), 0) as ended_early,
        coalesce(sum(n) filter (where event_kind = 'ended' and not is_on_time), 0) as ended_late,
        coalesce(sum(n) filter (where event_kind = 'ended' and is_completed), 0) as dossiers_completed,
        coalesce(sum(n) filter (where event_kind = 'ended' and is_completed and service_has_paper_result), 0)
            as dossiers_completed_needing_e_result,
        coalesce(sum(n) filter (where event_kind = 'ended' and is_completed and service_has_paper_result and has_e_result), 0)
            as dossiers_completed_with_e_result,
        coalesce(sum(processing_working_days * n) filter (where event_kind = 'ended'), 0)::bigint
            as processing_working_days_sum,
        coalesce(sum(n) filter (where event_kind = 'ended' and processing_working_days is not null), 0)
            as processing_working_days_count,
        -- The exact mean of a ratio (macros/exact_mean.sql) in two additive parts.
        {% set deadline_condition = "event_kind = 'ended' and deadline_working_days > 0 "
                                    "and processing_working_days is not null" %}
        coalesce(sum(
            case when {{ deadline_condition }}
                then (processing_working_days::double / nullif(deadline_working_days, 0))::decimal(38, 12) * n end
        ), 0)::decimal(38, 12) as deadline_use_sum,
        coalesce(sum(n) filter (where {{ deadline_condition }}), 0) as deadline_use_count
    from grouped_events
    group by all
    )
),

-- Each row's units on its day (macros/unit_memberships.sql).
counts as (
    select
        {{ unit_membership_keys('u') }},
        u.activity_date,
        {% set types = {'fees_expected_vnd': 'bigint', 'processing_working_days_sum': 'bigint',
                         'deadline_use_sum': 'decimal(38, 12)'} %}
        {% for column in flow_additive_columns() %}
        sum(u.{{ column }})::{{ types.get(column, 'hugeint') }} as {{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from {{ spread_to_units('counts_by_units', 'c', 'c.activity_date::timestamp') }}
    where u.unit.unit_code is not null
    group by all
),

-- Ended events of each day, set of units and processing days, before the units are spread.
ended_by_units as (
    select activity_date, {{ unit_membership_columns() }}, processing_working_days, sum(n) as n
    from grouped_events
    where event_kind = 'ended' and processing_working_days is not null
    group by all
),

buckets as (
    select
        {{ unit_membership_keys('u') }},
        u.activity_date,
        u.processing_working_days as days,
        sum(u.n) as dossiers
    from {{ spread_to_units('ended_by_units', 'b', 'b.activity_date::timestamp') }}
    where u.unit.unit_code is not null
    group by all
),

final as (
    {{ with_processing_days_histogram('counts', 'buckets', ['geography_basis', 'unit_type', 'unit_code', 'activity_date']) }}
)

select * from final
