-- One row per (unit, activity_month) with events in the month: the days' rows of
-- int_unit_day_flow_metrics added up (counts and sums add up, and so do the processing-days
-- histograms). int_unit_period_flow_metrics reads months, quarters and years from these rows, so a
-- refresh that reaches a year reads its twelve months instead of its 365 days (a day's late records
-- reach the year of every dossier they touch).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['event_month', 'activity_month']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
-- depends_on: {{ ref('int_periods') }}
with unit_days as (
    select *, date_trunc('month', activity_date)::date as activity_month
    from {{ ref('int_unit_day_flow_metrics') }}
    {{ refresh_scope('event_month', "date_trunc('month', activity_date)::date") }}
),

counts as (
    select
        geography_basis,
        unit_type,
        unit_code,
        activity_month,
        {% for column in flow_additive_columns() %}
        sum({{ column }})::{{ 'decimal(38, 12)' if column == 'deadline_use_sum' else 'bigint' }} as {{ column }}{% if not loop.last %},{% endif %}
        {% endfor %}
    from unit_days
    group by all
),

buckets as (
    select geography_basis, unit_type, unit_code, activity_month, bucket.days as days, sum(bucket.dossiers) as dossiers
    from unit_days, unnest(processing_days_histogram) as h(bucket)
    group by all
),

final as (
    {{ with_processing_days_histogram('counts', 'buckets', ['geography_basis', 'unit_type', 'unit_code', 'activity_month']) }}
)

select * from final
