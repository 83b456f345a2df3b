-- One row per (unit, period) with dossiers submitted, received or ended in it:
-- the event counts and processing-time statistics of metrics.md, summed from
-- the days' rows of int_unit_day_flow_metrics (days, ISO weeks) or the months'
-- rows of int_unit_month_flow_metrics (months, quarters, years): counts and
-- sums add up; the quantiles come from the histograms added together.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['period']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with unit_days as (
    select * rename (activity_date as grain_start) from {{ ref('int_unit_day_flow_metrics') }}
),

unit_months as (
    select * rename (activity_month as grain_start) from {{ ref('int_unit_month_flow_metrics') }}
),

-- Each day's or month's row in its period of every type (in a scoped refresh, only the periods in scope).
periodised as (
    {% for period_type in var('period_types') %}
    select *, '{{ period_type }}' as period_type, date_trunc('{{ period_type }}', grain_start)::date as period_start
    from {{ 'unit_days' if period_type in day_grain_period_types() else 'unit_months' }}
    {% if refresh_is_scoped() %}
    where date_trunc('{{ period_type }}', grain_start)::date in (
        select period_start from {{ ref('int_refresh_periods') }} where period_type = '{{ period_type }}'
    )
    {% endif %}
    {% if not loop.last %}union all by name{% endif %}
    {% endfor %}
),

counts as (
    select
        geography_basis,
        unit_type,
        unit_code,
        period_type,
        period_start,
        sum(dossiers_submitted)::bigint as dossiers_submitted,
        sum(dossiers_received)::bigint as dossiers_received,
        sum(dossiers_received_online)::bigint as dossiers_received_online,
        sum(dossiers_without_due_at)::bigint as dossiers_without_due_at,
        sum(dossiers_received_synced)::bigint as dossiers_received_synced,
        sum(dossiers_received_online_meeting_result)::bigint as dossiers_received_online_meeting_result,
        sum(dossiers_received_digitised)::bigint as dossiers_received_digitised,
        sum(dossiers_received_reusing_data)::bigint as dossiers_received_reusing_data,
        sum(dossiers_received_from_data_store)::bigint as dossiers_received_from_data_store,
        sum(dossiers_received_using_population_data)::bigint as dossiers_received_using_population_data,
        sum(fee_bearing_dossiers)::bigint as fee_bearing_dossiers,
        sum(fee_bearing_dossiers_paid_online)::bigint as fee_bearing_dossiers_paid_online,
        sum(fee_bearing_dossiers_paid_on_platform)::bigint as fee_bearing_dossiers_paid_on_platform,
        sum(fees_expected_vnd)::bigint as fees_expected_vnd,
        sum(dossiers_ended)::bigint as dossiers_ended,
        sum(ended_on_time)::bigint as ended_on_time,
        sum(ended_early)::bigint as ended_early,
        sum(ended_late)::bigint as ended_late,
        sum(dossiers_completed)::bigint as dossiers_completed,
        sum(dossiers_completed_needing_e_result)::bigint as dossiers_completed_needing_e_result,
        sum(dossiers_completed_with_e_result)::bigint as dossiers_completed_with_e_result,
        sum(processing_working_days_sum) / nullif(sum(processing_working_days_count), 0)
            as avg_processing_working_days,
        (sum(deadline_use_sum) / nullif(sum(deadline_use_count), 0))::double as deadline_use
    from periodised
    group by geography_basis, unit_type, unit_code, period_type, period_start
),

-- p50 and p90 as quantile_cont computes them (x[lo] + (x[hi] - x[lo]) * (h - lo), h = (n - 1) q,
-- over the sorted values), from a histogram: processing days are small integers, and a
-- histogram aggregates in bounded memory where quantile_cont keeps every value.
histogram as (
    select geography_basis, unit_type, unit_code, period_type, period_start, bucket.days, sum(bucket.dossiers) as dossiers
    from periodised, unnest(processing_days_histogram) as h(bucket)
    group by all
),

cumulative as (
    select
        *,
        sum(dossiers) over (
            partition by geography_basis, unit_type, unit_code, period_type, period_start order by days
            rows between unbounded preceding and current row
        ) - dossiers as before,
        sum(dossiers) over (partition by geography_basis, unit_type, unit_code, period_type, period_start) as n
    from histogram
),

quantiles as (
    select
        geography_basis,
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
    left join quantiles as q using (geography_basis, unit_type, unit_code, period_type, period_start)
)

select * from final
