-- One row per (service_code, month) with dossiers ended that month: the distribution of
-- processing working days against the legal deadline, and the late share.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['month', 'month_start']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with dossiers as (
    select * from {{ ref('int_dossiers_lifecycle') }}
    where is_ended and ended_at is not null
        {{ refresh_scope('month', "date_trunc('month', ended_at)::date", 'and') }}
),

final as (
    select
        service_code,
        date_trunc('month', ended_at)::date as month_start,
        count(*) as dossiers_ended,
        avg(processing_working_days) as avg_processing_working_days,
        quantile_cont(processing_working_days, 0.5) as p50_processing_working_days,
        quantile_cont(processing_working_days, 0.9) as p90_processing_working_days,
        max(deadline_working_days) as deadline_working_days,
        {{ exact_mean_of_ratio('processing_working_days', 'deadline_working_days',
                               'deadline_working_days > 0 and processing_working_days is not null') }} as deadline_use,
        {{ safe_divide('count(*) filter (where not is_on_time)',
                       'count(*) filter (where is_on_time is not null)') }} as late_share,
        {{ safe_divide('count(*) filter (where supplement_rounds > 0)', 'count(*)') }} as supplement_share
    from dossiers
    group by all
)

select * from final
