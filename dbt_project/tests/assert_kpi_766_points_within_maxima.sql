-- metrics.md v2, "766 points": no indicator's points (points_<indicator>) and no group's points are
-- below 0 or above what the points table allows: the indicator's max_points, the sum of its scored
-- indicators' max_points for a group. The maxima are read from dim_766_indicators (the seed
-- indicators_766, the one copy), never restated. Returns one row per (unit, period, column) that breaks it.
with maxima as (
    select 'points_' || indicator_name as points_column, max_points
    from {{ ref('dim_766_indicators') }}
    where is_scored
    union all
    select group_column, sum(max_points)
    from {{ ref('dim_766_indicators') }}
    where is_scored
    group by group_column
),

points as (
    unpivot (
        select geography_basis, unit_type, unit_code, period_type, period_start, columns('^points_')
        from {{ ref('kpi_766') }}
    )
    on columns('^points_') into name points_column value points
)

select p.geography_basis, p.unit_type, p.unit_code, p.period_type, p.period_start, p.points_column, p.points,
    m.max_points
from points as p
inner join maxima as m using (points_column)
where p.points < 0 or p.points > m.max_points + 1e-9
