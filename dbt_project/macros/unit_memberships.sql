{#- The units a dossier belongs to at `event_at` (metrics.md v2, "Units and their history"), in both
    geography bases, with its service (MaTTHC) and that service's field in the catalog valid on its
    submission day:
      - `as_was`: the province, department, district, commune and agency of its agency as the list
        stood on its reception day; from the day that agency closed with a successor
        (MaCoQuanKeThua), its successor's units (an event at or after the closing counts there);
      - `current`: today's units (int_dossiers_lifecycle: successors followed, communes and the
        province recast by the official crosswalk); no district exists today.
    A list of 13 structs (geography_basis, unit_type, unit_code; unit_code null where the dossier has no
    such unit); the dossier columns it reads are unit_membership_columns(). spread_to_units() unnests it.
    Unnested in a select list, not laterally in FROM: DuckDB turns a lateral unnest into a join back on
    every column it reads (the merged province's year backlog: 85 s against 26 s, docs/benchmarks.md). -#}
{% macro unit_memberships(alias, event_at) -%}
    {%- set moved = alias ~ ".agency_closed_on is not null and (" ~ event_at ~ ") >= " ~ alias ~ ".agency_closed_on::timestamp" -%}
    [
        {%- for unit_type in ['province', 'department', 'district', 'commune', 'agency'] %}
        {'geography_basis': 'as_was', 'unit_type': '{{ unit_type }}', 'unit_code':
            case when {{ moved }} then {{ alias }}.successor_{{ unit_type }}_code else {{ alias }}.{{ unit_type }}_code end},
        {%- endfor %}
        {'geography_basis': 'current', 'unit_type': 'province', 'unit_code': {{ alias }}.province_code_current},
        {'geography_basis': 'current', 'unit_type': 'department', 'unit_code': {{ alias }}.department_code_current},
        {'geography_basis': 'current', 'unit_type': 'commune', 'unit_code': {{ alias }}.commune_code_current},
        {'geography_basis': 'current', 'unit_type': 'agency', 'unit_code': {{ alias }}.current_agency_code},
        {%- for basis in ['as_was', 'current'] %}
        {'geography_basis': '{{ basis }}', 'unit_type': 'service', 'unit_code': {{ alias }}.service_code},
        {'geography_basis': '{{ basis }}', 'unit_type': 'field', 'unit_code': {{ alias }}.field_code}{% if not loop.last %},{% endif %}
        {%- endfor %}
    ]
{%- endmacro %}

{#- The dossier columns unit_memberships() reads, as a list of names. -#}
{% macro unit_membership_column_names() -%}
    {{ return([
        'province_code', 'department_code', 'district_code', 'commune_code', 'agency_code', 'agency_closed_on',
        'successor_province_code', 'successor_department_code', 'successor_district_code',
        'successor_commune_code', 'successor_agency_code', 'province_code_current', 'department_code_current',
        'commune_code_current', 'current_agency_code', 'service_code', 'field_code',
    ]) }}
{%- endmacro %}

{#- The dossier columns unit_memberships() reads, for a select list or a group by. -#}
{% macro unit_membership_columns() -%}
    {{ unit_membership_column_names() | join(', ') }}
{%- endmacro %}

{#- The unit key of a row of spread_to_units() (`alias`, usually `u`): geography_basis, unit_type, unit_code. -#}
{% macro unit_membership_keys(alias) -%}
    {{ alias }}.unit.geography_basis as geography_basis, {{ alias }}.unit.unit_type as unit_type,
    {{ alias }}.unit.unit_code as unit_code
{%- endmacro %}

{#- The rows of `relation` (aliased `alias`) once for each of their units at `event_at`, as the
    subquery `u`: every column of the relation and `unit`, a struct of unit_memberships(). Use as:
    select {{ unit_membership_keys('u') }}, u.… from {{ spread_to_units('dossiers', 'd', 'd.received_at') }}
    where u.unit.unit_code is not null. -#}
{% macro spread_to_units(relation, alias, event_at) -%}
    (
        select {{ alias }}.*, unnest({{ unit_memberships(alias, event_at) }}) as unit
        from {{ relation }} as {{ alias }}
    ) as u
{%- endmacro %}
