{#- The agency a dossier was synced under and up to three agencies above it (MaCoQuanCha), each
    the version valid on `day_expr` (metrics.md v2, "Units and their history": the list as it
    stands on the dossier's reception day). Use in a FROM clause after the dossiers alias:
    emits `left join ... as a0 ... a3`. Four levels reach a commune's province (commune ->
    district -> province) and a department branch's province (branch -> department -> province). -#}
{% macro agency_chain_joins(dossier_alias, day_expr) -%}
    {%- set agencies = ref('int_agencies_versioned') -%}
    left join {{ agencies }} as a0
        on a0.agency_code = {{ dossier_alias }}.agency_code
        and {{ day_expr }} >= a0.valid_from and ({{ day_expr }} < a0.valid_to or a0.valid_to is null)
    {%- for level in range(1, 4) %}
    left join {{ agencies }} as a{{ level }}
        on a{{ level }}.agency_code = a{{ level - 1 }}.parent_agency_code
        and {{ day_expr }} >= a{{ level }}.valid_from
        and ({{ day_expr }} < a{{ level }}.valid_to or a{{ level }}.valid_to is null)
    {%- endfor %}
{%- endmacro %}

{#- The first of a0..a3 (nearest first) meeting `condition` (written over `a.`), as `expression`. -#}
{% macro agency_chain_first(condition, expression) -%}
    case
    {%- for level in range(0, 4) %}
        when {{ condition | replace('a.', 'a' ~ level ~ '.') }} then {{ expression | replace('a.', 'a' ~ level ~ '.') }}
    {%- endfor %}
    end
{%- endmacro %}
