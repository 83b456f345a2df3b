-- One row per (activity_date, service_code, channel): dossiers submitted, received and ended that
-- local day, for usage by channel over time (digital take-up per service).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_scope',
    meta={'refresh_scope': ['day', 'activity_date']},
) }}
-- depends_on: {{ ref('int_refresh_periods') }}
with dossiers as (
    select * from {{ ref('int_dossiers_joined_to_payments') }}
),

events as (
    select submitted_at::date as activity_date, service_code, channel, 'submitted' as event_kind, null as is_on_time
    from dossiers
    union all
    select received_at::date, service_code, channel, 'received', null
    from dossiers where is_received and received_at is not null
    union all
    select ended_at::date, service_code, channel, 'ended', is_on_time
    from dossiers where is_ended and ended_at is not null
),

final as (
    select
        activity_date,
        service_code,
        channel,
        count(*) filter (where event_kind = 'submitted') as dossiers_submitted,
        count(*) filter (where event_kind = 'received') as dossiers_received,
        count(*) filter (where event_kind = 'ended') as dossiers_ended,
        count(*) filter (where event_kind = 'ended' and is_on_time) as ended_on_time,
        count(*) filter (where event_kind = 'ended' and not is_on_time) as ended_late
    from events
    {{ refresh_scope('day', 'activity_date') }}
    group by all
)

select * from final
