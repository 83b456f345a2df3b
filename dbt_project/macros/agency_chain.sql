{#- The agency in `agency_expr` and up to three agencies above it (MaCoQuanCha), each the version
    valid on `day_expr` (metrics.md v2, "Units and their history": the list as it stands on the
    dossier's reception day). Use in a FROM clause: emits `left join ... as {prefix}0 ... {prefix}3`.
    Four levels reach a commune's province (commune -> district -> province) and a department
    branch's province (branch -> department -> province). -#}
{% macro agency_chain_joins(dossier_alias, day_expr, prefix='a', agency_expr=none) -%}
    {%- set agencies = ref('int_agencies_versioned') -%}
    {%- set first = agency_expr if agency_expr is not none else dossier_alias ~ '.agency_code' -%}
    left join {{ agencies }} as {{ prefix }}0
        on {{ prefix }}0.agency_code = {{ first }}
        and {{ day_expr }} >= {{ prefix }}0.valid_from
        and ({{ day_expr }} < {{ prefix }}0.valid_to or {{ prefix }}0.valid_to is null)
    {%- for level in range(1, 4) %}
    left join {{ agencies }} as {{ prefix }}{{ level }}
        on {{ prefix }}{{ level }}.agency_code = {{ prefix }}{{ level - 1 }}.parent_agency_code
        and {{ day_expr }} >= {{ prefix }}{{ level }}.valid_from
        and ({{ day_expr }} < {{ prefix }}{{ level }}.valid_to or {{ prefix }}{{ level }}.valid_to is null)
    {%- endfor %}
{%- endmacro %}

{#- The first of {prefix}0..3 (nearest first) meeting `condition` (written over `a.`), as `expression`. -#}
{% macro agency_chain_first(condition, expression, prefix='a') -%}
    case
    {%- for level in range(0, 4) %}
        when {{ condition | replace('a.', prefix ~ level ~ '.') }} then {{ expression | replace('a.', prefix ~ level ~ '.') }}
    {%- endfor %}
    end
{%- endmacro %}

{#- The units of an agency chain joined by agency_chain_joins (metrics.md v2, units): its province
    (the 2-digit MaDVHC of the province's people's committee at the top), department (a
    province-level agency whose parent is the province's committee, or that has no parent, not the
    committee itself), district (3-digit MaDVHC) and commune (5-digit MaDVHC), as
    `{column_prefix}province_code` ... columns. -#}
{% macro agency_chain_units(prefix='a', column_prefix='') -%}
        {{ agency_chain_first("a.is_province_committee", "a.admin_unit_code", prefix) }} as {{ column_prefix }}province_code,
        case
        {%- for level in range(0, 3) %}
            when {{ prefix }}{{ level }}.agency_level = 'TINH' and not {{ prefix }}{{ level }}.is_province_committee
                and ({{ prefix }}{{ level }}.parent_agency_code is null or {{ prefix }}{{ level + 1 }}.is_province_committee)
                then {{ prefix }}{{ level }}.agency_code
        {%- endfor %}
        end as {{ column_prefix }}department_code,
        {{ agency_chain_first("length(a.admin_unit_code) = 3", "a.admin_unit_code", prefix) }} as {{ column_prefix }}district_code,
        {{ agency_chain_first("length(a.admin_unit_code) = 5", "a.admin_unit_code", prefix) }} as {{ column_prefix }}commune_code
{%- endmacro %}
