{#- The units a dossier belongs to (metrics.md, "Period indicators"): the province, its own agency
    (MaCoQuan), its district (MaDiaBan), its service (MaTTHC) and that service's field in the catalog
    valid on its submission day. Use as: from dossiers as d, {{ unit_memberships('d') }} as u(unit). -#}
{% macro unit_memberships(alias) -%}
    unnest([
        {'unit_type': 'province', 'unit_code': '{{ var("province_code") }}'},
        {'unit_type': 'agency', 'unit_code': {{ alias }}.agency_code},
        {'unit_type': 'district', 'unit_code': {{ alias }}.district_code},
        {'unit_type': 'service', 'unit_code': {{ alias }}.service_code},
        {'unit_type': 'field', 'unit_code': {{ alias }}.field_code}
    ])
{%- endmacro %}
