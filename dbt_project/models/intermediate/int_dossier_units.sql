-- One row per dossier per unit it belongs to: the province, its own agency
-- (MaCoQuan), its own district (MaDiaBan), its service and the service's field.
{{ config(materialized='view') }}
with dossiers as (
    select * from {{ ref('int_dossiers_joined_to_payments') }}
),

final as (
    select
        u.unit.unit_type as unit_type,
        u.unit.unit_code as unit_code,
        d.*
    from dossiers as d, {{ unit_memberships('d') }} as u(unit)
    where u.unit.unit_code is not null
)

select * from final
