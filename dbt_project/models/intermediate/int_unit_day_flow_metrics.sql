-- One row per (unit, day) with dossiers submitted, received or ended on that day:
-- the additive parts of the flow metrics (counts, sums, and the histogram of
-- processing days), which int_unit_period_flow_metrics rolls up to every period.
-- A refresh recomputes only the days in scope, so a week, month, quarter or year
-- is summed from its days' rows instead of from its dossiers again.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    meta={'refresh_scope': ['event_day', 'activity_date']},
    pre_hook="{{ refresh_delete_scope() }}",
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

-- Each event's units at its time (macros/unit_memberships.sql), after the dossiers are filtered.
dated as (
    select
        u.unit.geography_basis as geography_basis, u.unit.unit_type as unit_type, u.unit.unit_code as unit_code,
        e.* exclude ({{ unit_membership_columns() }}),
        date_trunc('day', e.event_at)::date as activity_date
    from events as e, {{ unit_memberships('e', 'e.event_at') }} as u(unit)
    where u.unit.unit_code is not null
        {{ refresh_scope('event_day', "date_trunc('day', e.event_at)::date", keyword='and') }}
),

counts as (
    select
        geography_basis,
        unit_type,
        unit_code,
        activity_date,
        count(*) filter (where event_kind = 'submitted') as dossiers_submitted,
        count(*) filter (where event_kind = 'received') as dossiers_received,
        count(*) filter (where event_kind = 'received' and channel = 'online') as dossiers_received_online,
        count(*) filter (where event_kind = 'received' and deadline_at is null) as dossiers_without_due_at,
        count(*) filter (where event_kind = 'received' and is_synced) as dossiers_received_synced,
        count(*) filter (
            where event_kind = 'received' and channel = 'online' and meets_result_condition
        ) as dossiers_received_online_meeting_result,
        count(*) filter (where event_kind = 'received' and is_digitised_766) as dossiers_received_digitised,
        count(*) filter (where event_kind = 'received' and reuses_data) as dossiers_received_reusing_data,
        count(*) filter (where event_kind = 'received' and from_data_store) as dossiers_received_from_data_store,
        count(*) filter (where event_kind = 'received' and uses_population_data)
            as dossiers_received_using_population_data,
        count(*) filter (where event_kind = 'received' and is_fee_bearing) as fee_bearing_dossiers,
        count(*) filter (
            where event_kind = 'received' and is_fee_bearing and paid_online_code in (1, 2)
        ) as fee_bearing_dossiers_paid_online,
        count(*) filter (
            where event_kind = 'received' and is_fee_bearing and paid_online_code = 1
        ) as fee_bearing_dossiers_paid_on_platform,
        coalesce(sum(fee_expected_vnd) filter (where event_kind = 'received'), 0)::bigint as fees_expected_vnd,
        count(*) filter (where event_kind = 'ended') as dossiers_ended,
        count(*) filter (where event_kind = 'ended' and is_on_time) as ended_on_time,
        count(*) filter (where event_kind = 'ended' and is_early) as ended_early,
        count(*) filter (where event_kind = 'ended' and not is_on_time) as ended_late,
        count(*) filter (where event_kind = 'ended' and is_completed) as dossiers_completed,
        count(*) filter (where event_kind = 'ended' and is_completed and service_has_paper_result)
            as dossiers_completed_needing_e_result,
        count(*) filter (where event_kind = 'ended' and is_completed and service_has_paper_result and has_e_result)
            as dossiers_completed_with_e_result,
        coalesce(sum(processing_working_days) filter (where event_kind = 'ended'), 0)::bigint
            as processing_working_days_sum,
        count(processing_working_days) filter (where event_kind = 'ended') as processing_working_days_count,
        -- The exact mean of a ratio (macros/exact_mean.sql) in two additive parts.
        {% set deadline_condition = "event_kind = 'ended' and deadline_working_days > 0 "
                                    "and processing_working_days is not null" %}
        coalesce(sum(
            case when {{ deadline_condition }}
                then (processing_working_days::double / nullif(deadline_working_days, 0))::decimal(38, 12) end
        ), 0)::decimal(38, 12) as deadline_use_sum,
        count(*) filter (where {{ deadline_condition }}) as deadline_use_count
    from dated
    group by geography_basis, unit_type, unit_code, activity_date
),

histogram as (
    select
        geography_basis,
        unit_type,
        unit_code,
        activity_date,
        list({'days': days, 'dossiers': dossiers} order by days) as processing_days_histogram
    from (
        select geography_basis, unit_type, unit_code, activity_date, processing_working_days as days, count(*) as dossiers
        from dated
        where event_kind = 'ended' and processing_working_days is not null
        group by all
    )
    group by all
),

final as (
    select
        c.*,
        coalesce(h.processing_days_histogram, []) as processing_days_histogram
    from counts as c
    left join histogram as h using (geography_basis, unit_type, unit_code, activity_date)
)

select * from final
