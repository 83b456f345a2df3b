-- One row per reporting period (day, ISO week, month, quarter, year) from the first dossier
-- submission or payment to the build's as-of time. Periods are half-open:
-- [period_start, period_end). The period holding the as-of time is not complete.
-- Months, quarters and years are rolled up from months' rows (macros/period_rollup.sql): var
-- period_types must keep 'month'.
{{ require_month_periods() }}
with as_of as (
    select {{ as_of_timestamp() }} as as_of_at
),

bounds as (
    select
        least(
            (select min(submitted_at) from {{ ref('int_dossiers_latest') }}),
            (select min(paid_at) from {{ ref('int_payments_deduplicated') }})
        )::date as first_day,
        (as_of_at - interval 1 microsecond)::date as last_day,
        as_of_at
    from as_of
),

periods as (
    {% for period_type, step in var('period_types').items() %}
    select
        '{{ period_type }}' as period_type,
        period_start::date as period_start,
        (period_start + interval {{ step }})::date as period_end
    from bounds,
        generate_series(
            date_trunc('{{ period_type }}', first_day)::timestamp,
            date_trunc('{{ period_type }}', last_day)::timestamp,
            interval {{ step }}
        ) as series(period_start)
    where first_day is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        p.period_type,
        p.period_start,
        p.period_end,
        p.period_end::timestamp <= b.as_of_at as is_complete,
        -- Backlog is judged at the period's end, or at the as-of time for the current period.
        least(p.period_end::timestamp, b.as_of_at) as judged_at
    from periods as p
    cross join bounds as b
)

select * from final
