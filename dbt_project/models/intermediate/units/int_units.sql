-- One row per (geography_basis, unit_type, unit_code, unit_valid_from): every unit indicators are
-- computed for (metrics.md v2, "Units and their history"), dated.
--   * From the agency list: each agency; each department (a province-level agency whose parent is the
--     province's people's committee, or that has none); each province, district and commune (the
--     MaDVHC of a people's committee: TINH with 2 digits, HUYEN with 3, XA with 5), valid while
--     that committee is and, where the official list (data/reference/admin_units.csv) dates the unit,
--     cut into its official versions (a code names a new, larger unit after a merger) and named by
--     them; else the agency's latest name.
--   * Every code the dossiers' memberships or the catalog name and the list does not date (an
--     unknown agency, a service, a field, a recast code): undated.
-- `as_was` holds every unit; `current` only today's: the agencies and departments the list shows open,
-- and the provinces and communes the dossiers are recast onto (named and dated by the official list).
-- Periods score a unit when it is valid at their end (agg_unit_period_indicators).
with agencies as (
    select * from {{ ref('int_agencies_versioned') }}
),

committees as (
    select distinct agency_code from agencies where is_province_committee
),

agency_versions as (
    select
        a.*,
        a.agency_level = 'TINH' and not a.is_province_committee
            and (a.parent_agency_code is null or a.parent_agency_code in (select agency_code from committees))
            as is_department,
        case
            when a.is_province_committee then 'province'
            when a.agency_level = 'HUYEN' and length(a.admin_unit_code) = 3 then 'district'
            when a.agency_level = 'XA' and length(a.admin_unit_code) = 5 then 'commune'
        end as admin_unit_type
    from agencies as a
),

-- One span per agency: its first day, and its last (null while open).
agency_spans as (
    select
        agency_code,
        min(valid_from) as valid_from,
        case when bool_or(valid_to is null) then null else max(valid_to) end as valid_to,
        arg_max(agency_name, valid_from) as agency_name,
        arg_max(agency_level, valid_from) as agency_level,
        bool_or(is_department) as is_department
    from agency_versions
    group by agency_code
),

