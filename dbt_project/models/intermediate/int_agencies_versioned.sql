-- One row per version of an agency (sources.md v2 §1): the union of the agency-list snapshots. A
-- version holds on [valid_from, valid_to): from its NgayHieuLuc to its NgayHetHieuLuc, or to the
-- next version's NgayHieuLuc. The same (code, NgayHieuLuc) in several snapshots is one version, as
-- the latest snapshot states it (a later snapshot closes it, or corrects it).
-- Built from the agency list alone: a changed snapshot makes the build a full refresh.
{{ config(tags=['full_refresh_only']) }}
with snapshots as (
    select * from {{ ref('stg_onestop__agency_snapshots') }}
    where agency_code is not null and valid_from is not null
),

latest_statement as (
    select *
    from snapshots
    qualify row_number() over (
        partition by agency_code, valid_from order by snapshot_date desc, source_line_number desc
    ) = 1
),

final as (
    select
        agency_code,
        valid_from,
        least(
            valid_to,
            lead(valid_from) over (partition by agency_code order by valid_from)
        ) as valid_to,
        agency_name,
        agency_level,
        parent_agency_code,
        admin_unit_code,
        successor_agency_code,
        -- The province's people's committee: a 2-digit unit, no parent.
        coalesce(agency_level = 'TINH' and length(admin_unit_code) = 2, false) as is_province_committee,
        snapshot_date as stated_in_snapshot
    from latest_statement
)

select * from final
