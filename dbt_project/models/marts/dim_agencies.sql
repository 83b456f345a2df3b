-- One row per version of an agency (sources.md v2 §1, metrics.md v2 "Units and their history"): code,
-- name, level, parent, administrative unit, [valid_from, valid_to), successor, and the unit types it
-- is scored as. Built from the agency list alone.
{{ config(tags=['full_refresh_only']) }}
with agencies as (
    select * from {{ ref('int_agencies_versioned') }}
),

committees as (
    select distinct agency_code from agencies where is_province_committee
),

final as (
    select
        agency_code,
        valid_from,
        valid_to,
        agency_name,
        agency_level,
        parent_agency_code,
        admin_unit_code,
        successor_agency_code,
        current_agency_code,
        is_province_committee,
        agency_level = 'TINH' and not is_province_committee
            and (parent_agency_code is null or parent_agency_code in (select agency_code from committees))
            as is_department,
        valid_to is null as is_open,
        stated_in_snapshot
    from agencies
)

select * from final