-- One span per (people's committee, unit it serves).
committee_spans as (
    select
        admin_unit_type as unit_type,
        admin_unit_code as unit_code,
        min(valid_from) as valid_from,
        case when bool_or(valid_to is null) then null else max(valid_to) end as valid_to,
        arg_max(agency_name, valid_from) as agency_name
    from agency_versions
    where admin_unit_type is not null
    group by agency_code, admin_unit_type, admin_unit_code
),

official_names as (
    select
        unit_level, unit_code, unit_name, valid_from, valid_to,
        lead(valid_from) over (partition by unit_level, unit_code order by valid_from nulls first) as next_valid_from
    from {{ ref('admin_units') }}
),

districts as (
    select * from {{ ref('districts') }}
),

dated as (
    select 'agency' as unit_type, agency_code as unit_code, valid_from, valid_to, agency_name as unit_name,
        agency_level
    from agency_spans
    union all
    select 'department', agency_code, valid_from, valid_to, agency_name, agency_level
    from agency_spans where is_department
    union all
    -- A committee's span, cut by the official list's versions of its unit (the same code names
    -- another, larger unit after a merger): one row per version it overlaps, named by it.
    select
        c.unit_type,
        c.unit_code,
        case when o.valid_from is null then c.valid_from else greatest(c.valid_from, o.valid_from) end,
        -- Cut where the official list starts another version of the code, not where it merely ends
        -- one (a list that still shows the committee open keeps it open).
        case
            when o.next_valid_from is null then c.valid_to
            when c.valid_to is null then o.next_valid_from
            else least(c.valid_to, o.next_valid_from)
        end,
        coalesce(
            o.unit_name,
            (select any_value(d.district_name) from districts as d where c.unit_type = 'district'
                and d.district_code = c.unit_code),
            c.agency_name
        ),
        null
    from committee_spans as c
    left join official_names as o
        on o.unit_level = c.unit_type and o.unit_code = c.unit_code
        and (o.valid_from is null or c.valid_to is null or o.valid_from < c.valid_to)
        and (o.next_valid_from is null or o.next_valid_from > c.valid_from)
),

dossiers as (
    select * from {{ ref('int_dossiers_lifecycle') }}
),

services as (
    select * from {{ ref('int_services_versioned') }}
),

-- Codes met in the data, per basis.
seen as (
    {% for column, unit_type in [('province_code', 'province'), ('department_code', 'department'),
                                 ('district_code', 'district'), ('commune_code', 'commune'),
                                 ('agency_code', 'agency')] %}
    select distinct 'as_was' as geography_basis, '{{ unit_type }}' as unit_type, {{ column }} as unit_code from dossiers
    union
    select distinct 'as_was', '{{ unit_type }}', successor_{{ column }} from dossiers
    union
    {% endfor %}
    select distinct 'current', 'province', province_code_current from dossiers
    union select distinct 'current', 'department', department_code_current from dossiers
    union select distinct 'current', 'commune', commune_code_current from dossiers
    union select distinct 'current', 'agency', current_agency_code from dossiers
    union select 'as_was', 'agency', agency_code from services
    union select 'as_was', 'service', service_code from dossiers
    union select 'as_was', 'service', service_code from services
    union select 'as_was', 'field', field_code from dossiers
    union select 'as_was', 'field', field_code from services
    union select 'current', 'service', service_code from dossiers
    union select 'current', 'service', service_code from services
    union select 'current', 'field', field_code from dossiers
    union select 'current', 'field', field_code from services
    union select 'as_was', 'province', '{{ var("province_code") }}'
),

names as (
    select 'service' as unit_type, service_code as unit_code, arg_max(service_name, valid_from) as unit_name
    from services group by 2
    union all
    select 'field', field_code, arg_max(field_name, valid_from) from services group by 2
),

final as (
    select 'as_was' as geography_basis, unit_type, unit_code, unit_name, valid_from as unit_valid_from,
        valid_to as unit_valid_to
    from dated
    union all
    -- Today's agencies and departments are those the list shows open.
    select 'current', unit_type, unit_code, unit_name, valid_from, valid_to
    from dated
    where valid_to is null and unit_type in ('agency', 'department')
    union all
    -- Today's provinces and communes are the official list's units in force (the recast codes), dated
    -- by it.
    select 'current', s.unit_type, s.unit_code, o.unit_name, o.valid_from, o.valid_to
    from seen as s
    inner join official_names as o on o.unit_level = s.unit_type and o.unit_code = s.unit_code and o.valid_to is null
    where s.geography_basis = 'current' and s.unit_type in ('province', 'commune')
    union all
    -- Undated codes: those no dated unit of the basis holds.
    select
        s.geography_basis,
        s.unit_type,
        s.unit_code,
        coalesce(
            n.unit_name,
            (select arg_max(o.unit_name, coalesce(o.valid_from, date '1900-01-01')) from official_names as o
             where o.unit_level = s.unit_type and o.unit_code = s.unit_code
                and (s.geography_basis = 'as_was' or o.valid_to is null)),
            (select any_value(d.district_name) from districts as d where s.unit_type = 'district'
                and d.district_code = s.unit_code),
            (select arg_max(a.agency_name, a.valid_from) from agency_spans as a where a.agency_code = s.unit_code
                and s.unit_type = 'agency')
        ),
        null::date,
        null::date
    from seen as s
    left join names as n using (unit_type, unit_code)
    where s.unit_code is not null
        and not exists (
            select 1 from dated as d
            where s.geography_basis = 'as_was' and d.unit_type = s.unit_type and d.unit_code = s.unit_code
        )
        and not exists (
            select 1 from dated as d
            where s.geography_basis = 'current' and d.unit_type = s.unit_type and d.unit_code = s.unit_code
                and d.valid_to is null and d.unit_type in ('agency', 'department')
        )
        and not exists (
            select 1 from official_names as o
            where s.geography_basis = 'current' and s.unit_type in ('province', 'commune')
                and o.unit_level = s.unit_type and o.unit_code = s.unit_code and o.valid_to is null
        )
)

select * from final
