-- metrics.md v2, "766 points": rank_in_level is the dense rank of points_total among the units of one
-- type, basis and period (1 = best, equal totals share a rank, no rank skipped), and a unit has a rank
-- exactly when it has a total. Returns the rows whose rank is not that.
with k as (
    select geography_basis, unit_type, unit_code, period_type, period_start, points_total, rank_in_level
    from {{ ref('kpi_766') }}
),

expected as (
    select
        *,
        case when points_total is not null then dense_rank() over (
            partition by geography_basis, unit_type, period_type, period_start
            order by points_total desc nulls last
        ) end as expected_rank
    from k
)

select *
from expected
where rank_in_level is distinct from expected_rank
