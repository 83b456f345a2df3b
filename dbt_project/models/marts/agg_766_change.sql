-- Why a score moved, by indicator (issue "why it moved"): one row per (geography_basis, unit_type,
-- unit_code, period_type, period_start, indicator_code) for every kpi_766 row that has a previous
-- period of the same type for the same unit: the indicator's rate and points in both periods and the
-- change. Over a unit and period, points_change adds up to points_total_change (both differences of
-- the same full-precision sums). Indicators the unit is not scored on (1.1-1.3 outside the province)
-- have no row.
-- depends_on: {{ ref('indicators_766') }}
{%- set scored = scored_indicators_766() %}
with kpi as (
    select * from {{ ref('kpi_766') }}
),

pairs as (
    select
        a.geography_basis,
        a.unit_type,
        a.unit_code,
        a.unit_name,
        a.period_type,
        a.period_start,
        b.period_start as previous_period_start,
        a.points_total - b.points_total as points_total_change,
        {% for indicator in scored %}
        b.{{ indicator.name }} as {{ indicator.name }}_before,
        a.{{ indicator.name }} as {{ indicator.name }}_after,
        b.points_{{ indicator.name }} as points_{{ indicator.name }}_before,
        a.points_{{ indicator.name }} as points_{{ indicator.name }}_after,
        {% endfor %}
        a.points_total as points_total_after,
        b.points_total as points_total_before
    from kpi as a
    inner join kpi as b
        on b.geography_basis = a.geography_basis and b.unit_type = a.unit_type and b.unit_code = a.unit_code
        and b.period_type = a.period_type
        and b.period_start = (
            case a.period_type
            {%- for period_type, step in var('period_types').items() %}
                when '{{ period_type }}' then a.period_start - interval {{ step }}
            {%- endfor %}
            end
        )::date
),

unpivoted as (
    {% for indicator in scored %}
    select
        geography_basis, unit_type, unit_code, unit_name, period_type, period_start, previous_period_start,
        '{{ indicator.code }}' as indicator_code,
        '{{ indicator.name }}' as indicator_name,
        '{{ indicator.group_column }}' as group_column,
        {{ indicator.name }}_before as rate_before,
        {{ indicator.name }}_after as rate_after,
        points_{{ indicator.name }}_before as points_before,
        points_{{ indicator.name }}_after as points_after,
        points_total_before,
        points_total_after,
        points_total_change
    from pairs
    where points_{{ indicator.name }}_after is not null or points_{{ indicator.name }}_before is not null
    {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select
        *,
        rate_after - rate_before as rate_change,
        points_after - points_before as points_change,
        -- 1 = the indicator that moved the total most (either way).
        row_number() over (
            partition by geography_basis, unit_type, unit_code, period_type, period_start
            order by abs(points_after - points_before) desc, indicator_code
        ) as change_rank
    from unpivoted
)

select * from final
