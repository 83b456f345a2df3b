-- One row per scored unit of kpi_766: the province, every agency (in the
-- dossiers or the catalog) and every district (in the dossiers).
with dossiers as (
    select agency_code, district_code from {{ ref('int_dossiers_lifecycle') }}
),

services as (
    select agency_code, agency_name, valid_from from {{ ref('int_services_versioned') }}
),

agency_names as (
    select agency_code, arg_max(agency_name, valid_from) as unit_name
    from services
    group by agency_code
),

units as (
    select 'province' as unit_type, '{{ var("province_code") }}' as unit_code
    union
    select 'agency', agency_code from dossiers where agency_code is not null
    union
    select 'agency', agency_code from services where agency_code is not null
    union
    select 'district', district_code from dossiers where district_code is not null
),

districts as (
    select * from {{ ref('districts') }}
),

final as (
    select
        u.unit_type,
        u.unit_code,
        case
            when u.unit_type = 'agency' then n.unit_name
            when u.unit_type = 'district' then d.district_name
            else 'Tỉnh Vĩnh Phúc'
        end as unit_name
    from units as u
    left join agency_names as n on u.unit_type = 'agency' and n.agency_code = u.unit_code
    left join districts as d on u.unit_type = 'district' and d.district_code = u.unit_code
)

select * from final
