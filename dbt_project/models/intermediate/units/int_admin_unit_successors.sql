-- One row per (administrative unit code, level, effective date of a reorganisation that changed it):
-- today's unit it became, following the official crosswalk's later hops (the 1 January 2025 commune
-- merges, then 1 July 2025). A code read on day D maps through the row with the smallest
-- effective_date after D (metrics.md v2, `current` basis). Only the crosswalk's primary links: an
-- old unit split between new units goes to the one the conversion table names for the part that
-- holds its seat (data/reference/admin_unit_crosswalk.csv, docs/admin_units.md).
{{ config(tags=['full_refresh_only']) }}
with links as (
    select old_unit_code, old_unit_level, new_unit_code, new_unit_level, effective_date, is_partial
    from {{ ref('admin_unit_crosswalk') }}
    where is_primary
),

followed as (
    select
        l0.old_unit_code as unit_code,
        l0.old_unit_level as unit_level,
        l0.effective_date,
        coalesce(l2.new_unit_code, l1.new_unit_code, l0.new_unit_code) as current_unit_code,
        coalesce(l2.new_unit_level, l1.new_unit_level, l0.new_unit_level) as current_unit_level,
        coalesce(l0.is_partial, false) or coalesce(l1.is_partial, false) or coalesce(l2.is_partial, false)
            as is_partial
    from links as l0
    left join links as l1
        on l1.old_unit_code = l0.new_unit_code and l1.old_unit_level = l0.new_unit_level
        and l1.effective_date > l0.effective_date
    left join links as l2
        on l2.old_unit_code = l1.new_unit_code and l2.old_unit_level = l1.new_unit_level
        and l2.effective_date > l1.effective_date
    qualify row_number() over (
        partition by l0.old_unit_code, l0.old_unit_level, l0.effective_date
        order by l1.effective_date nulls last, l2.effective_date nulls last
    ) = 1
)

select * from followed
