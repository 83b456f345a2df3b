-- One row per dossier per unit it belongs to: the province, its own agency
-- (MaCoQuan) and its own district (MaDiaBan).
with dossiers as (
    select * from {{ ref('int_dossiers_joined_to_payments') }}
),

final as (
    select
        u.unit.unit_type as unit_type,
        u.unit.unit_code as unit_code,
        d.*
    from dossiers as d,
        unnest([
            {'unit_type': 'province', 'unit_code': '{{ var("province_code") }}'},
            {'unit_type': 'agency', 'unit_code': d.agency_code},
            {'unit_type': 'district', 'unit_code': d.district_code}
        ]) as u(unit)
    where u.unit.unit_code is not null
)

select * from final
