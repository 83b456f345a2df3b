-- One row per Decision 766 indicator: the points table in force (data/reference/indicators_766.csv),
-- as kpi_766 scored it (metrics.md v2, "766 points").
select
    indicator_code,
    indicator_name,
    group_code,
    group_name,
    group_column,
    max_points,
    target,
    scored_units,
    is_measurable,
    is_measurable and indicator_name is not null and max_points > 0 as is_scored,
    split_source,
    split_source = 'project' as is_project_assumption,
    note
from {{ ref('indicators_766') }}
