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

versions as (
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
),

-- Each agency's last version: where it closed with a successor (MaCoQuanKeThua), its work went on there.
last_versions as (
    select agency_code, valid_from, valid_to, successor_agency_code
    from versions
    qualify row_number() over (partition by agency_code order by valid_from desc) = 1
),

-- Today's agency for each code (metrics.md v2, the `current` basis): itself while the list shows it
-- open, else its successor's, followed up to four hops (a closed agency without a successor stays
-- itself). "Today" is the list's latest statement, not the build's as-of time: a recast must not
-- depend on when a build ran.
current_agencies as (
    select
        l0.agency_code,
        case
            when l0.valid_to is null or l0.successor_agency_code is null then l0.agency_code
            {%- for hop in range(1, 5) %}
            when l{{ hop }}.agency_code is not null
                and (l{{ hop }}.valid_to is null or l{{ hop }}.successor_agency_code is null)
                then l{{ hop }}.agency_code
            {%- endfor %}
            else l0.agency_code
        end as current_agency_code
    from last_versions as l0
    {%- for hop in range(1, 5) %}
    left join last_versions as l{{ hop }} on l{{ hop }}.agency_code = l{{ hop - 1 }}.successor_agency_code
    {%- endfor %}
),

final as (
    select
        v.*,
        c.current_agency_code,
        -- The day today's agency's latest version starts: its tree is read on that day.
        l.valid_from as current_agency_since
    from versions as v
    left join current_agencies as c using (agency_code)
    left join (
        select agency_code, max(valid_from) as valid_from from versions group by agency_code
    ) as l on l.agency_code = c.current_agency_code
)

select * from final
