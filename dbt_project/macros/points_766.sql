{#- The points table in force (data/reference/indicators_766.csv, published as dim_766_indicators):
    one dict per row, read when dbt executes (an empty list while it parses). The one copy of the
    maxima and targets: dbt, the dashboard, the summary and the national ranking read it. -#}
{% macro indicators_766() -%}
    {#- ref() records the dependency; the query reads the seed's table (schema `reference`,
        dbt_project.yml) itself, which a unit test, where ref() names a fixture, also has. -#}
    {%- set dependency = ref('indicators_766') -%}
    {%- if not execute -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='reference', identifier='indicators_766') -%}
    {%- if relation is none -%}
        {{ exceptions.raise_compiler_error("indicators_766: the seed is not loaded (run dbt seed or dbt build)") }}
    {%- endif -%}
    {%- set result = run_query(
        "select indicator_code, indicator_name, group_code, group_column, max_points, target, scored_units,"
        ~ " is_measurable from " ~ relation ~ " order by group_code, indicator_code") -%}
    {%- set rows = [] -%}
    {%- for row in result.rows -%}
        {%- do rows.append({'code': row[0], 'name': row[1], 'group': row[2], 'group_column': row[3],
                            'max_points': row[4], 'target': row[5], 'scored_units': row[6],
                            'is_measurable': row[7]}) -%}
    {%- endfor -%}
    {{ return(rows) }}
{%- endmacro %}

{#- The indicators that earn points from these sources. -#}
{% macro scored_indicators_766() -%}
    {%- set scored = [] -%}
    {%- for indicator in indicators_766() -%}
        {%- if indicator.is_measurable and indicator.name and indicator.max_points > 0 -%}
            {%- do scored.append(indicator) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(scored) }}
{%- endmacro %}

{#- Whether a unit of `unit_type_expr` is scored on the indicator: 1.1-1.3 score the province only. -#}
{% macro scores_unit(indicator, unit_type_expr='unit_type') -%}
    {%- if indicator.scored_units == 'all' -%}true{%- else -%}{{ unit_type_expr }} = '{{ indicator.scored_units }}'{%- endif -%}
{%- endmacro %}

{#- metrics.md, "766 points": min(rate / target, 1) x max_points with a target, rate x max_points
    without; a null rate earns 0 points; an indicator the unit is not scored on has null points.
    DuckDB's least() skips nulls, so the cap must not see one. -#}
{% macro points_766(indicator) -%}
    case
        when not ({{ scores_unit(indicator) }}) then null
        when {{ indicator.name }} is null then 0.0
        {%- if indicator.target is not none %}
        else least({{ indicator.name }} / {{ indicator.target }}, 1.0) * {{ indicator.max_points }}
        {%- else %}
        else {{ indicator.name }} * {{ indicator.max_points }}
        {%- endif %}
    end
{%- endmacro %}
