-- One row per (unit, period) with dossiers submitted, received or ended in it:
-- the event counts and processing-time statistics of metrics.md.
{{ config(
    materialized='incremental',
    incremental_strategy='append',
    pre_hook="{{ refresh_delete_scope('period') }}",
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with unit_dossiers as (
    select
        unit_type, unit_code, dossier_id, channel, due_at, is_digitised, fee_expected_vnd, paid_online_code,
        is_on_time, is_early, has_e_result, status_code, processing_working_days, deadline_working_days,
        submitted_at, received_at, ended_at, is_received, is_ended
    from {{ ref('int_dossier_units') }}
),

events as (
    select *, 'submitted' as event_kind, submitted_at as event_at from unit_dossiers
    union all
    select *, 'received', received_at from unit_dossiers where is_received and received_at is not null
    union all
    select *, 'ended', ended_at from unit_dossiers where is_ended and ended_at is not null
),

-- Each event in its period of every type (in a scoped refresh, only the periods in scope).
periodised as (
    {% for period_type in var('period_types') %}
    select *, '{{ period_type }}' as period_type, date_trunc('{{ period_type }}', event_at)::date as period_start
    from events
    {% if refresh_is_scoped() %}
    where date_trunc('{{ period_type }}', event_at)::date in (
        select period_start from {{ ref('int_refresh_periods') }} where period_type = '{{ period_type }}'
    )
    {% endif %}
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

counts as (
    select
        unit_type,
        unit_code,
        period_type,
        period_start,
        count(*) filter (where event_kind = 'submitted') as dossiers_submitted,
        count(*) filter (where event_kind = 'received') as dossiers_received,
        count(*) filter (where event_kind = 'received' and channel = 'online') as dossiers_received_online,
        count(*) filter (where event_kind = 'received' and due_at is null) as dossiers_without_due_at,
        count(*) filter (where event_kind = 'received' and is_digitised) as dossiers_received_digitised,
        count(*) filter (where event_kind = 'received' and fee_expected_vnd > 0) as fee_bearing_dossiers,
        count(*) filter (
            where event_kind = 'received' and fee_expected_vnd > 0 and paid_online_code in (1, 2)
        ) as fee_bearing_dossiers_paid_online,
        count(*) filter (
            where event_kind = 'received' and fee_expected_vnd > 0 and paid_online_code = 1
        ) as fee_bearing_dossiers_paid_on_platform,
        coalesce(sum(fee_expected_vnd) filter (where event_kind = 'received'), 0)::bigint as fees_expected_vnd,
        count(*) filter (where event_kind = 'ended') as dossiers_ended,
        count(*) filter (where event_kind = 'ended' and is_on_time) as ended_on_time,
        count(*) filter (where event_kind = 'ended' and is_early) as ended_early,
        count(*) filter (where event_kind = 'ended' and not is_on_time) as ended_late,
        count(*) filter (where event_kind = 'ended' and has_e_result) as dossiers_ended_with_e_result,
        count(*) filter (where event_kind = 'ended' and status_code in (9, 10)) as dossiers_completed,
        avg(processing_working_days) filter (where event_kind = 'ended') as avg_processing_working_days,
        {{ exact_mean_of_ratio('processing_working_days', 'deadline_working_days',
                               "event_kind = 'ended' and deadline_working_days > 0 "
                               "and processing_working_days is not null") }} as deadline_use
    from periodised
    group by unit_type, unit_code, period_type, period_start
),

-- p50 and p90 as quantile_cont computes them (x[lo] + (x[hi] - x[lo]) * (h - lo), h = (n - 1) q,
-- over the sorted values), from a histogram: processing days are small integers, and a
-- histogram aggregates in bounded memory where quantile_cont keeps every value.
histogram as (
    select unit_type, unit_code, period_type, period_start, processing_working_days as days, count(*) as dossiers
    from periodised
    where event_kind = 'ended' and processing_working_days is not null
    group by all
),

cumulative as (
    select
        *,
        sum(dossiers) over (
            partition by unit_type, unit_code, period_type, period_start order by days
            rows between unbounded preceding and current row
        ) - dossiers as before,
        sum(dossiers) over (partition by unit_type, unit_code, period_type, period_start) as n
    from histogram
),

quantiles as (
    select
        unit_type,
        unit_code,
        period_type,
        period_start,
        {% for name, q in [('p50', 0.5), ('p90', 0.9)] %}
        min(days) filter (where before <= floor((n - 1) * {{ q }}) and floor((n - 1) * {{ q }}) < before + dossiers)
            as {{ name }}_lo,
        min(days) filter (where before <= ceil((n - 1) * {{ q }}) and ceil((n - 1) * {{ q }}) < before + dossiers)
            as {{ name }}_hi,
        any_value((n - 1) * {{ q }} - floor((n - 1) * {{ q }})) as {{ name }}_fraction{% if not loop.last %},{% endif %}
        {% endfor %}
    from cumulative
    group by all
),

final as (
    select
        c.* exclude (avg_processing_working_days, deadline_use),
        c.avg_processing_working_days,
        q.p50_lo + (q.p50_hi - q.p50_lo) * q.p50_fraction as p50_processing_working_days,
        q.p90_lo + (q.p90_hi - q.p90_lo) * q.p90_fraction as p90_processing_working_days,
        c.deadline_use
    from counts as c
    left join quantiles as q using (unit_type, unit_code, period_type, period_start)
)

select * from final
