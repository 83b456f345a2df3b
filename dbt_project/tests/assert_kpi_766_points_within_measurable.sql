-- metrics.md v2, "766 points": a unit's total is never below 0 nor above the points its measurable
-- indicators can give (points_measurable). Returns the rows that break it.
select geography_basis, unit_type, unit_code, period_type, period_start, points_total, points_measurable
from {{ ref('kpi_766') }}
where points_total < 0 or points_total > points_measurable + 1e-9
