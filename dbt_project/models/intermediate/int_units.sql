-- One row per unit indicators are computed for: the province, every agency (named by the agency list),
-- district, service and field (in the dossiers or the catalog), with its name where known.
with dossiers as (
    select agency_code, district_code, service_code, field_code from {{ ref('int_dossiers_lifecycle') }}
),

services as (
    select * from {{ ref('int_services_versioned') }}
),

agencies as (
    select * from {{ ref('int_agencies_versioned') }}
),

districts as (
    select * from {{ ref('districts') }}
),

names as (
    select 'agency' as unit_type, agency_code as unit_code, arg_max(agency_name, valid_from) as unit_name
    from agencies group by 2
    union all
    select 'service', service_code, arg_max(service_name, valid_from) from services group by 2
    union all
    select 'field', field_code, arg_max(field_name, valid_from) from services group by 2
    union all
    select 'district', district_code, district_name from districts
    union all
    select 'province', '{{ var("province_code") }}', '{{ var("province_name") }}'
),

units as (
    select 'province' as unit_type, '{{ var("province_code") }}' as unit_code
    union select 'agency', agency_code from dossiers
    union select 'agency', agency_code from services
    union select 'agency', agency_code from agencies
    union select 'district', district_code from dossiers
    union select 'service', service_code from dossiers
    union select 'service', service_code from services
    union select 'field', field_code from dossiers
    union select 'field', field_code from services
),

final as (
    select u.unit_type, u.unit_code, n.unit_name
    from units as u
    left join names as n using (unit_type, unit_code)
    where u.unit_code is not null
)

select * from final
