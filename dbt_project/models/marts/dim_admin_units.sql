-- One row per administrative unit version (metrics.md, Units and their history): the official list
-- before and after 1 July 2025, with today's unit each one became (the `current` basis). An old unit
-- follows the crosswalk's primary links hop by hop (Vĩnh Phúc's commune merges of 1 January 2025,
-- then the reorganisation of 1 July 2025) until a unit still valid; a unit still valid is its own
-- successor; a district has none (its communes map one by one). Built from the seeds alone, which
-- change only in a full refresh.
{{ config(tags=['full_refresh_only']) }}
with recursive units as (
    select * from {{ ref('admin_units') }}
),

primary_links as (
    select old_unit_code, old_unit_level, new_unit_code, new_unit_level, effective_date, is_partial
    from {{ ref('admin_unit_crosswalk') }}
    where is_primary
),

-- A link leaves the version that ends on its effective date and enters the one that starts on it.
hops as (
    select
        unit_code,
        unit_level,
        valid_from,
        unit_code as reached_unit_code,
        unit_level as reached_unit_level,
        valid_to as reached_valid_to,
        false as is_partial,
        0 as hop_count
    from units
    union all
    select
        h.unit_code,
        h.unit_level,
        h.valid_from,
        n.unit_code,
        n.unit_level,
        n.valid_to,
        h.is_partial or l.is_partial,
        h.hop_count + 1
    from hops as h
    inner join primary_links as l
        on l.old_unit_code = h.reached_unit_code
        and l.old_unit_level = h.reached_unit_level
        and l.effective_date = h.reached_valid_to
    inner join units as n
        on n.unit_code = l.new_unit_code
        and n.unit_level = l.new_unit_level
        and n.valid_from = l.effective_date
),

last_hops as (
    select *
    from hops
    qualify row_number() over (partition by unit_code, unit_level, valid_from order by hop_count desc) = 1
),

final as (
    select
        u.unit_code,
        u.unit_level,
        u.unit_name,
        u.parent_code,
        u.province_code,
        u.valid_from,
        u.valid_to,
        u.valid_to is null as is_current,
        case when h.reached_valid_to is null then h.reached_unit_code end as successor_unit_code,
        case when h.reached_valid_to is null then h.reached_unit_level end as successor_unit_level,
        case when h.reached_valid_to is null then s.unit_name end as successor_unit_name,
        case when h.reached_valid_to is null then h.is_partial end as successor_is_partial,
        case when h.reached_valid_to is null then h.hop_count end as successor_hop_count
    from units as u
    inner join last_hops as h
        on h.unit_code = u.unit_code
        and h.unit_level = u.unit_level
        and h.valid_from is not distinct from u.valid_from
    left join units as s
        on s.unit_code = h.reached_unit_code
        and s.unit_level = h.reached_unit_level
        and s.valid_to is null
)

select * from final
